"""Pure transforms (PS3.4 N.2 grayscale pipeline) and the LUT over every stored value.

Each function takes explicit parameters (house rule 2, after highdicom's ``voi_window``).
Rendering builds one uint8 table over all representable stored values and applies it with
``np.take``: the cost of the maths is paid once per window, not once per pixel.

Index convention: a frame's values are used as indices through an unsigned view of their
container (``int16`` -> ``uint16``), so negative values land at their two's complement
positions and no subtraction pass over the frame is needed.
"""

from __future__ import annotations

import logging
from functools import lru_cache

import numpy as np

from viewer.render.params import LutData, RenderParams, VoiFunction, Window

log = logging.getLogger(__name__)

#: Largest Bits Stored handled with a table; deeper data is computed pixel by pixel.
MAX_LUT_BITS = 16


def apply_lut_data(values: np.ndarray, lut: LutData) -> np.ndarray:
    """Map ``values`` through a Modality/VOI LUT (PS3.3 C.11.1.1, C.11.2.1.1).

    Inputs below the first mapped value take the first entry, above the last the last entry.
    Non-integer inputs are truncated towards minus infinity to select an entry.
    """
    table = lut.table()
    # Stored values of at most 16 bits index in int32 (half the memory of an int64 copy).
    wide = np.int32 if values.dtype.kind in "uib" and values.dtype.itemsize <= 2 else np.int64
    idx = np.floor(values).astype(np.int64) - lut.first_mapped if values.dtype.kind == "f" else (
        values.astype(wide) - lut.first_mapped)
    np.clip(idx, 0, len(table) - 1, out=idx)
    return table[idx].astype(np.float64)


def modality(values: np.ndarray, params: RenderParams) -> np.ndarray:
    """Modality LUT stage (PS3.3 C.11.1): rescale or Modality LUT Sequence, as float64."""
    if params.modality_lut is not None:
        return apply_lut_data(values, params.modality_lut)
    return values.astype(np.float64) * params.rescale_slope + params.rescale_intercept


def voi_window(values: np.ndarray, center: float, width: float,
               function: VoiFunction = VoiFunction.LINEAR) -> np.ndarray:
    """VOI window (PS3.3 C.11.2.1.2 and C.11.2.1.3) to the output range [0, 1], float64.

    LINEAR:       y = ((x - (c - 0.5)) / (w - 1) + 0.5), clipped, for w >= 1
    LINEAR_EXACT: y = (x - c) / w + 0.5, clipped, for w > 0
    SIGMOID:      y = 1 / (1 + exp(-4 (x - c) / w))
    """
    x = values.astype(np.float64, copy=False)
    if function is VoiFunction.SIGMOID:
        # exp overflows to inf for far-away values; the limit (0) is the right answer
        return 1.0 / (1.0 + np.exp(np.clip(-4.0 * (x - center) / width, -700.0, 700.0)))
    if function is VoiFunction.LINEAR_EXACT:
        y = (x - center) / width + 0.5
    elif width <= 1.0:
        # w = 1: a threshold at c - 0.5 (the two cases of C.11.2.1.2.1 meet there)
        y = (x > center - 0.5).astype(np.float64)
    else:
        y = (x - (center - 0.5)) / (width - 1.0) + 0.5
    return np.clip(y, 0.0, 1.0)


def voi(values: np.ndarray, params: RenderParams, window: Window | None) -> np.ndarray:
    """VOI stage to [0, 1]: the given window, else the params' VOI LUT."""
    if window is not None:
        return voi_window(values, window.center, window.width, window.function)
    lut = params.voi_lut
    assert lut is not None
    # VOI LUT output spans 0 .. 2^bits - 1 (PS3.3 C.11.2.1.1)
    return apply_lut_data(values, lut) / float((1 << lut.bits) - 1)


def to_uint8(y: np.ndarray, invert: bool) -> np.ndarray:
    """Scale [0, 1] to 0..255 with rounding; invert for MONOCHROME1 / INVERSE (C.11.6)."""
    return to_levels(y, invert, 8)


