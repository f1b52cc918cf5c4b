"""``render(frame, params)``: stored values to the 8-bit display image; ``modality_values``.

Grayscale: Modality LUT -> VOI -> Presentation LUT (PS3.4 N.2), via one cached table over all
stored values applied with ``np.take(table, frame, mode="clip")``. True colour: 8-bit RGB is
passed through, deeper RGB is scaled. PALETTE COLOR: a ``(size, 3)`` table.
"""

from __future__ import annotations

import logging
from dataclasses import replace

import numpy as np

from viewer.render import lut as _lut
from viewer.render.params import RenderParams, VoiFunction, Window

log = logging.getLogger(__name__)


def _tableable(frame: np.ndarray, params: RenderParams) -> bool:
    return frame.dtype.kind in "uib" and frame.dtype.itemsize <= 2 and params.bits_stored <= _lut.MAX_LUT_BITS


def apply_table(table: np.ndarray, frame: np.ndarray) -> np.ndarray:
    """``table[frame]`` for a 1-D table indexed as :func:`viewer.render.lut.index_view` says.

    8-bit frames with an 8-bit table go through ``bytearray.translate`` (a C byte loop,
    about 2x faster than ``np.take`` here, which widens every index to intp first); all
    others through ``np.take(..., mode="clip")``.
    """
    if frame.dtype.itemsize == 1 and table.dtype == np.uint8 and len(table) <= 256:
        if len(table) < 256:  # e.g. 1-bit or 7-bit stored: clip like np.take would
            table = np.concatenate([table, np.full(256 - len(table), table[-1], np.uint8)])
        data = bytearray(np.ascontiguousarray(frame).view(np.uint8).data).translate(table.tobytes())
        return np.frombuffer(data, dtype=np.uint8).reshape(frame.shape)
    return np.take(table, _lut.index_view(frame), mode="clip")


def min_max_window(frame: np.ndarray, params: RenderParams) -> Window:
    """A window spanning the frame's modality values, used when the file has no VOI.

    Follows DCMTK's min-max VOI (``dcmj2pnm +Wm``, ``DiMonoPixelTemplate::getMinMaxWindow``):
    center ``(min + max + 1) / 2`` and width ``max - min + 1`` over the modality values of
    this frame, LINEAR, so that with C.11.2.1.2 ``min`` maps to black and ``max`` to white.
    """
    lo, hi = (float(v) for v in (frame.min(), frame.max())) if frame.size else (0.0, 0.0)
    if params.modality_lut is None:  # a rescale is monotonic: the ends map to the ends
        m = _lut.modality(np.array([lo, hi]), params)
    elif frame.dtype.kind in "uib":
        # a Modality LUT need not be monotonic: map every stored value present in the frame
        # np.unique keeps the frame's dtype: no full-frame int64 copy (a 16384 x 16384 frame
        # would need 2 GiB for one)
        present = np.unique(frame).astype(np.int64)
        m = _lut.modality(present, params)
    else:  # float data through a Modality LUT: a block of rows at a time, no float64 frame copy
        frame = np.asarray(frame)
        ends = [_lut.modality(frame[rows], params) for rows in _row_blocks(frame) if frame[rows].size]
        m = np.array([e for b in ends for e in (b.min(), b.max())]) if ends else np.zeros(1)
    mlo, mhi = float(m.min()), float(m.max())
    return Window((mlo + mhi + 1.0) / 2.0, mhi - mlo + 1.0, VoiFunction.LINEAR, "min/max")


def current_window(frame: np.ndarray, params: RenderParams) -> Window | None:
    """The window :func:`render` uses for ``frame`` (``None`` when a VOI LUT is used)."""
    if params.window is not None:
        return params.window
    if params.voi_lut is not None:
        return None
    return min_max_window(frame, params)


def pin_window(frame: np.ndarray, params: RenderParams) -> RenderParams:
    """Return ``params`` with the min/max window of ``frame`` fixed, if it has no VOI.

    Rendering a region or a decimated copy of a frame with min/max VOI would compute the
    window from that part only; pin it from the whole frame first.
    """
    if params.window is not None or params.voi_lut is not None or params.is_color:
        return params
    return replace(params, window=min_max_window(frame, params))


