"""Compose films from a list of images: selection, pagination, true-size requests.

No Qt, no network. Images arrive display-ready (rendered by :mod:`viewer.render` as the
user sees them); this module only decides which image goes into which box of which film.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Sequence

from viewer.errors import UsageError
from viewer.film.layout import parse_display_format
from viewer.film.spec import FilmBoxSpec, FilmSpec, ImageBoxSpec

if TYPE_CHECKING:
    from pydicom.dataset import Dataset


def select_indices(count: int, mode: str = "all", *, current: int = 0, start: int = 0, stop: int | None = None,
                   interval: int = 1, selected: Sequence[int] = ()) -> list[int]:
    """Indices of the images to print out of ``count``.

    Parameters
    ----------
    mode : str
        ``current`` (one image), ``all`` (the whole series), ``range`` (``start`` to
        ``stop`` inclusive, every ``interval``-th) or ``selected``.
    """
    if count <= 0:
        return []
    if mode == "current":
        if not 0 <= current < count:
            raise UsageError(f"current image {current + 1} out of range 1..{count}")
        return [current]
    if mode == "all":
        return list(range(count))
    if mode == "range":
        stop = count - 1 if stop is None else stop
        if interval < 1 or not (0 <= start <= stop < count):
            raise UsageError(f"bad range {start + 1}..{stop + 1} step {interval} for {count} images")
        return list(range(start, stop + 1, interval))
    if mode == "selected":
        bad = [i for i in selected if not 0 <= i < count]
        if bad:
            raise UsageError(f"selected image {bad[0] + 1} out of range 1..{count}")
        return sorted(set(selected))
    raise UsageError(f"unknown selection mode {mode!r}")


def paginate(images: Sequence[ImageBoxSpec], box: FilmBoxSpec,
             annotations: dict[int, str] | None = None) -> list[FilmSpec]:
    """Fill image boxes in position order, starting a new film when one is full.

    The last film's remaining boxes stay empty (printed at Empty Image Density). Each film
    gets the same film box attributes and annotations; ``{page}`` and ``{pages}`` in an
    annotation text are replaced with the film number and count.
    """
    per_film = parse_display_format(box.display_format).box_count
    if not images:
        raise UsageError("nothing to print: no images selected")
    pages = (len(images) + per_film - 1) // per_film
    films = []
    for p in range(pages):
        chunk: list[ImageBoxSpec | None] = list(images[p * per_film:(p + 1) * per_film])
        chunk += [None] * (per_film - len(chunk))
        text = {pos: t.replace("{page}", str(p + 1)).replace("{pages}", str(pages))
                for pos, t in (annotations or {}).items()}
        films.append(FilmSpec(box=dataclasses.replace(box), images=chunk, annotations=text))
    return films


def true_size_mm(columns: int, pixel_spacing_mm: float | None) -> float | None:
    """Requested Image Size (2020,0030) for printing at true size: the image width in mm.

    PS3.3 C.13.5: the size is the width of the printed image; the column spacing (second
    value of Pixel Spacing, PS3.3 C.7.6.2) times the number of columns. None when unknown.
    """
    if not pixel_spacing_mm or pixel_spacing_mm <= 0:
        return None
    return round(columns * float(pixel_spacing_mm), 2)


#: Placeholders of film annotation templates and the attribute each is filled from.
TEMPLATE_FIELDS = {"patient": "PatientName", "id": "PatientID", "date": "StudyDate", "institution": "InstitutionName",
                   "study": "StudyDescription", "series": "SeriesDescription", "accession": "AccessionNumber"}


def fill_template(text: str, ds: Dataset | None, page: int | None = None, pages: int | None = None) -> str:
    """A film annotation from a template: ``{patient}``, ``{id}``, ``{date}``, ``{institution}``,
    ``{study}``, ``{series}``, ``{accession}`` from ``ds`` (the film's first image), ``{page}`` and
    ``{pages}``; unknown placeholders are left as typed. Names are shown ``Family Given``,
    dates ``YYYY-MM-DD``; the result is cut to the 64 characters of Text String (LO)."""
    out = text
    for key, keyword in TEMPLATE_FIELDS.items():
        token = "{" + key + "}"
        if token not in out:
            continue
        value = str(ds.get(keyword, "") or "") if ds is not None else ""
        if keyword == "PatientName":
            value = " ".join(p for p in value.replace("^", " ").split())
        elif keyword == "StudyDate" and len(value) == 8 and value.isdigit():
            value = f"{value[:4]}-{value[4:6]}-{value[6:]}"
        out = out.replace(token, value)
    if page is not None:
        out = out.replace("{page}", str(page))
    if pages is not None:
        out = out.replace("{pages}", str(pages))
    return " ".join(out.split())[:64]