def to_levels(y: np.ndarray, invert: bool, bits: int = 8) -> np.ndarray:
    """Scale [0, 1] to 0..2^bits-1 with rounding (uint8 up to 8 bits, else uint16).

    P-values for print are 8 or 12 bits (PS3.4 H.4.1.1.2); the display uses 8.
    """
    if invert:
        y = 1.0 - y
    top = float((1 << bits) - 1)
    return np.floor(y * top + 0.5).astype(np.uint8 if bits <= 8 else np.uint16)


def stored_domain(params: RenderParams) -> tuple[np.ndarray, int]:
    """Every representable stored value and the table size indexed by the unsigned view.

    Returns
    -------
    values : ndarray of int64
        The stored values, in the order they are written into the table.
    size : int
        Table length; index of value ``v`` is ``v & (size - 1)`` for signed data, ``v`` else.
    """
    bs = min(params.bits_stored, MAX_LUT_BITS)
    if params.signed:
        values = np.arange(-(1 << (bs - 1)), 1 << (bs - 1), dtype=np.int64)
        size = 256 if params.bits_allocated <= 8 else 65536
        return values, size
    return np.arange(1 << bs, dtype=np.int64), 1 << bs


def _scatter(values: np.ndarray, size: int, out_values: np.ndarray, signed: bool) -> np.ndarray:
    if not signed:
        return np.ascontiguousarray(out_values)
    table = np.zeros((size,) + out_values.shape[1:], dtype=out_values.dtype)
    table[values & (size - 1)] = out_values
    return table


@lru_cache(maxsize=64)
def gray_table(params: RenderParams, window: Window | None, bits: int = 8) -> np.ndarray:
    """The display table over all stored values for a grayscale frame (uint8, or uint16 > 8 bits).

    Cached per (params, window, bits): a window drag builds one table per new window.
    """
    values, size = stored_domain(params)
    y = to_levels(voi(modality(values, params), params, window), params.invert, bits)
    return _scatter(values, size, y, params.signed)


@lru_cache(maxsize=16)
def color_table(params: RenderParams) -> np.ndarray:
    """The table for true colour with more than 8 bits: scale 0..2^bs-1 to 0..255."""
    values, size = stored_domain(params)
    y = values.astype(np.float64) / float((1 << min(params.bits_stored, MAX_LUT_BITS)) - 1)
    return _scatter(values, size, np.floor(np.clip(y, 0, 1) * 255.0 + 0.5).astype(np.uint8), params.signed)


@lru_cache(maxsize=16)
def palette_table(params: RenderParams) -> np.ndarray:
    """``(size, 3)`` uint8 palette table indexed by stored value (PS3.3 C.7.6.3.1.5)."""
    assert params.palette is not None
    pal = params.palette.table()
    values, size = stored_domain(params)
    idx = np.clip(values - params.palette.first_mapped, 0, len(pal) - 1)
    return _scatter(values, size, pal[idx], params.signed)


def index_view(frame: np.ndarray) -> np.ndarray:
    """The frame as unsigned table indices (a view, no copy) for :func:`np.take`."""
    kind, size = frame.dtype.kind, frame.dtype.itemsize
    if kind == "i":
        return frame.view(np.dtype(f"u{size}"))
    if kind == "b":
        return frame.view(np.uint8)
    return frame


@lru_cache(maxsize=16)
def supplemental_table(params: RenderParams, window: Window | None) -> np.ndarray:
    """``(size, 3)`` uint8: grayscale below the supplemental palette's first mapped value,
    palette colours from it up (PS3.3 C.8.16.2.1.1.1), indexed like :func:`gray_table`."""
    assert params.supplemental is not None
    values, size = stored_domain(params)
    gray = to_levels(voi(modality(values, params), params, window), params.invert, 8)
    pal = params.supplemental.table()
    rgb = np.repeat(gray[:, None], 3, axis=1)
    colored = values >= params.supplemental.first_mapped
    rgb[colored] = pal[np.clip(values[colored] - params.supplemental.first_mapped, 0, len(pal) - 1)]
    return _scatter(values, size, rgb, params.signed)
