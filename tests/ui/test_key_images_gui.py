"""Key images in the real main window.

A folder holds a CT series of four images and a KO document written by highdicom (a
writer we did not write) naming images 2 and 4: the browser lists it as "Key images" and
selecting it shows exactly those two images. Flagging images with the K key and saving
writes a KO (with a GSPS of the view) that ``dsrdump`` reads and that the browser of a new
window lists again with the same images.
"""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from pydicom import dcmread
from pydicom.dataset import Dataset
from pydicom.uid import generate_uid
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

from tests.helpers.ct import ct_dataset
from tests.helpers.peers import require_program
from tests.helpers.ui import new_main_window, open_and_wait
from viewer.dicom.ko import KO_SOP_CLASS, read_key_objects

pytestmark = pytest.mark.gui

SIZE = 48


def _study(folder: Path) -> list[Dataset]:
    study, series = generate_uid(), generate_uid()
    yy, xx = np.mgrid[0:SIZE, 0:SIZE]
    out = []
    for i in range(4):
        ds = ct_dataset(generate_uid(), study, series, size=8)
        ds.Rows = ds.Columns = SIZE
        ds.PixelData = ((xx * 20 + yy * 10 + i * 400) % 3000).astype("<u2").tobytes()
        ds.RescaleIntercept, ds.RescaleSlope = -1024, 1
        ds.WindowCenter, ds.WindowWidth = 40, 1000
        ds.PatientName, ds.StudyDate, ds.StudyTime, ds.SeriesNumber, ds.InstanceNumber = \
            "Key^Gui", "20260101", "090000", 1, i + 1
        ds.AccessionNumber, ds.ReferringPhysicianName, ds.StudyID = "", "", "1"
        ds.PatientBirthDate, ds.PatientSex = "", ""
        ds.ImagePositionPatient, ds.ImageOrientationPatient = [0, 0, i * 3.0], [1, 0, 0, 0, 1, 0]
        ds.PixelSpacing = [0.8, 0.8]
        ds.save_as(folder / f"ct{i}.dcm", enforce_file_format=True)
        out.append(ds)
    return out


def _highdicom_ko(images: list[Dataset], path: Path) -> None:
    hd = pytest.importorskip("highdicom")
    from highdicom.ko import KeyObjectSelection, KeyObjectSelectionDocument
    from pydicom.sr.coding import Code

    content = KeyObjectSelection(document_title=Code("113000", "DCM", "Of Interest"),
                                 referenced_objects=[images[1], images[3]], description="from elsewhere")
    doc = KeyObjectSelectionDocument(evidence=images, content=content, series_instance_uid=hd.UID(), series_number=50,
                                     sop_instance_uid=hd.UID(), instance_number=1, manufacturer="other")
    doc.save_as(path, enforce_file_format=True)


def _key_series_item(window: Any) -> Any:
    for item in window.browser.series_items():
        if item.text(0).split(" ", 1)[-1].startswith("Key images"):
            return item
    return None


def test_ko_series_is_listed_and_shows_its_images(qtbot, window, tmp_path) -> None:
    folder = tmp_path / "study"
    folder.mkdir()
    images = _study(folder)
    _highdicom_ko(images, folder / "ko.dcm")
    open_and_wait(qtbot, window, folder)
    vp = window.viewport
    assert vp.state.count == 4  # the CT series first
    item = _key_series_item(window)
    assert item is not None
    window.browser.select_series(next(s.series_instance_uid for s in window.all_series() if s.modality == "KO"))
    qtbot.waitUntil(lambda: vp.state.count == 2, timeout=5000)
    assert [r.sop_instance_uid for r in vp.state.frames] == [str(images[1].SOPInstanceUID),
                                                             str(images[3].SOPInstanceUID)]
    qtbot.waitUntil(lambda: vp.current is not None and vp.current.ref.sop_instance_uid == str(images[1].SOPInstanceUID),
                    timeout=5000)
    assert vp.state.note == "Key images: Of Interest, from elsewhere"
    qtbot.wait(100)
    window.grab().save("/tmp/shot_key_images.png")


