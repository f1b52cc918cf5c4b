"""Our print SCP driven by a raw pynetdicom SCU: statuses of PS3.4 H, events, faults.

The oracles are PS3.4 H / PS3.7 C (the status each bad request must get), the pixels the
test itself sent (decoded back from the stored hardcopies and the PNG), and pynetdicom's
own N-EVENT-REPORT handling.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path

import numpy as np
import pydicom
import pytest
from PIL import Image
from pydicom.dataset import Dataset
from pynetdicom import AE

from tests.helpers.peers import free_port
from tests.helpers.print_scu import (ANNOTATION, COLOR_META, FILM_BOX, FILM_SESSION, GRAY_META, PLUT, PRINT_JOB,
                                     PRINTER, PRINTER_INSTANCE, RawPrintScu, color_box, gray_box)
from viewer.film.output import make_sink
from viewer.net.print_scp import PrintServer, load_profile

DPI = 50


@pytest.fixture
def server(tmp_path: Path):
    profile = load_profile("default")
    sink = make_sink(tmp_path / "prints", profile.min_density, profile.max_density, profile.annotation_formats, DPI)
    srv = PrintServer(sink.print_job, profile, aet="VIEWERPRINT", host="127.0.0.1", port=free_port(), timeout=30,
                      box_size_mm=sink.box_size_mm)
    srv.start()
    srv.out = tmp_path / "prints"  # type: ignore[attr-defined]
    yield srv
    srv.stop()


def ramp(rows: int = 64, cols: int = 64, top: int = 255) -> np.ndarray:
    values = np.arange(rows * cols).reshape(rows, cols) * top // (rows * cols - 1)
    return values.astype(np.uint8 if top == 255 else np.uint16)


def pdf_pages(path: Path) -> int:
    """Page count by Pillow's PDF parser (not the code that wrote the file)."""
    from PIL import PdfParser

    parser = PdfParser.PdfParser(str(path))
    try:
        return len(parser.pages)
    finally:
        parser.close()


def pngs(root: Path) -> list[Path]:
    return sorted(root.glob("*/film-*.png"))


# ---------------------------------------------------------------------------- statuses
def test_printer_n_get(server):
    scu = RawPrintScu(server.port)
    try:
        st, ds = scu.assoc.send_n_get([], PRINTER, PRINTER_INSTANCE, meta_uid=scu.meta)
        assert st.Status == 0 and ds.PrinterStatus == "NORMAL" and ds.PrinterName == "VIEWERPRINT"
        assert ds.Manufacturer and ds.ManufacturerModelName
        st, ds = scu.assoc.send_n_get([0x21100010, 0x21100020], PRINTER, PRINTER_INSTANCE, meta_uid=scu.meta)
        assert st.Status == 0 and set(e.keyword for e in ds) == {"PrinterStatus", "PrinterStatusInfo"}
        # PS3.7 10.1.2: an attribute the printer lacks is a warning (0x0107), the rest still comes.
        st, ds = scu.assoc.send_n_get([0x21100010, 0x00100010], PRINTER, PRINTER_INSTANCE, meta_uid=scu.meta)
        assert st.Status == 0x0107 and ds.PrinterStatus == "NORMAL"
        st, _ = scu.assoc.send_n_get([], PRINTER, "1.2.3.4", meta_uid=scu.meta)
        assert st.Status == 0x0112
    finally:
        scu.release()


@pytest.mark.parametrize("change,status", [
    ({"ImageDisplayFormat": None}, 0x0120),                    # mandatory attribute missing
    ({"ImageDisplayFormat": "STANDARD\\9,9"}, 0x0106),          # not in the printer profile
    ({"ImageDisplayFormat": "DIAGONAL\\2"}, 0x0106),
    ({"FilmSizeID": "99INX99IN"}, 0x0106),
    ({"MagnificationType": "FANCY"}, 0x0106),
    ({"PatientName": "NOT^A^FILM^BOX^ATTRIBUTE"}, 0x0105),      # no such attribute
    ({"AnnotationDisplayFormatID": "NOPE"}, 0x0106),
    ({"MaxDensity": 400}, 0xB605),                              # warning: printer's range used
])
def test_film_box_checks(server, change, status, caplog):
    caplog.set_level(logging.INFO, logger="viewer.net.print_scp")
    scu = RawPrintScu(server.port)
    try:
        session = scu.session()
        attrs = {k: v for k, v in change.items() if v is not None}
        if "ImageDisplayFormat" in change and change["ImageDisplayFormat"] is None:
            ds = Dataset()
            ref = Dataset()
            ref.ReferencedSOPClassUID, ref.ReferencedSOPInstanceUID = FILM_SESSION, session
            ds.ReferencedFilmSessionSequence = [ref]
            got, _rsp, _uid = scu.create(ds, FILM_BOX)
        else:
            fmt = attrs.pop("ImageDisplayFormat", "STANDARD\\2,1")
            got, _rsp, _uid = scu.film_box(session, fmt, **attrs)
        assert got == status
        # The log says what was wrong (status and reason).
        assert any(f"0x{status:04X}" in r.getMessage() for r in caplog.records)
        # The server keeps serving on the same association.
        assert scu.film_box(session)[0] == 0
    finally:
        scu.release()


