"""Malformed headers never crash the pipeline: every failure is a ViewerError (a clear message).

Deterministic header mutations of corpus files (missing or absurd Image Pixel values, bad
windows, rescale and timing values) go through open_frames, params_from_dataset, render,
modality_values, overlay_layers and frame_times_ms.
"""

from __future__ import annotations

import random
import warnings
from pathlib import Path

import pydicom
import pytest

from viewer.dicom.frames import open_frames
from viewer.errors import ViewerError
from viewer.render import frame_times_ms, modality_values, overlay_layers, params_from_dataset, render

CORPUS = Path(__file__).resolve().parent.parent / "data" / "corpus"
FILES = ["ct/CT_small.dcm", "lut/mlut_18.dcm", "lut/vlut_04.dcm", "palette/OBXXXX1A.dcm", "ts/MR_small_RLE.dcm",
         "ts/JPEGBaseline_1s_1f_u_08_08.dcm", "synthetic/rgb_planar1.dcm", "overlay/examples_overlay.dcm",
         "synthetic/enhanced_mr_diffusion_12f.dcm", "synthetic/sc_1bit_3frames_unaligned.dcm",
         "ts/MR_small_jp2klossless.dcm"]
MUTATIONS: dict[str, list[object]] = {
    "Rows": [0, 1, 65535, None, "x"], "Columns": [0, 3, None], "BitsAllocated": [0, 7, 12, 24, None],
    "BitsStored": [0, 17, 40, None, 1], "HighBit": [0, 31, None, 100], "PixelRepresentation": [2, None, 1],
    "SamplesPerPixel": [0, 2, 4, None, 3],
    "PhotometricInterpretation": ["FOO", "", None, "PALETTE COLOR", "YBR_FULL_422", "MONOCHROME1", "RGB"],
    "NumberOfFrames": [0, -1, 1000, None, "abc"], "WindowCenter": [None, "", 0], "WindowWidth": [0, -5, None, ""],
    "RescaleSlope": [0, None, "a"], "VOILUTFunction": ["BOGUS", ""], "PlanarConfiguration": [5, None, 1],
    "PresentationLUTShape": ["INVERSE", "X"], "FrameTime": [0, -1, "x"], "FrameTimeVector": [[1, 2]],
}


def _cases(n: int = 120) -> list[tuple[str, list[tuple[str, object]]]]:
    rng = random.Random(20261127)
    out = []
    for _ in range(n):
        changes = [(k, rng.choice(MUTATIONS[k])) for k in rng.sample(sorted(MUTATIONS), rng.randint(1, 3))]
        out.append((rng.choice(FILES), changes))
    return out


@pytest.mark.parametrize("name,changes", _cases(), ids=lambda v: v if isinstance(v, str) else "")
def test_mutated_headers_fail_cleanly(name: str, changes: list[tuple[str, object]]) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ds = pydicom.dcmread(CORPUS / name)
        for keyword, value in changes:
            try:
                if value is None:
                    if keyword in ds:
                        delattr(ds, keyword)
                else:
                    setattr(ds, keyword, value)
            except (TypeError, ValueError):
                pass  # pydicom refused the value itself
    for call in (lambda: params_from_dataset(ds), lambda: frame_times_ms(ds), lambda: overlay_layers(ds, 0)):
        try:
            call()  # each entry point on its own, as the GUI calls them
        except ViewerError as exc:
            assert str(exc) and "\n" not in str(exc)
    try:
        src = open_frames(ds)
        index = min(1, src.num_frames - 1)
        params = params_from_dataset(src.dataset, frame_index=index)
        frame = src.frame(index)
        img = render(frame, params)
        modality_values(frame, params)
        overlay_layers(ds, index, frames=src)
        frame_times_ms(ds)
    except ViewerError as exc:
        assert str(exc) and "\n" not in str(exc)
        return
    assert img.dtype.name == "uint8" and img.shape[:2] == frame.shape[:2]
    assert img.ndim == 2 or img.shape[2] == 3
