"""Film layout geometry: where each image box sits on a film (PS3.3 C.13.8).

Pure functions, no Qt, no network, for the print preview (the virtual printer places
received boxes with :mod:`viewer.film.received_layout`). Geometry is in millimetres with
the origin at the top-left corner of the film as it is viewed (after the film orientation
is applied). Image boxes tile the film without gaps: real printers add margins of their
own, which no DICOM attribute describes.
"""

from __future__ import annotations

from dataclasses import dataclass

from viewer.errors import UsageError
from viewer.film.enums import FILM_SIZES_MM, FilmOrientation


@dataclass(frozen=True)
class Rect:
    """An axis-aligned rectangle (x, y of the top-left corner, width, height)."""

    x: float
    y: float
    width: float
    height: float

    def scaled(self, sx: float, sy: float | None = None) -> "Rect":
        """The rectangle in other units (e.g. mm to preview pixels)."""
        sy = sx if sy is None else sy
        return Rect(self.x * sx, self.y * sy, self.width * sx, self.height * sy)


@dataclass(frozen=True)
class DisplayFormat:
    """A parsed Image Display Format (2010,0010).

    Attributes
    ----------
    kind : str
        ``STANDARD``, ``ROW`` or ``COL``.
    counts : tuple of int
        STANDARD: (columns, rows); ROW: boxes in each row; COL: boxes in each column.
    """

    kind: str
    counts: tuple[int, ...]

    @property
    def box_count(self) -> int:
        """Number of image boxes on one film."""
        if self.kind == "STANDARD":
            return self.counts[0] * self.counts[1]
        return sum(self.counts)

    def __str__(self) -> str:
        return f"{self.kind}\\" + ",".join(str(c) for c in self.counts)


def parse_display_format(text: str) -> DisplayFormat:
    """Parse ``STANDARD\\C,R``, ``ROW\\a,b,...`` or ``COL\\a,b,...`` (PS3.3 C.13.8).

    Raises
    ------
    UsageError
        For SLIDE, SUPERSLIDE, CUSTOM or malformed values (named in the message).
    """
    raw = str(text).strip()
    kind, sep, rest = raw.replace("/", "\\").partition("\\")
    kind = kind.strip().upper()
    if not sep or kind not in ("STANDARD", "ROW", "COL"):
        raise UsageError(f"unsupported image display format {raw!r}: use STANDARD\\C,R, ROW\\a,b,... or COL\\a,b,...")
    try:
        counts = tuple(int(p) for p in rest.split(","))
    except ValueError:
        raise UsageError(f"bad image display format {raw!r}: counts must be integers") from None
    if any(c < 1 for c in counts) or (kind == "STANDARD" and len(counts) != 2):
        raise UsageError(f"bad image display format {raw!r}")
    return DisplayFormat(kind, counts)


def film_size_mm(film_size_id: str,
                 orientation: FilmOrientation | str = FilmOrientation.PORTRAIT) -> tuple[float, float]:
    """(width, height) in mm of a film as viewed in ``orientation``.

    Raises
    ------
    UsageError
        For a Film Size ID that is not a PS3.3 C.13.8 defined term.
    """
    try:
        w, h = FILM_SIZES_MM[str(film_size_id).upper()]
    except KeyError:
        raise UsageError(f"unknown film size {film_size_id!r}: one of {', '.join(FILM_SIZES_MM)}") from None
    if FilmOrientation(str(orientation)) is FilmOrientation.LANDSCAPE:
        w, h = h, w
    return w, h


def image_boxes(display_format: str | DisplayFormat, film_size_id: str,
                orientation: FilmOrientation | str = FilmOrientation.PORTRAIT) -> list[Rect]:
    """Rectangles (mm) of the image boxes, in Image Box Position order (1-based position = index + 1).

    PS3.3 C.13.8: STANDARD\\C,R is C columns by R rows numbered left to right, then top to
    bottom; ROW\\a,b gives the boxes of each row (rows share the height equally); COL\\a,b
    gives the boxes of each column, numbered top to bottom, then left to right.
    """
    fmt = display_format if isinstance(display_format, DisplayFormat) else parse_display_format(display_format)
    width, height = film_size_mm(film_size_id, orientation)
    return _tile(fmt, width, height)


def _tile(fmt: DisplayFormat, width: float, height: float) -> list[Rect]:
    out: list[Rect] = []
    if fmt.kind == "STANDARD":
        cols, rows = fmt.counts
        bw, bh = width / cols, height / rows
        for r in range(rows):
            out.extend(Rect(c * bw, r * bh, bw, bh) for c in range(cols))
    elif fmt.kind == "ROW":
        bh = height / len(fmt.counts)
        for r, n in enumerate(fmt.counts):
            bw = width / n
            out.extend(Rect(c * bw, r * bh, bw, bh) for c in range(n))
    else:  # COL
        bw = width / len(fmt.counts)
        for c, n in enumerate(fmt.counts):
            bh = height / n
            out.extend(Rect(c * bw, r * bh, bw, bh) for r in range(n))
    return out


def aspect_ratio(film_size_id: str, orientation: FilmOrientation | str = FilmOrientation.PORTRAIT) -> float:
    """Width / height of the film as viewed."""
    w, h = film_size_mm(film_size_id, orientation)
    return w / h
