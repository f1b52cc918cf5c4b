"""Regression tests, one per crash the fuzz run found, each with the minimal input.

The oracle is the readers' contract: the CLI and the readers end with a result or a
``ViewerError``; pydicom itself (reading the same bytes) shows the damage is real.
"""

from __future__ import annotations

import contextlib
import io
import json
import struct
from pathlib import Path

import pydicom
import pytest
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian, generate_uid

from viewer.cli import build_parser
from viewer.errors import ViewerError


def _small(tmp_path: Path, **extra: object) -> Path:
    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.file_meta.MediaStorageSOPClassUID = ds.SOPClassUID = "1.2.840.10008.5.1.4.1.1.7"
    ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID = generate_uid()
    ds.PatientName = "Doe^Jane"
    ds.SeriesNumber = "1"
    for k, v in extra.items():
        setattr(ds, k, v)
    path = tmp_path / "small.dcm"
    ds.save_as(path, enforce_file_format=True)
    return path


def _run(*argv: str) -> tuple[int, str]:
    parser, _ = build_parser()
    args = parser.parse_args(list(argv))
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        rc = args._run(args)
    return rc, out.getvalue()


def _patch(path: Path, old: bytes, new: bytes) -> None:
    data = path.read_bytes()
    assert data.count(old) == 1
    path.write_bytes(data.replace(old, new))


@pytest.mark.parametrize("vr", [b"XN", b"MS"])
def test_dump_json_unknown_vr(tmp_path: Path, vr: bytes) -> None:
    """Fuzz: NotImplementedError 'Unknown Value Representation' escaped ``dump --json``."""
    path = _small(tmp_path)
    _patch(path, b"\x10\x00\x10\x00PN", b"\x10\x00\x10\x00" + vr)
    with pytest.raises(NotImplementedError):  # the damage is real: pydicom cannot convert it
        _ = pydicom.dcmread(path).PatientName
    rc, out = _run("dump", "--json", str(path))
    model = json.loads(out)
    assert model["00100010"]["vr"] in ("PN", "UN")  # repaired from the dictionary or kept raw
    assert model["00200011"]["Value"] == [1]


def test_dump_json_value_length_not_multiple_of_vr_size(tmp_path: Path) -> None:
    """Fuzz: BytesLengthException for a 2-byte value declared FD (8 bytes per value)."""
    path = _small(tmp_path)
    _patch(path, b"\x20\x00\x11\x00IS\x02\x00", b"\x20\x00\x11\x00FD\x02\x00")
    with pytest.raises(Exception, match="bytes per value"):
        _ = pydicom.dcmread(path).SeriesNumber
    rc, out = _run("dump", "--json", str(path))
    assert json.loads(out)["00200011"]["vr"] in ("IS", "UN")


def test_dump_json_bad_value_inside_a_sequence(tmp_path: Path) -> None:
    item = Dataset()
    item.ReferencedSOPInstanceUID = "1.2.3"
    item.SeriesNumber = "7"
    path = _small(tmp_path, ReferencedImageSequence=[item])
    _patch(path, b"\x20\x00\x11\x00IS\x02\x007 ", b"\x20\x00\x11\x00SL\x02\x007 ")
    rc, out = _run("dump", "--json", str(path))
    seq = json.loads(out)["00081140"]["Value"][0]
    assert seq["00200011"]["vr"] in ("IS", "UN") and seq["00081155"]["Value"] == ["1.2.3"]


def test_dump_json_unknown_vr_on_a_deferred_value(tmp_path: Path) -> None:
    """Fuzz: the fallback itself read a large (deferred) value with its unknown VR."""
    path = _small(tmp_path)
    value = b"x" * (70 * 1024)  # above dump's defer size (64 KiB): left on disk when read
    # (0020,4000) is after every element of _small: append it with an unknown VR, long form.
    path.write_bytes(path.read_bytes() + struct.pack("<HH2sHI", 0x20, 0x4000, b"XX", 0, len(value)) + value)
    rc, out = _run("dump", "--json", str(path))
    model = json.loads(out)
    assert "00204000" in model and model["00100010"]["Value"] == [{"Alphabetic": "Doe^Jane"}]


def _huge_length(src: Path, dst: Path, tag: bytes) -> Path:
    """Copy ``src`` with the 4-byte length of explicit VR element ``tag`` set to 0xFFFFFFF0."""
    data = bytearray(src.read_bytes())
    i = data.index(tag)
    assert data[i + 4:i + 6] in (b"OB", b"OW")
    struct.pack_into("<I", data, i + 8, 0xFFFFFFF0)
    dst.write_bytes(bytes(data))
    return dst


@pytest.mark.parametrize("source, tag", [
    ("ts/MR_small_RLE.dcm", b"\xe0\x7f\x10\x00"),  # encapsulated Pixel Data
    ("ts/MR_small_jp2klossless.dcm", b"\xe0\x7f\x10\x00"),
    ("overlay/examples_overlay.dcm", b"\x00\x60\x00\x30"),  # Overlay Data (60xx,3000)
])
def test_declared_4gb_length_does_not_allocate(corpus: Path, tmp_path: Path, source: str, tag: bytes) -> None:
    """Fuzz: render read a deferred value with its declared 0xFFFFFFF0 length (MemoryError
    under a 1 GiB address-space cap; 4 GB of address space without one)."""
    from tests.fuzz.fuzz_runner import run_inputs

    path = _huge_length(corpus / source, tmp_path / "huge.dcm", tag)
    report = run_inputs([(path, f"regression {source}")], timeout=20.0)
    assert report.tried == 1 and not report.failures, report.failures


