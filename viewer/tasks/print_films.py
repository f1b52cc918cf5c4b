"""Print films: render the chosen images, compose films, run the print protocol, report.

The print use case: :func:`build_job` renders each :class:`~viewer.tasks.print_render.ImageRef`
as the user sees it (:mod:`viewer.tasks.print_render`) and composes the films
(:mod:`viewer.film.compose`); :func:`print_films` then prints them
(:func:`viewer.tasks.print_run.run_print_job`, PS3.4 H). Blocking; takes a
:class:`viewer.cancel.CancelToken` and a progress callback; the GUI runs it in the
single-thread print queue, the CLI directly. What the print dialog needs besides (profiles,
preview) is in :mod:`viewer.tasks.print_preview`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable, Sequence

from pydicom.dataset import Dataset

from viewer.cancel import CancelToken
from viewer.errors import ViewerError
from viewer.film.adapt import effective_bits
from viewer.film.compose import fill_template, paginate
from viewer.film.enums import Polarity, PresentationLUTShape
from viewer.film.profile import PrinterProfile
from viewer.film.spec import FilmBoxSpec, FilmSessionSpec, ImageBoxSpec, PrintJobSpec
from viewer.net.print_scu import JobEvent
from viewer.tasks.print_render import ImageRef, render_for_print
from viewer.tasks.print_report import PrintReport
from viewer.tasks.print_run import run_print_job

Progress = Callable[[str, float], None]


def build_job(refs: Sequence[ImageRef | None], box: FilmBoxSpec, session: FilmSessionSpec, profile: PrinterProfile, *,
              bits: int = 12, color: bool = False, polarity: Polarity = Polarity.NORMAL, true_size: bool = False,
              annotations: dict[int, str] | None = None,
              presentation_lut: PresentationLUTShape | None = PresentationLUTShape.IDENTITY,
              burn_in: bool = False, cancel: CancelToken | None = None,
              progress: Progress | None = None) -> tuple[PrintJobSpec, list[str]]:
    """Render ``refs`` and compose films for ``profile``; returns the job and warnings.

    A None in ``refs`` is an empty box (the film composer's). Annotation texts may be
    templates (:func:`viewer.film.compose.fill_template`), filled per film from its first image.
    """
    warnings: list[str] = []
    bits = effective_bits(bits, profile, warnings)
    images: list[ImageBoxSpec | None] = []
    for i, ref in enumerate(refs):
        if cancel is not None:
            cancel.raise_if_cancelled("print cancelled")
        if progress:
            progress(f"rendering image {i + 1}/{len(refs)}", 0.3 * i / max(len(refs), 1))
        images.append(None if ref is None else render_for_print(ref, bits, color=color, true_size=true_size,
                                                                 polarity=polarity, burn_in=burn_in))
    if not any(img is not None for img in images):
        raise ViewerError("nothing to print: every box is empty")
    films = paginate(images, box, annotations)  # type: ignore[arg-type]  # None: an empty box
    if annotations and any("{" in t for t in annotations.values()):
        per = len(films[0].images) if films else 1
        for n, film in enumerate(films):
            first = next((r for r in refs[n * per:(n + 1) * per] if r is not None), None)
            ds = _header(first.path) if first is not None else None
            film.annotations = {k: fill_template(t, ds, n + 1, len(films)) for k, t in film.annotations.items()}
    job = PrintJobSpec(session=session, films=films, presentation_lut=presentation_lut)
    return job, warnings


def _header(path: str) -> Dataset | None:
    import pydicom

    try:
        return pydicom.dcmread(path, stop_before_pixels=True)
    except Exception:  # noqa: BLE001 - a template placeholder left empty is not worth a failed print
        return None


def print_films(refs: Sequence[ImageRef], box: FilmBoxSpec, session: FilmSessionSpec, profile: PrinterProfile,
                options: dict[str, Any] | None = None, *, cancel: CancelToken | None = None,
                progress: Progress | None = None, on_event: Callable[[JobEvent], None] | None = None,
                timeout: float = 30.0) -> PrintReport:
    """The print use case: render ``refs`` as the user sees them, compose, print, report.

    ``options`` are the keyword options of :func:`build_job` (bits, color, polarity, ...).
    The report's warnings include those of composition (e.g. a depth the printer lacks).

    Raises
    ------
    PrintError, ViewerError, Cancelled
        As :func:`build_job` and :func:`run_print_job`.
    """
    job, warnings = build_job(refs, box, session, profile, cancel=cancel, progress=progress, **(options or {}))
    report = run_print_job(job, profile, cancel=cancel, timeout=timeout, progress=progress, on_event=on_event)
    report.warnings = warnings + [w for w in report.warnings if w not in warnings]
    return report


def images_for_print(paths: Sequence[str | Path],
                     cancel: CancelToken | None = None) -> tuple[list[ImageRef], list[str]]:
    """Every image frame in files, folders and DICOMDIRs, in the study model's order; and the errors.

    Patients, studies and series as the browser lists them, each series in display order
    (stack after stack, each along its normal), each multi-frame instance frame by frame;
    objects without pixels (SR, presentation states, ...) are left out.
    """
    from viewer.dicom.scan import load_tree, refine_series

    tree = load_tree([str(p) for p in paths], cancel)
    refs: list[ImageRef] = []
    for patient in tree.patients:
        for study in patient.studies:
            for series in study.series:
                if not series.headers_loaded:
                    refine_series(tree, series, cancel)  # DICOMDIR records: read the headers to sort
                for inst in series.instances:
                    if inst.path is None or not inst.rows or not inst.columns:
                        continue
                    refs += [ImageRef(str(inst.path), i) for i in range(max(1, int(inst.number_of_frames or 1)))]
    errors = [f"{path}: {msg}" for path, msg in getattr(tree, "errors", [])]
    return refs, errors


def film_annotations(templates: dict[int, str], refs: Sequence[ImageRef | None], page: int,
                     pages: int) -> dict[int, str]:
    """Film annotation templates filled for one film from its first image (as the job will be)."""
    first = next((r for r in refs if r is not None), None)
    ds = _header(first.path) if first is not None else None
    return {k: fill_template(t, ds, page, pages) for k, t in templates.items() if t.strip()}
