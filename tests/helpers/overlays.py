"""Overlay planes (PS3.3 C.9.2) written into a data set: an image's or a presentation state's."""

from __future__ import annotations

import numpy as np
from pydicom.dataset import Dataset


def add_overlay(ds: Dataset, bits: np.ndarray, *, group: int = 0x6000, origin: tuple[int, int] = (1, 1),
                first_frame: int | None = None) -> None:
    """Add the graphics overlay ``bits`` (``(rows, cols)``, or ``(frames, rows, cols)`` for a
    multi-frame overlay) to ``ds`` in repeating group ``group`` with Overlay Data.

    ``origin`` is Overlay Origin (row, column), 1-based; a multi-frame overlay gets Number of
    Frames in Overlay and Image Frame Origin ``first_frame`` (1 unless given). Overlay Data is
    one bit per pixel, least significant bit first (PS3.5 8.1.2), padded to an even length.
    """
    bits = np.asarray(bits)
    rows, cols = bits.shape[-2:]
    ds.add_new((group, 0x0010), "US", rows)
    ds.add_new((group, 0x0011), "US", cols)
    if bits.ndim == 3:
        ds.add_new((group, 0x0015), "IS", bits.shape[0])
        ds.add_new((group, 0x0051), "US", 1 if first_frame is None else first_frame)
    ds.add_new((group, 0x0040), "CS", "G")
    ds.add_new((group, 0x0050), "SS", list(origin))
    ds.add_new((group, 0x0100), "US", 1)
    ds.add_new((group, 0x0102), "US", 0)
    packed = np.packbits(bits.astype(np.uint8).ravel(), bitorder="little").tobytes()
    ds.add_new((group, 0x3000), "OW", packed + b"\0" * (len(packed) % 2))
