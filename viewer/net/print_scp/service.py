"""The print SCP's DIMSE-N handlers (PS3.4 H.4): one object shared by all associations.

Per-association state lives in :class:`AssociationState` keyed by the association; handlers
of one association run in that association's thread, so only the shared tables (states,
print jobs) are locked. Every handler answers with a status and logs what it did in the
style of ``dcmprscp -v``; a bad request never raises into pynetdicom.
"""

from __future__ import annotations

import copy
import logging
import threading
import time
from typing import TYPE_CHECKING, Any, Callable

from pydicom.dataset import Dataset
from pydicom.uid import generate_uid
from pynetdicom.dimse_primitives import N_ACTION, N_CREATE, N_DELETE, N_GET, N_SET

from viewer.net.print_scp import checks as chk
from viewer.net.print_scp.printer_config import VirtualPrinterConfig, box_count
from viewer.dicom.print_terms import ExecutionStatus
from viewer.net.print_scp.state import (
    ANNOTATION_BOX, COLOR_IMAGE_BOX, COLOR_META, FILM_BOX, FILM_SESSION, GRAY_IMAGE_BOX, NAMES, PRESENTATION_LUT,
    PRINT_JOB, PRINTER, PRINTER_INSTANCE, AnnotationBox, AssociationState, FilmBox, FilmSession, ImageBox,
    PrintedFilm, PrintRequest)

log = logging.getLogger("viewer.net.print_scp")

#: Print Job N-EVENT-REPORT event types, PS3.4 H.4.8.1.1.
EVENT_PENDING, EVENT_PRINTING, EVENT_DONE, EVENT_FAILURE = (ExecutionStatus(v).event_type for v in
                                                           ("PENDING", "PRINTING", "DONE", "FAILURE"))
_EVENT_STATUS = {e.event_type: e.value for e in ExecutionStatus}
_MAX_JOBS = 1000
EVENT_TIMEOUT = 10.0  # seconds to wait for an N-EVENT-REPORT-RSP

if TYPE_CHECKING:
    from pynetdicom.association import Association
    from pynetdicom.events import Event

Reply = tuple[Any, Dataset | None]
#: Status for a request that reaches the wrong handler (cannot happen: each is bound to its own).
_PROCESSING_FAILURE = 0x0110


#: Image bytes one association may hold in its film boxes (all image boxes set so far).
MAX_ASSOCIATION_BYTES = 1024 ** 3
#: Image bytes all associations together may hold; an N-SET beyond it gets 0x0213.
MAX_TOTAL_BYTES = 1024 ** 3


def _box_bytes(ds: Dataset | None) -> int:
    if ds is None:
        return 0
    item = (ds.get("BasicColorImageSequence") or ds.get("BasicGrayscaleImageSequence") or [None])[0]
    return len(item.get("PixelData", b"") or b"") if item is not None else 0


def _pixel_bytes(st: AssociationState) -> int:
    films = st.session.film_boxes.values() if st.session else ()
    return sum(_box_bytes(b.data) for f in films for b in f.image_boxes.values())


def _status(problem: chk.Problem | int) -> Dataset | int:
    """A status Dataset with the Error Comment (0000,0902, LO: 64 chars) for pynetdicom."""
    if isinstance(problem, int):
        return problem
    ds = Dataset()
    ds.Status = problem.status
    ds.ErrorComment = problem.comment[:64]
    return ds


def _ref(class_uid: str, instance_uid: str) -> Dataset:
    item = Dataset()
    item.ReferencedSOPClassUID = class_uid
    item.ReferencedSOPInstanceUID = instance_uid
    return item