def test_flag_save_and_reopen_key_images(qtbot, window, tmp_path) -> None:
    folder = tmp_path / "study"
    folder.mkdir()
    images = _study(folder)
    open_and_wait(qtbot, window, folder)
    vp = window.viewport
    uids = [r.sop_instance_uid for r in vp.state.frames]
    for uid in (str(images[2].SOPInstanceUID), str(images[0].SOPInstanceUID)):
        vp.state.set_index(uids.index(uid))
        qtbot.waitUntil(lambda u=uid: vp.current is not None and vp.current.ref.sop_instance_uid == u, timeout=5000)
        vp.setFocus()
        QTest.keyClick(vp, Qt.Key.Key_K)
        assert window.key_images.is_key(vp)
        assert window.key_images.flag_action.isChecked()
    QTest.keyClick(vp, Qt.Key.Key_K)  # unflag, then flag again: the order stays the flag order
    assert not window.key_images.is_key(vp)
    QTest.keyClick(vp, Qt.Key.Key_K)
    vp.state.set_window(50, 500, "mine")
    path = window.key_images.save(vp, "113004", "teaching file")
    assert path is not None and path.parent == folder
    ko = read_key_objects(dcmread(path))
    assert ko.title == ("113004", "DCM", "For Teaching") and ko.description == "teaching file"
    assert [i.sop_instance_uid for i in ko.images] == [str(images[2].SOPInstanceUID), str(images[0].SOPInstanceUID)]
    pstate_files = [p for p in folder.glob("PR_*.dcm")]
    assert len(pstate_files) == 1
    assert ko.images[1].pstate_uid == str(dcmread(pstate_files[0]).SOPInstanceUID)  # the image shown
    assert ko.images[0].pstate_uid == ""  # the GSPS does not reference the other one
    assert not window.key_images.flagged  # saved: flags cleared
    qtbot.waitUntil(lambda: _key_series_item(window) is not None, timeout=5000)  # listed at once
    require_program("dsrdump", "dcmtk")
    run = subprocess.run(["dsrdump", "+Pu", str(path)], capture_output=True, text=True)
    assert run.returncode == 0 and "For Teaching" in run.stdout and str(images[2].SOPInstanceUID) in run.stdout

    other = new_main_window(qtbot, tmp_path / "s2.ini")
    try:
        open_and_wait(qtbot, other, folder)
        assert _key_series_item(other) is not None
        ko_series = next(s for s in other.all_series() if s.modality == "KO")
        other.browser.select_series(ko_series.series_instance_uid)
        vp2 = other.viewport
        qtbot.waitUntil(lambda: vp2.state.count == 2, timeout=5000)
        assert [r.sop_instance_uid for r in vp2.state.frames] == [str(images[2].SOPInstanceUID),
                                                                  str(images[0].SOPInstanceUID)]
        assert all(str(i.sop_class_uid) == KO_SOP_CLASS for i in ko_series.instances)
    finally:
        other.shutdown()


def test_save_key_images_from_the_menu_asks_title_and_text(qtbot, window, tmp_path, monkeypatch) -> None:
    from PySide6.QtWidgets import QInputDialog

    folder = tmp_path / "study"
    folder.mkdir()
    images = _study(folder)
    open_and_wait(qtbot, window, folder)
    asked: list[list[str]] = []

    def get_item(_parent, _title, _label, items, *_a, **_k):
        asked.append(list(items))
        return next(i for i in items if i.startswith("For Conference")), True

    monkeypatch.setattr(QInputDialog, "getItem", staticmethod(get_item))
    monkeypatch.setattr(QInputDialog, "getText", staticmethod(lambda *a, **k: ("tumour board", True)))
    window.key_images.save_action.trigger()  # nothing flagged: the image shown
    assert asked and asked[0][0] == "Of Interest (113000)"
    path = window.key_images.last_saved
    assert path is not None
    ko = read_key_objects(dcmread(path))
    assert ko.title == ("113005", "DCM", "For Conference") and ko.description == "tumour board"
    assert [i.sop_instance_uid for i in ko.images] == [window.viewport.state.current.sop_instance_uid]
    assert ko.images[0].sop_instance_uid in {str(d.SOPInstanceUID) for d in images}
