"""Series ordering: split a series into sub-stacks and sort each in anatomical order.

Order as eFilm and Weasis do: by position along the slice normal
(Image Position (Patient) . (row x column of Image Orientation (Patient)), PS3.3
C.7.6.2.1.1), falling back to Instance Number, then Acquisition Number, then Content
Time. A series that mixes orientations, image sizes or several stacks (one slice
position repeated per acquisition, echo or temporal position) is split.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Callable, Iterable, Sequence

from viewer.dicom.geometry import SliceSpacing, slice_normal, slice_spacing
from viewer.dicom.model import Instance

log = logging.getLogger(__name__)

_BIG = float("inf")


@dataclass(eq=False)
class Stack:
    """A run of images sharing orientation and size, in anatomical order.

    Attributes
    ----------
    instances : list of Instance
        Sorted along ``normal`` (or by Instance Number when there is no geometry).
    normal : tuple of float or None
        Unit slice normal in LPS, None without geometry.
    distances : list of float or None
        Position of each instance along ``normal``, in the order of ``instances``.
    spacing : SliceSpacing or None
        z spacing computed from ``distances``, with gaps and non-uniformity.
    """

    instances: list[Instance]
    normal: tuple[float, float, float] | None = None
    orientation: tuple[float, ...] | None = None
    rows: int | None = None
    columns: int | None = None
    distances: list[float] | None = None
    spacing: SliceSpacing | None = field(default=None)

    def __len__(self) -> int:
        return len(self.instances)


def _num(value: int | None) -> float:
    return _BIG if value is None else float(value)


def fallback_key(inst: Instance) -> tuple[float, float, str, str]:
    """Instance Number, then Acquisition Number, then Content Time, then path."""
    return (_num(inst.instance_number), _num(inst.acquisition_number), inst.content_time or "", inst.path or "")


def _distance(inst: Instance, normal: Sequence[float]) -> float:
    p = inst.image_position
    assert p is not None
    return p[0] * normal[0] + p[1] * normal[1] + p[2] * normal[2]


def _sorted_stack(items: list[Instance], normal: tuple[float, float, float], orientation: tuple[float, ...]) -> Stack:
    dist = {id(i): _distance(i, normal) for i in items}
    ordered = sorted(items, key=lambda i: (round(dist[id(i)], 4), fallback_key(i)))
    # Keep the acquisition's reading direction: when Instance Numbers fall as the position
    # rises (CT numbered head to feet), list the stack the other way round.
    numbers = [i.instance_number for i in ordered if i.instance_number is not None]
    rising = sum(1 for a, b in zip(numbers, numbers[1:]) if b > a)
    falling = sum(1 for a, b in zip(numbers, numbers[1:]) if b < a)
    if falling > rising:
        ordered.reverse()
    d = [dist[id(i)] for i in ordered]
    first = ordered[0]
    return Stack(ordered, normal, orientation, first.rows, first.columns, d, slice_spacing(d))


def _has_repeats(items: Iterable[Instance], normal: Sequence[float]) -> bool:
    seen = set()
    for inst in items:
        key = round(_distance(inst, normal), 3)
        if key in seen:
            return True
        seen.add(key)
    return False


_SPLITTERS: tuple[Callable[[Instance], object], ...] = (
    lambda i: i.acquisition_number,
    lambda i: i.temporal_position,
    lambda i: i.echo_number,
    lambda i: (i.acquisition_number, i.temporal_position, i.echo_number),
)


def _split_repeats(items: list[Instance], normal: tuple[float, float, float],
                   orientation: tuple[float, ...]) -> list[Stack]:
    """One stack per acquisition/temporal position/echo when that removes repeated positions."""
    if not _has_repeats(items, normal):
        return [_sorted_stack(items, normal, orientation)]
    for key in _SPLITTERS:
        groups: dict[object, list[Instance]] = {}
        for inst in items:
            groups.setdefault(key(inst), []).append(inst)
        if len(groups) > 1 and not any(_has_repeats(g, normal) for g in groups.values()):
            return [_sorted_stack(g, normal, orientation) for g in groups.values()]
    # Every position repeated the same number of times, with nothing telling the runs
    # apart: the k-th image (by Instance Number) at each position goes to stack k.
    at: dict[float, list[Instance]] = {}
    for inst in items:
        at.setdefault(round(_distance(inst, normal), 3), []).append(inst)
    counts = {len(v) for v in at.values()}
    if len(counts) == 1 and len(at) > 1:
        runs: list[list[Instance]] = [[] for _ in range(counts.pop())]
        for group in at.values():
            for k, inst in enumerate(sorted(group, key=fallback_key)):
                runs[k].append(inst)
        return [_sorted_stack(run, normal, orientation) for run in runs]
    log.debug("series keeps repeated slice positions in one stack (%d images)", len(items))
    return [_sorted_stack(items, normal, orientation)]


#: Orientation (rounded), Rows, Columns: images that may share one stack.
_GeometryKey = tuple[tuple[float, ...], int | None, int | None]


def split_stacks(instances: Sequence[Instance]) -> list[Stack]:
    """Group ``instances`` into sorted sub-stacks.

    Images with Image Position/Orientation (Patient) and a size are grouped by
    orientation (to 1e-3) and Rows x Columns, then split where a slice position repeats;
    the others form one stack sorted by :func:`fallback_key`. Stacks are returned in
    the order of their lowest Instance Number.
    """
    geometric: dict[_GeometryKey, list[Instance]] = {}
    plain: list[Instance] = []
    normals: dict[_GeometryKey, tuple[float, float, float]] = {}
    for inst in instances:
        normal = slice_normal(inst.image_orientation) if inst.image_orientation and inst.image_position else None
        if normal is None or inst.number_of_frames > 1:
            plain.append(inst)
            continue
        assert inst.image_orientation is not None
        key = (tuple(round(v, 3) + 0.0 for v in inst.image_orientation), inst.rows, inst.columns)
        geometric.setdefault(key, []).append(inst)
        normals.setdefault(key, normal)
    stacks: list[Stack] = []
    for key, items in geometric.items():
        stacks.extend(_split_repeats(items, normals[key], key[0]))
    if plain:
        first = plain[0]
        stacks.append(Stack(sorted(plain, key=fallback_key), rows=first.rows, columns=first.columns))
    stacks.sort(key=lambda s: (min(fallback_key(i) for i in s.instances), -len(s)))
    return stacks
