"""Frame access checked against pydicom's reference decoding and the corpus manifest.

Oracles: ``pydicom.pixels.pixel_array`` (pydicom 3 with pylibjpeg plugins) frame by frame,
and the ``stored_value`` column of tests/data/corpus/MANIFEST.tsv (written by a separate
manifest builder). Lossy syntaxes are compared with a tolerance because plugins differ.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pydicom
import pytest
from pydicom.pixels import pixel_array

from viewer.dicom.frames import open_frames
from viewer.errors import DecodeError, ReadError, ViewerError

from tests.helpers import CORPUS, manifest

LOSSY = {"1.2.840.10008.1.2.4.50", "1.2.840.10008.1.2.4.51", "1.2.840.10008.1.2.4.81", "1.2.840.10008.1.2.4.91"}


def _decodable() -> list[dict[str, str]]:
    return [r for r in manifest() if r["pydicom_decode"].startswith("OK")]


def _reference(path: Path, index: int) -> np.ndarray:
    ds = pydicom.dcmread(path, force=True)
    if "TransferSyntaxUID" not in ds.file_meta:
        ds.file_meta.TransferSyntaxUID = pydicom.uid.ImplicitVRLittleEndian  # nometa/: raw implicit LE
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return pixel_array(ds, index=index)


@pytest.mark.parametrize("row", _decodable(), ids=lambda r: r["path"])
def test_frames_match_pydicom(row: dict[str, str]) -> None:
    path = CORPUS / row["path"]
    src = open_frames(path)
    assert src.num_frames == int(row["NumberOfFrames"] or 1)
    assert src.warnings == [] or row["path"].startswith("broken/")
    for index in sorted({0, src.num_frames // 2, src.num_frames - 1}):
        ours, ref = src.frame(index), _reference(path, index)
        assert ours.shape == ref.shape
        if src.transfer_syntax in LOSSY:
            # Pillow and libjpeg legitimately differ by a few values on lossy JPEG
            assert np.abs(ours.astype(np.int64) - ref).max() <= 4
        else:
            np.testing.assert_array_equal(ours, ref)


@pytest.mark.parametrize("row", [r for r in _decodable() if r["stored_value"]], ids=lambda r: r["path"])
def test_probe_value_from_manifest(row: dict[str, str]) -> None:
    src = open_frames(CORPUS / row["path"])
    f, r, c = (int(v) for v in row["probe_frame_row_col"].split(","))
    value = src.frame(f)[r, c]
    expected = np.array([float(v) for v in row["stored_value"].split("\\")])
    tol = 8 if src.transfer_syntax in LOSSY else 0
    assert np.abs(np.atleast_1d(value).astype(float) - expected).max() <= tol


def test_planar_configurations_give_the_same_pixels() -> None:
    a = open_frames(CORPUS / "synthetic" / "rgb_planar0.dcm").frame(0)
    b = open_frames(CORPUS / "synthetic" / "rgb_planar1.dcm").frame(0)
    np.testing.assert_array_equal(a, b)


def test_j2k_lossless_equals_uncompressed_twin() -> None:
    np.testing.assert_array_equal(open_frames(CORPUS / "ts" / "693_J2KR.dcm").frame(0),
                                  open_frames(CORPUS / "ct" / "693_UNCR.dcm").frame(0))


def test_unaligned_one_bit_frames() -> None:
    path = CORPUS / "synthetic" / "sc_1bit_3frames_unaligned.dcm"
    src = open_frames(path)
    for i in range(3):
        np.testing.assert_array_equal(src.frame(i), _reference(path, i))


def test_frame_decodes_only_that_frame(monkeypatch: pytest.MonkeyPatch) -> None:
    """Encapsulated: pydicom is asked for one index; native: only one frame's bytes are read."""
    from pydicom.pixels.decoders.base import Decoder

    calls: list[object] = []
    original = Decoder.as_array

    def spy(self, src, **kwargs):
        calls.append(kwargs.get("index"))
        return original(self, src, **kwargs)

    monkeypatch.setattr(Decoder, "as_array", spy)
    src = open_frames(CORPUS / "multiframe" / "examples_ybr_color.dcm")
    src.frame(7)
    assert calls == [7]

    native = open_frames(CORPUS / "synthetic" / "xa_cine_frametime_10f.dcm")
    reads: list[tuple[int, int]] = []
    real = native._read_frame_bytes  # the native frame reader (into one writable buffer)
    monkeypatch.setattr(native, "_read_frame_bytes", lambda s, n: reads.append((s, n)) or real(s, n))
    native.frame(3)
    assert reads == [(3 * 96 * 128, 96 * 128)]


