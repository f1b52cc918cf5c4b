"""Run a print job on a printer: the PS3.4 H message sequence, and its report.

N-GET Printer, N-CREATE Film Session and Film Box, N-SET each Image Box (and Annotation
Box), N-ACTION print, the Print Job followed by N-EVENT-REPORT or N-GET, and N-DELETE of
everything created, also on failure or cancel. Refusals are answered in the same
association by :class:`viewer.film.refusals.Adaptation`.
"""

from __future__ import annotations

import dataclasses
import functools
import logging
import time
from typing import Callable, Sequence

import numpy as np

from viewer.cancel import CancelToken, is_cancelled
from viewer.errors import PrintError
from viewer.film import uids
from viewer.film.adapt import Negotiated, adapt_job
from viewer.film.attributes import film_box_dataset, film_session_dataset, image_box_dataset, presentation_lut_dataset
from viewer.film.compose import paginate
from viewer.film.enums import ExecutionStatus, PrintJobEvent
from viewer.film.profile import PrinterProfile
from viewer.film.refusals import Adaptation
from viewer.film.spec import FilmSessionSpec, ImageBoxSpec, PrintJobSpec
from viewer.net.print_scu import JobEvent, PrintAssociation, PrinterAddress
from viewer.tasks.print_annotations import annotation_format, annotations_elsewhere, burn_annotations, set_annotations
from viewer.tasks.print_report import FilmResult, PrintReport

log = logging.getLogger(__name__)

Progress = Callable[[str, float], None]


def _as_color(img: ImageBoxSpec | None) -> ImageBoxSpec | None:
    """A grayscale box in a color film: its 8-bit display values on all three channels."""
    if img is None or img.is_color:
        return img
    px = img.pixels
    if img.bits == 12:
        px = (px.astype(np.uint32) * 255 + 2047) // 4095
    gray = px.astype(np.uint8)
    return dataclasses.replace(img, pixels=np.repeat(gray[..., None], 3, axis=2), bits=8)



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
        job = annotations_elsewhere(job, report, "rejected the Basic Annotation Box SOP class")
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
            fb_uid, rsp, ann_refs = annotation_format(scu, ad, box, fs_uid, plut_uid, fb_uid, rsp, tag, created,
                                                       len(ann))
            result.film_box_uid = fb_uid
            if not ann_refs:
                images = burn_annotations(images, ann)
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
        set_annotations(scu, ann, rsp, tag)
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




def _film_step(step: Callable[[str, float], None], tag: str, message: str, fraction: float) -> None:
    step(f"{tag}: {message}", fraction)



def _cleanup(scu: PrintAssociation, created: list[tuple[str, str, str, bool]]) -> None:
    """N-DELETE what this job created, newest first (film box, film session, P-LUT)."""
    while created:
        what, class_uid, uid, on_meta = created.pop()
        if scu.is_established:
            scu.delete(what, class_uid, uid, on_meta=on_meta)