def test_film_session_checks(server):
    scu = RawPrintScu(server.port)
    try:
        ds = Dataset()
        ds.MediumType = "PARCHMENT"
        assert scu.create(ds, FILM_SESSION)[0] == 0x0106
        ds = Dataset()
        ds.PrintPriority = "URGENT"
        assert scu.create(ds, FILM_SESSION)[0] == 0x0106
        ds = Dataset()
        ds.MemoryAllocation = 1000
        assert scu.create(ds, FILM_SESSION)[0] == 0xB600  # warning, session created
        ds = Dataset()
        ds.FilmSessionLabel = "SECOND"
        assert scu.create(ds, FILM_SESSION)[0] == 0x0110  # one film session per association
    finally:
        scu.release()


def test_film_box_without_session_and_image_box_checks(server):
    scu = RawPrintScu(server.port)
    try:
        status, _, _ = scu.film_box("1.2.3")
        assert status == 0x0110
        session = scu.session()
        status, _, _ = scu.film_box("1.2.3.999")  # references no known film session
        assert status == 0x0106
        status, rsp, _fb = scu.film_box(session, "STANDARD\\2,1")
        boxes = rsp.ReferencedImageBoxSequence
        assert len(boxes) == 2
        bad = gray_box(1, ramp())
        bad.BasicGrayscaleImageSequence[0].PixelData = b"\0" * 100  # wrong pixel size
        assert scu.set_box(boxes[0], bad) == 0x0106
        assert scu.set_box(boxes[0], gray_box(2, ramp())) == 0x0106  # position of another box
        no_image = Dataset()
        no_image.ImageBoxPosition = 1
        assert scu.set_box(boxes[0], no_image) == 0x0120
        assert scu.set_box(boxes[0], color_box(1, np.zeros((4, 4, 3)))) == 0x0105  # color data in a gray box
        ghost = Dataset()
        ghost.ReferencedSOPClassUID, ghost.ReferencedSOPInstanceUID = boxes[0].ReferencedSOPClassUID, "1.2.3.4"
        assert scu.set_box(ghost, gray_box(1, ramp())) == 0x0112
        assert scu.set_box(boxes[0], gray_box(1, ramp())) == 0
    finally:
        scu.release()


def test_duplicate_film_box_instance(server):
    scu = RawPrintScu(server.port)
    try:
        session = scu.session()
        ds = Dataset()
        ds.ImageDisplayFormat = "STANDARD\\1,1"
        ref = Dataset()
        ref.ReferencedSOPClassUID, ref.ReferencedSOPInstanceUID = FILM_SESSION, session
        ds.ReferencedFilmSessionSequence = [ref]
        uid = "1.2.826.0.1.3680043.8.498.77"
        st, _ = scu.assoc.send_n_create(ds, FILM_BOX, uid, meta_uid=scu.meta)
        assert st.Status == 0
        st, _ = scu.assoc.send_n_create(ds, FILM_BOX, uid, meta_uid=scu.meta)
        assert st.Status == 0x0111  # duplicate SOP instance (PS3.7 C)
    finally:
        scu.release()


def test_action_before_any_image_is_set(server):
    scu = RawPrintScu(server.port)
    try:
        session = scu.session()
        _st, _rsp, fb = scu.film_box(session)
        assert scu.action(FILM_BOX, fb)[0] == 0xB603  # empty page: warning, nothing printed
        assert scu.action(FILM_SESSION, session)[0] == 0xB602
        assert scu.action(FILM_BOX, "1.2.3.4")[0] == 0x0112
        st, _ = scu.assoc.send_n_action(None, 7, FILM_BOX, fb, meta_uid=scu.meta)
        assert st.Status == 0x0123  # no such action
    finally:
        scu.release()
    assert pngs(server.out) == []