@pytest.mark.parametrize("name", ["truncated_pixeldata.dcm", "MR_truncated.dcm",
                                  "pixeldata_shorter_than_rows_cols.dcm"])
def test_short_pixel_data_renders_partially_with_warning(name: str) -> None:
    path = CORPUS / "broken" / name
    src = open_frames(path)
    frame = src.frame(0)
    assert frame.shape == (src.rows, src.columns)
    assert any("shorter than expected" in w for w in src.warnings)
    # the bytes that are there are decoded as pydicom decodes them when told the true size
    ds = pydicom.dcmread(path)
    data = ds.PixelData
    n = len(data) // 2
    stored = np.frombuffer(data[: 2 * n], dtype="<i2" if ds.PixelRepresentation else "<u2")
    np.testing.assert_array_equal(frame.reshape(-1)[:n], stored)


@pytest.mark.parametrize("path", sorted((CORPUS / "broken").iterdir()), ids=lambda p: p.name)
def test_broken_files_raise_viewer_errors_or_warn(path: Path) -> None:
    try:
        src = open_frames(path)
        src.frame(0)
    except ViewerError as exc:
        msg = str(exc)
        assert msg and "\n" not in msg
        assert isinstance(exc, (ReadError, DecodeError))
        return
    assert src.warnings or path.name == "wrong_length_pixeldata.dcm"


def test_out_of_range_frame() -> None:
    src = open_frames(CORPUS / "ct" / "CT_small.dcm")
    with pytest.raises(DecodeError, match="out of range"):
        src.frame(1)


def test_missing_codec_names_the_package(monkeypatch: pytest.MonkeyPatch) -> None:
    from pydicom.pixels.decoders.base import get_decoder

    from viewer.dicom import _codecs

    _codecs.choose_plugin.cache_clear()
    decoder = get_decoder("1.2.840.10008.1.2.4.90")
    monkeypatch.setattr(type(decoder), "available_plugins", property(lambda self: ()))
    try:
        with pytest.raises(DecodeError, match="pylibjpeg-openjpeg"):
            open_frames(CORPUS / "ts" / "MR_small_jp2klossless.dcm")
    finally:
        _codecs.choose_plugin.cache_clear()


def test_dataset_input_is_not_modified() -> None:
    ds = pydicom.dcmread(CORPUS / "ts" / "MR_small_RLE.dcm")
    before = ds.to_json_dict() if hasattr(ds, "to_json_dict") else None
    open_frames(ds).frame(0)
    assert "PixelData" in ds and (before is None or ds.to_json_dict() == before)


# ------------------------------------------------------------------ generated native encodings
def _write(tmp_path: Path, name: str, pixels: bytes, *, rows: int, cols: int, frames: int, bits: int,
           samples: int = 1, photometric: str = "MONOCHROME2", ts: str = "1.2.840.10008.1.2.1",
           vr: str = "OW", signed: bool = False, bits_stored: int | None = None) -> Path:
    from pydicom.dataset import FileMetaDataset

    ds = pydicom.Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = ts
    ds.file_meta.MediaStorageSOPClassUID = ds.SOPClassUID = "1.2.840.10008.5.1.4.1.1.7"
    ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID = "1.2.3.4.5.6.7"
    ds.Rows, ds.Columns, ds.SamplesPerPixel, ds.NumberOfFrames = rows, cols, samples, frames
    if samples == 3:
        ds.PlanarConfiguration = 0
    ds.PhotometricInterpretation = photometric
    ds.BitsAllocated, ds.BitsStored = bits, bits_stored or bits
    ds.HighBit, ds.PixelRepresentation = (bits_stored or bits) - 1, int(signed)
    ds.add_new(0x7FE00010, vr, pixels)
    path = tmp_path / name
    little = ts != "1.2.840.10008.1.2.2"
    ds.save_as(path, implicit_vr=ts == "1.2.840.10008.1.2", little_endian=little, enforce_file_format=True)
    return path


