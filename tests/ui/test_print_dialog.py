"""The print dialog driven offscreen against DCMTK dcmprscp.

Oracle: what dcmprscp stored. The dialog's preview of each film is compared with a preview
composed from the stored Hardcopy Grayscale images (the printer's pixels, positions and
polarity), so what the user saw is what the printer got.
"""

from __future__ import annotations

import dataclasses
import socket
import threading

import numpy as np
import pytest
from pydicom import dcmread

from tests.helpers.peers import c_echo
from viewer.film.preview import render_preview
from viewer.film.profile import load_profiles
from viewer.film.spec import FilmSpec, ImageBoxSpec
from viewer.film.enums import Polarity

pytestmark = [pytest.mark.gui]


def ct_images(corpus, n):
    return [(str(p), 0) for p in sorted((corpus / "series" / "ct_stack_40").glob("*.dcm"))[:n]]


def make_dialog(qtbot, images, profile):
    from viewer.ui.print_dialog import PrintDialog

    dlg = PrintDialog(images, {profile.name: profile})
    qtbot.addWidget(dlg)
    dlg.show()
    return dlg


def stored_films(scp):
    hg = {}
    for f in scp.hardcopies():
        ds = dcmread(f)
        hg[ds.SOPInstanceUID] = ds
    out = []
    for f in sorted(scp.stored_prints(), key=lambda p: (p.stat().st_mtime_ns, p.name)):
        sp = dcmread(f)
        boxes = {}
        for ib in sp.ImageBoxContentSequence:
            img = hg[ib.ReferencedImageSequence[0].ReferencedSOPInstanceUID]
            dtype = np.uint16 if img.BitsAllocated == 16 else np.uint8
            px = np.frombuffer(img.PixelData, dtype=dtype).reshape(img.Rows, img.Columns)
            boxes[int(ib.ImageBoxPosition)] = ImageBoxSpec(px, bits=int(img.BitsStored),
                                                           polarity=Polarity(str(ib.Polarity)))
        out.append((sp.FilmBoxContentSequence[0], boxes))
    return out


@pytest.mark.peers
def test_dialog_prints_what_its_preview_shows(qtbot, print_scp, corpus, tmp_path):
    print_scp.clear()
    profile = dataclasses.replace(load_profiles()["dcmprscp-gray"], port=print_scp.port, ae_title=print_scp.aet)
    dlg = make_dialog(qtbot, ct_images(corpus, 5), profile)
    dlg.layout_combo.setCurrentText("STANDARD\\2,2")
    dlg.film_size_combo.setCurrentText("14INX17IN")
    dlg.border_combo.setCurrentText("WHITE")
    dlg.polarity_combo.setCurrentText("REVERSE")
    dlg.update_preview()
    films = dlg.films
    assert len(films) == 2 and dlg.print_button.isEnabled()
    previews = []
    for page in (1, 2):
        dlg.page_spin.setValue(page)
        previews.append(dlg.preview.pixels.copy())
    dlg.preview.grab().save(str(tmp_path / "preview.png"))  # the screenshot, kept for inspection

    jid = dlg.print_now()
    qtbot.waitUntil(lambda: jid in dlg.reports or jid in dlg.errors, timeout=60000)
    assert jid not in dlg.errors, dlg.errors.get(jid)
    assert "Done" in dlg.queue_list.item(0).text()
    assert "film 2: 1 image boxes, SENT" in dlg.status_view.toPlainText()

    stored = stored_films(print_scp)
    assert len(stored) == 2
    for preview, film, (fb, boxes) in zip(previews, films, stored):
        assert fb.ImageDisplayFormat == "STANDARD\\2,2" and fb.BorderDensity == "WHITE"
        printed = FilmSpec(box=film.box, images=[boxes.get(i + 1) for i in range(len(film.images))])
        expected, _ = render_preview(printed, dlg.preview.RESOLUTION)
        np.testing.assert_array_equal(preview, expected)
        assert all(b.polarity == Polarity.REVERSE for b in boxes.values())
    assert c_echo(print_scp.port, print_scp.aet) == 0


