"""Reports and documents in the viewport area, driven through the real main window.

An SR (tests.helpers.sr) referencing frame 3 of a multi-frame CT of the same folder shows
as a report whose link opens that frame (pixels compared with pydicom's); an Encapsulated
PDF made by DCMTK ``pdf2dcm`` from pages Pillow drew shows page 2 after "Next" (colour of
the page as drawn); a CDA shows as its text.
"""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import numpy as np
import pydicom
import pytest
from PIL import Image, ImageDraw
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian, generate_uid
from PySide6.QtCore import QPoint, Qt, QUrl
from PySide6.QtGui import QTextCursor
from PySide6.QtTest import QTest

from tests.helpers.instances import new_instance
from tests.helpers.peers import require_program
from tests.helpers.sr import comprehensive_sr
from tests.helpers.ui import open_and_wait
from viewer.ui.document_view import FIT_DPI, PdfPane, TextPane
from viewer.ui.report_view import ReportPane, parse_image_link

pytestmark = pytest.mark.gui

CT = "1.2.840.10008.5.1.4.1.1.2"


def _ct(path: Path, study: str, series: str, frames: int, base: int, number: int) -> str:
    """A 16x16 CT with ``frames`` frames; frame k holds ``base + 100 * k + (0..255)``."""
    uid = generate_uid()
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID, meta.MediaStorageSOPInstanceUID = CT, uid
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds = Dataset()
    ds.file_meta = meta
    ds.SOPClassUID, ds.SOPInstanceUID = CT, uid
    ds.StudyInstanceUID, ds.SeriesInstanceUID = study, series
    ds.PatientName, ds.PatientID, ds.Modality = "Report^Test", "PID-42", "CT"
    ds.SeriesNumber, ds.InstanceNumber = 2, number
    ds.Rows = ds.Columns = 16
    if frames > 1:
        ds.NumberOfFrames = frames
    ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 16, 15, 0
    ds.WindowCenter, ds.WindowWidth = "600", "1200"
    pixels = np.stack([base + 100 * k + np.arange(256).reshape(16, 16) for k in range(frames)]).astype("<u2")
    ds.PixelData = pixels.tobytes()
    ds.save_as(path, enforce_file_format=True)
    return uid


@pytest.fixture
def sr_folder(tmp_path: Path) -> tuple[Path, str]:
    folder = tmp_path / "study"
    folder.mkdir()
    study, series = generate_uid(), generate_uid()
    _ct(folder / "ct1.dcm", study, series, 1, 0, 1)
    target = _ct(folder / "ct2.dcm", study, series, 4, 1000, 2)
    comprehensive_sr(folder / "sr.dcm", image_uid=target)  # references frame 3 of ct2
    return folder, target


def _select_modality(window: Any, modality: str) -> None:
    series = next(s for s in window.all_series() if s.modality == modality)
    window.browser.select_series(series.series_instance_uid)


def _click_link(browser: Any, text: str) -> None:
    """A real mouse click on the first occurrence of ``text`` in a QTextBrowser."""
    cursor = browser.document().find(text)
    assert not cursor.isNull(), text
    cursor.setPosition(cursor.selectionStart() + 2, QTextCursor.MoveMode.MoveAnchor)
    rect = browser.cursorRect(cursor)
    browser.ensureCursorVisible()
    rect = browser.cursorRect(cursor)
    point = QPoint(rect.center().x(), rect.center().y())
    QTest.mouseClick(browser.viewport(), Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, point)


def test_report_shows_and_its_link_opens_the_referenced_frame(qtbot, window, sr_folder) -> None:
    folder, target = sr_folder
    open_and_wait(qtbot, window, folder)
    vp = window.viewport
    assert vp.current is not None  # the CT first
    _select_modality(window, "SR")
    qtbot.waitUntil(lambda: isinstance(window.documents.pane(), ReportPane), timeout=10000)
    pane = window.documents.pane()
    assert vp.current is None and not vp.state.frames  # the previous image is gone
    sr = next(s for s in window.all_series() if s.modality == "SR")
    assert vp.state.series_uid == sr.series_instance_uid  # next/previous series step from the report
    assert pane.isVisible() and pane.geometry() == vp.rect()
    text = pane.browser.toPlainText()
    for value in ("Diagnostic Imaging Report", "A 12 mm nodule in the right upper lobe", "Nodule", "12.5",
                  "Curie", "Smoker, 30 pack-years."):
        assert value in text, value
    assert f"dicom:{target}?frame=3" in pane.links()
    window.grab().save("/tmp/shot_sr_report.png")

    _click_link(pane.browser, f"CT Image Storage {target} frame 3")
    qtbot.waitUntil(lambda: vp.current is not None, timeout=10000)
    assert vp.current.ref.sop_instance_uid == target and vp.current.ref.frame_index == 2
    want = pydicom.dcmread(folder / "ct2.dcm").pixel_array[2]
    assert np.array_equal(vp.current.stored, want)
    qtbot.waitUntil(lambda: window.documents.pane() is None, timeout=2000)
    assert not vp.state.document