def _compare_all_frames(path: Path, deferred: bool | None = None) -> None:
    src = open_frames(path)
    if deferred is not None:
        assert (src._buffer is None) is deferred
    for i in range(src.num_frames):
        np.testing.assert_array_equal(src.frame(i), _reference(path, i))


def test_big_endian_8bit_ow_odd_frames(tmp_path: Path) -> None:
    """8-bit OW in big endian is byte-swapped in 16-bit words (PS3.5 A.3); odd-sized frames."""
    rng = np.random.default_rng(1)
    logical = rng.integers(0, 256, size=3 * 5 * 7, dtype=np.uint8).tobytes() + b"\0"
    swapped = np.frombuffer(logical, "<u2").astype(">u2").tobytes()
    path = _write(tmp_path, "be8.dcm", swapped, rows=5, cols=7, frames=3, bits=8, ts="1.2.840.10008.1.2.2")
    _compare_all_frames(path)


def test_deferred_multiframe_reads_match(tmp_path: Path) -> None:
    """Files larger than the defer size are read frame by frame from disk (LE, implicit, BE)."""
    from viewer.dicom.frames import DEFER_SIZE

    rng = np.random.default_rng(2)
    frames = rng.integers(-2048, 2048, size=(6, 128, 200)).astype(np.int16)
    assert frames.nbytes > DEFER_SIZE
    for ts, data in (("1.2.840.10008.1.2.1", frames.astype("<i2").tobytes()),
                     ("1.2.840.10008.1.2", frames.astype("<i2").tobytes()),
                     ("1.2.840.10008.1.2.2", frames.astype(">i2").tobytes())):
        path = _write(tmp_path, f"{ts}.dcm", data, rows=128, cols=200, frames=6, bits=16, ts=ts,
                      signed=True, bits_stored=12)
        _compare_all_frames(path, deferred=True)


def test_native_ybr_full_422(tmp_path: Path) -> None:
    """Native YBR_FULL_422 (Y1 Y2 Cb Cr per pixel pair, PS3.3 C.7.6.3.1.2) -> RGB like pydicom."""
    rng = np.random.default_rng(4)
    rows, cols, frames = 6, 8, 2
    data = rng.integers(16, 240, size=frames * rows * cols * 2, dtype=np.uint8).tobytes()
    path = _write(tmp_path, "ybr422.dcm", data, rows=rows, cols=cols, frames=frames, bits=8, samples=3,
                  photometric="YBR_FULL_422", vr="OB")
    src = open_frames(path)
    assert src.photometric == "RGB" and not src.warnings
    for i in range(frames):
        np.testing.assert_array_equal(src.frame(i), _reference(path, i))


def test_short_multiframe_keeps_complete_frames(tmp_path: Path) -> None:
    rng = np.random.default_rng(5)
    frames = rng.integers(0, 256, size=(4, 10, 10)).astype(np.uint8)
    data = frames.tobytes()[: 2 * 100 + 40]
    path = _write(tmp_path, "short.dcm", data, rows=10, cols=10, frames=4, bits=8, vr="OB")
    src = open_frames(path)
    assert any("2 complete frame(s)" in w for w in src.warnings)
    np.testing.assert_array_equal(src.frame(1), frames[1])
    np.testing.assert_array_equal(src.frame(2).reshape(-1)[:40], frames[2].reshape(-1)[:40])
    with pytest.raises(DecodeError, match="frame 4 has no pixel data"):
        src.frame(3)


