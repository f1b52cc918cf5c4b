"""The print client against an in-process pynetdicom print SCP written here.

dcmprscp rejects color, Print Job and Annotation Box, so those, the Print Job events and
the faults a real printer can produce (rejected association, 0x0106 on the film box, abort
between N-SET and N-ACTION, no answer, B6xx warnings) are exercised against this SCP. The
oracle is what the SCP received, decoded by pydicom, compared with our own renders.
"""

from __future__ import annotations

import dataclasses
import threading
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pytest
from pydicom.dataset import Dataset
from pydicom.uid import generate_uid
from pynetdicom import AE, evt
from pynetdicom.sop_class import Verification

from tests.helpers.peers import free_port
from viewer.cancel import CancelToken
from viewer.errors import Cancelled, PrintError
from viewer.film import uids
from viewer.film.layout import parse_display_format
from viewer.film.profile import permissive_profile
from viewer.film.spec import FilmBoxSpec, FilmSessionSpec, ImageBoxSpec, PrintJobSpec
from viewer.film.compose import paginate
from viewer.tasks.print_films import build_job
from viewer.tasks.print_render import ImageRef, render_for_print
from viewer.tasks.print_run import run_print_job


@dataclass
class FakePrinter:
    """A Basic Grayscale + Color print SCP with Print Job, Annotation Box and P-LUT."""

    port: int
    aet: str = "FAKEPRN"
    fault: str = ""
    #: ``hang_on_set``: the N-SET handler waits on this until the test ends (:meth:`stop`)
    release: threading.Event = field(default_factory=threading.Event)
    supported: tuple[str, ...] = (uids.GRAYSCALE_META, uids.COLOR_META, uids.PRESENTATION_LUT, uids.PRINT_JOB,
                                  uids.ANNOTATION_BOX)
    received: list[tuple[str, str, Dataset | None]] = field(default_factory=list)
    server: Any = None

    def start(self) -> "FakePrinter":
        ae = AE(ae_title=self.aet)
        ae.require_called_aet = True
        for uid in self.supported:
            ae.add_supported_context(uid)
        ae.add_supported_context(Verification)
        handlers = [(evt.EVT_N_CREATE, self.on_create), (evt.EVT_N_SET, self.on_set), (evt.EVT_N_GET, self.on_get),
                    (evt.EVT_N_ACTION, self.on_action), (evt.EVT_N_DELETE, self.on_delete)]
        self.server = ae.start_server(("127.0.0.1", self.port), block=False, evt_handlers=handlers)
        return self

    def stop(self) -> None:
        self.release.set()
        self.server.shutdown()

    def of(self, kind: str, class_uid: str | None = None) -> list[Dataset | None]:
        return [ds for k, c, ds in self.received if k == kind and (class_uid is None or c == class_uid)]

    # -- handlers
    def on_create(self, event: Any) -> tuple[int, Dataset | None]:
        req = event.request
        ds = event.attribute_list
        cls = str(req.AffectedSOPClassUID)
        self.received.append(("N-CREATE", cls, ds))
        if cls != uids.FILM_BOX:
            return 0x0000, ds
        if self.fault == "film_box_0106":
            status = Dataset()
            status.Status = 0x0106
            status.AttributeIdentifierList = [0x20100010]
            status.ErrorComment = "bad display format"
            return status, None
        rsp = Dataset()
        rsp.ImageDisplayFormat = ds.ImageDisplayFormat
        color = event.context.abstract_syntax == uids.COLOR_META
        box_class = uids.COLOR_IMAGE_BOX if color else uids.GRAYSCALE_IMAGE_BOX
        refs = []
        for _ in range(parse_display_format(str(ds.ImageDisplayFormat)).box_count):
            r = Dataset()
            r.ReferencedSOPClassUID = box_class
            r.ReferencedSOPInstanceUID = generate_uid()
            refs.append(r)
        rsp.ReferencedImageBoxSequence = refs
        if ds.get("AnnotationDisplayFormatID"):
            anns = []
            for _ in range(3):
                r = Dataset()
                r.ReferencedSOPClassUID = uids.ANNOTATION_BOX
                r.ReferencedSOPInstanceUID = generate_uid()
                anns.append(r)
            rsp.ReferencedBasicAnnotationBoxSequence = anns
        if self.fault == "warn_b605":
            return 0xB605, rsp
        return 0x0000, rsp

    def on_set(self, event: Any) -> tuple[int, Dataset | None]:
        self.received.append(("N-SET", str(event.request.RequestedSOPClassUID), event.modification_list))
        if self.fault == "hang_on_set":
            self.release.wait(60)
        return 0x0000, None

    def on_get(self, event: Any) -> tuple[int, Dataset | None]:
        cls = str(event.request.RequestedSOPClassUID)
        self.received.append(("N-GET", cls, None))
        ds = Dataset()
        if cls == uids.PRINTER:
            ds.PrinterStatus = "NORMAL"
            ds.PrinterStatusInfo = "NORMAL"
            ds.PrinterName = "FAKE"
        elif cls == uids.PRINT_JOB:
            ds.ExecutionStatus = "DONE"
            ds.ExecutionStatusInfo = "NORMAL"
        return 0x0000, ds

    def on_action(self, event: Any) -> tuple[int, Dataset | None]:
        self.received.append(("N-ACTION", str(event.request.RequestedSOPClassUID), None))
        if self.fault == "abort_on_action":
            event.assoc.abort()
            return 0x0110, None
        job_uid = generate_uid()
        accepted = {cx.abstract_syntax for cx in event.assoc.accepted_contexts}
        if uids.PRINT_JOB in accepted and self.fault != "no_events":
            # PS3.4 H.4.4.1.2: Pending, Printing, Done as N-EVENT-REPORTs, while the SCU
            # still waits for the N-ACTION response.
            for event_type, _status in ((1, "PENDING"), (2, "PRINTING"), (3, "DONE")):
                info = Dataset()
                info.ExecutionStatusInfo = "NORMAL"
                info.PrintJobID = job_uid[-16:]
                info.FilmSessionLabel = "FAKE"
                event.assoc.send_n_event_report(info, event_type, uids.PRINT_JOB, job_uid)
        rsp = Dataset()
        ref = Dataset()
        ref.ReferencedSOPClassUID = uids.PRINT_JOB
        ref.ReferencedSOPInstanceUID = job_uid
        rsp.ReferencedPrintJobSequence = [ref]
        return 0x0000, rsp

    def on_delete(self, event: Any) -> int:
        self.received.append(("N-DELETE", str(event.request.RequestedSOPClassUID), None))
        return 0x0000