def test_report_export_and_unknown_link(qtbot, window, sr_folder, tmp_path) -> None:
    folder, _target = sr_folder
    open_and_wait(qtbot, window, folder)
    _select_modality(window, "SR")
    qtbot.waitUntil(lambda: isinstance(window.documents.pane(), ReportPane), timeout=10000)
    pane = window.documents.pane()
    html = pane.export(tmp_path / "r.html").read_text(encoding="utf-8")
    text = pane.export(tmp_path / "r.txt").read_text(encoding="utf-8")
    assert html.startswith("<!DOCTYPE html>") and "A 12 mm nodule" in html
    assert not text.startswith("<") and "Finding (121071, DCM): A 12 mm nodule in the right upper lobe" in text
    assert window.documents.export_action in window.file_menu.actions()
    texts = [a.text() for a in pane.context_menu().actions()]
    assert "Export report as HTML/text…" in texts
    # A reference to an image that is not open: said, the report stays.
    assert not window.documents.open_image("1.2.3.4.5", 0)
    assert "not among the open files" in window.statusBar().currentMessage()
    assert window.documents.pane() is pane
    assert parse_image_link(QUrl("dicom:1.2.3?frame=7")) == ("1.2.3", 6)
    assert parse_image_link("https://example.org") is None


COLOURS = [(200, 30, 30), (20, 60, 220), (10, 160, 40)]


def _pages() -> list[Image.Image]:
    pages = []
    for i, colour in enumerate(COLOURS):
        im = Image.new("RGB", (400, 300), "white")
        ImageDraw.Draw(im).rectangle([40 + 20 * i, 50, 350, 250], fill=colour)
        pages.append(im)
    return pages


@pytest.fixture
def pdf_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "pdf"
    folder.mkdir()
    pages = _pages()
    pages[0].save(tmp_path / "doc.pdf", save_all=True, append_images=pages[1:], resolution=72)
    exe = require_program("pdf2dcm", "dcmtk")
    subprocess.run([exe, "--title", "Discharge letter", str(tmp_path / "doc.pdf"), str(folder / "doc.dcm")],
                   check=True, capture_output=True, timeout=60)
    return folder


def test_pdf_pages_next_zoom_and_system_viewer(qtbot, window, pdf_folder, tmp_path) -> None:
    opened: list[QUrl] = []
    window.documents.opener = opened.append
    window.open_paths([str(pdf_folder)])  # no image in it: the document is the first thing shown
    qtbot.waitUntil(lambda: isinstance(window.documents.pane(), PdfPane), timeout=20000)
    pane = window.documents.pane()
    qtbot.waitUntil(lambda: pane.image is not None, timeout=10000)
    assert pane.page == 0 and pane.page_count == 3
    assert "Page 1 of 3" in pane.page_label.text() and not pane.prev_button.isEnabled()
    scale = FIT_DPI / 72.0
    centre = (int(150 * scale), int(200 * scale))
    assert np.abs(pane.image[centre].astype(int) - COLOURS[0]).max() <= 12
    with qtbot.waitSignal(pane.page_shown, timeout=10000) as blocker:
        qtbot.mouseClick(pane.next_button, Qt.MouseButton.LeftButton)
    assert blocker.args == [1] and pane.page == 1 and "Page 2 of 3" in pane.page_label.text()
    # PDFium rounds the page size up to whole pixels.
    assert np.abs(np.subtract(pane.image.shape[:2], (300 * scale, 400 * scale))).max() < 1
    assert np.abs(pane.image[centre].astype(int) - COLOURS[1]).max() <= 12
    window.grab().save("/tmp/shot_pdf_page.png")
    # Page Down / Page Up while the pane (or a child) has the focus.
    pane.setFocus()
    with qtbot.waitSignal(pane.page_shown, timeout=10000) as blocker:
        QTest.keyClick(pane, Qt.Key.Key_PageDown)
    assert blocker.args == [2] and not pane.next_button.isEnabled()
    with qtbot.waitSignal(pane.page_shown, timeout=10000) as blocker:
        QTest.keyClick(pane.area, Qt.Key.Key_PageUp)
    assert blocker.args == [1]
    # Zoom: 100 % renders at 96 dpi, "+" at 125 %.
    with qtbot.waitSignal(pane.page_shown, timeout=10000):
        pane.set_zoom(1.0)
    assert np.abs(np.subtract(pane.image.shape[:2], (400, 400 * 96 / 72))).max() < 1
    assert pane.label.pixmap().width() == pane.image.shape[1]
    with qtbot.waitSignal(pane.page_shown, timeout=10000):
        pane.set_zoom(None)
    # The system viewer gets a temporary copy of the PDF, byte for byte.
    path = pane.open_external()
    assert opened and Path(opened[-1].toLocalFile()) == path
    assert path.suffix == ".pdf" and path.read_bytes() == (tmp_path / "doc.pdf").read_bytes()