@pytest.mark.parametrize("name", ["ts/MR_small_RLE.dcm", "ts/693_J2KR.dcm", "ts/JPGExtended.dcm", "ct/CT_small.dcm"])
@pytest.mark.parametrize("fraction", [0.5, 0.9, 0.99])
def test_truncated_copies_fail_or_warn_clearly(name: str, fraction: float, tmp_path: Path) -> None:
    """A file cut short: encapsulated ones fail naming the truncation, native ones render partially."""
    data = (CORPUS / name).read_bytes()
    path = tmp_path / "cut.dcm"
    path.write_bytes(data[: int(len(data) * fraction)])
    try:
        src = open_frames(path)
        src.frame(0)
    except ViewerError as exc:
        assert "truncated" in str(exc) and "\n" not in str(exc)
        return
    if not src.warnings:
        # the cut fell after the Pixel Data: the image is whole
        np.testing.assert_array_equal(src.frame(0), open_frames(CORPUS / name).frame(0))
    else:
        assert any("shorter than expected" in w or "truncated" in w for w in src.warnings)


def test_truncated_last_fragment_is_reported(tmp_path: Path) -> None:
    """Encapsulated data cut inside its last fragment (PS3.5 A.4) decodes what it can and says so."""
    ds = pydicom.dcmread(CORPUS / "ts" / "MR_small_RLE.dcm")
    value = ds.PixelData
    ds.PixelData = value[: len(value) - 200]
    src = open_frames(ds)
    assert any("truncated" in w for w in src.warnings)
    try:
        src.frame(0)
    except DecodeError as exc:
        assert "\n" not in str(exc)


def test_header_only_dataset_is_reread_from_its_file() -> None:
    path = CORPUS / "mr" / "MR_small.dcm"
    header = pydicom.dcmread(path, stop_before_pixels=True)
    np.testing.assert_array_equal(open_frames(header).frame(0), _reference(path, 0))
    assert "PixelData" not in header


def test_file_removed_after_open_gives_read_error(tmp_path: Path) -> None:
    import shutil

    path = tmp_path / "ct.dcm"
    shutil.copy(CORPUS / "ct" / "693_UNCR.dcm", path)  # large enough to be deferred
    src = open_frames(path)
    assert src._buffer is None
    path.unlink()
    with pytest.raises(ReadError, match="cannot read pixel data"):
        src.frame(0)


def test_unsupported_syntax_is_a_clear_decode_error() -> None:
    ds = pydicom.dcmread(CORPUS / "ts" / "MR_small_RLE.dcm")
    ds.file_meta.TransferSyntaxUID = "1.2.840.10008.1.2.4.100"  # MPEG2: pydicom has no decoder
    with pytest.raises(DecodeError, match="no decoder exists for transfer syntax MPEG2"):
        open_frames(ds)


def test_encapsulated_pixel_data_with_a_huge_declared_length(tmp_path: Path) -> None:
    """Encapsulated Pixel Data declared 0xFFFFFFF0 bytes long (a damaged file): only what the
    file holds is read (never a 4 GB allocation), and the discrepancy is reported."""
    import struct

    data = bytearray((CORPUS / "ts" / "MR_small_jp2klossless.dcm").read_bytes())
    pos = data.rfind(b"\xe0\x7f\x10\x00O")  # OB (or OW, as this file has it)
    assert pos > 0 and struct.unpack_from("<I", data, pos + 8)[0] == 0xFFFFFFFF
    struct.pack_into("<I", data, pos + 8, 0xFFFFFFF0)
    path = tmp_path / "huge.dcm"
    path.write_bytes(bytes(data))
    try:
        src = open_frames(path)
    except ViewerError as exc:
        assert "\n" not in str(exc)
        return
    assert any("declares 4294967280 bytes" in w for w in src.warnings)
    try:
        np.testing.assert_array_equal(src.frame(0), _reference(CORPUS / "ts" / "MR_small_jp2klossless.dcm", 0))
    except DecodeError as exc:
        assert "\n" not in str(exc)