def _image(tmp_path: Path) -> Path:
    import numpy as np

    path = _small(tmp_path)
    ds = pydicom.dcmread(path)
    ds.Rows = ds.Columns = 4
    ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 12, 11, 0
    ds.PixelData = np.arange(16, dtype=np.uint16).tobytes()
    ds["PixelData"].VR = "OW"
    ds.save_as(path, enforce_file_format=True)
    return path


@pytest.mark.parametrize("tag, vr", [(b"\x28\x00\x10\x00", b"FD"), (b"\x28\x00\x01\x01", b"UW")])
def test_render_image_attribute_that_cannot_be_decoded(tmp_path: Path, tag: bytes, vr: bytes) -> None:
    """Fuzz: BytesLengthException / NotImplementedError escaped ``render`` from the Image
    Pixel module (Rows as FD with 2 bytes; Bits Stored with an unknown VR)."""
    path = _image(tmp_path)
    data = path.read_bytes()
    i = data.index(tag + b"US")
    path.write_bytes(data[:i + 4] + vr + data[i + 6:])
    with pytest.raises(ViewerError, match="damaged image attribute"):
        _run("render", str(path), "-o", str(tmp_path / "x.png"))


def test_dump_json_value_the_dump_repaired_as_bytes(tmp_path: Path) -> None:
    """Fuzz: a UL element with a 2-byte value inside a sequence item came out of the dump
    as bytes under its dictionary VR, and ``json.dumps`` failed on it."""
    item = Dataset()
    item.RescaleType = "US"
    path = _small(tmp_path, ReferencedImageSequence=[item])
    _patch(path, b"\x28\x00\x54\x10LO\x02\x00US", b"\x28\x00\x54\x10UL\x02\x00US")
    rc, out = _run("dump", "--json", str(path))
    seq = json.loads(out)["00081140"]["Value"][0]
    assert seq["00281054"]["vr"] in ("UN", "LO")


def test_rle_decoder_panic_is_a_decode_error(corpus: Path, tmp_path: Path) -> None:
    """Fuzz (long run): one bit of MR_small_RLE's RLE data made pylibjpeg-rle panic; pyo3's
    PanicException is a BaseException and went past every ``except Exception``."""
    data = bytearray((corpus / "ts" / "MR_small_RLE.dcm").read_bytes())
    assert data[2873] == 252  # inside the first RLE segment (Pixel Data starts at 1504)
    data[2873] ^= 0x40
    path = tmp_path / "rle.dcm"
    path.write_bytes(bytes(data))
    with pytest.raises(ViewerError, match="cannot decode frame 1"):
        _run("render", str(path), "-o", str(tmp_path / "x.png"))


@pytest.mark.parametrize("keyword, tag", [("RescaleSlope", b"\x28\x00\x53\x10"), ("WindowWidth", b"\x28\x00\x51\x10")])
def test_render_params_attribute_with_unknown_vr(tmp_path: Path, keyword: str, tag: bytes) -> None:
    """Fuzz (long run): NotImplementedError escaped ``params_from_dataset`` for a Rescale or
    Window attribute whose VR was damaged."""
    path = _image(tmp_path)
    ds = pydicom.dcmread(path)
    ds.RescaleSlope, ds.RescaleIntercept, ds.WindowCenter, ds.WindowWidth = "1", "0", "100", "200"
    ds.save_as(path, enforce_file_format=True)
    _patch(path, tag + b"DS", tag + b"XX")
    with pytest.raises(ViewerError, match="damaged image attribute"):
        _run("render", str(path), "-o", str(tmp_path / "x.png"))


def test_damaged_length_inside_a_functional_group_sequence(corpus: Path, tmp_path: Path) -> None:
    """Fuzz (long run, seed 9001): a damaged length in the enhanced MR's functional groups
    made pydicom's lazy sequence read raise OSError ("No tag to read at file position")
    from params_from_dataset. The input is regenerated by the deterministic mutator."""
    from tests.fuzz.fuzz_mutators import mutate

    path = tmp_path / "in.dcm"
    path.write_bytes(mutate((corpus / "synthetic" / "enhanced_mr_diffusion_12f.dcm").read_bytes(), "length", 38781477))
    try:
        _run("render", str(path), "-o", str(tmp_path / "x.png"))
    except ViewerError as exc:
        assert str(exc)


@pytest.mark.parametrize("where", ["top", "nested"])
def test_functional_group_sequence_with_a_damaged_vr(tmp_path: Path, where: str) -> None:
    """Fuzz (long run, seed 31337): a functional group sequence whose VR was damaged reads
    as text or a number; ``params_from_dataset`` called ``.get`` on a str / int item."""
    path = _image(tmp_path)
    ds = pydicom.dcmread(path)
    if where == "top":
        ds.add_new(0x52009230, "LO", "abc")  # Per-frame Functional Groups Sequence as LO
    else:
        group = Dataset()
        group.add_new(0x00289145, "US", 5)  # Pixel Value Transformation Sequence as US
        ds.SharedFunctionalGroupsSequence = [group]
    ds.save_as(path, enforce_file_format=True)
    rc, _ = _run("render", str(path), "-o", str(tmp_path / "x.png"))
    assert rc == 0 and (tmp_path / "x.png").stat().st_size > 0