@pytest.fixture
def printer():
    fake = FakePrinter(free_port()).start()
    yield fake
    fake.stop()


def profile_for(fake: FakePrinter, **changes: Any):
    prof = permissive_profile("127.0.0.1", fake.port, fake.aet)
    return dataclasses.replace(prof, **changes) if changes else prof


def gray_job(n: int = 2, fmt: str = "STANDARD\\2,1", bits: int = 8, annotations=None) -> PrintJobSpec:
    rng = np.random.default_rng(7)
    top = 255 if bits == 8 else 4095
    imgs = [ImageBoxSpec(rng.integers(0, top + 1, (32, 48)).astype(np.uint8 if bits == 8 else np.uint16), bits=bits)
            for _ in range(n)]
    return PrintJobSpec(FilmSessionSpec(label="T"), paginate(imgs, FilmBoxSpec(display_format=fmt), annotations))


def test_color_film_planar_configuration_1(printer, corpus):
    ref = ImageRef(str(corpus / "color" / "color-px.dcm"))
    profile = profile_for(printer)
    job, _ = build_job([ref, ref], FilmBoxSpec(display_format="STANDARD\\2,1"), FilmSessionSpec(), profile,
                       color=True)
    report = run_print_job(job, profile)
    assert report.accepted["color"] is True
    sets = printer.of("N-SET", uids.COLOR_IMAGE_BOX)
    assert len(sets) == 2
    expected = render_for_print(ref, 8, color=True).pixels
    for ds in sets:
        item = ds.BasicColorImageSequence[0]
        assert (item.SamplesPerPixel, item.PhotometricInterpretation, item.PlanarConfiguration) == (3, "RGB", 1)
        got = np.frombuffer(item.PixelData, np.uint8).reshape(3, item.Rows, item.Columns)
        # PS3.3 C.13.5.1: color-by-plane; our render is (rows, cols, 3) color-by-pixel.
        np.testing.assert_array_equal(np.moveaxis(got, 0, 2), expected)
    # Color is printed on the color meta SOP class, without a Presentation LUT.
    assert printer.of("N-CREATE", uids.PRESENTATION_LUT) == []


