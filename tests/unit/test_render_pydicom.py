"""Rendering checked against pydicom's reference transforms where DCMTK cannot be the oracle.

pydicom's ``apply_modality_lut``, ``apply_windowing``/``apply_voi_lut``, ``apply_color_lut``
and ``convert_color_space`` (and its default YBR->RGB decoding) are the oracle for:
JPEG 2000 (DCMTK 3.6.7 has no codec), SIGMOID and LINEAR_EXACT, all colour, and enhanced
multi-frame files. For enhanced files the standard (PS3.3 C.7.6.16.2.9/.10) applies per-frame
Pixel Value Transformation and Frame VOI LUT; DCMTK ignores them, so the oracle here reads
the functional groups with plain pydicom element access and feeds pydicom's functions.

Tolerances: 1 level for grayscale (rounding), 2 for YCbCr->RGB (rounding differs), and
1 + ceil(255 |slope| / width) more for lossy syntaxes.
"""

from __future__ import annotations

import copy
import warnings
from pathlib import Path

import numpy as np
import pydicom
import pytest
from pydicom.pixels import apply_color_lut, apply_modality_lut, apply_voi_lut, apply_windowing, pixel_array

from viewer.dicom.frames import open_frames
from viewer.render import RenderParams, modality_values, params_from_dataset, render

from tests.helpers import CORPUS, manifest

J2K = {"1.2.840.10008.1.2.4.90", "1.2.840.10008.1.2.4.91"}
LOSSY = {"1.2.840.10008.1.2.4.50", "1.2.840.10008.1.2.4.51", "1.2.840.10008.1.2.4.81", "1.2.840.10008.1.2.4.91"}


ROWS = [r for r in manifest() if r["pydicom_decode"].startswith("OK")]


def _read(path: Path) -> pydicom.Dataset:
    ds = pydicom.dcmread(path, force=True)
    if "TransferSyntaxUID" not in ds.file_meta:
        ds.file_meta.TransferSyntaxUID = pydicom.uid.ImplicitVRLittleEndian
    return ds


def _ref_frame(ds: pydicom.Dataset, index: int) -> np.ndarray:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return pixel_array(ds, index=index)


def _voi_output_range(ds: pydicom.Dataset) -> tuple[float, float]:
    """The y_min/y_max pydicom's apply_windowing maps into (its own definition)."""
    if "ModalityLUTSequence" in ds:
        return 0.0, 2.0 ** ds.ModalityLUTSequence[0].LUTDescriptor[2] - 1
    if ds.PixelRepresentation == 0:
        y_min, y_max = 0, 2 ** ds.BitsStored - 1
    else:
        y_min, y_max = -(2 ** (ds.BitsStored - 1)), 2 ** (ds.BitsStored - 1) - 1
    if "RescaleSlope" in ds and "RescaleIntercept" in ds:
        slope, icpt = float(ds.RescaleSlope), float(ds.RescaleIntercept)
        y_min, y_max = y_min * slope + icpt, y_max * slope + icpt
    return float(y_min), float(y_max)


def pydicom_render(stored: np.ndarray, ds: pydicom.Dataset, index: int = 0) -> np.ndarray:
    """Straightforward pydicom pipeline to 8 bits: modality LUT, VOI, scale, invert."""
    values = apply_modality_lut(stored, ds)
    if "WindowCenter" in ds:
        out = apply_windowing(values, ds, index=index)
        y_min, y_max = _voi_output_range(ds)
    else:
        out = apply_voi_lut(values, ds, index=index, prefer_lut=True)
        y_min, y_max = 0.0, 2.0 ** ds.VOILUTSequence[index].LUTDescriptor[2] - 1
    img = np.clip(np.rint((out - y_min) * (255.0 / (y_max - y_min))), 0, 255).astype(np.uint8)
    if ds.PhotometricInterpretation == "MONOCHROME1" or ds.get("PresentationLUTShape") == "INVERSE":
        img = 255 - img
    return img


def _with_min_max_window(ds: pydicom.Dataset, stored: np.ndarray) -> pydicom.Dataset:
    """A copy of ``ds`` with the min/max window DCMTK's ``+Wm`` uses, for pydicom to apply."""
    values = apply_modality_lut(stored, ds)
    lo, hi = float(values.min()), float(values.max())
    ds = copy.deepcopy(ds)
    ds.WindowCenter, ds.WindowWidth = (lo + hi + 1) / 2, hi - lo + 1
    return ds


def _assert_close(ours: np.ndarray, ref: np.ndarray, tol: int, share: float = 0.999) -> None:
    assert ours.shape == ref.shape and ours.dtype == np.uint8
    diff = np.abs(ours.astype(np.int16) - ref.astype(np.int16))
    got = float((diff <= tol).mean())
    assert got >= share, f"only {got:.4%} within {tol} (max {diff.max()})"


