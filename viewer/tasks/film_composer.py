"""The film composer's model: which image goes into which box of which film (no Qt).

A :class:`Composition` is a layout (Image Display Format, PS3.3 C.13.8) and a flat list
of boxes, film after film; a box holds an :class:`~viewer.tasks.print_render.ImageRef` (an
image as a viewport showed it, or with its own window and zoom) or nothing (printed at
Empty Image Density). Images from several series and studies may share a film. The GUI
(:mod:`viewer.ui.film_composer`) edits it: add, place, move (reorder), swap, empty and
remove boxes; pick every n-th image, a range, the key images; choose the layout
automatically among the printer's. Film annotations come from templates filled from the
images of each film (:func:`viewer.film.compose.fill_template`).
"""

from __future__ import annotations

import dataclasses
from typing import Sequence

from viewer.errors import UsageError
from viewer.film.layout import parse_display_format
from viewer.tasks.print_render import ImageRef

#: Default film annotation templates (position -> text); placeholders in fill_template.
DEFAULT_TEMPLATES = {1: "{patient}  {id}", 2: "{date}  {institution}", 3: "{series}", 4: "{page}/{pages}"}
#: Films above which the composer asks before printing.
CONFIRM_FILMS = 4


def box_count(layout: str) -> int:
    return parse_display_format(layout).box_count


def auto_layout(n: int, layouts: Sequence[str]) -> str:
    """The printer's layout for ``n`` images: the fewest boxes that hold them all on one film,
    else the most boxes (several films). ``layouts`` are ``C,R`` or full values."""
    full = [f if "\\" in f else f"STANDARD\\{f}" for f in layouts] or ["STANDARD\\1,1"]
    counts = {f: box_count(f) for f in full}
    fits = [f for f in full if counts[f] >= max(n, 1)]
    if fits:
        return min(fits, key=lambda f: (counts[f], full.index(f)))
    return max(full, key=lambda f: (counts[f], -full.index(f)))


def every_nth(refs: Sequence[ImageRef], n: int, start: int = 0) -> list[ImageRef]:
    """Every ``n``-th image from index ``start``."""
    if n < 1:
        raise UsageError("every n-th image: n must be at least 1")
    return list(refs[max(start, 0)::n])


def in_range(refs: Sequence[ImageRef], first: int, last: int) -> list[ImageRef]:
    """Images ``first`` to ``last`` (1-based, inclusive, as the slider numbers them)."""
    if not 1 <= first <= last <= len(refs):
        raise UsageError(f"range {first}-{last} is outside 1-{len(refs)}")
    return list(refs[first - 1:last])


class Composition:
    """Boxes of films in one layout; every edit keeps the boxes' order otherwise."""

    def __init__(self, layout: str = "STANDARD\\1,1", boxes: Sequence[ImageRef | None] = ()) -> None:
        box_count(layout)
        self.layout = layout
        self.boxes: list[ImageRef | None] = list(boxes)

    # ------------------------------------------------------------------ shape
    @property
    def per_film(self) -> int:
        return box_count(self.layout)

    @property
    def films(self) -> int:
        """Films needed (empty boxes at the end do not make a film)."""
        used = self._used()
        return max(1, -(-used // self.per_film)) if used else 0

    def _used(self) -> int:
        last = max((i for i, b in enumerate(self.boxes) if b is not None), default=-1)
        return last + 1

    def film(self, page: int) -> list[ImageRef | None]:
        """The boxes of film ``page`` (0-based), padded with empty boxes."""
        n = self.per_film
        chunk = self.boxes[page * n:(page + 1) * n]
        return chunk + [None] * (n - len(chunk))

    @property
    def images(self) -> int:
        return sum(b is not None for b in self.boxes)

    def set_layout(self, layout: str) -> None:
        box_count(layout)
        self.layout = layout

    def auto(self, layouts: Sequence[str]) -> str:
        """Choose the printer's layout for the images placed (see :func:`auto_layout`)."""
        self.boxes = [b for b in self.boxes if b is not None]
        self.layout = auto_layout(len(self.boxes), layouts)
        return self.layout

    # ------------------------------------------------------------------ edits
    def _grow(self, index: int) -> None:
        if index >= len(self.boxes):
            self.boxes += [None] * (index + 1 - len(self.boxes))

    def add(self, refs: Sequence[ImageRef]) -> None:
        """Append images after the last box used."""
        self.boxes = self.boxes[:self._used()] + list(refs)

    def insert(self, index: int, refs: Sequence[ImageRef]) -> None:
        """Put ``refs`` from box ``index`` on, moving the boxes there further on."""
        self._grow(index - 1)
        self.boxes[index:index] = list(refs)
        self.boxes = self.boxes[:self._used()]

    def place(self, index: int, ref: ImageRef | None) -> None:
        """Replace the content of box ``index``."""
        self._grow(index)
        self.boxes[index] = ref
        self.boxes = self.boxes[:self._used()]

    def clear(self, index: int) -> None:
        """Empty box ``index`` (the others stay where they are)."""
        self.place(index, None)

    def remove(self, index: int) -> None:
        """Take box ``index`` out; the following boxes move up one."""
        if 0 <= index < len(self.boxes):
            del self.boxes[index]

    def move(self, src: int, dst: int) -> None:
        """Move the image in box ``src`` to box ``dst``; the boxes between shift by one."""
        if src == dst or not 0 <= src < len(self.boxes):
            return
        ref = self.boxes.pop(src)
        self._grow(dst - 1)
        self.boxes.insert(dst, ref)
        self.boxes = self.boxes[:self._used()]

    def swap(self, a: int, b: int) -> None:
        self._grow(max(a, b))
        self.boxes[a], self.boxes[b] = self.boxes[b], self.boxes[a]
        self.boxes = self.boxes[:self._used()]

    def set_window(self, index: int, center: float, width: float) -> None:
        """A window of its own for the image in box ``index``."""
        ref = self.boxes[index]
        if ref is not None:
            self.boxes[index] = dataclasses.replace(ref, window=(float(center), max(1.0, float(width))))

    def set_zoom(self, index: int, zoom: float, shape: tuple[int, int], aspect: float = 1.0) -> None:
        """Zoom the image in box ``index`` about its centre (1 = the whole image)."""
        ref = self.boxes[index]
        if ref is None:
            return
        if zoom <= 1.0:
            self.boxes[index] = dataclasses.replace(ref, area=None)
            return
        rows, cols = shape
        turned = (ref.rotation // 90) % 2 == 1
        w, h = (rows * aspect, cols) if turned else (cols, rows * aspect)
        area = (-w / (2 * zoom), -h / (2 * zoom), w / zoom, h / zoom)
        self.boxes[index] = dataclasses.replace(ref, area=area)

    def job_refs(self) -> list[ImageRef | None]:
        """The boxes to print, up to the last image (empty boxes stay empty)."""
        return list(self.boxes[:self._used()])