class PrintService:
    """N-CREATE/N-SET/N-GET/N-ACTION/N-DELETE for the print SOP classes.

    Parameters
    ----------
    profile : VirtualPrinterConfig
        What the printer accepts.
    on_print : callable
        Called with a :class:`PrintRequest` on each N-ACTION print; renders and stores the
        films (synchronously, so a film is on disk before the SCU hears "success").
    """

    def __init__(self, profile: VirtualPrinterConfig, on_print: Callable[[PrintRequest], object],
                 box_size_mm: Callable[[Dataset, int], tuple[float, float] | None] | None = None) -> None:
        self.profile = profile
        self.on_print = on_print
        self.box_size_mm = box_size_mm
        self._lock = threading.Lock()
        self._budget = threading.Lock()  # image bytes held (MAX_ASSOCIATION_BYTES, MAX_TOTAL_BYTES)
        self._states: dict[int, AssociationState] = {}
        self._jobs: dict[str, Dataset] = {}
        self.films_printed = 0
        self.jobs_failed = 0

    # ------------------------------------------------------------------ association life
    def state(self, assoc: Association) -> AssociationState:
        with self._lock:
            st = self._states.get(id(assoc))
            if st is None:
                req = assoc.requestor
                st = AssociationState(str(req.ae_title).strip(), f"{req.address}:{req.port}")
                self._states[id(assoc)] = st
            return st

    def drop(self, assoc: Association, how: str) -> None:
        """Forget an association's instances (released or aborted, PS3.4 H.4.1)."""
        with self._lock:
            st = self._states.pop(id(assoc), None)
        if st is None:
            return
        pending = 0
        if st.session:
            pending = sum(1 for f in st.session.film_boxes.values() if not f.printed and f.images_set())
        if pending:
            log.warning("%s from %s: %d film box(es) with images were never printed and are discarded",
                        how, st.calling_ae, pending)

    @property
    def open_associations(self) -> int:
        with self._lock:
            return len(self._states)

    # ------------------------------------------------------------------ helpers
    def _log(self, st: AssociationState, op: str, class_uid: str, uid: str | None, result: Dataset | int) -> None:
        code = result.Status if isinstance(result, Dataset) else result
        comment = result.get("ErrorComment", "") if isinstance(result, Dataset) else ""
        text = f"{st.calling_ae}: {op} {NAMES.get(class_uid, class_uid)} {uid or ''} -> 0x{code:04X}"
        if code == 0:
            log.info(text)
        else:
            log.warning("%s %s", text, comment)

    def _lut(self, st: AssociationState, ds: Dataset, what: str) -> tuple[str | None, chk.Problem | None]:
        """Resolve a Referenced Presentation LUT Sequence to a known P-LUT of this association."""
        seq = ds.get("ReferencedPresentationLUTSequence")
        if not seq:
            return None, None
        if not self.profile.presentation_lut:
            return None, chk.Problem(chk.NO_SUCH_ATTRIBUTE, f"{what}: Presentation LUT not supported")
        uid = str(seq[0].get("ReferencedSOPInstanceUID", ""))
        if uid not in st.luts:
            return None, chk.Problem(chk.INVALID_VALUE, f"{what}: unknown Presentation LUT {uid}")
        return uid, None

    # ------------------------------------------------------------------ N-CREATE
    def n_create(self, event: Event) -> Reply:
        st = self.state(event.assoc)
        req = event.request
        if not isinstance(req, N_CREATE):
            return _PROCESSING_FAILURE, None
        class_uid = str(req.AffectedSOPClassUID)
        uid = str(req.AffectedSOPInstanceUID) if req.AffectedSOPInstanceUID else generate_uid()
        try:
            ds = event.attribute_list
            if class_uid == FILM_SESSION:
                status, reply = self._create_session(st, ds, uid, event.context.abstract_syntax == COLOR_META)
            elif class_uid == FILM_BOX:
                status, reply = self._create_film_box(st, ds, uid, event.assoc)
            elif class_uid == PRESENTATION_LUT:
                status, reply = self._create_lut(st, ds, uid)
            else:
                status, reply = _status(chk.Problem(0x0118, f"N-CREATE of {class_uid} not supported")), None
        except (ValueError, TypeError, AttributeError, KeyError) as exc:  # undecodable or mistyped values
            status, reply = _status(chk.Problem(chk.INVALID_VALUE, f"cannot read request: {exc}")), None
        self._log(st, "N-CREATE", class_uid, uid, status)
        if reply is not None and not req.AffectedSOPInstanceUID:
            # PS3.7 10.1.5.1.4: the response names the instance the SCP created. pynetdicom moves it
            # from the reply into the command set on success only; for a warning it is taken
            # from the status data set.
            if isinstance(status, Dataset):
                status.AffectedSOPInstanceUID = uid
            else:
                reply.AffectedSOPInstanceUID = uid
        return status, reply

    def _create_session(self, st: AssociationState, ds: Dataset, uid: str, color: bool) -> Reply:
        if st.session is not None:
            return _status(chk.Problem(chk.PROCESSING_FAILURE, "only one Film Session per association")), None
        problem = chk.check_film_session(ds, self.profile)
        if problem and not problem.is_warning:
            return _status(problem), None
        _lut_uid, lut_problem = self._lut(st, ds, "Film Session")
        if lut_problem:
            return _status(lut_problem), None
        attrs = copy.deepcopy(ds)
        p = self.profile
        for keyword, default in (("NumberOfCopies", 1), ("PrintPriority", "MED"), ("MediumType", p.medium_types[0]),
                                 ("FilmDestination", p.film_destinations[0])):
            if attrs.get(keyword) in (None, ""):
                setattr(attrs, keyword, default)
        st.session = FilmSession(uid, attrs, color)
        # The label often names the patient: only at DEBUG (no identifiers in default logs).
        log.info("%s: film session %s (%s) medium=%s destination=%s copies=%s priority=%s", st.calling_ae,
                 uid, "color" if color else "grayscale", attrs.MediumType,
                 attrs.FilmDestination, attrs.NumberOfCopies, attrs.PrintPriority)
        log.debug("%s: film session label=%r", st.calling_ae, str(attrs.get("FilmSessionLabel", "")))
        return _status(problem) if problem else 0x0000, copy.deepcopy(attrs)

    def _create_film_box(self, st: AssociationState, ds: Dataset, uid: str, assoc: Association) -> Reply:
        session = st.session
        if session is None:
            return _status(chk.Problem(chk.PROCESSING_FAILURE, "Film Box before any Film Session")), None
        if uid in session.film_boxes:
            return _status(chk.Problem(chk.DUPLICATE_INSTANCE, f"Film Box {uid} exists")), None
        problem = chk.check_film_box_create(ds, self.profile)
        if problem and not problem.is_warning:
            return _status(problem), None
        ref = ds.ReferencedFilmSessionSequence[0]
        if str(ref.get("ReferencedSOPInstanceUID", "")) != session.uid:
            return _status(chk.Problem(chk.INVALID_VALUE, "Film Box references an unknown Film Session")), None
        _lut_uid, lut_problem = self._lut(st, ds, "Film Box")
        if lut_problem:
            return _status(lut_problem), None
        if not self.profile.film_session_print and any(
                not f.printed and f.images_set() for f in session.film_boxes.values()):
            return _status(chk.Problem(chk.E_FILM_BOX_NOT_PRINTED,
                                       "previous Film Box not printed; session-level print not supported")), None
        attrs = copy.deepcopy(ds)
        p = self.profile
        defaults = (("FilmOrientation", "PORTRAIT"), ("FilmSizeID", p.film_sizes[0]),
                    ("MagnificationType", p.magnification_types[0]), ("BorderDensity", "BLACK"),
                    ("EmptyImageDensity", "BLACK"), ("MinDensity", p.min_density), ("MaxDensity", p.max_density),
                    ("Trim", "NO"), ("RequestedResolutionID", p.resolution_ids[0]))
        for keyword, default in defaults:
            if attrs.get(keyword) in (None, ""):
                setattr(attrs, keyword, default)
        film = FilmBox(uid, attrs)
        box_class = COLOR_IMAGE_BOX if session.color else GRAY_IMAGE_BOX
        film.image_boxes = {u.uid: u for u in (ImageBox(generate_uid(), i) for i in
                                                range(1, box_count(str(attrs.ImageDisplayFormat)) + 1))}
        annotation_format = str(attrs.get("AnnotationDisplayFormatID", "") or "").upper()
        n_annotations = p.annotation_formats.get(annotation_format, (0, ""))[0]
        film.annotations = {a.uid: a for a in (AnnotationBox(generate_uid(), i) for i in range(1, n_annotations + 1))}
        session.film_boxes[uid] = film
        reply = copy.deepcopy(attrs)
        reply.ReferencedImageBoxSequence = [_ref(box_class, b.uid) for b in film.image_boxes.values()]
        if film.annotations:
            reply.ReferencedBasicAnnotationBoxSequence = [_ref(ANNOTATION_BOX, a.uid)
                                                          for a in film.annotations.values()]
        log.info("%s: film box %s %s %s %s, %d image boxes, %d annotation boxes", st.calling_ae, uid,
                 attrs.ImageDisplayFormat, attrs.FilmSizeID, attrs.FilmOrientation, len(film.image_boxes),
                 len(film.annotations))
        return _status(problem) if problem else 0x0000, reply

    def _create_lut(self, st: AssociationState, ds: Dataset, uid: str) -> Reply:
        problem = chk.check_presentation_lut(ds)
        if problem:
            return _status(problem), None
        if uid in st.luts:
            return _status(chk.Problem(chk.DUPLICATE_INSTANCE, f"Presentation LUT {uid} exists")), None
        st.luts[uid] = copy.deepcopy(ds)
        return 0x0000, Dataset()

    # ------------------------------------------------------------------ N-SET
    def n_set(self, event: Event) -> Reply:
        st = self.state(event.assoc)
        req = event.request
        if not isinstance(req, N_SET):
            return _PROCESSING_FAILURE, None
        class_uid, uid = str(req.RequestedSOPClassUID), str(req.RequestedSOPInstanceUID)
        try:
            status, reply = self._set(st, class_uid, uid, event.modification_list)
        except (ValueError, TypeError, AttributeError, KeyError) as exc:
            status, reply = _status(chk.Problem(chk.INVALID_VALUE, f"cannot read request: {exc}")), None
        self._log(st, "N-SET", class_uid, uid, status)
        return status, reply

    def _set(self, st: AssociationState, class_uid: str, uid: str, ds: Dataset) -> Reply:
        session = st.session
        if class_uid == FILM_SESSION and session and session.uid == uid:
            problem = chk.check_film_session(ds, self.profile) or self._lut(st, ds, "Film Session")[1]
            if problem and not problem.is_warning:
                return _status(problem), None
            session.attrs.update(copy.deepcopy(ds))
            return _status(problem) if problem else 0x0000, Dataset()
        if class_uid == FILM_BOX and session and uid in session.film_boxes:
            problem = chk.check_film_box_set(ds, self.profile) or self._lut(st, ds, "Film Box")[1]
            if problem and not problem.is_warning:
                return _status(problem), None
            session.film_boxes[uid].attrs.update(copy.deepcopy(ds))
            return _status(problem) if problem else 0x0000, Dataset()
        if class_uid in (GRAY_IMAGE_BOX, COLOR_IMAGE_BOX):
            found = st.find_image_box(uid)
            if found is None:
                return _status(chk.Problem(chk.NO_SUCH_INSTANCE, f"no image box {uid}")), None
            film, box = found
            assert session is not None
            if (class_uid == COLOR_IMAGE_BOX) != session.color:
                return _status(chk.Problem(0x0119, "image box class does not match the film session")), None
            lut_uid, lut_problem = self._lut(st, ds, f"Image Box {box.position}")
            has_lut = bool(lut_uid or film.attrs.get("ReferencedPresentationLUTSequence")
                           or session.attrs.get("ReferencedPresentationLUTSequence"))
            problem = lut_problem or chk.check_image_box(ds, self.profile, session.color, box.position, has_lut)
            if problem and not problem.is_warning:
                return _status(problem), None
            item = (ds.get("BasicColorImageSequence") or ds.get("BasicGrayscaleImageSequence"))[0]
            problem = problem or self._size_problem(film, box.position, ds, item)
            if problem and not problem.is_warning:
                return _status(problem), None
            with self._budget:  # checked and taken at once: concurrent N-SETs cannot both pass
                held = _pixel_bytes(st) - _box_bytes(box.data) + _box_bytes(ds)
                if held > MAX_ASSOCIATION_BYTES:  # bounded memory per association
                    return _status(chk.Problem(chk.RESOURCE_LIMITATION,
                                               f"Image Box {box.position}: the association would hold {held} "
                                               f"bytes of images, more than {MAX_ASSOCIATION_BYTES}")), None
                with self._lock:
                    others = sum(_pixel_bytes(o) for o in self._states.values() if o is not st)
                if others + held > MAX_TOTAL_BYTES:  # bounded memory of the whole printer
                    return _status(chk.Problem(chk.RESOURCE_LIMITATION,
                                               f"Image Box {box.position}: the printer would hold {others + held} "
                                               f"bytes of images, more than {MAX_TOTAL_BYTES}")), None
                box.data = copy.deepcopy(ds)
            log.info("%s: image box %d: %dx%d %s %s bits, polarity %s", st.calling_ae, box.position, item.Rows,
                     item.Columns, item.PhotometricInterpretation, item.BitsStored, ds.get("Polarity", "NORMAL"))
            return _status(problem) if problem else 0x0000, Dataset()
        if class_uid == ANNOTATION_BOX:
            found_a = st.find_annotation(uid)
            if found_a is None:
                return _status(chk.Problem(chk.NO_SUCH_INSTANCE, f"no annotation box {uid}")), None
            film_a, ann = found_a
            problem = chk.check_annotation(ds, len(film_a.annotations))
            if problem:
                return _status(problem), None
            ann.position = int(ds.AnnotationPosition)
            ann.text = str(ds.get("TextString", "") or "")
            # Annotation text usually names the patient: the text only at DEBUG (no identifiers in default logs).
            log.info("%s: annotation %d: %d characters", st.calling_ae, ann.position, len(ann.text))
            log.debug("%s: annotation %d: %r", st.calling_ae, ann.position, ann.text)
            return 0x0000, Dataset()
        return _status(chk.Problem(chk.NO_SUCH_INSTANCE, f"no {NAMES.get(class_uid, class_uid)} {uid}")), None

    def _size_problem(self, film: FilmBox, position: int, ds: Dataset, item: Dataset) -> chk.Problem | None:
        """Requested Image Size (2020,0030, mm wide) against the box (PS3.4 H.4.3.1.2.1.2)."""
        size = ds.get("RequestedImageSize")
        if size in (None, "") or self.box_size_mm is None:
            return None
        box = self.box_size_mm(film.attrs, position)
        if box is None:
            return None
        width = float(size)
        aspect = [float(v) for v in item.get("PixelAspectRatio", [1, 1])]
        ratio = aspect[0] / aspect[1] if len(aspect) == 2 and aspect[1] else 1.0
        height = width * int(item.Rows) / int(item.Columns) * ratio
        if width <= box[0] + 0.05 and height <= box[1] + 0.05:
            return None
        behaviour = str(ds.get("RequestedDecimateCropBehavior", "") or "DECIMATE").upper()
        what = f"Image Box {position}: requested {width:.1f} x {height:.1f} mm, box {box[0]:.1f} x {box[1]:.1f} mm"
        if behaviour == "FAIL":
            return chk.Problem(chk.E_IMAGE_TOO_LARGE, f"{what}; FAIL requested")
        if behaviour == "CROP":
            return chk.Problem(chk.W_CROPPED, f"{what}; cropped")
        return chk.Problem(chk.W_DEMAGNIFIED, f"{what}; demagnified")

    # ------------------------------------------------------------------ N-GET
    def n_get(self, event: Event) -> Reply:
        st = self.state(event.assoc)
        req = event.request
        if not isinstance(req, N_GET):
            return _PROCESSING_FAILURE, None
        class_uid, uid = str(req.RequestedSOPClassUID), str(req.RequestedSOPInstanceUID)
        tags = list(event.attribute_identifiers or [])
        if class_uid == PRINTER and uid == PRINTER_INSTANCE:
            source = self.printer_attributes()
        elif class_uid == PRINT_JOB and uid in self._jobs:
            with self._lock:
                source = copy.deepcopy(self._jobs[uid])
        else:
            status = _status(chk.Problem(chk.NO_SUCH_INSTANCE, f"no {NAMES.get(class_uid, class_uid)} {uid}"))
            self._log(st, "N-GET", class_uid, uid, status)
            return status, None
        if not tags:
            reply, status = source, 0x0000
        else:
            reply = Dataset()
            missing = []
            for tag in tags:
                if tag in source:
                    reply[tag] = source[tag]
                else:
                    missing.append(str(tag))
            # PS3.7 10.1.2.1.9: unknown attributes give a warning and the rest of the list
            status = _status(chk.Problem(chk.ATTRIBUTE_LIST_ERROR, f"unsupported attributes {' '.join(missing)}")) \
                if missing else 0x0000
        self._log(st, "N-GET", class_uid, uid, status)
        return status, reply

    def printer_attributes(self) -> Dataset:
        """The Printer SOP instance (PS3.3 C.13.9 Printer Module)."""
        p = self.profile
        ds = Dataset()
        ds.PrinterStatus = p.printer_status
        ds.PrinterStatusInfo = p.printer_status_info
        ds.PrinterName = p.printer_name
        ds.Manufacturer = p.manufacturer
        ds.ManufacturerModelName = p.model
        ds.DeviceSerialNumber = p.serial_number
        ds.SoftwareVersions = p.software_versions
        ds.DateOfLastCalibration = time.strftime("%Y%m%d")
        ds.TimeOfLastCalibration = "000000"
        return ds

    # ------------------------------------------------------------------ N-ACTION
    def n_action(self, event: Event) -> Reply:
        st = self.state(event.assoc)
        req = event.request
        if not isinstance(req, N_ACTION):
            return _PROCESSING_FAILURE, None
        class_uid, uid = str(req.RequestedSOPClassUID), str(req.RequestedSOPInstanceUID)
        session = st.session
        if event.action_type != 1:  # PS3.4 H.4.1.2.4 / H.4.2.2.4: Action Type ID 1 = print
            status: Dataset | int = _status(chk.Problem(chk.NO_SUCH_ACTION, f"action type {event.action_type}"))
            self._log(st, "N-ACTION", class_uid, uid, status)
            return status, None
        warning: chk.Problem | None = None
        if class_uid == FILM_SESSION and session and session.uid == uid:
            films = list(session.film_boxes.values())
            if not films:
                warning = chk.Problem(chk.E_NO_FILM_BOX, "film session has no film boxes")
            elif not any(f.images_set() for f in films):
                warning = chk.Problem(chk.W_SESSION_EMPTY, "film session has no image boxes set (empty page)")
            elif not self.profile.film_session_print:
                warning = chk.Problem(0xB601, "film session printing (collation) not supported; "
                                              "films printed one by one")
            films = [f for f in films if f.images_set()]
        elif class_uid == FILM_BOX and session and uid in session.film_boxes:
            films = [session.film_boxes[uid]]
            if not films[0].images_set():
                warning = chk.Problem(chk.W_FILM_BOX_EMPTY, "film box has no image boxes set (empty page)")
                films = []
        else:
            status = _status(chk.Problem(chk.NO_SUCH_INSTANCE, f"no {NAMES.get(class_uid, class_uid)} {uid}"))
            self._log(st, "N-ACTION", class_uid, uid, status)
            return status, None
        if warning is not None and not warning.is_warning or not films:
            status = _status(warning) if warning else 0x0000
            self._log(st, "N-ACTION", class_uid, uid, status)
            return status, None
        status, reply = self._print(st, films, event.assoc)
        if status == 0x0000 and warning is not None:
            status = _status(warning)
        self._log(st, "N-ACTION", class_uid, uid, status)
        return status, reply

    def _print(self, st: AssociationState, films: list[FilmBox],
               assoc: Association) -> tuple[Dataset | int, Dataset | None]:
        """Create the Print Job, render synchronously, report the job's progress (PS3.4 H.4.8)."""
        session = st.session
        assert session is not None
        job_uid = generate_uid()
        job = Dataset()
        job.PrintJobID = job_uid[-16:]  # (2100,0010) SH
        job.ExecutionStatus = "PENDING"
        job.ExecutionStatusInfo = "QUEUED"
        job.PrintPriority = session.attrs.get("PrintPriority", "MED")
        job.CreationDate, job.CreationTime = time.strftime("%Y%m%d"), time.strftime("%H%M%S")
        job.PrinterName = self.profile.printer_name
        job.Originator = st.calling_ae[:16]
        with self._lock:
            self._jobs[job_uid] = job
            while len(self._jobs) > _MAX_JOBS:
                self._jobs.pop(next(iter(self._jobs)))
        events = self.profile.print_job and any(
            cx.abstract_syntax == PRINT_JOB for cx in assoc.accepted_contexts)
        request = PrintRequest(job_uid, session.uid, copy.deepcopy(session.attrs), st.calling_ae,
                               [self._printed_film(st, f) for f in films])
        self._job_event(assoc, job_uid, job, EVENT_PENDING, "QUEUED", events)
        self._job_event(assoc, job_uid, job, EVENT_PRINTING, "PRINTING", events)
        try:
            self.on_print(request)
        except Exception as exc:  # a film that cannot be rendered fails its job, not the server
            log.exception("print job %s failed", job_uid)
            with self._lock:
                self.jobs_failed += 1
            # Execution Status Info is CS (16 chars, PS3.3 C.13.9.1 defined terms); details go to the log
            # and the N-ACTION Error Comment.
            self._job_event(assoc, job_uid, job, EVENT_FAILURE, "PRINTER DOWN", events)
            return _status(chk.Problem(chk.PROCESSING_FAILURE, f"rendering failed: {exc}")), None
        for film in films:
            film.printed = True
        with self._lock:
            self.films_printed += len(films)
        st.films_printed += len(films)
        self._job_event(assoc, job_uid, job, EVENT_DONE, "NORMAL", events)
        reply = Dataset()
        if events:  # PS3.4 H.4.2.2.4.1: Referenced Print Job Sequence only when Print Job is supported
            reply.ReferencedPrintJobSequence = [_ref(PRINT_JOB, job_uid)]
        return 0x0000, reply

    def _printed_film(self, st: AssociationState, film: FilmBox) -> PrintedFilm:
        """Snapshot a film box for the renderer, resolving Presentation LUT references."""
        session = st.session
        assert session is not None

        def lut_of(ds: Dataset | None) -> Dataset | None:
            seq = ds.get("ReferencedPresentationLUTSequence") if ds is not None else None
            return st.luts.get(str(seq[0].ReferencedSOPInstanceUID)) if seq else None

        images = {b.position: b.data for b in film.image_boxes.values() if b.data is not None}
        return PrintedFilm(film.uid, copy.deepcopy(film.attrs), images,
                           {a.position: a.text for a in film.annotations.values() if a.text},
                           lut_of(film.attrs) or lut_of(session.attrs),
                           {pos: lut for pos, ds in images.items() if (lut := lut_of(ds)) is not None})

    def _job_event(self, assoc: Association, job_uid: str, job: Dataset, event_type: int, info: str,
                   send: bool) -> None:
        """Update the Print Job and send its N-EVENT-REPORT (PS3.4 H.4.8.1.1) when negotiated."""
        with self._lock:
            job.ExecutionStatus = _EVENT_STATUS[event_type]
            job.ExecutionStatusInfo = info
        if not send or not assoc.is_established:
            return
        report = Dataset()
        report.ExecutionStatusInfo = info
        report.PrinterName = self.profile.printer_name
        session = self._states.get(id(assoc))
        if session and session.session:
            report.FilmSessionLabel = session.session.attrs.get("FilmSessionLabel", "")
        # Sent from inside the N-ACTION handler, before its response: the SCU is then waiting
        # for us and cannot cross it with a request of its own (pynetdicom SCUs serve
        # N-EVENT-REPORTs on a thread of their own). An SCU that never answers costs at most
        # EVENT_TIMEOUT, after which pynetdicom aborts the association.
        saved = assoc.dimse_timeout
        assoc.dimse_timeout = min(saved or EVENT_TIMEOUT, EVENT_TIMEOUT)
        try:
            status, _ = assoc.send_n_event_report(report, event_type, PRINT_JOB, job_uid)
        finally:
            assoc.dimse_timeout = saved
        code = status.get("Status") if status is not None else None
        if code != 0x0000:
            log.warning("print job %s: N-EVENT-REPORT %s answered %s", job_uid, _EVENT_STATUS[event_type],
                        "nothing" if code is None else f"0x{code:04X}")

    # ------------------------------------------------------------------ N-DELETE
    def n_delete(self, event: Event) -> Dataset | int:
        st = self.state(event.assoc)
        req = event.request
        if not isinstance(req, N_DELETE):
            return _PROCESSING_FAILURE
        class_uid, uid = str(req.RequestedSOPClassUID), str(req.RequestedSOPInstanceUID)
        session = st.session
        status: Dataset | int = 0x0000
        if class_uid == FILM_SESSION and session and session.uid == uid:
            st.session = None  # PS3.4 H.4.1.2.3: deletes the film boxes and their boxes too
        elif class_uid == FILM_BOX and session and uid in session.film_boxes:
            del session.film_boxes[uid]
        elif class_uid == PRESENTATION_LUT and uid in st.luts:
            del st.luts[uid]
        else:
            status = _status(chk.Problem(chk.NO_SUCH_INSTANCE, f"no {NAMES.get(class_uid, class_uid)} {uid}"))
        self._log(st, "N-DELETE", class_uid, uid, status)
        return status
