"""Generated edge cases the corpus lacks, each checked against pydicom's reference functions:
per-frame rescale in an enhanced object, 32-bit integer data, Float Pixel Data, a VOI LUT on
rescaled (negative) values, and MONOCHROME1 with a Modality LUT Sequence."""

from __future__ import annotations

import copy

import numpy as np
import pydicom
import pytest
from pydicom.dataset import FileMetaDataset
from pydicom.pixels import apply_modality_lut, apply_voi_lut, apply_windowing, pixel_array
from pydicom.sequence import Sequence

from viewer.dicom.frames import open_frames
from viewer.render import modality_values, params_from_dataset, render


def _image(frames: np.ndarray, bits_stored: int, signed: bool, photometric: str = "MONOCHROME2") -> pydicom.Dataset:
    ds = pydicom.Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = pydicom.uid.ExplicitVRLittleEndian
    n, rows, cols = frames.shape
    ds.Rows, ds.Columns, ds.SamplesPerPixel = rows, cols, 1
    if n > 1:
        ds.NumberOfFrames = n
    ds.PhotometricInterpretation = photometric
    ds.BitsAllocated = 8 * frames.dtype.itemsize
    ds.BitsStored, ds.HighBit, ds.PixelRepresentation = bits_stored, bits_stored - 1, int(signed)
    ds.PixelData = frames.astype(frames.dtype.newbyteorder("<")).tobytes()
    return ds


def _scale(out: np.ndarray, y_min: float, y_max: float) -> np.ndarray:
    return np.clip(np.rint((out - y_min) * (255.0 / (y_max - y_min))), 0, 255).astype(np.uint8)


def _within_one(ours: np.ndarray, ref: np.ndarray) -> None:
    assert ours.shape == ref.shape
    assert np.abs(ours.astype(np.int16) - ref.astype(np.int16)).max() <= 1


def test_enhanced_per_frame_rescale_is_applied() -> None:
    """Pixel Value Transformation per frame (PS3.3 C.7.6.16.2.9) beats the shared group."""
    rng = np.random.default_rng(11)
    frames = rng.integers(0, 4096, size=(3, 16, 16)).astype(np.uint16)
    ds = _image(frames, 12, False)
    rescales = [(1.0, -1024.0), (2.0, -2048.0), (0.5, 10.0)]
    shared = pydicom.Dataset()
    pvt = pydicom.Dataset()
    pvt.RescaleSlope, pvt.RescaleIntercept, pvt.RescaleType = 1, 0, "US"
    shared.PixelValueTransformationSequence = Sequence([pvt])
    voi = pydicom.Dataset()
    voi.WindowCenter, voi.WindowWidth = 500, 3000
    shared.FrameVOILUTSequence = Sequence([voi])
    ds.SharedFunctionalGroupsSequence = Sequence([shared])
    per_frame = []
    for slope, icpt in rescales:
        item, p = pydicom.Dataset(), pydicom.Dataset()
        p.RescaleSlope, p.RescaleIntercept, p.RescaleType = slope, icpt, "US"
        item.PixelValueTransformationSequence = Sequence([p])
        per_frame.append(item)
    ds.PerFrameFunctionalGroupsSequence = Sequence(per_frame)
    src = open_frames(ds)
    for i, (slope, icpt) in enumerate(rescales):
        flat = copy.deepcopy(ds)
        flat.RescaleSlope, flat.RescaleIntercept = slope, icpt
        flat.WindowCenter, flat.WindowWidth = 500, 3000
        ref_values = apply_modality_lut(frames[i], flat)
        params = params_from_dataset(ds, frame_index=i)
        np.testing.assert_allclose(modality_values(src.frame(i), params), ref_values, rtol=1e-6)
        y_min, y_max = icpt, 4095 * slope + icpt
        _within_one(render(src.frame(i), params), _scale(apply_windowing(ref_values, flat), y_min, y_max))


def test_32bit_integer_data() -> None:
    rng = np.random.default_rng(12)
    frames = rng.integers(0, 2 ** 20, size=(1, 20, 30)).astype(np.uint32)
    ds = _image(frames, 20, False)
    ds.WindowCenter, ds.WindowWidth = 2 ** 19, 2 ** 19
    ds.RescaleSlope, ds.RescaleIntercept = 1, 0
    stored = pixel_array(ds)
    ours = render(open_frames(ds).frame(0), params_from_dataset(ds))
    _within_one(ours, _scale(apply_windowing(apply_modality_lut(stored, ds), ds), 0, 2 ** 20 - 1))


def test_float_pixel_data() -> None:
    rng = np.random.default_rng(13)
    values = rng.normal(0, 100, size=(12, 14)).astype("<f4")
    ds = _image(np.zeros((1, 12, 14), np.uint32), 32, False)
    del ds.PixelData, ds.BitsStored, ds.HighBit, ds.PixelRepresentation
    ds.BitsAllocated = 32
    ds.FloatPixelData = values.tobytes()
    ds.WindowCenter, ds.WindowWidth = 0, 200
    src = open_frames(ds)
    np.testing.assert_array_equal(src.frame(0), pixel_array(ds))
    ref = np.clip(np.floor(((values - (0 - 0.5)) / (200 - 1) + 0.5) * 255 + 0.5), 0, 255)  # C.11.2.1.2
    _within_one(render(src.frame(0), params_from_dataset(ds)), ref.astype(np.uint8))


