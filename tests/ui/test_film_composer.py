"""The film composer driven offscreen: drops, reorder, layouts, per-box window, templates, print.

Oracles: what DCMTK's dcmprscp stored (films, image boxes and their pixels, read back and
compared with our render pipeline's output for the same frame and window), the printer's
own layout list (AGFA emulation of DCMTK's printers.cfg), and the patient name written
in the test data (the annotation template's value, reaching the printer as the Film
Session Label since dcmprscp has no annotation boxes).
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from pydicom import dcmread
from PySide6.QtCore import QByteArray, QMimeData, QPointF, Qt
from PySide6.QtGui import QDropEvent

from tests.helpers.peers import c_echo
from tests.helpers.ui import open_and_wait
from viewer.film.profile import load_profiles
from viewer.tasks.print_render import render_for_print

pytestmark = [pytest.mark.gui, pytest.mark.peers]


def drop(canvas, box: int, mime: str, payload: str) -> None:
    """A QDropEvent on the centre of box ``box`` (film-local index), handed to the canvas's
    dropEvent (QApplication delivers drop events only during a real drag)."""
    data = QMimeData()
    data.setData(mime, QByteArray(payload.encode()))
    pos = canvas.box_rect(box).center()
    event = QDropEvent(QPointF(pos), Qt.DropAction.MoveAction, data, Qt.MouseButton.LeftButton,
                       Qt.KeyboardModifier.NoModifier)
    canvas.dragEnterEvent(event)  # a QDropEvent is what Qt passes to both
    assert event.isAccepted()
    canvas.dropEvent(event)


def test_compose_reorder_and_print(qtbot, window, print_scp_factory, corpus, tmp_path) -> None:
    from viewer.tasks.print_queue import JobStore
    from viewer.ui.film_composer import BOX_MIME, SERIES_MIME
    from viewer.ui.viewport_drag import VIEW_MIME
    from viewer.ui.panels import install_panels
    from viewer.ui.print_queue import PrintQueue, PrintQueueWindow

    scp = print_scp_factory("AGFA")
    scp.clear()
    panels = install_panels(window, tmp_path / "config")
    panels.print_queue = PrintQueue(JobStore(tmp_path / "queue.json"))
    folder = corpus / "series" / "ct_stack_40"
    open_and_wait(qtbot, window, folder)
    vp = window.viewport
    vp.set_invert(True)
    qtbot.wait(100)
    composer = panels.open_film_composer()
    qtbot.addWidget(composer)
    profile = dataclasses.replace(load_profiles()["agfa-drystar-emulation"], port=scp.port, ae_title=scp.aet)
    composer.profiles = {profile.name: profile}
    composer.printer_combo.clear()
    composer.printer_combo.addItems([profile.name])
    composer.auto_check.setChecked(True)

    composer.add_viewports_button.click()  # the image as the viewport shows it (inverted)
    composer.nth_spin.setValue(10)
    composer.add_nth_button.click()  # frames 1, 11, 21, 31
    assert composer.composition.images == 5
    assert composer.composition.layout == "STANDARD\\3,2"  # AGFA's smallest layout for 5 images
    # a series dragged from the browser onto box 2: its 40 images from there on
    uid = vp.state.series_uid or window._series_uid_of(vp)
    drop(composer.canvas, 1, SERIES_MIME, uid)
    assert composer.composition.images == 45
    composer.auto_check.setChecked(False)
    composer.layout_combo.setCurrentText("STANDARD\\4,4")
    assert composer.composition.films == 3
    # reorder: the first box (the inverted viewport image) dragged onto box 3
    first = composer.composition.boxes[0]
    drop(composer.canvas, 2, BOX_MIME, "0")
    assert composer.composition.boxes[2] == first and first.invert
    # remove the 40 dropped images again, keep 5; a window of its own for box 1
    for _ in range(40):
        composer.select_box(1)
        composer.remove_button.click()
    assert composer.composition.images == 5
    # an image dragged out of the viewport (Alt+drag), as shown, dropped on box 4: it replaces it
    vp.state.rotate(90)
    qtbot.wait(50)
    drop(composer.canvas, 3, VIEW_MIME, bytes(vp.view_mime_data().data(VIEW_MIME).data()).decode())
    dropped = composer.composition.boxes[3]
    assert dropped.rotation == 90 and dropped.invert and composer.composition.images == 5
    composer.select_box(0)
    composer.center_spin.setValue(100.0)
    composer.width_spin.setValue(300.0)
    composer.window_button.click()
    composer.select_box(4)
    composer.empty_button.click()
    assert composer.composition.images == 4 and composer.composition.films == 1
    composer.template_edits[0].setText("{patient}")
    composer.refresh()
    composer.grab().save(str(tmp_path / "composer.png"))

    asked = []
    composer.confirm = lambda text: asked.append(text) or True
    jid = composer.print_now()
    assert asked == []  # one film: no question
    assert panels.print_queue.wait(60000)
    job = panels.print_queue.store.get(jid)
    assert job.state == "done", job.summary()
    (sp,) = [dcmread(p) for p in scp.stored_prints()]
    assert sp.FilmBoxContentSequence[0].ImageDisplayFormat == "STANDARD\\4,4"
    hc = {dcmread(p).SOPInstanceUID: dcmread(p) for p in scp.hardcopies()}
    by_pos = {int(b.ImageBoxPosition): hc[b.ReferencedImageSequence[0].ReferencedSOPInstanceUID]
              for b in sp.ImageBoxContentSequence}
    assert sorted(by_pos) == [1, 2, 3, 4]  # box 5 was emptied
    boxes = composer.composition.boxes
    for pos, img in by_pos.items():
        expected = render_for_print(boxes[pos - 1], 12).pixels
        np.testing.assert_array_equal(img.pixel_array, expected)
    assert boxes[0].window == (100.0, 300.0)
    name = str(dcmread(boxes[0].path).PatientName).replace("^", " ").strip()
    assert name and name in scp.log_path.read_text(errors="replace")  # Film Session Label
    # more films than the threshold: the composer asks first, "no" prints nothing
    composer.add(composer.sources.current_series())
    composer.layout_combo.setCurrentText("STANDARD\\1,1")
    composer.confirm = lambda text: asked.append(text) or False
    assert composer.print_now() is None and "films" in asked[-1]
    queue_window = PrintQueueWindow(panels.print_queue)
    qtbot.addWidget(queue_window)
    queue_window.resize(720, 420)
    queue_window.show()
    queue_window.select(jid)
    queue_window.grab().save(str(tmp_path / "queue.png"))
    assert c_echo(scp.port, scp.aet) == 0
    panels.shutdown()


def test_two_studies_and_key_images_on_one_film(qtbot, window, print_scp_factory, corpus, tmp_path) -> None:
    """Series of two patients' studies (a DICOMDIR) dropped on one film, plus a flagged key image."""
    from viewer.tasks.print_queue import JobStore
    from viewer.ui.film_composer import SERIES_MIME
    from viewer.ui.panels import install_panels
    from viewer.ui.print_queue import PrintQueue

    scp = print_scp_factory("GRAY")
    scp.clear()
    panels = install_panels(window, tmp_path / "config")
    panels.print_queue = PrintQueue(JobStore(tmp_path / "queue.json"))
    open_and_wait(qtbot, window, corpus / "dicomdir_media" / "DICOMDIR")
    series = window.all_series()
    studies = {s.instances[0].study_instance_uid: s for s in series}
    assert len(studies) >= 2
    first, second = list(studies.values())[:2]
    vp = window.viewport
    window.key_images.toggle(vp)  # the image shown is a key image
    key = vp.state.current
    composer = panels.open_film_composer()
    qtbot.addWidget(composer)
    profile = dataclasses.replace(load_profiles()["dcmprscp-gray"], port=scp.port, ae_title=scp.aet)
    composer.profiles = {profile.name: profile}
    composer.printer_combo.clear()
    composer.printer_combo.addItems([profile.name])
    composer.layout_combo.setCurrentText("STANDARD\\4,4")
    drop(composer.canvas, 0, SERIES_MIME, first.series_instance_uid)
    n1 = composer.composition.images
    drop(composer.canvas, n1, SERIES_MIME, second.series_instance_uid)
    composer.add_keys_button.click()
    boxes = composer.composition.boxes
    assert boxes[-1].path == key.path and boxes[-1].frame == key.frame_index
    assert {dcmread(b.path, stop_before_pixels=True).StudyInstanceUID for b in boxes} >= {
        first.instances[0].study_instance_uid, second.instances[0].study_instance_uid}
    assert composer.composition.films == 1
    jid = composer.print_now()
    assert panels.print_queue.wait(60000)
    assert panels.print_queue.store.get(jid).state == "done"
    (sp,) = [dcmread(p) for p in scp.stored_prints()]
    hc = {dcmread(p).SOPInstanceUID: dcmread(p) for p in scp.hardcopies()}
    for item in sp.ImageBoxContentSequence:
        img = hc[item.ReferencedImageSequence[0].ReferencedSOPInstanceUID]
        ref = boxes[int(item.ImageBoxPosition) - 1]
        np.testing.assert_array_equal(img.pixel_array, render_for_print(ref, int(img.BitsStored)).pixels)
    assert len(sp.ImageBoxContentSequence) == len(boxes)
    panels.shutdown()