class _Heard(logging.Handler):
    """Sets :attr:`event` when a record containing ``text`` is logged (from any thread)."""

    def __init__(self, text: str) -> None:
        super().__init__(logging.DEBUG)
        self.text, self.event = text, threading.Event()

    def emit(self, record: logging.LogRecord) -> None:
        if self.text in record.getMessage():
            self.event.set()


def test_aborted_association_mid_session(server, caplog):
    caplog.set_level(logging.WARNING, logger="viewer.net.print_scp")
    heard = _Heard("never printed")
    logging.getLogger().addHandler(heard)  # whichever print SCP module logs it
    scu = RawPrintScu(server.port)
    session = scu.session()
    _st, rsp, _fb = scu.film_box(session)
    assert scu.set_box(rsp.ReferencedImageBoxSequence[0], gray_box(1, ramp())) == 0
    scu.assoc.abort()
    # The server keeps serving: a whole new film goes through.
    scu2 = RawPrintScu(server.port)
    try:
        s2 = scu2.session()
        _st, rsp2, fb2 = scu2.film_box(s2, "STANDARD\\1,1")
        assert scu2.set_box(rsp2.ReferencedImageBoxSequence[0], gray_box(1, ramp())) == 0
        assert scu2.action(FILM_BOX, fb2)[0] == 0
    finally:
        scu2.release()
    assert len(pngs(server.out)) == 1
    # The server notices the abort in its own thread and logs it.
    try:
        assert heard.event.wait(30), "the server never logged the unprinted film of the aborted association"
    finally:
        logging.getLogger().removeHandler(heard)


