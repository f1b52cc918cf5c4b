"""Print films: render the chosen images, compose films, run the print protocol, report.

Joins :mod:`viewer.render` (pixels as the user sees them), :mod:`viewer.film` (composition,
printer rules) and :mod:`viewer.net.print_scu` (PS3.4 H). Blocking; takes a
:class:`viewer.cancel.CancelToken` and a progress callback; the GUI runs it in the
single-thread print queue, the CLI directly.
"""

from __future__ import annotations

import dataclasses
import functools
import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np
from pydicom.dataset import Dataset

from viewer.cancel import CancelToken, is_cancelled
from viewer.errors import PrintError, ViewerError
from viewer.film import uids
from viewer.film.adapt import Negotiated, adapt_job, effective_bits
from viewer.film.attributes import (annotation_box_dataset, film_box_dataset, film_session_dataset,
                                    image_box_dataset, presentation_lut_dataset)
from viewer.film.compose import fill_template, paginate, select_indices, true_size_mm
from viewer.film.enums import ExecutionStatus, Polarity, PresentationLUTShape, PrintJobEvent
from viewer.film.profile import PrinterProfile, load_profiles, save_profile
from viewer.film.refusals import Adaptation
from viewer.film.burnin import Mark
from viewer.film.spec import FilmBoxSpec, FilmSessionSpec, FilmSpec, ImageBoxSpec, PrintJobSpec
from viewer.film.view import (ViewGeometry, apply_geometry, aspect_pair, point_mapper, resample_linear,
                              rotated_pair, source_crop)
from viewer.net.print_scu import ANNOTATION_BOX, JobEvent, PrintAssociation, PrinterAddress

log = logging.getLogger(__name__)

Progress = Callable[[str, float], None]


# ---------------------------------------------------------------------------- images
@dataclass(frozen=True)
class ImageRef:
    """One image to print as the user sees it (a viewport's view, or the file's defaults).

    Attributes
    ----------
    path : str
        DICOM file.
    frame : int
        0-based frame index.
    window : tuple of float or None
        (center, width) in modality units; None = the file's first window.
    rotation : int
        Clockwise rotation in degrees, a multiple of 90.
    flip, flip_v : bool
        Mirror left-right / top-bottom (before the rotation, as the viewport does).
    crop : tuple of int or None
        (row0, col0, row1, col1) of the visible region, in frame pixels (ignored with ``area``).
    area : (x, y, width, height) or None
        The viewport's displayed area in view coordinates (:mod:`viewer.film.view`).
    invert : bool
        The viewport's Invert (grayscale: the VOI output reversed).
    shutter : bool
        Paint the image's Display Shutter (PS3.3 C.7.6.11) over the masked area.
    overlays : bool
        Burn the image's overlay planes (PS3.3 C.9.2) in.
    marks : tuple of Mark
        Measurements and annotations to burn in at film resolution.
    """

    path: str
    frame: int = 0
    window: tuple[float, float] | None = None
    rotation: int = 0
    flip: bool = False
    crop: tuple[int, int, int, int] | None = None
    flip_v: bool = False
    area: tuple[float, float, float, float] | None = None
    invert: bool = False
    shutter: bool = True
    overlays: bool = False
    marks: tuple[Mark, ...] = ()

    @property
    def geometry(self) -> ViewGeometry:
        return ViewGeometry(rotation=self.rotation, flip_h=self.flip, flip_v=self.flip_v, area=self.area)


#: Longest side, in printer pixels, of an image with burnt-in text (about 300 dpi on a
#: 14x17 inch film of 2x2 boxes); text and lines are drawn at this resolution.
FILM_PIXELS = 2048


