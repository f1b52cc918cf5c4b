"""Cine timing: per-frame display times (PS3.3 C.7.6.5 Cine module, C.7.6.5.1).

Precedence, as the issue and the Cine module's usage order it: Frame Time (0018,1063),
Frame Time Vector (0018,1065), Recommended Display Frame Rate (0008,2144), Cine Rate
(0018,0040).
"""

from __future__ import annotations

import logging
from typing import Any

from pydicom.dataset import Dataset

log = logging.getLogger(__name__)


def _float(value: Any) -> float | None:
    try:
        f = float(value)
    except (TypeError, ValueError):
        return None
    return f if f > 0 else None


def frame_times_ms(ds: Dataset) -> list[float]:
    """Per-frame display times in milliseconds, one per frame.

    Parameters
    ----------
    ds : pydicom.dataset.Dataset
        A multi-frame image.

    Returns
    -------
    list of float
        ``times[i]`` is the time increment before frame ``i`` is shown after frame ``i - 1``.
        From Frame Time every entry is that time; from Frame Time Vector the vector as stored
        (its first entry, the increment to the first frame, is normally 0: a player looping
        back to frame 0 should use ``times[1]`` or its own default there); from a frame
        rate, ``1000 / rate``. Empty when the file has no timing (a player then picks its
        own rate).
    """
    try:
        n = int(ds.get("NumberOfFrames", 1) or 1)
    except (TypeError, ValueError):
        n = 1
    ft = _float(ds.get("FrameTime", None))
    if ft is not None:
        return [ft] * n
    ftv = ds.get("FrameTimeVector", None)
    if ftv is not None and ftv != "":
        values = [float(v) for v in (ftv if hasattr(ftv, "__iter__") and not isinstance(ftv, str) else [ftv])]
        if len(values) != n:
            log.warning("Frame Time Vector has %d values for %d frames", len(values), n)
            values = (values + [values[-1]] * n)[:n] if values else []
        if values:
            return values
    for keyword in ("RecommendedDisplayFrameRate", "CineRate"):
        rate = _float(ds.get(keyword, None))
        if rate is not None:
            return [1000.0 / rate] * n
    return []