def render(frame: np.ndarray, params: RenderParams, output_bits: int = 8) -> np.ndarray:
    """Render stored values to the display image.

    Parameters
    ----------
    frame : numpy.ndarray
        Stored values of one frame as returned by
        :meth:`viewer.dicom.frames.FrameSource.frame`: ``(rows, cols)`` or ``(rows, cols, 3)``
        (RGB, colour-by-pixel).
    params : RenderParams
        From :func:`viewer.render.params_from_dataset`, possibly with a window override.
    output_bits : int
        Grayscale output depth: 8 (display, the default) or up to 16, e.g. 12 for print
        P-values (PS3.4 H.4.1.1.2), returned as uint16. Colour is always 8 bits.

    Returns
    -------
    numpy.ndarray
        ``uint8`` ``(rows, cols)`` for grayscale (``uint16`` when ``output_bits > 8``),
        ``(rows, cols, 3)`` RGB for colour. 8-bit RGB input may be returned as is (no copy).
    """
    if not 1 <= output_bits <= 16:
        raise ValueError(f"output_bits must be 1..16, got {output_bits}")
    frame = np.asarray(frame)
    if frame.ndim == 3:
        if frame.dtype == np.uint8:
            return np.ascontiguousarray(frame)
        if _tableable(frame, params):
            return np.take(_lut.color_table(params), _lut.index_view(frame), mode="clip")
        top = float((1 << params.bits_stored) - 1)
        return np.floor(np.clip(frame / top, 0, 1) * 255 + 0.5).astype(np.uint8)
    if params.palette is not None:
        return np.take(_lut.palette_table(params), _lut.index_view(frame), axis=0, mode="clip")
    window = current_window(frame, params)
    if params.show_supplemental and params.supplemental is not None and _tableable(frame, params):
        return np.take(_lut.supplemental_table(params, window), _lut.index_view(frame), axis=0, mode="clip")
    if _tableable(frame, params):
        table = _lut.gray_table(params, window, output_bits)
        return apply_table(table, frame)
    return _per_pixel(frame, params, window, output_bits)


#: Pixels per block of the per-pixel path: its float64 temporaries stay a few times 8 MiB
#: whatever the frame's size.
BLOCK_PIXELS = 1 << 20


def _row_blocks(frame: np.ndarray) -> list[slice]:
    """Slices of ``frame``'s first axis of about :data:`BLOCK_PIXELS` pixels each."""
    if frame.ndim < 2:
        return [slice(None)]
    rows = max(1, BLOCK_PIXELS // max(1, int(np.prod(frame.shape[1:]))))
    return [slice(r, r + rows) for r in range(0, frame.shape[0], rows)]


def _per_pixel(frame: np.ndarray, params: RenderParams, window: Window | None, output_bits: int) -> np.ndarray:
    """Deep (32-bit) or float data: Modality, VOI and output levels computed per pixel.

    A block of rows at a time, into the output array: the float64 maths of the whole frame
    at once would cost several float64 copies of it (about 7 x a 32-bit frame). Every pixel
    goes through the same float64 operations as over the whole frame, so the output is the
    same.
    """
    out = np.empty(frame.shape, dtype=np.uint8 if output_bits <= 8 else np.uint16)
    for rows in _row_blocks(frame):
        y = _lut.voi(_lut.modality(frame[rows], params), params, window)
        out[rows] = _lut.to_levels(y, params.invert, output_bits)
    return out


def modality_values(frame: np.ndarray, params: RenderParams) -> np.ndarray:
    """Modality values (HU for CT) of a frame, for ROI statistics and the pixel readout.

    Parameters
    ----------
    frame : numpy.ndarray
        Stored values of one frame.
    params : RenderParams
        Rescale Slope/Intercept or Modality LUT (PS3.3 C.11.1) of that frame.

    Returns
    -------
    numpy.ndarray
        ``float32`` of the same shape; colour frames are returned unchanged as float32.
    """
    frame = np.asarray(frame)
    if frame.ndim == 3 or params.palette is not None:
        return frame.astype(np.float32)
    if params.modality_lut is not None:
        return _lut.apply_lut_data(frame, params.modality_lut).astype(np.float32)
    out = frame.astype(np.float32)
    if params.rescale_slope != 1.0:
        out *= np.float32(params.rescale_slope)
    if params.rescale_intercept != 0.0:
        out += np.float32(params.rescale_intercept)
    return out