@pytest.mark.peers
def test_jobs_run_one_at_a_time_in_order(qtbot, print_scp, corpus):
    print_scp.clear()
    profile = dataclasses.replace(load_profiles()["dcmprscp-gray"], port=print_scp.port, ae_title=print_scp.aet)
    dlg = make_dialog(qtbot, ct_images(corpus, 2), profile)
    dlg.layout_combo.setCurrentText("STANDARD\\1,2")
    finished: list[int] = []
    dlg.queue.finished.connect(lambda j, ok, text: finished.append(j))
    ids = [dlg.print_now() for _ in range(3)]
    qtbot.waitUntil(lambda: len(finished) == 3, timeout=60000)
    assert finished == ids
    assert all(j in dlg.reports for j in ids)
    assert len(print_scp.stored_prints()) == 3


def test_silent_printer_fails_cleanly_without_freezing(qtbot, corpus):
    """A printer that accepts the TCP connection and never answers: bounded, clear, GUI alive."""
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(1)
    port = srv.getsockname()[1]
    conns = []
    threading.Thread(target=lambda: conns.append(srv.accept()), daemon=True).start()
    try:
        from viewer.film.profile import permissive_profile

        dlg = make_dialog(qtbot, ct_images(corpus, 1), permissive_profile("127.0.0.1", port, "SILENT"))
        dlg.timeout = 1.5
        ticks = []
        from PySide6.QtCore import QTimer

        timer = QTimer(dlg, interval=50)
        timer.timeout.connect(lambda: ticks.append(1))
        timer.start()
        jid = dlg.print_now()
        qtbot.waitUntil(lambda: jid in dlg.errors, timeout=20000)
        assert "SILENT@127.0.0.1" in dlg.errors[jid]
        assert len(ticks) >= 10  # the event loop kept running while the worker waited
        assert "Failed" in dlg.queue_list.item(0).text()
    finally:
        srv.close()
        for c, _ in conns:
            c.close()


def test_preview_follows_profile_limits(qtbot, corpus):
    profile = load_profiles()["dcmprscp-restricted"]
    dlg = make_dialog(qtbot, ct_images(corpus, 3), profile)
    assert [dlg.layout_combo.itemText(i) for i in range(dlg.layout_combo.count())] == ["STANDARD\\1,1"]
    assert not dlg.border_combo.isEnabled() and not dlg.trim_combo.isEnabled()
    dlg.update_preview()
    assert len(dlg.films) == 3
    dlg.layout_combo.setCurrentText("STANDARD\\2,2")
    dlg.update_preview()
    # The printer has no 2x2 layout: the preview shows what will print, its nearest layout, and says so.
    assert "has no layout STANDARD\\2,2: printing STANDARD\\1,1" in dlg.warning_label.text()
    assert len(dlg.films) == 3 and {f.box.display_format for f in dlg.films} == {"STANDARD\\1,1"}
    assert dlg.print_button.isEnabled()


def test_annotation_templates_filled_in_the_preview(qtbot, corpus):
    """Templates are filled from each film's first image (oracle: the file's own attributes)."""
    profile = load_profiles()["viewer-virtual-printer"]
    images = ct_images(corpus, 3)
    dlg = make_dialog(qtbot, images, profile)
    dlg.layout_combo.setCurrentText("STANDARD\\2,1")
    dlg.annotation_edits[0].setText("{patient} {page}/{pages}")
    dlg.update_preview()
    ds = dcmread(images[0][0], stop_before_pixels=True)
    name = " ".join(str(ds.PatientName).replace("^", " ").split())
    assert [f.annotations.get(1) for f in dlg.films] == [f"{name} 1/2", f"{name} 2/2"]