# ------------------------------------------------------------------ JPEG 2000 grayscale
J2K_GRAY = [r for r in ROWS if r["TransferSyntaxUID"] in J2K and r["SamplesPerPixel"] == "1"]


@pytest.mark.parametrize("row", J2K_GRAY, ids=lambda r: r["path"])
def test_jpeg2000_grayscale_matches_pydicom(row: dict[str, str]) -> None:
    path = CORPUS / row["path"]
    ds = _read(path)
    src = open_frames(path)
    ref_stored = _ref_frame(ds, 0)
    if "WindowCenter" not in ds and "VOILUTSequence" not in ds:
        ds = _with_min_max_window(ds, ref_stored)
    params = params_from_dataset(src.dataset)
    ours = render(src.frame(0), params)
    tol = 1
    if row["TransferSyntaxUID"] in LOSSY:
        tol += int(np.ceil(255 * abs(params.rescale_slope) / float(ds.WindowWidth)))
    _assert_close(ours, pydicom_render(ref_stored, ds), tol)


# ------------------------------------------------------------------ VOI LUT functions
@pytest.mark.filterwarnings("ignore:overflow encountered in exp:RuntimeWarning")  # pydicom's sigmoid
@pytest.mark.parametrize("function", ["LINEAR", "LINEAR_EXACT", "SIGMOID"])
@pytest.mark.parametrize("center,width", [(40.0, 400.0), (-600.0, 1500.0), (100.5, 1.0), (0.0, 2.0)])
def test_voi_functions_match_pydicom(function: str, center: float, width: float) -> None:
    ds = pydicom.dcmread(CORPUS / "ct" / "CT_small.dcm")
    ds.WindowCenter, ds.WindowWidth, ds.VOILUTFunction = center, width, function
    stored = ds.pixel_array
    params = params_from_dataset(ds)
    assert params.window is not None and params.window.function.value == function
    _assert_close(render(open_frames(ds).frame(0), params), pydicom_render(stored, ds), 1)


def test_window_override_uses_the_given_window() -> None:
    ds = pydicom.dcmread(CORPUS / "mr" / "MR_small.dcm")
    stored = ds.pixel_array
    params = params_from_dataset(ds).with_window(300, 500)
    ref_ds = copy.deepcopy(ds)
    ref_ds.WindowCenter, ref_ds.WindowWidth = 300, 500
    _assert_close(render(stored, params), pydicom_render(stored, ref_ds), 1)


# ------------------------------------------------------------------ Modality LUT
GRAY = [r for r in ROWS if r["SamplesPerPixel"] == "1" and r["PhotometricInterpretation"].startswith("MONO")
        and not r["path"].startswith(("series/", "dicomdir_media/"))]


@pytest.mark.parametrize("row", GRAY, ids=lambda r: r["path"])
def test_modality_values_match_pydicom(row: dict[str, str]) -> None:
    path = CORPUS / row["path"]
    src = open_frames(path)
    ds = _read(path)
    index = src.num_frames - 1
    flat = _flatten_enhanced(ds, index)
    ref = apply_modality_lut(_ref_frame(ds, index), flat)
    ours = modality_values(src.frame(index), params_from_dataset(src.dataset, frame_index=index))
    assert ours.dtype == np.float32
    tol = 8 * abs(float(flat.get("RescaleSlope", 1))) if row["TransferSyntaxUID"] in LOSSY else 1e-3
    np.testing.assert_allclose(ours, ref, atol=tol, rtol=1e-6)


@pytest.mark.parametrize("row", [r for r in GRAY if r["modality_lut_value"]], ids=lambda r: r["path"])
def test_modality_value_probe_from_manifest(row: dict[str, str]) -> None:
    src = open_frames(CORPUS / row["path"])
    f, r, c = (int(v) for v in row["probe_frame_row_col"].split(","))
    value = modality_values(src.frame(f), params_from_dataset(src.dataset, frame_index=f))[r, c]
    tol = 8 if src.transfer_syntax in LOSSY else 1e-3
    assert abs(float(value) - float(row["modality_lut_value"])) <= tol


# ------------------------------------------------------------------ enhanced multi-frame
def _flatten_enhanced(ds: pydicom.Dataset, index: int) -> pydicom.Dataset:
    """Copy the frame's functional-group values to the top level (PS3.3 C.7.6.16)."""
    flat = copy.copy(ds)
    for group, keys in (("PixelValueTransformationSequence", ("RescaleSlope", "RescaleIntercept")),
                        ("FrameVOILUTSequence", ("WindowCenter", "WindowWidth", "VOILUTFunction"))):
        item = None
        for seq_kw, i in (("PerFrameFunctionalGroupsSequence", index), ("SharedFunctionalGroupsSequence", 0)):
            seq = ds.get(seq_kw)
            if seq and i < len(seq) and group in seq[i]:
                item = seq[i][group][0]
                break
        if item is not None:
            for k in keys:
                if k in item:
                    setattr(flat, k, item[k].value)
    return flat


