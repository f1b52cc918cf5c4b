"""``render IMAGE --pstate GSPS`` against DCMTK ``dcmp2pgm -p GSPS IMAGE OUT.pgm``.

The presentation states are made by DCMTK ``dcmpsmk`` from CT images built here, then
changed with pydicom for what dcmpsmk does not write (rotation and flip, INVERSE, a VOI LUT
Sequence, a Presentation LUT Sequence, a bitmap shutter, no VOI at all). dcmp2pgm writes
the whole image (no displayed area) without graphic annotations or geometric shutters, so
ours runs with ``--no-area --no-annotations``; each pixel must be within 1 level.
DCMTK 3.6.7's SIGMOID is not the curve of PS3.3 C.11.2.1.3.1, so that function is checked
against pydicom in ``tests/unit/test_pstate.py`` instead (as for images, test_render_pydicom).
"""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from pydicom import dcmread
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence
from pydicom.uid import generate_uid

from tests.helpers.ct import ct_dataset
from tests.helpers.overlays import add_overlay
from tests.helpers.peers import require_program
from viewer.cli import main


def _ct(path: Path, signed: bool = False) -> Path:
    rows, cols = 40, 60
    yy, xx = np.mgrid[0:rows, 0:cols]
    values = (xx * 47 + yy * 29) % 3000
    ds = ct_dataset(generate_uid(), generate_uid(), generate_uid(), size=8)
    ds.Rows, ds.Columns = rows, cols
    if signed:
        ds.PixelRepresentation = 1
        ds.PixelData = (values - 1024).astype("<i2").tobytes()
        ds.RescaleIntercept, ds.RescaleSlope = 0, 1
    else:
        ds.PixelData = values.astype("<u2").tobytes()
        ds.RescaleIntercept, ds.RescaleSlope = -1024, 1
    ds.WindowCenter, ds.WindowWidth = 40, 400
    ds.StudyDate, ds.PatientName = "20260101", "Pstate^Test"
    ds.save_as(path, enforce_file_format=True)
    return path


def _bitmap_shutter(ps: Dataset) -> None:
    """A bitmap shutter over the left third (overlay 6000 of the presentation state)."""
    rows, cols = 40, 60
    bits = np.zeros((rows, cols), np.uint8)
    bits[:, :20] = 1
    bits[30:, 50:] = 1
    add_overlay(ps, bits)
    ps.ShutterShape = "BITMAP"
    ps.ShutterOverlayGroup = 0x6000
    ps.ShutterPresentationValue = 0xC000


def _plut(ps: Dataset) -> None:
    del ps.PresentationLUTShape
    item = Dataset()
    item.LUTDescriptor = [256, 0, 12]
    item.LUTData = [int(4095 * (i / 255) ** 2) for i in range(256)]
    item["LUTData"].VR = "US"
    ps.PresentationLUTSequence = Sequence([item])


def _voi_lut(ps: Dataset) -> None:
    item = ps.SoftcopyVOILUTSequence[0]
    del item.WindowCenter, item.WindowWidth
    lut = Dataset()
    lut.LUTDescriptor = [2000, 0, 10]
    lut.LUTData = [int(1023 * (i / 1999) ** 0.5) for i in range(2000)]
    lut["LUTData"].VR = "US"
    item.VOILUTSequence = Sequence([lut])


def _transform(rotation: int, flip: bool) -> Callable[[Dataset], None]:
    def change(ps: Dataset) -> None:
        ps.ImageRotation, ps.ImageHorizontalFlip = rotation, "Y" if flip else "N"
    return change


def _window(center: float, width: float, function: str = "") -> Callable[[Dataset], None]:
    def change(ps: Dataset) -> None:
        item = ps.SoftcopyVOILUTSequence[0]
        item.WindowCenter, item.WindowWidth = center, width
        if function:
            item.VOILUTFunction = function
    return change


def _no_voi(ps: Dataset) -> None:
    del ps.SoftcopyVOILUTSequence


def _inverse(ps: Dataset) -> None:
    ps.PresentationLUTShape = "INVERSE"


CASES: dict[str, Callable[[Dataset], None]] = {
    "as made": lambda ps: None,
    "narrow window": _window(-100, 50),
    "linear exact": _window(40.5, 301, "LINEAR_EXACT"),
    "inverse": _inverse,
    "no voi": _no_voi,
    "voi lut sequence": _voi_lut,
    "plut sequence": _plut,
    "voi lut and plut sequences": lambda ps: (_voi_lut(ps), _plut(ps)),
    "rotate 90": _transform(90, False),
    "rotate 90 flip": _transform(90, True),
    "rotate 180 flip": _transform(180, True),
    "rotate 270": _transform(270, False),
    "flip": _transform(0, True),
    "bitmap shutter": _bitmap_shutter,
}


@pytest.mark.parametrize("signed", [False, True], ids=["unsigned", "signed"])
@pytest.mark.parametrize("case", list(CASES))
def test_render_matches_dcmp2pgm(tmp_path: Path, case: str, signed: bool) -> None:
    _compare(tmp_path, _ct(tmp_path / "ct.dcm", signed), case)


@pytest.mark.parametrize("case", ["as made", "inverse", "no voi", "plut sequence", "rotate 90 flip"])
def test_modality_lut_sequence_matches_dcmp2pgm(tmp_path: Path, case: str) -> None:
    """An image whose Modality LUT is a LUT Sequence (copied into the GSPS by dcmpsmk)."""
    image = _ct(tmp_path / "ct.dcm")
    ds = dcmread(image)
    del ds.RescaleIntercept, ds.RescaleSlope
    item = Dataset()
    item.LUTDescriptor = [3000, 0, 12]
    item.LUTData = [min(4095, int(i * 1.2 + 50 * np.sin(i / 200.0) + 60)) for i in range(3000)]
    item["LUTData"].VR = "US"
    item.ModalityLUTType = "US"
    ds.ModalityLUTSequence = Sequence([item])
    ds.WindowCenter, ds.WindowWidth = 1800, 2400
    ds.save_as(image)
    _compare(tmp_path, image, case)
    assert "ModalityLUTSequence" in dcmread(tmp_path / "ps.dcm")


def _compare(tmp_path: Path, image: Path, case: str) -> None:
    require_program("dcmpsmk", "dcmtk")
    require_program("dcmp2pgm", "dcmtk")
    made = tmp_path / "made.dcm"
    subprocess.run(["dcmpsmk", "-q", str(image), str(made)], check=True)
    ps = dcmread(made)
    CASES[case](ps)
    gsps = tmp_path / "ps.dcm"
    ps.save_as(gsps)
    oracle = tmp_path / "dcmtk.pgm"
    subprocess.run(["dcmp2pgm", "-q", "-p", str(gsps), str(image), str(oracle)], check=True)
    ours = tmp_path / "ours.png"
    assert main(["render", str(image), "--pstate", str(gsps), "--no-area", "--no-annotations",
                 "-o", str(ours)]) == 0
    want = np.asarray(Image.open(oracle)).astype(int)
    got = np.asarray(Image.open(ours)).astype(int)
    assert got.shape == want.shape
    assert np.abs(got - want).max() <= 1, f"{case}: {np.count_nonzero(np.abs(got - want) > 1)} pixels differ"
    # not a trivial image: the window leaves real gray levels
    assert len(np.unique(want)) > 10 or case == "narrow window"
    if case == "bitmap shutter":  # dcmp2pgm did paint it: 0xC000 is level 191
        assert (want[:, :20] == 191).all() and (want[30:, 50:] == 191).all()
