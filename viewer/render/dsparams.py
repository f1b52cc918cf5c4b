"""Read a pydicom Dataset into :class:`~viewer.render.params.RenderParams` (the one place).

Sources, per PS3.3:

* Image Pixel module, C.7.6.3 (bits, sign, photometric interpretation, palettes C.7.6.3.1.5).
* Modality LUT module, C.11.1: Rescale Slope/Intercept or the Modality LUT Sequence.
* VOI LUT module, C.11.2: Window Center/Width (+ explanation, VOI LUT Function) or the VOI
  LUT Sequence.
* Enhanced multi-frame: the Pixel Value Transformation (C.7.6.16.2.9) and Frame VOI LUT
  (C.7.6.16.2.10) functional groups, per-frame values taking precedence over shared ones
  (C.7.6.16). DCMTK 3.6.7 ignores these; we follow the standard.
* Presentation LUT Shape (2050,0020), C.11.6 / C.8.11.3: INVERSE inverts, as MONOCHROME1 does.
"""

from __future__ import annotations

import logging
import struct
from typing import Any

import numpy as np
from pydicom.dataset import Dataset
from pydicom.errors import BytesLengthException

from viewer.dicom.lut_item import read_lut_entries
from viewer.errors import DecodeError
from viewer.render.params import LutData, Palette, RenderParams, VoiFunction, Window

log = logging.getLogger(__name__)


def _floats(value: Any) -> list[float]:
    """A DS/IS value or multi-value as floats; bad entries dropped."""
    if value is None or value == "":
        return []
    items = list(value) if isinstance(value, (list, tuple)) or hasattr(value, "__iter__") and not isinstance(
        value, (str, bytes)) else [value]
    out = []
    for v in items:
        try:
            out.append(float(v))
        except (TypeError, ValueError):
            log.debug("ignoring bad numeric value %r", v)
    return out


def _int(ds: Dataset, keyword: str, default: int) -> int:
    """An integer attribute, ``default`` when absent or empty; DecodeError when unusable."""
    value = ds.get(keyword, None)
    if value is None or value == "":
        return default
    try:
        return int(value)
    except (TypeError, ValueError):
        raise DecodeError(f"invalid {keyword} value {value!r}") from None


def _strings(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, (str, bytes)):
        return [str(value)]
    try:
        return [str(v) for v in value]
    except TypeError:
        return [str(value)]


def _group_item(ds: Dataset, frame_index: int, keyword: str) -> Dataset | None:
    """The first item of functional group ``keyword`` for a frame: per-frame, else shared."""
    for seq_kw, idx in (("PerFrameFunctionalGroupsSequence", frame_index), ("SharedFunctionalGroupsSequence", 0)):
        seq = ds.get(seq_kw, None)
        if not seq or idx >= len(seq):
            continue
        item = seq[idx]
        if not hasattr(item, "get"):  # not a sequence item: the sequence's VR is damaged
            continue
        group = item.get(keyword, None)
        if group and not isinstance(group, (str, bytes, int, float)) and isinstance(group[0], Dataset):
            return group[0]
    return None


def _empty_lut(item: Dataset) -> bool:
    """A LUT item whose LUT Descriptor and LUT Data are both empty or absent (no LUT at all)."""
    def empty(keyword: str) -> bool:
        try:
            value = item.get(keyword, None)
        except Exception:  # noqa: BLE001 - an unreadable value is not an empty one
            return False
        return value is None or value == b"" or value == "" or (hasattr(value, "__len__") and len(value) == 0)
    return empty("LUTDescriptor") and empty("LUTData")


def lut_from_item(item: Dataset, signed_input: bool, explanation: str = "") -> LutData:
    """Build :class:`LutData` from a Modality/VOI LUT Sequence item (PS3.3 C.11.1.1, C.11.2.1.1;
    read by :func:`viewer.dicom.lut_item.read_lut_entries`)."""
    entries = read_lut_entries(item, signed_input)
    return LutData(first_mapped=entries.first_mapped, bits=entries.bits, data=entries.data,
                   explanation=explanation or str(item.get("LUTExplanation", "") or ""))


def _windows(holder: Dataset) -> tuple[Window, ...]:
    centers = _floats(holder.get("WindowCenter", None))
    widths = _floats(holder.get("WindowWidth", None))
    expl = _strings(holder.get("WindowCenterWidthExplanation", None))
    func = VoiFunction.parse(holder.get("VOILUTFunction", None))
    out = []
    for i, (c, w) in enumerate(zip(centers, widths)):
        if w <= 0 or (func is VoiFunction.LINEAR and w < 1):
            log.warning("ignoring window %d with invalid width %g (PS3.3 C.11.2.1.2)", i + 1, w)
            continue
        out.append(Window(c, w, func, expl[i].strip() if i < len(expl) else ""))
    return tuple(out)