@pytest.mark.parametrize("name", ["enhanced/eCT_Supplemental.dcm", "synthetic/enhanced_mr_diffusion_12f.dcm"])
def test_enhanced_per_frame_groups_match_pydicom(name: str) -> None:
    """We follow the standard (per-frame groups); DCMTK 3.6.7 does not, so pydicom is the oracle."""
    path = CORPUS / name
    ds = _read(path)
    src = open_frames(path)
    seen_windows = set()
    for index in range(src.num_frames):
        flat = _flatten_enhanced(ds, index)
        params = params_from_dataset(src.dataset, frame_index=index)
        assert params.window is not None
        assert (params.window.center, params.window.width) == (float(flat.WindowCenter), float(flat.WindowWidth))
        seen_windows.add((params.window.center, params.window.width))
        _assert_close(render(src.frame(index), params), pydicom_render(_ref_frame(ds, index), flat), 1)
    if "diffusion" in name:
        assert len(seen_windows) > 1  # the per-frame windows really differ


# ------------------------------------------------------------------ colour
COLOR = [r for r in ROWS if r["SamplesPerPixel"] == "3"]


@pytest.mark.parametrize("row", COLOR, ids=lambda r: r["path"])
def test_true_color_matches_pydicom(row: dict[str, str]) -> None:
    path = CORPUS / row["path"]
    ds = _read(path)
    src = open_frames(path)
    params = params_from_dataset(src.dataset)
    assert params.is_color and not params.inverted
    for index in sorted({0, src.num_frames - 1}):
        ref = _ref_frame(ds, index)  # pydicom converts YBR to RGB by default
        if ref.dtype != np.uint8:
            ref = np.rint(ref / float(2 ** ds.BitsStored - 1) * 255).astype(np.uint8)
        ours = render(src.frame(index), params)
        assert ours.shape == ref.shape[:2] + (3,)
        tol = 0
        if row["PhotometricInterpretation"].startswith("YBR"):
            tol = 2
        if row["TransferSyntaxUID"] in LOSSY:
            tol += 2  # Pillow vs libjpeg, one stored value on a few pixels, then YCbCr rounding
        _assert_close(ours, ref, tol)


def test_ybr_full_uncompressed_matches_convert_color_space() -> None:
    from pydicom.pixels import convert_color_space

    path = CORPUS / "color" / "SC_ybr_full_uncompressed.dcm"
    ds = pydicom.dcmread(path)
    raw = pixel_array(ds, raw=True)
    ref = convert_color_space(raw, "YBR_FULL", "RGB")
    _assert_close(render(open_frames(path).frame(0), params_from_dataset(ds)), ref, 2, share=1.0)


def test_palette_color_matches_apply_color_lut() -> None:
    path = CORPUS / "palette" / "OBXXXX1A.dcm"
    ds = pydicom.dcmread(path)
    ref = apply_color_lut(ds.pixel_array, ds)
    if ref.dtype != np.uint8:
        ref = np.rint(ref / 65535.0 * 255).astype(np.uint8)
    src = open_frames(path)
    _assert_close(render(src.frame(0), params_from_dataset(src.dataset)), ref, 1, share=1.0)