# ---------------------------------------------------------------------------- content
def test_gray_film_content_and_print_job_events(server):
    events: list = []
    scu = RawPrintScu(server.port, events=events)
    try:
        session = scu.session()
        _st, rsp, fb = scu.film_box(session, "STANDARD\\2,1", BorderDensity="WHITE", EmptyImageDensity="BLACK")
        boxes = rsp.ReferencedImageBoxSequence
        pixels = ramp(64, 64, 4095)
        assert scu.set_box(boxes[0], gray_box(1, pixels)) == 0
        status, reply = scu.action(FILM_BOX, fb)
        assert status == 0
        job_uid = reply.ReferencedPrintJobSequence[0].ReferencedSOPInstanceUID
        # PS3.4 H.4.8: Pending, Printing, Done for that job, then N-GET Print Job says DONE.
        assert [e[0] for e in events] == [1, 2, 3] and {e[1] for e in events} == {job_uid}
        st, job = scu.assoc.send_n_get([0x21000020, 0x21000030], PRINT_JOB, job_uid)
        assert st.Status == 0 and job.ExecutionStatus == "DONE"
    finally:
        scu.release()
    [png] = pngs(server.out)
    film = np.asarray(Image.open(png))
    assert film.shape == (10 * DPI, 8 * DPI)  # 8INX10IN portrait
    assert film[0, 0] == 255  # WHITE border
    hard = pydicom.dcmread(png.parent / "film-1-box-1.dcm")
    assert hard.SOPClassUID == "1.2.840.10008.5.1.1.29" and np.array_equal(hard.pixel_array, pixels)
    # Box 2 was never set: Empty Image Density BLACK somewhere in the right half.
    assert film[film.shape[0] // 2, 3 * film.shape[1] // 4] == 0
    # Box 1 holds the ramp: IDENTITY over the full density range, gray = 255 * P-value;
    # its centre pixel is the ramp's centre value.
    centre = film[film.shape[0] // 2, film.shape[1] // 4]
    assert abs(int(centre) - 255 * int(pixels[32, 32]) / 4095) <= 3


def test_reverse_polarity_and_presentation_lut(server):
    scu = RawPrintScu(server.port)
    try:
        lut = Dataset()
        item = Dataset()
        item.add_new(0x00283002, "US", [256, 0, 12])  # LUT Descriptor
        item.add_new(0x00283006, "US", [4095 - round(i * 4095 / 255) for i in range(256)])  # inverting LUT Data
        lut.PresentationLUTSequence = [item]
        status, _, lut_uid = scu.create(lut, PLUT, meta=False)
        assert status == 0
        session = scu.session()
        ref = Dataset()
        ref.ReferencedSOPClassUID, ref.ReferencedSOPInstanceUID = PLUT, lut_uid
        _st, rsp, fb = scu.film_box(session, "STANDARD\\2,1", ReferencedPresentationLUTSequence=[ref])
        flat = np.full((16, 16), 200, np.uint8)
        boxes = rsp.ReferencedImageBoxSequence
        assert scu.set_box(boxes[0], gray_box(1, flat)) == 0
        assert scu.set_box(boxes[1], gray_box(2, flat, Polarity="REVERSE")) == 0
        assert scu.action(FILM_BOX, fb)[0] == 0
    finally:
        scu.release()
    film = np.asarray(Image.open(pngs(server.out)[0])).astype(int)
    h, w = film.shape
    lut_p = (4095 - round(200 * 4095 / 255)) / 4095
    assert abs(film[h // 2, w // 4] - 255 * lut_p) <= 2          # through the LUT
    assert abs(film[h // 2, 3 * w // 4] - 255 * (1 - lut_p)) <= 2  # and reversed


def test_monochrome1_trim_and_smoothing(server):
    """MONOCHROME1 prints inverted (PS3.3 C.7.6.3.1.2); Trim YES frames the image with a line
    (black on a white border); CUBIC + SMOOTH blurs a checkerboard, SHARP does not."""
    scu = RawPrintScu(server.port)
    try:
        session = scu.session()
        checker = (np.indices((16, 16)).sum(axis=0) % 2 * 255).astype(np.uint8)
        films = [({"Trim": "YES", "BorderDensity": "WHITE", "EmptyImageDensity": "WHITE"}, "MONOCHROME1", None),
                 ({"MagnificationType": "CUBIC", "SmoothingType": "SMOOTH"}, "MONOCHROME2", checker),
                 ({"MagnificationType": "CUBIC", "SmoothingType": "SHARP"}, "MONOCHROME2", checker)]
        for attrs, photometric, pixels in films:
            _st, rsp, fb = scu.film_box(session, "STANDARD\\1,1", **attrs)
            box = gray_box(1, pixels if pixels is not None else np.zeros((20, 40), np.uint8))
            box.BasicGrayscaleImageSequence[0].PhotometricInterpretation = photometric
            assert scu.set_box(rsp.ReferencedImageBoxSequence[0], box) == 0
            assert scu.action(FILM_BOX, fb)[0] == 0
    finally:
        scu.release()
    mono1, smooth, sharp = (np.asarray(Image.open(p)).astype(float) for p in pngs(server.out))
    h, w = mono1.shape
    assert mono1[h // 2, w // 2] == 255  # 0 in MONOCHROME1 is white (it would be black in MONOCHROME2)
    # White image on white film: the only ink is the trim frame, a rectangle around the image.
    ys, xs = np.nonzero(mono1 == 0)
    assert len(ys) and ys.min() < h // 2 < ys.max() and xs.min() < w // 10 and xs.max() > w - w // 10
    assert (mono1[ys.min(), xs.min():xs.max() + 1] == 0).all()  # the top side is a full line
    assert (mono1[h // 2, xs.min() + 5:xs.max() - 5] == 255).all()  # inside the frame: the image
    centre = (slice(h // 3, 2 * h // 3), slice(w // 3, 2 * w // 3))
    assert smooth[centre].std() < sharp[centre].std()


@pytest.mark.parametrize("fmt,expect", [
    # PS3.3 C.13.8: ROW\\a,b = a boxes in the top row, b below; COL\\a,b = a boxes in the left
    # column (top to bottom), b on the right. Probe points as (x, y) fractions of the film.
    ("ROW\\1,2", {1: (0.5, 0.3), 2: (0.25, 0.7), 3: (0.75, 0.7)}),
    ("COL\\2,1", {1: (0.3, 0.25), 2: (0.3, 0.75), 3: (0.7, 0.5)}),
    ("STANDARD\\3,1", {1: (1 / 6, 0.5), 2: (0.5, 0.5), 3: (5 / 6, 0.5)}),
])
def test_row_col_standard_positions(server, fmt, expect):
    values = {1: 60, 2: 130, 3: 220}
    scu = RawPrintScu(server.port)
    try:
        session = scu.session()
        _st, rsp, fb = scu.film_box(session, fmt, MagnificationType="REPLICATE")
        boxes = rsp.ReferencedImageBoxSequence
        assert len(boxes) == 3
        for pos, ref in enumerate(boxes, start=1):
            # A tall-or-wide flat image fills its box along one side; probe its centre.
            assert scu.set_box(ref, gray_box(pos, np.full((8, 8), values[pos], np.uint8))) == 0
        assert scu.action(FILM_BOX, fb)[0] == 0
    finally:
        scu.release()
    film = np.asarray(Image.open(pngs(server.out)[0])).astype(int)
    h, w = film.shape
    for pos, (fx, fy) in expect.items():
        assert abs(film[int(fy * h), int(fx * w)] - values[pos]) <= 1, (fmt, pos)


def test_color_film_with_annotations(server):
    scu = RawPrintScu(server.port, color=True)
    try:
        session = scu.session()
        _st, rsp, fb = scu.film_box(session, "STANDARD\\1,1", AnnotationDisplayFormatID="BOTTOM",
                                    BorderDensity="WHITE")
        rgb = np.zeros((32, 48, 3), np.uint8)
        rgb[..., 0], rgb[..., 1], rgb[..., 2] = 200, 30, 90
        assert scu.set_box(rsp.ReferencedImageBoxSequence[0], color_box(1, rgb)) == 0
        anns = rsp.ReferencedBasicAnnotationBoxSequence
        assert len(anns) == 2
        ann = Dataset()
        ann.AnnotationPosition = 1
        ann.TextString = "DOE^JANE 1970"
        st, _ = scu.assoc.send_n_set(ann, ANNOTATION, anns[0].ReferencedSOPInstanceUID)
        assert st.Status == 0
        ann.AnnotationPosition = 3
        st, _ = scu.assoc.send_n_set(ann, ANNOTATION, anns[1].ReferencedSOPInstanceUID)
        assert st.Status == 0x0106
        assert scu.action(FILM_SESSION, session)[0] == 0
    finally:
        scu.release()
    [png] = pngs(server.out)
    film = np.asarray(Image.open(png))
    h, w, _ = film.shape
    assert tuple(film[h // 2, w // 2]) == (200, 30, 90)
    assert pydicom.dcmread(png.parent / "film-1-box-1.dcm").SOPClassUID == "1.2.840.10008.5.1.1.30"
    # Text ink in the left half of the bottom strip, nothing in the right half (box 2 empty).
    strip = film[int(h * 0.946):int(h * 0.98)]  # bottom strip: 4% of the height above a 2% margin
    assert (strip[:, : w // 2] < 128).any() and not (strip[:, w // 2 + 5:] < 128).any()


@pytest.mark.parametrize("size,behaviour,status", [
    (150, None, 0xB604),        # larger than the ~95 mm box: demagnified (warning)
    (150, "CROP", 0xB609),      # cropped (warning)
    (150, "FAIL", 0xC603),      # refused
    (50, None, 0x0000),         # fits
])
def test_requested_image_size(server, size, behaviour, status):
    scu = RawPrintScu(server.port)
    try:
        session = scu.session()
        _st, rsp, fb = scu.film_box(session, "STANDARD\\2,1", EmptyImageDensity="BLACK")
        attrs = {"RequestedImageSize": size}
        if behaviour:
            attrs["RequestedDecimateCropBehavior"] = behaviour
        white = np.full((40, 40), 255, np.uint8)
        assert scu.set_box(rsp.ReferencedImageBoxSequence[0], gray_box(1, white, **attrs)) == status
        printed = scu.action(FILM_BOX, fb)[0]
    finally:
        scu.release()
    if status == 0xC603:
        assert printed == 0xB603 and pngs(server.out) == []  # the refused image was not kept
        return
    film = np.asarray(Image.open(pngs(server.out)[0]))
    row = film[film.shape[0] // 2, : film.shape[1] // 2]
    printed_mm = (row == 255).sum() / DPI * 25.4
    if size == 50:
        assert abs(printed_mm - 50) < 1.5  # PS3.3 C.13.5.1: the width printed, in mm
    else:
        assert 85 < printed_mm < 100  # as wide as the box allows


def test_session_print_makes_one_pdf_page_per_film(server):
    scu = RawPrintScu(server.port)
    try:
        session = scu.session()
        for _ in range(2):
            _st, rsp, _fb = scu.film_box(session, "STANDARD\\1,1")
            assert scu.set_box(rsp.ReferencedImageBoxSequence[0], gray_box(1, ramp())) == 0
        status, reply = scu.action(FILM_SESSION, session)
        assert status == 0 and "ReferencedPrintJobSequence" in reply
    finally:
        scu.release()
    films = pngs(server.out)
    assert [p.name for p in films] == ["film-1.png", "film-2.png"]
    assert pdf_pages(films[0].parent / "session.pdf") == 2


def test_gray8_profile_limits(tmp_path):
    profile = load_profile("gray8")
    sink = make_sink(tmp_path, profile.min_density, profile.max_density, {}, DPI)
    with PrintServer(sink.print_job, profile, aet="VIEWERPRINT", host="127.0.0.1", port=free_port()) as srv:
        ae = AE(ae_title="TESTSCU")
        for uid in (COLOR_META, PRINT_JOB, ANNOTATION, PLUT):
            ae.add_requested_context(uid)
        assoc = ae.associate("127.0.0.1", srv.port, ae_title="VIEWERPRINT")
        assert not assoc.is_established  # nothing this printer supports was proposed
        scu = RawPrintScu(srv.port)
        try:
            accepted = {cx.abstract_syntax for cx in scu.assoc.accepted_contexts}
            assert accepted == {GRAY_META}
            session = scu.session()
            _st, rsp, _fb = scu.film_box(session, "STANDARD\\1,1")
            box = rsp.ReferencedImageBoxSequence[0]
            assert scu.set_box(box, gray_box(1, ramp(16, 16, 4095))) == 0x0106  # no 12 bit here
            assert scu.set_box(box, gray_box(1, ramp(16, 16))) == 0
            # No film-session-level printing: a new film box waits for the last one (C616).
            assert scu.film_box(session, "STANDARD\\1,1")[0] == 0xC616
        finally:
            scu.release()


# ---------------------------------------------------------------------------- load
# The load test (10 SCUs, 50 films) is tests/integration/test_print_scp_load.py, with DCMTK's
# dcmprscu as the clients: pynetdicom's own SCU loses a response now and then on a starved
# machine (its reactor thread can take the response off the queue:
# github.com/pydicom/pynetdicom/issues/875),
# which would make a server test flaky for a client's reason.


def test_render_failure_fails_the_job_not_the_server(tmp_path):
    """A film the printer cannot render: N-ACTION 0x0110, a FAILURE event, the server goes on."""
    calls = []

    def broken(job):
        calls.append(job)
        raise OSError("disk full")

    with PrintServer(broken, load_profile("default"), aet="VIEWERPRINT", host="127.0.0.1", port=free_port()) as srv:
        events: list = []
        scu = RawPrintScu(srv.port, events=events)
        try:
            session = scu.session()
            _st, rsp, fb = scu.film_box(session, "STANDARD\\1,1")
            assert scu.set_box(rsp.ReferencedImageBoxSequence[0], gray_box(1, ramp())) == 0
            st, _ = scu.assoc.send_n_action(None, 1, FILM_BOX, fb, meta_uid=scu.meta)
            assert st.Status == 0x0110 and "disk full" in st.ErrorComment
            assert [e[0] for e in events] == [1, 2, 4]  # Pending, Printing, Failure
        finally:
            scu.release()
        assert srv.service.jobs_failed == 1 and len(calls) == 1
        from tests.helpers.peers import c_echo

        assert c_echo(srv.port, "VIEWERPRINT") == 0


def test_profile_from_a_json_file(tmp_path):
    import json

    from viewer.errors import UsageError

    path = tmp_path / "lab.json"
    path.write_text(json.dumps({"printer_name": "LAB", "printer_status": "WARNING",
                                "printer_status_info": "FILM TRANSP ERR", "standard_formats": ["1,1"]}))
    profile = load_profile(str(path))
    sink = make_sink(tmp_path / "out", profile.min_density, profile.max_density, {}, DPI)
    with PrintServer(sink.print_job, profile, aet="VIEWERPRINT", host="127.0.0.1", port=free_port()) as srv:
        scu = RawPrintScu(srv.port)
        try:
            st, ds = scu.assoc.send_n_get([], PRINTER, PRINTER_INSTANCE, meta_uid=scu.meta)
            assert (ds.PrinterName, ds.PrinterStatus, ds.PrinterStatusInfo) == ("LAB", "WARNING", "FILM TRANSP ERR")
            session = scu.session()
            assert scu.film_box(session, "STANDARD\\2,2")[0] == 0x0106  # only 1,1 in this profile
        finally:
            scu.release()
    path.write_text(json.dumps({"colour": True}))
    with pytest.raises(UsageError, match="unknown keys colour"):
        load_profile(str(path))
    with pytest.raises(UsageError, match="no printer profile"):
        load_profile("nosuch")