def _palette(ds: Dataset, bits_stored: int) -> Palette | None:
    """Expand the (possibly segmented) palette over every stored value, scaled to 8 bits."""
    from pydicom.pixels.processing import apply_color_lut

    domain = np.arange(1 << min(bits_stored, 16), dtype=np.uint16 if bits_stored > 8 else np.uint8)
    try:
        rgb = np.asarray(apply_color_lut(domain, ds))
    except Exception as exc:  # noqa: BLE001 - a bad palette is a decode problem for the user
        raise DecodeError(f"cannot read the color palette: {exc}") from None
    if rgb.dtype != np.uint8:
        # 16-bit entries (PS3.3 C.7.6.3.1.5): scale 0..65535 to 0..255 with rounding
        rgb = np.rint(rgb.astype(np.float64) * (255.0 / 65535.0)).astype(np.uint8)
    return Palette(first_mapped=0, rgb=np.ascontiguousarray(rgb[:, :3]).tobytes())


def _pixel_presentation(ds: Dataset, frame_index: int) -> str:
    """Pixel Presentation (0008,9205): top level, else in a frame type functional group."""
    value = ds.get("PixelPresentation", None)
    if value:
        return str(value).upper()
    for seq_kw, idx in (("PerFrameFunctionalGroupsSequence", frame_index), ("SharedFunctionalGroupsSequence", 0)):
        seq = ds.get(seq_kw, None)
        if not seq or idx >= len(seq):
            continue
        for elem in seq[idx]:
            if elem.VR == "SQ" and elem.keyword.endswith("FrameTypeSequence") and elem.value:
                value = elem.value[0].get("PixelPresentation", None)
                if value:
                    return str(value).upper()
    return ""


def _palette_only(ds: Dataset) -> Dataset:
    """A new dataset holding only the palette descriptors and data (0028,1101-1223)."""
    out = Dataset()
    for tag in (0x00281101, 0x00281102, 0x00281103, 0x00281201, 0x00281202, 0x00281203,
                0x00281221, 0x00281222, 0x00281223):
        if tag in ds:
            out[tag] = ds[tag]
    return out


def _supplemental(ds: Dataset, frame_index: int) -> Palette | None:
    """The Supplemental Palette Color LUT (PS3.3 C.7.6.19, C.8.16.2.1.1.1), if any."""
    if "RedPaletteColorLookupTableDescriptor" not in ds:
        return None
    if _pixel_presentation(ds, frame_index) not in ("COLOR", "MIXED"):
        return None
    from pydicom.pixels.processing import apply_color_lut

    try:
        n, first, _bits = (int(v) for v in ds.RedPaletteColorLookupTableDescriptor)
        n = n or 65536
        # pydicom refuses a dataset with Pixel Presentation COLOR/MIXED (it cannot run the
        # grayscale half); hand it the palette attributes alone, we do the split ourselves.
        lut_ds = _palette_only(ds)
        rgb = np.asarray(apply_color_lut(np.arange(first, first + n, dtype=np.int64).clip(0, 65535)
                                         .astype(np.uint16), lut_ds))
    except Exception as exc:  # noqa: BLE001 - a bad supplemental palette only loses the colours
        log.warning("ignoring the Supplemental Palette Color LUT: %s", exc)
        return None
    if rgb.dtype != np.uint8:
        rgb = np.rint(rgb.astype(np.float64) * (255.0 / 65535.0)).astype(np.uint8)
    return Palette(first_mapped=first, rgb=np.ascontiguousarray(rgb[:, :3]).tobytes())


def params_from_dataset(ds: Dataset, frame_index: int = 0, voi_index: int = 0) -> RenderParams:
    """Read the render parameters of one frame of ``ds`` (the dataset is not modified).

    Parameters
    ----------
    ds : pydicom.dataset.Dataset
        An image dataset.
    frame_index : int
        0-based frame; per-frame functional groups of enhanced objects apply to it.
    voi_index : int
        Which VOI to start with: windows first, then VOI LUTs (see
        :attr:`RenderParams.voi_options`). With none in the file, min/max of the frame is
        used (``voi_index`` 0). Ignored for colour images.

    Returns
    -------
    RenderParams

    Raises
    ------
    IndexError
        If ``voi_index`` names no window or VOI LUT of the file.
    DecodeError
        If Image Pixel values or LUTs are unusable.
    """
    try:
        return _params_from_dataset(ds, frame_index, voi_index)
    except (NotImplementedError, BytesLengthException, struct.error) as exc:
        # A value pydicom cannot decode with its VR (unknown VR, wrong length): damaged header.
        raise DecodeError("damaged image attribute: "
                          f"{str(exc).splitlines()[0].split(' To replace this error')[0]}") from None
    except (OSError, EOFError) as exc:
        # A sequence left unparsed by pydicom is read on first access; a damaged length
        # there ends the read ("No tag to read at file position ...").
        raise DecodeError(f"cannot read image attributes: {exc}") from None