def render_for_print(ref: ImageRef, bits: int, *, color: bool = False, true_size: bool = False,
                     polarity: Polarity = Polarity.NORMAL, burn_in: bool = False,
                     film_pixels: int = FILM_PIXELS) -> ImageBoxSpec:
    """Render one frame for an image box as its viewport shows it.

    VOI as shown (:func:`viewer.render.render`, no second VOI implementation), invert,
    display shutter, overlays; then the displayed area, flips and rotation
    (:mod:`viewer.film.view`). Non-square pixels keep their Pixel Aspect Ratio (swapped by a
    quarter turn); the printer, or :func:`viewer.film.adapt.adapt_job`, makes them square.
    With ``burn_in`` (patient, date, series/image) or ``ref.marks``, the image is first
    resampled to square pixels at ``film_pixels`` on its longer side, and the text and
    marks are drawn at that resolution. Color sources stay RGB when ``color``, else they
    become 8-bit luma.
    """
    from viewer.dicom.frames import open_frames
    from viewer.dicom.geometry import pixel_spacing
    from viewer.film.adapt import rgb_to_gray
    from viewer.render import params_from_dataset, render

    src = open_frames(ref.path)
    if not 0 <= ref.frame < src.num_frames:
        raise ViewerError(f"{ref.path}: frame {ref.frame + 1} out of range 1..{src.num_frames}")
    ds = src.dataset
    params = params_from_dataset(ds, ref.frame)
    if ref.window is not None and not params.is_color:
        params = params.with_window(*ref.window)
    if ref.invert and not params.is_color:
        params = dataclasses.replace(params, invert=not params.invert)
    # The display pipeline at the print depth: 12-bit P-values (PS3.4 H.4.1.1.2) come from the
    # same Modality LUT -> VOI as the screen. Colour (RGB, palette, supplemental) is 8-bit.
    px = render(src.frame(ref.frame), params, output_bits=bits)
    out_bits = 8 if px.ndim == 3 else bits
    if px.ndim == 3 and ref.invert:
        px = 255 - px
    if px.ndim == 3 and not color:
        px, out_bits = rgb_to_gray(px), 8
    if ref.overlays:
        px = _burn_overlays(px, ds, ref.frame, out_bits)
    if ref.shutter:
        from viewer.render.shutter import apply_shutter, shutter_from_dataset

        shutter = shutter_from_dataset(ds)
        if shutter is not None:
            px = apply_shutter(px, shutter, bits=out_bits)
    spacing = pixel_spacing(ds)
    pair = aspect_pair(spacing.row_mm, spacing.col_mm) if spacing is not None else None
    if pair is None and spacing is None:
        par = ds.get("PixelAspectRatio")
        if par and len(par) == 2 and int(par[0]) > 0 and int(par[1]) > 0 and int(par[0]) != int(par[1]):
            pair = (int(par[0]), int(par[1]))
    # The viewport's aspect: the exact spacing ratio (the pair is its rational form for the wire).
    aspect = spacing.row_mm / spacing.col_mm if spacing is not None else (pair[0] / pair[1] if pair else 1.0)
    geometry = ref.geometry
    crop = source_crop(px.shape[:2], aspect, geometry) if ref.area is not None else \
        (ref.crop or (0, 0, px.shape[0], px.shape[1]))
    crop = (max(crop[0], 0), max(crop[1], 0), min(crop[2], px.shape[0]), min(crop[3], px.shape[1]))
    px = apply_geometry(px, crop, geometry)
    pair = rotated_pair(pair, geometry)
    size = None
    if true_size and spacing is not None:
        # Requested Image Size is the printed width (PS3.3 C.13.5); after a quarter turn
        # the printed width runs along the former rows.
        col_mm = spacing.row_mm if geometry.quarter_turns % 2 else spacing.col_mm
        size = true_size_mm(px.shape[1], col_mm)
    if burn_in or ref.marks:
        from viewer.film.burnin import burn_in as _burn, default_lines

        rows, cols = px.shape[:2]
        height = rows * (pair[0] / pair[1] if pair else 1.0)
        scale = film_pixels / max(height, cols)
        out_rows, out_cols = max(1, round(height * scale)), max(1, round(cols * scale))
        px = resample_linear(px, out_rows, out_cols)
        mapper = point_mapper(crop, geometry, (out_cols / cols, out_rows / rows))
        top, bottom = default_lines(ds, ref.frame, ref.window) if burn_in else ([], [])
        px = _burn(px, out_bits, top, bottom, ref.marks, mapper)
        pair = None
    return ImageBoxSpec(pixels=px, bits=out_bits, polarity=polarity, requested_size_mm=size,
                        pixel_aspect_ratio=pair, source=f"{ref.path}#{ref.frame + 1}")