def test_print_job_events_followed_to_done(printer):
    events = []
    profile = profile_for(printer)
    report = run_print_job(gray_job(), profile, on_event=events.append)
    assert [e.event_type for e in events] == [1, 2, 3]
    assert report.films[0].execution_status == "DONE"
    assert report.films[0].print_job_uid == events[0].instance_uid


def test_print_job_polled_with_n_get_without_events(corpus):
    fake = FakePrinter(free_port(), fault="no_events").start()
    try:
        report = run_print_job(gray_job(), profile_for(fake))
    finally:
        fake.stop()
    assert report.films[0].execution_status == "DONE"
    assert fake.of("N-GET", uids.PRINT_JOB)


def test_annotation_boxes_set(printer):
    job = gray_job(3, "STANDARD\\2,1", annotations={1: "PATIENT^TEST", 2: "film {page}/{pages}"})
    for film in job.films:
        film.box.annotation_display_format_id = "ANNOTATION"
    report = run_print_job(job, profile_for(printer))
    assert len(report.films) == 2
    texts = [(int(ds.AnnotationPosition), str(ds.TextString)) for ds in printer.of("N-SET", uids.ANNOTATION_BOX)]
    assert texts == [(1, "PATIENT^TEST"), (2, "film 1/2"), (1, "PATIENT^TEST"), (2, "film 2/2")]


def test_annotations_dropped_when_printer_rejects_the_class(corpus):
    fake = FakePrinter(free_port(), supported=(uids.GRAYSCALE_META,)).start()
    try:
        job = gray_job(1, "STANDARD\\1,1", annotations={1: "X"})
        job.films[0].box.annotation_display_format_id = "ANNOTATION"
        report = run_print_job(job, profile_for(fake), adapt=False)
    finally:
        fake.stop()
    assert any("annotation" in w for w in report.warnings)
    assert fake.of("N-SET", uids.ANNOTATION_BOX) == []
    assert "AnnotationDisplayFormatID" not in fake.of("N-CREATE", uids.FILM_BOX)[0]


def test_annotations_become_the_film_session_label_when_the_class_is_rejected(corpus):
    fake = FakePrinter(free_port(), supported=(uids.GRAYSCALE_META,)).start()
    try:
        job = gray_job(1, "STANDARD\\1,1", annotations={1: "PATIENT^TEST"})
        job.session.label = None
        job.films[0].box.annotation_display_format_id = "ANNOTATION"
        report = run_print_job(job, profile_for(fake))
    finally:
        fake.stop()
    assert any("Film Session Label" in a for a in report.adapted)
    assert str(fake.of("N-CREATE", uids.FILM_SESSION)[0].FilmSessionLabel) == "PATIENT^TEST"
    assert fake.of("N-SET", uids.ANNOTATION_BOX) == []


def test_color_falls_back_to_gray_when_color_rejected(corpus):
    fake = FakePrinter(free_port(), supported=(uids.GRAYSCALE_META,)).start()
    ref = ImageRef(str(corpus / "color" / "color-px.dcm"))
    try:
        profile = profile_for(fake)
        job, _ = build_job([ref], FilmBoxSpec(), FilmSessionSpec(), profile, color=True)
        report = run_print_job(job, profile)
    finally:
        fake.stop()
    assert any("grayscale" in w for w in report.warnings)
    item = fake.of("N-SET", uids.GRAYSCALE_IMAGE_BOX)[0].BasicGrayscaleImageSequence[0]
    assert item.SamplesPerPixel == 1 and item.BitsStored == 8