def _params_from_dataset(ds: Dataset, frame_index: int, voi_index: int) -> RenderParams:
    ba = _int(ds, "BitsAllocated", 16)
    bs = _int(ds, "BitsStored", ba) or ba
    if not 1 <= bs <= max(ba, 1) or ba > 64:
        raise DecodeError(f"inconsistent Bits Stored {bs} / Bits Allocated {ba}")
    samples = _int(ds, "SamplesPerPixel", 1)
    signed = _int(ds, "PixelRepresentation", 0) == 1
    pi = str(ds.get("PhotometricInterpretation", "MONOCHROME2") or "MONOCHROME2").strip().upper()

    # Modality LUT (C.11.1): the enhanced Pixel Value Transformation group, else the Modality
    # LUT Sequence, else the top-level rescale. A file should not have both a sequence and a
    # rescale; when it does, the sequence wins, as in pydicom's apply_modality_lut.
    slope, intercept, rtype = 1.0, 0.0, ""
    modality_lut = None
    pvt = _group_item(ds, frame_index, "PixelValueTransformationSequence")
    holder = pvt if pvt is not None else ds
    mlut_item = ds.ModalityLUTSequence[0] if pvt is None and ds.get("ModalityLUTSequence", None) else None
    if mlut_item is not None and _empty_lut(mlut_item):
        # DCMTK ignores such an item ("incomplete or missing LookupTableDescriptor ...
        # ignoring LUT") and renders with the rescale, or none; so do we.
        log.warning("ignoring the Modality LUT Sequence item: empty LUT Descriptor and LUT Data")
        mlut_item = None
    if mlut_item is not None:
        modality_lut = lut_from_item(mlut_item, signed)
        rtype = str(mlut_item.get("ModalityLUTType", "") or "")
    elif "RescaleSlope" in holder or "RescaleIntercept" in holder:
        slope = (_floats(holder.get("RescaleSlope", None)) or [1.0])[0]
        intercept = (_floats(holder.get("RescaleIntercept", None)) or [0.0])[0]
        rtype = str(holder.get("RescaleType", "") or "")
    if slope == 0:
        log.warning("Rescale Slope is 0; using 1")
        slope = 1.0

    windows: tuple[Window, ...] = ()
    voi_luts: tuple[LutData, ...] = ()
    palette = None
    color = samples > 1 or pi == "PALETTE COLOR"
    if pi == "PALETTE COLOR":
        palette = _palette(ds, bs)
    if not color:
        fvoi = _group_item(ds, frame_index, "FrameVOILUTSequence")
        windows = _windows(fvoi) if fvoi is not None else ()
        if not windows:
            windows = _windows(ds)
        voi_seq = ds.get("VOILUTSequence", None) or []
        # VOI LUT input is the Modality LUT output; signed if that can be negative
        voi_signed = signed if modality_lut is None else False
        luts = []
        for i, item in enumerate(voi_seq):
            try:
                luts.append(lut_from_item(item, voi_signed or (modality_lut is None and intercept < 0),
                                          explanation=str(item.get("LUTExplanation", "") or f"VOI LUT {i + 1}")))
            except DecodeError as exc:
                log.warning("ignoring VOI LUT %d: %s", i + 1, exc)
        voi_luts = tuple(luts)

    shape = str(ds.get("PresentationLUTShape", "") or "").strip().upper()
    invert = not color and (pi == "MONOCHROME1" or shape == "INVERSE")

    params = RenderParams(photometric=pi, samples=samples, bits_allocated=ba, bits_stored=bs, signed=signed,
                          rescale_slope=slope, rescale_intercept=intercept, rescale_type=rtype,
                          modality_lut=modality_lut, windows=windows, voi_luts=voi_luts, invert=invert,
                          palette=palette, frame_index=frame_index,
                          supplemental=None if color else _supplemental(ds, frame_index))
    if color or (voi_index == 0 and not windows and not voi_luts):
        return params
    return params.with_voi(voi_index)