def _burn_overlays(px: np.ndarray, ds: Dataset, frame: int, bits: int) -> np.ndarray:
    """Overlay planes (PS3.3 C.9.2) burnt in at full white, as the viewport draws them on top."""
    from viewer.render import overlay_layers

    try:
        layers = [np.asarray(x, bool) for x in overlay_layers(ds, frame)]
    except Exception as exc:  # noqa: BLE001 - a broken overlay must not stop the print
        log.info("overlays not printed: %s", exc)
        return px
    layers = [x for x in layers if x.shape == px.shape[:2]]
    if not layers:
        return px
    out = px.copy()
    mask = np.logical_or.reduce(layers)
    out[mask] = 255 if px.ndim == 3 else (1 << bits) - 1
    return out


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


# ---------------------------------------------------------------------------- report
@dataclass
class FilmResult:
    """What happened to one film."""

    number: int
    film_box_uid: str = ""
    print_job_uid: str = ""
    execution_status: str = ""
    execution_status_info: str = ""
    image_boxes: int = 0


@dataclass
class PrintReport:
    """The outcome of a print job: printer status, per-film job status, warnings."""

    printer: str
    printer_status: str = ""
    printer_status_info: str = ""
    accepted: dict[str, bool] = field(default_factory=dict)
    films: list[FilmResult] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    #: what was changed because the printer refused it (retried in the same association)
    adapted: list[str] = field(default_factory=list)
    #: profile fields learnt from the refusals (e.g. {"supports_12_bit": False})
    learned: dict[str, Any] = field(default_factory=dict)
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        """No film failed."""
        return all(f.execution_status != ExecutionStatus.FAILURE.value for f in self.films)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (``print --json``)."""
        return dataclasses.asdict(self) | {"ok": self.ok}


def _as_color(img: ImageBoxSpec | None) -> ImageBoxSpec | None:
    """A grayscale box in a color film: its 8-bit display values on all three channels."""
    if img is None or img.is_color:
        return img
    px = img.pixels
    if img.bits == 12:
        px = (px.astype(np.uint32) * 255 + 2047) // 4095
    gray = px.astype(np.uint8)
    return dataclasses.replace(img, pixels=np.repeat(gray[..., None], 3, axis=2), bits=8)


# ---------------------------------------------------------------------------- protocol
_EVENT_STATUS = {PrintJobEvent.PENDING: ExecutionStatus.PENDING, PrintJobEvent.PRINTING: ExecutionStatus.PRINTING,
                 PrintJobEvent.DONE: ExecutionStatus.DONE, PrintJobEvent.FAILURE: ExecutionStatus.FAILURE}


def _follow_job(scu: PrintAssociation, result: FilmResult, timeout: float, progress: Progress | None,
                cancel: CancelToken | None, on_film: Callable[[FilmResult], None] | None = None) -> None:
    """Wait for the print job's DONE or FAILURE: N-EVENT-REPORTs, else N-GET Print Job polls.

    PS3.4 H.4.4: the printer reports Pending, Printing, Done, Failure as events; a client
    may also N-GET Execution Status (2100,0020) and Execution Status Info (2100,0030).
    """
    deadline = time.monotonic() + timeout
    poll = 0.2
    while time.monotonic() < deadline:
        if is_cancelled(cancel):
            # The film is already queued at the printer; stop following, do not cancel it.
            scu.warnings.append(f"film {result.number}: stopped following print job {result.print_job_uid}")
            return
        ev = scu.wait_events(poll)
        while ev is not None:
            if ev.class_uid == uids.PRINT_JOB and ev.instance_uid == result.print_job_uid:
                try:
                    status = _EVENT_STATUS[PrintJobEvent(ev.event_type)]
                except ValueError:
                    status = None
                if status is not None:
                    result.execution_status = status.value
                    if ev.attributes is not None:
                        result.execution_status_info = str(ev.attributes.get("ExecutionStatusInfo", "") or "")
                    info = f" ({result.execution_status_info})" if result.execution_status_info else ""
                    if progress:
                        progress(f"print job {status.value}{info}", 0.95)
                    if on_film is not None:
                        on_film(result)
            ev = scu.wait_events(0) if not scu.events.empty() else None
        if result.execution_status in (ExecutionStatus.DONE.value, ExecutionStatus.FAILURE.value):
            return
        ds = scu.get(f"N-GET Print Job {result.number}", uids.PRINT_JOB, result.print_job_uid,
                     ["ExecutionStatus", "ExecutionStatusInfo"])
        if ds.get("ExecutionStatus"):
            before = (result.execution_status, result.execution_status_info)
            result.execution_status = str(ds.ExecutionStatus)
            result.execution_status_info = str(ds.get("ExecutionStatusInfo", "") or "")
            if on_film is not None and before != (result.execution_status, result.execution_status_info):
                on_film(result)
        if result.execution_status in (ExecutionStatus.DONE.value, ExecutionStatus.FAILURE.value):
            return
        poll = min(poll * 1.5, 2.0)
    scu.warnings.append(f"film {result.number}: print job still {result.execution_status or 'unknown'} "
                        f"after {timeout:g} s")


def run_print_job(job: PrintJobSpec, profile: PrinterProfile, *, cancel: CancelToken | None = None,
                  progress: Progress | None = None, on_event: Callable[[JobEvent], None] | None = None,
                  timeout: float = 30.0, job_timeout: float = 60.0, follow_job: bool = True,
                  on_film: Callable[[FilmResult], None] | None = None,
                  numbers: Sequence[int] | None = None, report: PrintReport | None = None,
                  adapt: bool = True) -> PrintReport:
    """Print ``job`` on the printer of ``profile`` (PS3.4 H message sequence) and report.

    Everything created on the printer is deleted again (film boxes, film session,
    Presentation LUT), also when a step fails or the user cancels; N-ACTION is never
    repeated. Warnings (0xB6xx, adaptations) end up in the report; failures raise.

    ``on_film`` is called with a film's :class:`FilmResult` each time its state changes
    (``SENT`` after its N-ACTION, then the Print Job's PENDING, PRINTING, DONE or FAILURE);
    ``numbers`` are the films' numbers in the user's job (default 1, 2, ...), so that a retry
    of the films not printed keeps them. Pass ``report`` to see, after an exception, which
    films were printed (its ``films``).

    Raises
    ------
    PrintError
        Association rejected, a failure status (with code, meaning and offending
        attribute), no answer within ``timeout`` (the association is then aborted).
    Cancelled
        ``cancel`` was set; what had been created is deleted first.
    """
    t0 = time.monotonic()
    if report is None:
        report = PrintReport(printer=f"{profile.ae_title}@{profile.host}:{profile.port}")

    def step(msg: str, frac: float) -> None:
        log.info("print: %s", msg)
        if progress:
            progress(msg, frac)

    job, warnings = adapt_job(job, profile, adapt=adapt)
    report.adapted += [w.removeprefix("adapted: ") for w in warnings if w.startswith("adapted: ")]
    warnings = [w for w in warnings if not w.startswith("adapted: ")]
    report.warnings += warnings
    for w in warnings:
        log.warning("print: %s", w)
    want_color = job.color and profile.color
    address = PrinterAddress(profile.host, profile.port, profile.ae_title, profile.calling_ae_title,
                             timeout=timeout, max_pdu=profile.max_pdu, implicit_only=profile.implicit_vr_only,
                             tls=profile.tls_options())
    # The Presentation LUT is proposed whenever the job has one: a color job falls back to
    # grayscale when the printer rejects Basic Color, and then the LUT is used.
    scu = PrintAssociation(address, grayscale=profile.grayscale or not want_color, color=want_color,
                           presentation_lut=job.presentation_lut is not None,
                           print_job=follow_job, annotation=any(f.annotations for f in job.films),
                           cancel=cancel, on_event=on_event)
    step(f"connecting to {report.printer}", 0.3)
    accepted = scu.open()
    names = {uids.GRAYSCALE_META: "grayscale", uids.COLOR_META: "color", uids.PRESENTATION_LUT: "presentation_lut",
             uids.PRINT_JOB: "print_job", uids.ANNOTATION_BOX: "annotation"}
    report.accepted = {name: uid in accepted for uid, name in names.items() if uid in scu.proposed}
    negotiated = Negotiated(grayscale=uids.GRAYSCALE_META in accepted, color=uids.COLOR_META in accepted,
                            presentation_lut=uids.PRESENTATION_LUT in accepted,
                            print_job=uids.PRINT_JOB in accepted, annotation=uids.ANNOTATION_BOX in accepted)
    if adapt and not negotiated.annotation and any(f.annotations for f in job.films):
        job = _annotations_elsewhere(job, report, "rejected the Basic Annotation Box SOP class")
    job, warnings = adapt_job(job, profile, negotiated, adapt=adapt)
    for w in warnings:
        if w not in report.warnings:
            log.warning("print: %s", w)
            report.warnings.append(w)
    color = scu.meta_uid == uids.COLOR_META
    created: list[tuple[str, str, str, bool]] = []  # (what, class, uid, on_meta), for clean-up
    try:
        _run(scu, job, profile, report, created, color, step, cancel, job_timeout if follow_job else 0.0,
             negotiated, on_film, list(numbers) if numbers is not None else None, adapt)
    except BaseException:
        _cleanup(scu, created)
        scu.release()
        report.warnings += [w for w in scu.warnings if w not in report.warnings]
        raise
    _cleanup(scu, created)
    scu.release()
    report.warnings += [w for w in scu.warnings if w not in report.warnings]
    report.seconds = time.monotonic() - t0
    step("done", 1.0)
    return report


def _run(scu: PrintAssociation, job: PrintJobSpec, profile: PrinterProfile, report: PrintReport,
         created: list[tuple[str, str, str, bool]], color: bool, step: Callable[[str, float], None],
         cancel: CancelToken | None, job_timeout: float, negotiated: Negotiated,
         on_film: Callable[[FilmResult], None] | None = None, numbers: list[int] | None = None,
         adapt: bool = True) -> None:
    printer = scu.get_printer(profile.printer_attributes)
    report.printer_status = str(printer.get("PrinterStatus", "") or "")
    report.printer_status_info = str(printer.get("PrinterStatusInfo", "") or "")
    if report.printer_status == "FAILURE":
        raise PrintError(f"printer {report.printer} reports FAILURE: {report.printer_status_info or 'no details'}",
                         category="Failure")
    if report.printer_status == "WARNING":
        scu.warnings.append(f"printer status WARNING: {report.printer_status_info}")

    ad = Adaptation(profile, enabled=adapt)
    try:
        _run_films(scu, job, profile, report, created, color, step, cancel, job_timeout, negotiated, on_film,
                   numbers, adapt, ad)
    finally:
        report.adapted += [a for a in ad.adapted if a not in report.adapted]
        report.learned.update(ad.learned)


def _run_films(scu: PrintAssociation, job: PrintJobSpec, profile: PrinterProfile, report: PrintReport,
               created: list[tuple[str, str, str, bool]], color: bool, step: Callable[[str, float], None],
               cancel: CancelToken | None, job_timeout: float, negotiated: Negotiated,
               on_film: Callable[[FilmResult], None] | None, numbers: list[int] | None, adapt: bool,
               ad: Adaptation) -> None:
    plut_uid = None
    if job.presentation_lut is not None and negotiated.presentation_lut and not color:
        step("N-CREATE Presentation LUT", 0.35)
        plut_uid, _ = scu.create("N-CREATE Presentation LUT", uids.PRESENTATION_LUT,
                                 presentation_lut_dataset(job.presentation_lut), on_meta=False)
        created.append(("N-DELETE Presentation LUT", uids.PRESENTATION_LUT, plut_uid, False))
    ad.plut_level = None if plut_uid is None else (profile.presentation_lut or "film_box")

    step("N-CREATE Film Session", 0.4)
    session = job.session
    fs_uid = _create_session(scu, session, plut_uid, ad, created)

    films = list(job.films)
    total_boxes = sum(len(f.images) for f in films) or 1
    done_boxes = 0
    total_films = max(numbers) if numbers else len(films)
    i = 0
    while i < len(films):
        film = films[i]
        n = numbers[i] if numbers and i < len(numbers) else i + 1
        result = FilmResult(number=n)
        tag = f"film {n}/{total_films}"
        step(f"{tag}: N-CREATE Film Box", 0.4 + 0.5 * done_boxes / total_boxes)
        box = ad.box(film.box)
        while True:
            try:
                fb_uid, rsp = scu.create(f"N-CREATE Film Box ({tag})", uids.FILM_BOX,
                                         film_box_dataset(box, fs_uid, plut_uid if ad.plut_level == "film_box"
                                                          else None))
                ad.film_box_accepted()
                break
            except PrintError as exc:
                change = ad.film_box_refused(exc, film.box, scu.last_offending)
                if change is None:
                    raise
                if change == "plut_to_session":
                    created.remove(("N-DELETE Film Session", uids.FILM_SESSION, fs_uid, True))
                    scu.delete("N-DELETE Film Session (to reference the Presentation LUT from it)",
                               uids.FILM_SESSION, fs_uid)
                    fs_uid = _create_session(scu, session, plut_uid, ad, created)
                elif change == "layout":
                    # Fewer boxes per film: the images of this and the following films are laid out again.
                    rest = [img for f in films[i:] for img in f.images if img is not None]
                    texts = dict(films[i].annotations)
                    layout = ad.layout or "STANDARD\\1,1"
                    films[i:] = paginate(rest, dataclasses.replace(film.box, display_format=layout), texts)
                    film = films[i]
                    if numbers:
                        numbers = numbers[:i] + list(range(numbers[i], numbers[i] + len(films) - i))
                    total_films = max(numbers) if numbers else len(films)
                    tag = f"film {n}/{total_films}"
                box = ad.box(film.box)
        report.films.append(result)
        result.film_box_uid = fb_uid
        created.append((f"N-DELETE Film Box ({tag})", uids.FILM_BOX, fb_uid, True))
        refs = list(rsp.get("ReferencedImageBoxSequence", []) or [])
        if len(refs) < len(film.images):
            raise PrintError(f"N-CREATE Film Box ({tag}): printer created {len(refs)} image boxes for "
                             f"{box.display_format}, {len(film.images)} expected", category="Failure")
        images = list(film.images)
        ann = dict(film.annotations)
        ann_refs = list(rsp.get("ReferencedBasicAnnotationBoxSequence", []) or [])
        if ann and not ann_refs and adapt:
            fb_uid, rsp, ann_refs = _annotation_format(scu, ad, box, fs_uid, plut_uid, fb_uid, rsp, tag, created,
                                                       len(ann))
            result.film_box_uid = fb_uid
            if not ann_refs:
                images = _burn_annotations(images, ann)
                ad.note("annotations", f"printer {profile.name} created no annotation boxes: annotation text "
                                       "burnt into the images at film resolution")
                ann = {}
            refs = list(rsp.get("ReferencedImageBoxSequence", []) or [])
        box_class = uids.COLOR_IMAGE_BOX if color else uids.GRAYSCALE_IMAGE_BOX
        for pos, (img, ref) in enumerate(zip(images, refs), start=1):
            if img is None:
                continue
            if color:
                img = _as_color(img) or img
            step(f"{tag}: N-SET Image Box {pos}", 0.4 + 0.5 * done_boxes / total_boxes)
            img = ad.image(img)
            while True:
                ds = image_box_dataset(img, pos, color=color, planar_configuration=profile.color_planar_configuration,
                                       send_size=profile.supports_requested_image_size and not ad.no_size,
                                       send_decimate_crop=profile.supports_decimate_crop and not ad.no_size)
                try:
                    scu.set(f"N-SET Image Box {pos} ({tag})", str(ref.get("ReferencedSOPClassUID", "") or box_class),
                            str(ref.ReferencedSOPInstanceUID), ds)
                    break
                except PrintError as exc:
                    if not ad.image_refused(exc, img, scu.last_offending):
                        raise
                    img = ad.image(img)
            result.image_boxes += 1
            done_boxes += 1
        _set_annotations(scu, ann, rsp, tag)
        step(f"{tag}: N-ACTION print", 0.9)

        def action_sent(result: FilmResult = result) -> None:
            # From here the printer may print the film even if its answer is lost (the program
            # killed, the line cut): such a film is "uncertain", never sent again by a retry.
            result.execution_status = "ACTION_SENT"
            if on_film is not None:
                on_film(result)

        act = scu.action(f"N-ACTION print ({tag})", uids.FILM_BOX, fb_uid, on_send=action_sent)
        jobs = act.get("ReferencedPrintJobSequence") or []
        if jobs:
            result.print_job_uid = str(jobs[0].ReferencedSOPInstanceUID)
        # The printer accepted the film: from here on it counts as printed (never sent again
        # by a retry); without the Print Job SOP class this status is all we learn.
        result.execution_status = "SENT"
        if on_film is not None:
            on_film(result)
        if result.print_job_uid and negotiated.print_job and job_timeout > 0:
            result.execution_status = ExecutionStatus.PENDING.value
            _follow_job(scu, result, job_timeout, functools.partial(_film_step, step, tag), cancel, on_film)
        # Free the printer's memory before the next film (PS3.4 H.4.2.2.5).
        scu.delete(f"N-DELETE Film Box ({tag})", uids.FILM_BOX, fb_uid)
        created.pop()
        i += 1


def _create_session(scu: PrintAssociation, session: FilmSessionSpec, plut_uid: str | None, ad: Adaptation,
                    created: list[tuple[str, str, str, bool]]) -> str:
    """N-CREATE Film Session, retried without what the printer refuses (when adapting)."""
    while True:
        spec = ad.session(session)
        try:
            fs_uid, _ = scu.create("N-CREATE Film Session", uids.FILM_SESSION,
                                   film_session_dataset(spec, plut_uid if ad.plut_level == "film_session" else None))
            break
        except PrintError as exc:
            if not ad.session_refused(exc, session, scu.last_offending):
                raise
    created.append(("N-DELETE Film Session", uids.FILM_SESSION, fs_uid, True))
    return fs_uid


#: Annotation Display Format IDs tried, in order, when the printer created no annotation
#: boxes for a film box without one (PS3.3 C.13.3: the values are printer specific; these
#: are the ones of DCMTK's printer emulations and our own virtual printer).
ANNOTATION_FORMATS = ("ANNOTATION", "LABEL", "TOP", "BOTTOM", "TOP_BOTTOM", "1", "2", "4", "6")


def _annotation_format(scu: PrintAssociation, ad: Adaptation, box: FilmBoxSpec, fs_uid: str,
                       plut_uid: str | None, fb_uid: str, rsp: Dataset, tag: str,
                       created: list[tuple[str, str, str, bool]], needed: int) -> tuple[str, Dataset, list[Dataset]]:
    """A film box with annotation boxes: recreated with the Annotation Display Format IDs in turn.

    Only when the Basic Annotation Box SOP class was accepted and no format was asked for.
    Returns the film box (the old one, or a new one) and its annotation box references.
    """
    if ANNOTATION_BOX not in scu.accepted or box.annotation_display_format_id:
        return fb_uid, rsp, []
    plut = plut_uid if ad.plut_level == "film_box" else None
    candidates = [ad.learned.get("annotation_display_formats", [None])[0]] if "annotation_display_formats" in \
        ad.learned else list(ANNOTATION_FORMATS)
    for fmt in candidates:
        if not fmt:
            continue
        try:
            uid, new = scu.create(f"N-CREATE Film Box ({tag}, annotation format {fmt})", uids.FILM_BOX,
                                  film_box_dataset(dataclasses.replace(box, annotation_display_format_id=fmt),
                                                   fs_uid, plut))
        except PrintError:
            continue
        refs = list(new.get("ReferencedBasicAnnotationBoxSequence", []) or [])
        if refs:
            created.remove((f"N-DELETE Film Box ({tag})", uids.FILM_BOX, fb_uid, True))
            scu.delete(f"N-DELETE Film Box ({tag}, no annotation boxes)", uids.FILM_BOX, fb_uid)
            created.append((f"N-DELETE Film Box ({tag})", uids.FILM_BOX, uid, True))
            ad.note("annotation_display_formats", f"annotation display format {fmt} chosen: the printer created "
                                                  f"{len(refs)} annotation boxes for it", [fmt])
            return uid, new, refs
        scu.delete(f"N-DELETE Film Box ({tag}, annotation format {fmt})", uids.FILM_BOX, uid)
    return fb_uid, rsp, []


def _burn_annotations(images: list[ImageBoxSpec | None], texts: dict[int, str]) -> list[ImageBoxSpec | None]:
    """Annotation texts burnt into the first image of the film, at film resolution."""
    from viewer.film.burnin import burn_in as _burn

    out = list(images)
    for k, img in enumerate(out):
        if img is None:
            continue
        px = img.pixels
        if img.pixel_aspect_ratio:
            from viewer.film.view import square_pixels

            px = square_pixels(px, img.pixel_aspect_ratio)
        rows, cols = px.shape[:2]
        scale = max(1.0, FILM_PIXELS / max(rows, cols))
        px = resample_linear(px, round(rows * scale), round(cols * scale))
        lines = [t for _, t in sorted(texts.items()) if t.strip()]
        out[k] = dataclasses.replace(img, pixels=_burn(px, img.bits, lines[:3], lines[3:]), pixel_aspect_ratio=None)
        break
    return out


def _annotations_elsewhere(job: PrintJobSpec, report: PrintReport, why: str) -> PrintJobSpec:
    """Annotations for a printer without annotation boxes: the Film Session Label when that is
    free and every film has the same texts; else burnt into each film's first image."""
    texts = [tuple(sorted(f.annotations.items())) for f in job.films]
    label = " / ".join(t for _, t in texts[0] if t.strip())[:64] if texts else ""
    if label and not job.session.label and len(set(texts)) == 1:
        report.adapted.append(f"printer {why}: annotation text sent as the Film Session Label ({label!r})")
        session = dataclasses.replace(job.session, label=label)
        return PrintJobSpec(session, [_no_annotation_boxes(f) for f in job.films],
                            presentation_lut=job.presentation_lut)
    report.adapted.append(f"printer {why}: annotation text burnt into the images at film resolution")
    films = [dataclasses.replace(_no_annotation_boxes(f), images=_burn_annotations(list(f.images), f.annotations))
             for f in job.films]
    return PrintJobSpec(job.session, films, presentation_lut=job.presentation_lut)


def _no_annotation_boxes(film: FilmSpec) -> FilmSpec:
    """The film without annotation texts nor an Annotation Display Format ID asking for boxes."""
    return dataclasses.replace(film, annotations={},
                               box=dataclasses.replace(film.box, annotation_display_format_id=None))


def _film_step(step: Callable[[str, float], None], tag: str, message: str, fraction: float) -> None:
    step(f"{tag}: {message}", fraction)


def _set_annotations(scu: PrintAssociation, texts: dict[int, str], rsp: Dataset, tag: str) -> None:
    """N-SET each Basic Annotation Box the film box response listed (PS3.3 C.13.7)."""
    if not texts:
        return
    refs = list(rsp.get("ReferencedBasicAnnotationBoxSequence", []) or [])
    if not refs:
        scu.warnings.append(f"{tag}: printer created no annotation boxes; annotations not printed")
        return
    for pos, text in sorted(texts.items()):
        if not 1 <= pos <= len(refs):
            scu.warnings.append(f"{tag}: annotation position {pos} not on this film (1..{len(refs)})")
            continue
        ref = refs[pos - 1]
        scu.set(f"N-SET Annotation Box {pos} ({tag})", str(ref.get("ReferencedSOPClassUID", "") or uids.ANNOTATION_BOX),
                str(ref.ReferencedSOPInstanceUID), annotation_box_dataset(pos, text), on_meta=False)


def _cleanup(scu: PrintAssociation, created: list[tuple[str, str, str, bool]]) -> None:
    """N-DELETE what this job created, newest first (film box, film session, P-LUT)."""
    while created:
        what, class_uid, uid, on_meta = created.pop()
        if scu.is_established:
            scu.delete(what, class_uid, uid, on_meta=on_meta)


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


# ---------------------------------------------------------------------------- images from media
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


# ---------------------------------------------------------------------------- for the print dialog
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


def film_annotations(templates: dict[int, str], refs: Sequence[ImageRef | None], page: int,
                     pages: int) -> dict[int, str]:
    """Film annotation templates filled for one film from its first image (as the job will be)."""
    first = next((r for r in refs if r is not None), None)
    ds = _header(first.path) if first is not None else None
    return {k: fill_template(t, ds, page, pages) for k, t in templates.items() if t.strip()}
