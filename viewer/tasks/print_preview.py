"""What the print dialog and the film composer ask of printing: printers, selection, preview.

Printer profiles on offer and saved, the depth a printer takes, which images a selection
names, the films as the printer will get them and their preview pixels (no Qt: the widgets
only show them).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Sequence

import numpy as np

from viewer.film.adapt import adapt_job, effective_bits
from viewer.film.compose import paginate, select_indices
from viewer.film.enums import PresentationLUTShape
from viewer.film.profile import PrinterProfile, load_profiles, save_profile
from viewer.film.spec import FilmBoxSpec, FilmSessionSpec, FilmSpec, ImageBoxSpec, PrintJobSpec


def printer_profiles() -> dict[str, PrinterProfile]:
    """The printers on offer by name: built-in profiles, then the user's."""
    return load_profiles()


def save_printer_profile(data: dict[str, Any]) -> tuple[PrinterProfile, Path]:
    """Check a profile given as a JSON object and save it in the user's printer folder.

    Raises
    ------
    ViewerError, ValueError
        Unknown keys or bad values (with the key).
    OSError
        The folder cannot be written.
    """
    profile = PrinterProfile.from_dict(data)
    return profile, save_profile(profile)


def select_images(count: int, mode: str = "all", *, current: int = 0, start: int = 0, stop: int | None = None,
                  interval: int = 1) -> list[int]:
    """Indices of the images to print out of ``count`` (all, current, range...)."""
    return select_indices(count, mode, current=current, start=start, stop=stop, interval=interval)


def print_depth(bits: int, profile: PrinterProfile, warnings: list[str]) -> int:
    """The depth (8 or 12) to render at for ``profile``; a warning when it differs from ``bits``."""
    return effective_bits(bits, profile, warnings)


def compose_preview(images: Sequence[ImageBoxSpec], box: FilmBoxSpec, session: FilmSessionSpec,
                    profile: PrinterProfile, *, annotations: dict[int, str] | None = None,
                    presentation_lut: PresentationLUTShape | None = None,
                    adapt: bool = True) -> tuple[list[FilmSpec], list[str]]:
    """The films as ``profile``'s printer will get them (paginated, adapted), and the warnings."""
    job = PrintJobSpec(session, paginate(list(images), box, annotations), presentation_lut=presentation_lut)
    job, warnings = adapt_job(job, profile, adapt=adapt)
    return list(job.films), warnings


def preview_pixels(film: FilmSpec, resolution: int) -> np.ndarray:
    """A film rendered for the screen, ``resolution`` pixels across (densities as printed)."""
    from viewer.film.preview import render_preview

    pixels, _ = render_preview(film, resolution)
    return pixels


def preview_with_boxes(film: FilmSpec, resolution: int) -> tuple[np.ndarray, list[tuple[float, float, float, float]]]:
    """:func:`preview_pixels` and each image box's rectangle (x, y, width, height) in those pixels."""
    from viewer.film.preview import render_preview

    pixels, rects = render_preview(film, resolution)
    return pixels, [(r.x, r.y, r.width, r.height) for r in rects]


def header_geometry(path: str) -> tuple[tuple[int, int], float]:
    """(rows, columns) and pixel aspect (row / column spacing) of an image file, for box zoom."""
    import pydicom

    from viewer.dicom.geometry import pixel_aspect_ratio

    ds = pydicom.dcmread(path, stop_before_pixels=True)
    return (int(ds.Rows), int(ds.Columns)), float(pixel_aspect_ratio(ds))