def _palette_dataset(bits: int, segmented: bool) -> pydicom.Dataset:
    """A generated 8-bit PALETTE COLOR image with 16-bit (or 8-bit) entries, maybe segmented."""
    from pydicom.dataset import FileMetaDataset

    ds = pydicom.Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = pydicom.uid.ExplicitVRLittleEndian
    ds.Rows, ds.Columns, ds.SamplesPerPixel = 16, 16, 1
    ds.BitsAllocated = ds.BitsStored = 8
    ds.HighBit, ds.PixelRepresentation = 7, 0
    ds.PhotometricInterpretation = "PALETTE COLOR"
    ds.PixelData = np.arange(256, dtype=np.uint8).tobytes()
    top = 2 ** bits - 1
    for i, color in enumerate(("Red", "Green", "Blue")):
        setattr(ds, f"{color}PaletteColorLookupTableDescriptor", [256, 0, bits])
        if segmented:
            # discrete segment (opcode 0) of 1 value, then a linear segment (opcode 1) to the end
            start, end = [0, top // 2, top][i], [top, top // 3, 0][i]
            seg = np.array([0, 1, start, 1, 255, end], dtype="<u2")
            ds[0x0028, 0x1221 + i] = pydicom.DataElement((0x0028, 0x1221 + i), "OW", seg.tobytes())
        else:
            values = (np.linspace(0, top, 256) if i == 0 else np.linspace(top, 0, 256)).astype("<u2")
            if bits == 8:
                values = values.astype("u1")
            ds[0x0028, 0x1201 + i] = pydicom.DataElement((0x0028, 0x1201 + i), "OW", values.tobytes())
    return ds


@pytest.mark.parametrize("bits,segmented", [(16, False), (8, False), (16, True)])
def test_generated_palettes_match_apply_color_lut(bits: int, segmented: bool) -> None:
    ds = _palette_dataset(bits, segmented)
    ref = apply_color_lut(ds.pixel_array, ds)
    if ref.dtype != np.uint8:
        ref = np.rint(ref / 65535.0 * 255).astype(np.uint8)
    params = params_from_dataset(ds)
    _assert_close(render(open_frames(ds).frame(0), params), ref, 1, share=1.0)


def test_params_are_plain_values() -> None:
    params = params_from_dataset(pydicom.dcmread(CORPUS / "series" / "ct_stack_40" / "IMG0001.dcm"))
    assert isinstance(params, RenderParams)
    hash(params)
    assert params.voi_options[0].startswith("SOFT_TISSUE") and params.voi_options[1].startswith("LUNG")
    assert params.with_voi(1).window == params.windows[1]
    assert params.voi_index == 0 and params.with_voi(1).voi_index == 1
    assert params.with_window(10, 20).voi_index is None
    with pytest.raises(IndexError):
        params.with_voi(2)


@pytest.mark.parametrize("name", ["ct/693_UNCR.dcm", "synthetic/dx_monochrome1_imagerpixelspacing.dcm"])
def test_twelve_bit_output_matches_pydicom(name: str) -> None:
    """12-bit P-values for print (PS3.4 H.4.1.1.2): the same pydicom pipeline scaled to 4095."""
    path = CORPUS / name
    ds = _read(path)
    stored = _ref_frame(ds, 0)
    out = apply_windowing(apply_modality_lut(stored, ds), ds)
    y_min, y_max = _voi_output_range(ds)
    ref = np.clip(np.rint((out - y_min) * (4095.0 / (y_max - y_min))), 0, 4095).astype(np.int32)
    if ds.PhotometricInterpretation == "MONOCHROME1":
        ref = 4095 - ref
    ours = render(open_frames(path).frame(0), params_from_dataset(ds), output_bits=12)
    assert ours.dtype == np.uint16
    assert np.abs(ours.astype(np.int32) - ref).max() <= 1


def test_pinned_min_max_window_renders_regions_like_the_whole() -> None:
    """A region rendered with the pinned window equals that region of the full render."""
    from viewer.render import pin_window

    src = open_frames(CORPUS / "ct" / "CT_small.dcm")
    frame = src.frame(0)
    params = params_from_dataset(src.dataset)
    assert params.window is None and params.voi_lut is None
    full = render(frame, params)
    pinned = pin_window(frame, params)
    region = frame[40:80:2, 10:90:3]
    np.testing.assert_array_equal(render(region, pinned), full[40:80:2, 10:90:3])


def test_supplemental_palette_splits_gray_and_color() -> None:
    """PS3.3 C.8.16.2.1.1.1 (Pixel Presentation COLOR): stored values below the palette's first
    mapped value go through the grayscale pipeline, the others through the palette. Oracle:
    pydicom's pipeline for the gray part, pydicom's apply_color_lut (fed the palette attributes
    alone, since it refuses the whole dataset) for the colour part."""
    path = CORPUS / "enhanced" / "eCT_Supplemental.dcm"
    ds = _read(path)
    src = open_frames(path)
    params = params_from_dataset(src.dataset)
    assert params.supplemental is not None and not params.show_supplemental and not params.is_color
    assert render(src.frame(0), params).ndim == 2  # default: grayscale, as DCMTK shows it
    stored = _ref_frame(ds, 0)
    gray = pydicom_render(stored, _flatten_enhanced(ds, 0))
    lut_ds = pydicom.Dataset()
    for tag in (0x00281101, 0x00281102, 0x00281103, 0x00281201, 0x00281202, 0x00281203):
        lut_ds[tag] = ds[tag]
    colour = apply_color_lut(stored, lut_ds)
    if colour.dtype != np.uint8:
        colour = np.rint(colour / 65535.0 * 255).astype(np.uint8)
    first = int(ds.RedPaletteColorLookupTableDescriptor[1])
    ref = np.where((stored >= first)[..., None], colour[..., :3], gray[..., None])
    ours = render(src.frame(0), params.with_supplemental())
    assert (stored >= first).any() and (stored < first).any()
    _assert_close(ours, ref.astype(np.uint8), 1, share=1.0)