@pytest.mark.filterwarnings("ignore:Applying a VOI LUT on a float input:UserWarning")  # integral floats here
def test_voi_lut_on_negative_modality_values() -> None:
    """A VOI LUT whose first mapped value is negative (input = rescaled values, C.11.2.1.1)."""
    rng = np.random.default_rng(14)
    frames = rng.integers(0, 2000, size=(1, 24, 24)).astype(np.int16)
    ds = _image(frames, 16, True)
    ds.RescaleSlope, ds.RescaleIntercept = 1, -1024
    item = pydicom.Dataset()
    item.add_new(0x00283002, "SS", [1024, -512, 12])
    item.LUTData = [int(v) for v in np.linspace(0, 4095, 1024).astype(int)]
    item.LUTExplanation = "SOFT"
    ds.VOILUTSequence = Sequence([item])
    stored = pixel_array(ds)
    out = apply_voi_lut(apply_modality_lut(stored, ds), ds, prefer_lut=True)
    params = params_from_dataset(ds)
    assert params.voi_lut is not None and params.voi_lut.first_mapped == -512
    _within_one(render(open_frames(ds).frame(0), params), _scale(out, 0, 4095))


def test_monochrome1_with_modality_lut_sequence() -> None:
    rng = np.random.default_rng(15)
    frames = rng.integers(0, 1024, size=(1, 20, 20)).astype(np.uint16)
    ds = _image(frames, 10, False, "MONOCHROME1")
    item = pydicom.Dataset()
    item.LUTDescriptor = [1024, 0, 16]
    item.LUTData = [int(v) for v in (np.arange(1024) ** 2 // 16)]
    item.ModalityLUTType = "OD"
    ds.ModalityLUTSequence = Sequence([item])
    ds.WindowCenter, ds.WindowWidth = 30000, 60000
    stored = pixel_array(ds)
    out = apply_windowing(apply_modality_lut(stored, ds), ds)
    ref = 255 - _scale(out, 0, 65535)
    params = params_from_dataset(ds)
    assert params.inverted and params.modality_lut is not None
    _within_one(render(open_frames(ds).frame(0), params), ref)


@pytest.mark.parametrize("bits", [8, 12, 16])
def test_window_of_width_one_is_a_threshold(bits: int) -> None:
    """C.11.2.1.2.1: width 1 maps x <= c - 0.5 to black and everything above to white."""
    frames = np.arange(256, dtype=np.uint16 if bits > 8 else np.uint8).reshape(1, 16, 16)
    ds = _image(frames, bits, False)
    ds.WindowCenter, ds.WindowWidth = 100, 1
    ref = _scale(apply_windowing(pixel_array(ds).astype(float), ds), 0, 2 ** bits - 1)
    _within_one(render(open_frames(ds).frame(0), params_from_dataset(ds)), ref)


def test_jpeg2000_ybr_rct_decodes_to_the_encoded_rgb() -> None:
    """J2K lossless with the reversible colour transform (YBR_RCT, PS3.5 A.4.4): the decoder
    undoes it, so the display image is exactly the RGB that was encoded (and pydicom agrees)."""
    rng = np.random.default_rng(16)
    rgb = rng.integers(0, 256, size=(32, 40, 3)).astype(np.uint8)
    ds = _image(np.zeros((1, 32, 40), np.uint8), 8, False, "RGB")
    ds.SamplesPerPixel, ds.PlanarConfiguration = 3, 0
    ds.PixelData = rgb.tobytes()
    ds.compress(pydicom.uid.JPEG2000Lossless, rgb, use_mct=True)
    ds.PhotometricInterpretation = "YBR_RCT"
    src = open_frames(ds)
    img = render(src.frame(0), params_from_dataset(ds))
    assert src.photometric == "RGB"
    np.testing.assert_array_equal(img, rgb)
    np.testing.assert_array_equal(img, pixel_array(ds))


@pytest.mark.parametrize("bits_stored,signed", [(8, True), (7, False), (6, True)])
def test_eight_bit_containers_match_pydicom(bits_stored: int, signed: bool) -> None:
    """8-bit containers (the bytearray.translate path), signed and with unused high bits."""
    rng = np.random.default_rng(17)
    lo, hi = (-(2 ** (bits_stored - 1)), 2 ** (bits_stored - 1)) if signed else (0, 2 ** bits_stored)
    values = rng.integers(lo, hi, size=(1, 33, 31)).astype(np.int8 if signed else np.uint8)
    ds = _image(values, bits_stored, signed)
    ds.WindowCenter, ds.WindowWidth = 3, 20
    ds.RescaleSlope, ds.RescaleIntercept = 1, 0
    stored = pixel_array(ds)
    y_min, y_max = (lo, hi - 1)
    ref = _scale(apply_windowing(apply_modality_lut(stored, ds), ds), y_min, y_max)
    frame = open_frames(ds).frame(0)
    np.testing.assert_array_equal(frame, stored)
    _within_one(render(frame, params_from_dataset(ds)), ref)
    _within_one(render(frame[::2, 1::3], params_from_dataset(ds)), ref[::2, 1::3])  # strided view