def test_cda_shows_as_text(qtbot, window, tmp_path) -> None:
    folder = tmp_path / "cda"
    folder.mkdir()
    xml = b'<?xml version="1.0"?><ClinicalDocument><title>Discharge summary</title></ClinicalDocument>'
    ds = new_instance("1.2.840.10008.5.1.4.1.1.104.2")  # Encapsulated CDA
    ds.StudyInstanceUID, ds.SeriesInstanceUID = generate_uid(), generate_uid()
    ds.PatientName, ds.PatientID, ds.Modality = "Cda^Test", "C1", "DOC"
    ds.MIMETypeOfEncapsulatedDocument = "text/xml"
    ds.DocumentTitle = "Discharge summary"
    ds.EncapsulatedDocument = xml + (b" " if len(xml) % 2 else b"")
    ds.EncapsulatedDocumentLength = len(xml)
    ds.save_as(folder / "cda.dcm", enforce_file_format=True)
    window.open_paths([str(folder)])
    qtbot.waitUntil(lambda: isinstance(window.documents.pane(), TextPane), timeout=20000)
    pane = window.documents.pane()
    assert pane.text.toPlainText() == xml.decode()


def test_damaged_pdf_says_why_in_the_viewport(qtbot, window, pdf_folder) -> None:
    path = pdf_folder / "doc.dcm"
    ds = pydicom.dcmread(path)
    data = bytes(ds.EncapsulatedDocument)[:200]  # cut inside the first object
    ds.EncapsulatedDocument = data
    del ds.EncapsulatedDocumentLength
    ds.save_as(path)
    window.open_paths([str(pdf_folder)])
    vp = window.viewport
    qtbot.waitUntil(lambda: "cannot be shown" in vp.state.message, timeout=20000)
    assert "PDF" in vp.state.message and window.documents.pane() is None
    assert vp.state.document and vp.current is None  # the previous image is not left on screen
    assert "cannot be shown" in vp.message


def test_tid1500_measurement_report_links_to_its_image(qtbot, window, tmp_path) -> None:
    """A TID 1500 report written by highdicom (an SR writer we did not write) on a CT of the folder."""
    pytest.importorskip("highdicom")
    from pydicom.data import get_testdata_file

    from tests.helpers.sr import tid1500_sr

    folder = tmp_path / "tid1500"
    folder.mkdir()
    ct = pydicom.dcmread(get_testdata_file("CT_small.dcm"))
    ct.save_as(folder / "ct.dcm")
    tid1500_sr(folder / "sr.dcm", ct)
    open_and_wait(qtbot, window, folder)
    _select_modality(window, "SR")
    qtbot.waitUntil(lambda: isinstance(window.documents.pane(), ReportPane), timeout=10000)
    pane = window.documents.pane()
    text = pane.browser.toPlainText()
    for value in ("Imaging Measurement Report", "Diameter", "12.5", "lesion 1", "Hypodense", "Doe"):
        assert value in text, value
    link = f"dicom:{ct.SOPInstanceUID}"
    assert link in pane.links()
    pane.browser.anchorClicked.emit(QUrl(link))
    vp = window.viewport
    qtbot.waitUntil(lambda: vp.current is not None, timeout=10000)
    assert vp.current.ref.sop_instance_uid == ct.SOPInstanceUID
    assert np.array_equal(vp.current.stored, ct.pixel_array)


def test_clicking_a_report_makes_its_viewport_active(qtbot, window, sr_folder) -> None:
    folder, _target = sr_folder
    open_and_wait(qtbot, window, folder)
    window.set_layout("1x2")
    right = window.grid.viewports[1]
    sr = next(s for s in window.all_series() if s.modality == "SR")
    window.show_series(sr, right)
    qtbot.waitUntil(lambda: isinstance(window.documents.pane(right), ReportPane), timeout=10000)
    window.grid.set_active(window.grid.viewports[0])
    assert window.viewport is not right
    pane = window.documents.pane(right)
    QTest.mouseClick(pane.browser.viewport(), Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier,
                     QPoint(5, 5))
    assert window.viewport is right
    window.grab().save("/tmp/shot_sr_beside_ct.png")