def test_warning_b605_is_not_a_failure(corpus):
    fake = FakePrinter(free_port(), fault="warn_b605").start()
    try:
        report = run_print_job(gray_job(), profile_for(fake))
    finally:
        fake.stop()
    assert report.ok and report.films[0].execution_status == "DONE"
    assert any("0xB605" in w for w in report.warnings)


def test_rejected_association(printer):
    profile = dataclasses.replace(profile_for(printer), ae_title="WRONGAE")
    with pytest.raises(PrintError, match="rejected the association"):
        run_print_job(gray_job(), profile)
    assert printer.received == []


def test_film_box_0106_deletes_film_session(printer):
    printer.fault = "film_box_0106"
    with pytest.raises(PrintError) as exc:
        run_print_job(gray_job(), profile_for(printer))
    msg = str(exc.value)
    assert exc.value.status == 0x0106
    assert "N-CREATE Film Box" in msg and "0x0106 Invalid Attribute Value" in msg and "bad display format" in msg
    assert printer.of("N-DELETE", uids.FILM_SESSION) and printer.of("N-DELETE", uids.PRESENTATION_LUT)
    assert printer.of("N-SET") == [] and printer.of("N-ACTION") == []


def test_abort_between_n_set_and_n_action(printer):
    printer.fault = "abort_on_action"
    with pytest.raises(PrintError, match="aborted the association"):
        run_print_job(gray_job(), profile_for(printer))
    assert len(printer.of("N-ACTION")) == 1  # never repeated


def test_no_answer_is_bounded(printer):
    printer.fault = "hang_on_set"  # answers nothing until the test ends: only our timeout ends the job
    with pytest.raises(PrintError, match="no answer from printer .* within 1 s"):
        run_print_job(gray_job(), profile_for(printer), timeout=1.0)


def test_cancel_deletes_what_was_created(printer):
    cancel = CancelToken()

    def progress(msg: str, frac: float) -> None:
        if "N-SET Image Box 2" in msg:
            cancel.cancel()

    with pytest.raises(Cancelled):
        run_print_job(gray_job(), profile_for(printer), cancel=cancel, progress=progress)
    assert len(printer.of("N-SET", uids.GRAYSCALE_IMAGE_BOX)) == 1
    assert printer.of("N-ACTION") == []
    assert printer.of("N-DELETE", uids.FILM_BOX) and printer.of("N-DELETE", uids.FILM_SESSION)


def test_presentation_lut_referenced_from_film_session_when_the_printer_wants_it(printer):
    # CP-173: the AGFA Drystar emulation wants the Referenced Presentation LUT Sequence in
    # the film session and refuses it in the film box.
    report = run_print_job(gray_job(bits=12), profile_for(printer, presentation_lut="film_session"))
    assert report.ok
    plut = printer.of("N-CREATE", uids.PRESENTATION_LUT)
    assert len(plut) == 1 and plut[0].PresentationLUTShape == "IDENTITY"
    session = printer.of("N-CREATE", uids.FILM_SESSION)[0]
    assert "ReferencedPresentationLUTSequence" in session
    assert "ReferencedPresentationLUTSequence" not in printer.of("N-CREATE", uids.FILM_BOX)[0]
    item = printer.of("N-SET", uids.GRAYSCALE_IMAGE_BOX)[0].BasicGrayscaleImageSequence[0]
    assert (item.BitsAllocated, item.BitsStored) == (16, 12)


def test_requests_are_not_pipelined(printer):
    """Each N-SET is sent after the previous response (PRINT-NOTES: pipelining left boxes empty)."""
    run_print_job(gray_job(4, "STANDARD\\2,2"), profile_for(printer))
    order = [k for k, _, _ in printer.received]
    assert order[:3] == ["N-GET", "N-CREATE", "N-CREATE"]
    assert order[3:9] == ["N-CREATE", "N-SET", "N-SET", "N-SET", "N-SET", "N-ACTION"]
