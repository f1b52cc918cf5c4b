"""Linking viewports by patient position: which frame of one stack matches a frame of another.

Scrolling is linked along the slice normal (PS3.3 C.7.6.2.1.1): a frame's location is
dot(Image Position, normal). Stacks of one Frame of Reference (0020,0052) share patient
coordinates, so equal locations are the same place. Stacks of different Frames of
Reference (another study of the patient) are linked by an offset the user sets once: the
difference of the two locations at the moment of linking, kept for later scrolling.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from viewer.dicom.geometry import location_along, nearest_slice, slice_normal
from viewer.session.frames import FrameRef, Vector

#: Stacks whose normals differ by more than about 10 degrees are not scrolled together.
PARALLEL_COS = 0.985


def frame_normal(ref: FrameRef) -> Vector | None:
    return slice_normal(ref.orientation) if ref.orientation is not None else None


def frame_location(ref: FrameRef, normal: Sequence[float] | None = None) -> float | None:
    """Location of a frame along ``normal`` (default its own), mm; None without geometry."""
    n = normal if normal is not None else frame_normal(ref)
    if n is None or ref.position is None:
        return None
    return location_along(ref.position, n)


def reference_key(ref: FrameRef) -> str:
    """What makes two stacks share coordinates: the Frame of Reference, else the study."""
    return ref.frame_of_reference_uid or f"study:{ref.study_instance_uid}"


def parallel(a: FrameRef, b: FrameRef) -> bool:
    na, nb = frame_normal(a), frame_normal(b)
    if na is None or nb is None:
        return False
    return abs(sum(x * y for x, y in zip(na, nb))) >= PARALLEL_COS


#: The last stacks' locations: (frames object, normal) -> locations (NaN without geometry).
#: Scrolling asks for the same stack on every step; computing 500 locations each time cost
#: about 4 ms a step (bench/gui.py "linked").
_LOCATIONS: dict[int, tuple[Sequence[FrameRef], tuple[float, ...], np.ndarray]] = {}


def locations(frames: Sequence[FrameRef], normal: Sequence[float]) -> np.ndarray:
    """Location of every frame along ``normal`` (mm), NaN where a frame has no position."""
    key = id(frames)
    n = tuple(float(v) for v in normal)
    hit = _LOCATIONS.get(key)
    if hit is not None and hit[0] is frames and hit[1] == n and len(hit[2]) == len(frames):
        return hit[2]
    out = np.array([np.nan if f.position is None else float(np.dot(f.position, n)) for f in frames], float)
    if len(_LOCATIONS) > 16:
        _LOCATIONS.clear()
    _LOCATIONS[key] = (frames, n, out)
    return out


def nearest_index(target: float, frames: Sequence[FrameRef], normal: Sequence[float]) -> int | None:
    """Index of the frame whose location along ``normal`` is nearest ``target`` (first on ties)."""
    locs = locations(frames, normal)
    if not len(locs) or np.all(np.isnan(locs)):
        return None
    d = np.abs(locs - target)
    best = float(np.nanmin(d))
    # First of the frames within a rounding error of the best distance.
    return int(np.flatnonzero(d <= best + 1e-9)[0])


def linked_index(source: FrameRef, frames: Sequence[FrameRef], offset_mm: float = 0.0) -> int | None:
    """The frame of ``frames`` at the location of ``source`` (plus ``offset_mm``), or None when
    the stacks cannot be linked (no geometry, not parallel)."""
    if not frames:
        return None
    normal = frame_normal(source)
    loc = frame_location(source, normal)
    probe = next((f for f in frames if f.orientation is not None and f.position is not None), None)
    if normal is None or loc is None or probe is None or not parallel(source, probe):
        return None
    return nearest_index(loc + offset_mm, frames, normal)


def offset_between(source: FrameRef, target: FrameRef) -> float | None:
    """The location of ``target`` minus that of ``source`` along the source normal (mm)."""
    normal = frame_normal(source)
    a, b = frame_location(source, normal), frame_location(target, normal)
    if a is None or b is None or not parallel(source, target):
        return None
    return b - a


def nearest_to_point(point: Sequence[float], frames: Sequence[FrameRef]) -> int | None:
    """The frame whose plane is closest to a patient point (the 3D cursor)."""
    return nearest_slice(point, [(f.position, f.orientation) for f in frames])
