"""Overlay planes (PS3.3 C.9.2): one boolean mask per 60xx group, the size of the image.

Overlays are a separate layer the viewport draws on top and the user toggles; they are never
burnt into the rendered image. Sources:

* Overlay Data (60xx,3000): bit-packed, little-endian bit order, ``Overlay Rows x Columns``
  per frame, ``Number of Frames in Overlay`` (60xx,0015) frames starting at image frame
  ``Image Frame Origin`` (60xx,0051), placed at ``Overlay Origin`` (60xx,0050), 1-based
  (row, column) relative to the image's top-left pixel.
* Embedded in the unused high bits of Pixel Data (retired, PS3.5 8.1.2 / PS3.3 C.9.2.1.4):
  no (60xx,3000), Overlay Bits Allocated > 1, bit ``Overlay Bit Position`` (60xx,0102) of
  each stored word.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
from pydicom.dataset import Dataset

if TYPE_CHECKING:
    from viewer.dicom.frames import FrameSource

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class OverlayInfo:
    """Description of one overlay plane, for a layer list in the GUI."""

    group: int
    type: str  # "G" graphics or "R" ROI
    label: str
    description: str


def overlay_groups(ds: Dataset) -> list[int]:
    """The 60xx groups (even, 6000..601E) that define an overlay (have Overlay Rows)."""
    return [g for g in range(0x6000, 0x6020, 2) if (g, 0x0010) in ds and (g, 0x0011) in ds]


def overlay_info(ds: Dataset) -> list[OverlayInfo]:
    """Type, label and description of every overlay plane, in group order."""
    return [OverlayInfo(g, _text(ds, g, 0x0040).strip() or "G", _text(ds, g, 0x1500), _text(ds, g, 0x0022))
            for g in overlay_groups(ds)]


def _text(ds: Dataset, group: int, elem: int) -> str:
    return str(ds[group, elem].value) if (group, elem) in ds and ds[group, elem].value is not None else ""


def _value(ds: Dataset, group: int, elem: int, default: Any) -> Any:
    if (group, elem) not in ds:
        return default
    v = ds[group, elem].value
    return default if v is None or v == "" else v


def _place(plane: np.ndarray, origin: tuple[int, int], shape: tuple[int, int]) -> np.ndarray:
    """Put an overlay plane into an image-sized mask at its 1-based origin, clipping edges."""
    mask = np.zeros(shape, dtype=bool)
    r0, c0 = origin[0] - 1, origin[1] - 1
    rows, cols = plane.shape
    rs, cs = max(0, -r0), max(0, -c0)
    re, ce = min(rows, shape[0] - r0), min(cols, shape[1] - c0)
    if re > rs and ce > cs:
        mask[r0 + rs:r0 + re, c0 + cs:c0 + ce] = plane[rs:re, cs:ce]
    return mask


def overlay_layers(ds: Dataset, frame_index: int = 0, frames: FrameSource | None = None) -> list[np.ndarray]:
    """Boolean masks ``(rows, cols)`` of every overlay plane shown on frame ``frame_index``.

    Parameters
    ----------
    ds : pydicom.dataset.Dataset
        The image dataset.
    frame_index : int
        0-based image frame.
    frames : FrameSource, optional
        The image's frame source, used for overlays embedded in Pixel Data (opened from
        ``ds`` if needed).

    Returns
    -------
    list of numpy.ndarray
        One mask per overlay group, in group order; planes that do not apply to this frame
        or cannot be read are all-False (and logged).
    """
    try:
        shape = (int(ds.get("Rows", 0) or 0), int(ds.get("Columns", 0) or 0))
    except (TypeError, ValueError):
        log.warning("overlays not shown: invalid Rows/Columns")
        return []
    layers = []
    for g in overlay_groups(ds):
        try:
            layers.append(_layer(ds, g, frame_index, shape, frames))
        except Exception as exc:  # noqa: BLE001 - a bad overlay must not stop the image
            log.warning("overlay group %04X unreadable: %s", g, exc)
            layers.append(np.zeros(shape, dtype=bool))
    return layers


def _layer(ds: Dataset, g: int, frame_index: int, shape: tuple[int, int], frames: FrameSource | None) -> np.ndarray:
    rows, cols = int(ds[g, 0x0010].value), int(ds[g, 0x0011].value)
    origin = _value(ds, g, 0x0050, [1, 1])
    origin_rc = (int(origin[0]), int(origin[1])) if len(origin) >= 2 else (1, 1)
    n = int(_value(ds, g, 0x0015, 1) or 1)
    first = int(_value(ds, g, 0x0051, 1) or 1)
    k = frame_index - (first - 1)
    if (g, 0x3000) in ds:
        if not 0 <= k < n:
            return np.zeros(shape, dtype=bool)
        data = ds[g, 0x3000].value or b""
        if not isinstance(data, (bytes, bytearray)):
            data = bytes(data)
        count = rows * cols
        start = k * count
        # bit-packed little-endian bit order, frames contiguous (not byte aligned), C.9.2.1.3
        first_byte, last_byte = start // 8, -(-(start + count) // 8)
        chunk = bytes(data[first_byte:last_byte])
        if len(chunk) < last_byte - first_byte:
            log.warning("overlay %04X data is short; missing bits are off", g)
            chunk += bytes(last_byte - first_byte - len(chunk))
        bits = np.unpackbits(np.frombuffer(chunk, np.uint8), bitorder="little")
        offset = start - first_byte * 8
        plane = bits[offset:offset + count].reshape(rows, cols).astype(bool)
        return _place(plane, origin_rc, shape)
    # Embedded overlay: a bit of the stored words (retired; native data only). It must lie
    # outside the Bits Stored that end at High Bit, else it would be image data.
    bit = int(_value(ds, g, 0x0102, 0))
    obits = int(_value(ds, g, 0x0100, 1))
    high = int(ds.get("HighBit", 0) or 0)
    stored = int(ds.get("BitsStored", 0) or 0)
    if obits <= 1 or high - stored < bit <= high:
        log.warning("overlay %04X has no Overlay Data and no usable embedded bit", g)
        return np.zeros(shape, dtype=bool)
    if frames is None:
        from viewer.dicom.frames import open_frames

        frames = open_frames(ds)
    container = frames.container_frame(frame_index)
    if container is None:
        return np.zeros(shape, dtype=bool)
    plane = ((container >> bit) & 1).astype(bool)
    return _place(plane[:rows, :cols], origin_rc, shape)
