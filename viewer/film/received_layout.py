"""Geometry of a received film: film size in pixels, image box and annotation rectangles.

Used by the virtual film printer (print SCP) to place what a print SCU sent. The box geometry
differs from the print client's preview (margins, gaps, annotation strips); the film sizes are
shared (:data:`viewer.film.enums.FILM_SIZES_MM`). The PS3.3 rules:

* Film Size ID (2010,0050) defined terms, PS3.3 C.13.8 (portrait width x height).
* Image Display Format (2010,0010), PS3.3 C.13.8: ``STANDARD\\C,R`` (C columns, R rows,
  positions row-major), ``ROW\\n1,n2,...`` (one entry per row, top to bottom),
  ``COL\\n1,n2,...`` (one entry per column, left to right, positions top to bottom
  within a column).
* Film Orientation (2010,0040) ``LANDSCAPE`` swaps film width and height.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from viewer.film.enums import FILM_SIZES_MM as _FILM_SIZES_MM

log = logging.getLogger(__name__)

#: Film Size ID -> (width, height) in millimetres, portrait (PS3.3 C.13.8): one table for
#: the print client and the print server.
FILM_SIZES_MM = _FILM_SIZES_MM
DEFAULT_FILM_SIZE = "8INX10IN"

#: Margin around the film and gap between boxes, as fractions of the shorter film side.
MARGIN = 0.02
GAP = 0.01
#: Height of one annotation strip, as a fraction of the film height.
ANNOTATION_STRIP = 0.04


@dataclass(frozen=True)
class Rect:
    """A pixel rectangle on the film: left, top, width, height."""

    x: int
    y: int
    w: int
    h: int


class LayoutError(ValueError):
    """An Image Display Format that cannot be laid out."""


def film_size_px(film_size_id: str | None, orientation: str | None, dpi: int) -> tuple[int, int]:
    """Film (width, height) in pixels at ``dpi``; LANDSCAPE swaps the sides (PS3.3 C.13.8)."""
    size = (film_size_id or DEFAULT_FILM_SIZE).upper()
    if size not in FILM_SIZES_MM:
        log.warning("film size %r has no known dimensions; printed as %s", size, DEFAULT_FILM_SIZE)
    w_mm, h_mm = FILM_SIZES_MM.get(size, FILM_SIZES_MM[DEFAULT_FILM_SIZE])
    if (orientation or "PORTRAIT").upper() == "LANDSCAPE":
        w_mm, h_mm = h_mm, w_mm
    return round(w_mm / 25.4 * dpi), round(h_mm / 25.4 * dpi)


def parse_display_format(value: str) -> tuple[str, list[int]]:
    """Split ``STANDARD\\2,3`` into ``("STANDARD", [2, 3])``; raise :class:`LayoutError`."""
    kind, _, rest = str(value).replace("/", "\\").partition("\\")
    kind = kind.strip().upper()
    try:
        numbers = [int(n) for n in rest.split(",")] if rest else []
    except ValueError:
        raise LayoutError(f"image display format {value!r}: numbers expected after '\\'") from None
    if kind not in ("STANDARD", "ROW", "COL") or not numbers or any(n < 1 for n in numbers):
        raise LayoutError(f"image display format {value!r} not understood")
    if kind == "STANDARD" and len(numbers) != 2:
        raise LayoutError(f"image display format {value!r}: STANDARD needs C,R")
    return kind, numbers


def box_count(display_format: str) -> int:
    """Number of image boxes an Image Display Format defines."""
    kind, numbers = parse_display_format(display_format)
    return numbers[0] * numbers[1] if kind == "STANDARD" else sum(numbers)


def annotation_rows(count: int, placement: str) -> tuple[bool, bool]:
    """Whether annotation boxes take a (top, bottom) strip of the film."""
    placement = placement.upper()
    return count > 0 and placement in ("TOP", "TOP_BOTTOM"), count > 0 and placement in ("BOTTOM", "TOP_BOTTOM")


def image_area(width: int, height: int, annotation_rows: tuple[bool, bool]) -> Rect:
    """The film area left for image boxes after the margin and annotation strips (top, bottom)."""
    margin = round(MARGIN * min(width, height))
    strip = round(ANNOTATION_STRIP * height)
    top = margin + (strip if annotation_rows[0] else 0)
    bottom = height - margin - (strip if annotation_rows[1] else 0)
    return Rect(margin, top, width - 2 * margin, bottom - top)


def _split(start: int, length: int, n: int, gap: int) -> list[tuple[int, int]]:
    """``n`` equal cells (start, size) in ``length`` pixels with ``gap`` between them."""
    size = (length - gap * (n - 1)) / n
    return [(start + round(i * (size + gap)), max(1, round(size))) for i in range(n)]


def image_boxes(display_format: str, area: Rect, film_short_side: int) -> list[Rect]:
    """Image box rectangles in Image Box Position order (1-based position = index + 1)."""
    kind, numbers = parse_display_format(display_format)
    gap = round(GAP * film_short_side)
    boxes: list[Rect] = []
    if kind == "STANDARD":
        cols, rows = numbers
        for y, h in _split(area.y, area.h, rows, gap):
            boxes.extend(Rect(x, y, w, h) for x, w in _split(area.x, area.w, cols, gap))
    elif kind == "ROW":
        for (y, h), n in zip(_split(area.y, area.h, len(numbers), gap), numbers):
            boxes.extend(Rect(x, y, w, h) for x, w in _split(area.x, area.w, n, gap))
    else:  # COL
        for (x, w), n in zip(_split(area.x, area.w, len(numbers), gap), numbers):
            boxes.extend(Rect(x, y, w, h) for y, h in _split(area.y, area.h, n, gap))
    return boxes


def annotation_boxes(count: int, placement: str, width: int, height: int) -> list[Rect]:
    """Rectangles of ``count`` annotation boxes; ``placement`` is TOP, BOTTOM or TOP_BOTTOM.

    TOP_BOTTOM puts the first half of the positions on the top strip, the rest at the bottom.
    """
    margin = round(MARGIN * min(width, height))
    strip = round(ANNOTATION_STRIP * height)
    inner = width - 2 * margin
    placement = placement.upper()
    if placement == "TOP_BOTTOM":
        top_n = (count + 1) // 2
        rows = [(margin, top_n), (height - margin - strip, count - top_n)]
    elif placement == "BOTTOM":
        rows = [(height - margin - strip, count)]
    else:
        rows = [(margin, count)]
    out: list[Rect] = []
    for y, n in rows:
        if n:
            out.extend(Rect(x, y, w, strip) for x, w in _split(margin, inner, n, 0))
    return out


def box_size_mm(display_format: str, position: int, film_size_id: str | None, orientation: str | None,
                annotation_rows: tuple[bool, bool] = (False, False)) -> tuple[float, float] | None:
    """Width and height in mm of image box ``position`` (1-based); None if there is no such box.

    The print SCP uses it to judge a Requested Image Size (2020,0030) against the box
    (PS3.4 H.4.3.1.2.1.2: statuses B604, B609, C603).
    """
    dpi = 254  # 10 pixels per mm: fine enough for a size check
    width, height = film_size_px(film_size_id, orientation, dpi)
    try:
        boxes = image_boxes(display_format, image_area(width, height, annotation_rows), min(width, height))
    except LayoutError:
        return None
    if not 1 <= position <= len(boxes):
        return None
    box = boxes[position - 1]
    return box.w / 10.0, box.h / 10.0
