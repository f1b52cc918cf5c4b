"""pytest-qt tests of the tag inspector (offscreen).

Oracles: pydicom's reading of the same file (which tags and values exist) and DCMTK
``dcmdump`` for the "copy as dcmdump line" text.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pydicom
import pytest
from PySide6.QtCore import QModelIndex
from PySide6.QtGui import QGuiApplication

from viewer.dicom.dump import NodeKind
from viewer.ui.tag_inspector import COL_TAG, COL_VALUE, TagInspector

pytestmark = pytest.mark.gui

CORPUS = Path(__file__).resolve().parents[1] / "data" / "corpus"
CT = CORPUS / "ct" / "CT_small.dcm"
DWI = CORPUS / "synthetic" / "enhanced_mr_diffusion_12f.dcm"


class _Inspector(TagInspector):
    """The inspector, with show_file waiting for the background read (the real signal)."""

    qtbot = None

    def show_file(self, path, frame_index=None, *, background=True):
        with self.qtbot.waitSignal(self.loaded, timeout=10000):
            super().show_file(path, frame_index, background=background)


@pytest.fixture
def inspector(qtbot) -> TagInspector:
    w = _Inspector()
    w.qtbot = qtbot
    qtbot.addWidget(w)
    w.resize(900, 600)
    return w


def test_show_file_reads_in_background_and_latest_wins(qtbot) -> None:
    w = TagInspector()
    qtbot.addWidget(w)
    with qtbot.waitSignal(w.loaded, timeout=10000, check_params_cb=lambda p: p == str(DWI)):
        w.show_file(CT)
        w.show_file(DWI)  # supersedes the first request
        assert "reading" in w.header_label.text()
    assert w.dataset is not None and w.dataset.SOPInstanceUID == pydicom.dcmread(DWI).SOPInstanceUID
    w.show_file(CT, background=False)  # synchronous path
    assert w.dataset.SOPInstanceUID == pydicom.dcmread(CT).SOPInstanceUID


def top_rows(w: TagInspector) -> list[tuple[str, str]]:
    m = w.model
    return [(m.index(r, COL_TAG).data(), m.index(r, COL_VALUE).data()) for r in range(m.rowCount())]


def all_rows(model, parent=None) -> list:
    parent = QModelIndex() if parent is None else parent
    out = []
    for r in range(model.rowCount(parent)):
        idx = model.index(r, 0, parent)
        out.append(model.node(idx))
        out.extend(all_rows(model, idx))
    return out


def test_shows_every_top_level_element(inspector: TagInspector) -> None:
    inspector.show_file(CT)
    ds = pydicom.dcmread(CT)
    expected = [f"({int(t) >> 16:04x},{int(t) & 0xFFFF:04x})" for t in list(ds.file_meta.keys()) + list(ds.keys())]
    assert [tag for tag, _ in top_rows(inspector)] == expected
    inspector.meta_check.setChecked(False)
    assert [tag for tag, _ in top_rows(inspector)] == expected[len(ds.file_meta):]


@pytest.mark.parametrize("text", ["0008,0060", "(0008,0060)", "00080060"])
def test_search_by_tag_narrows_to_one_row(inspector: TagInspector, text: str) -> None:
    inspector.show_file(CT)
    before = inspector.model.rowCount()
    inspector.set_search(text)
    assert top_rows(inspector) == [("(0008,0060)", pydicom.dcmread(CT).Modality)]
    assert before > 1
    inspector.set_search("")
    assert inspector.model.rowCount() == before


def test_search_by_keyword_substring_and_typing(inspector: TagInspector, qtbot) -> None:
    inspector.show_file(CT)
    ds = pydicom.dcmread(CT)
    qtbot.keyClicks(inspector.search_box, "modalit")
    # Filtering waits for a short pause in typing.
    qtbot.waitUntil(lambda: inspector.model.visible_count() is not None, timeout=2000)
    shown = [n for n in all_rows(inspector.model) if n.kind is not NodeKind.ITEM]
    expected = {e.keyword for e in ds.iterall() if "modalit" in e.keyword.lower()}
    assert expected and {n.keyword for n in shown} >= expected
    assert all("modalit" in (n.keyword + n.name + n.value).lower() or n.kind is NodeKind.SEQUENCE for n in shown)


def test_search_by_value_finds_nested(inspector: TagInspector) -> None:
    inspector.show_file(CT)
    ds = pydicom.dcmread(CT)
    nested = ds.OtherPatientIDsSequence[1].PatientID
    inspector.set_search(nested)
    rows = all_rows(inspector.model)
    hits = [n for n in rows if n.value == nested]
    assert len(hits) == 1 and hits[0].parent.parent.keyword == "OtherPatientIDsSequence"


def test_hide_private_and_empty(inspector: TagInspector) -> None:
    inspector.show_file(CT)
    assert any(n.group % 2 for n in inspector.model.roots)
    inspector.private_check.setChecked(True)
    inspector.empty_check.setChecked(True)
    rows = all_rows(inspector.model)
    assert rows and not any(n.is_private for n in rows)
    assert not any(n.is_empty for n in rows)


def _select(w: TagInspector, tag: int) -> None:
    node = next(n for n in w.model.roots if n.tag == tag)
    assert w.select_node(node)


def test_copy_value_tag_and_dcmdump_line(inspector: TagInspector) -> None:
    inspector.show_file(CT)
    ds = pydicom.dcmread(CT)
    clipboard = QGuiApplication.clipboard()
    _select(inspector, 0x00100010)
    inspector.copy_value_action.trigger()
    assert clipboard.text() == str(ds.PatientName)
    inspector.copy_tag_action.trigger()
    assert clipboard.text() == "(0010,0010)"


def test_copy_dcmdump_line_matches_dcmdump(inspector: TagInspector) -> None:
    from tests.helpers.peers import require_program

    exe = require_program("dcmdump", "dcmtk")
    inspector.show_file(CT)
    clipboard = QGuiApplication.clipboard()
    for tag, key in ((0x00100010, "0010,0010"), (0x00280010, "0028,0010"), (0x00080008, "0008,0008")):
        _select(inspector, tag)
        inspector.copy_line_action.trigger()
        oracle = subprocess.run([exe, "-Un", "+P", key, str(CT)], capture_output=True, text=True, timeout=30)
        assert re.sub(r"\s+", " ", clipboard.text()) == re.sub(r"\s+", " ", oracle.stdout.strip())


def test_frame_change_updates_per_frame_view(inspector: TagInspector) -> None:
    ds = pydicom.dcmread(DWI)
    inspector.show_file(DWI, frame_index=0)
    assert inspector.frame_panel.isVisibleTo(inspector)
    for frame in (0, 5, 7, 11):
        inspector.set_frame(frame)
        diff = ds.PerFrameFunctionalGroupsSequence[frame].MRDiffusionSequence[0]
        assert inspector.frame_text.startswith(f"Frame {frame + 1} of {ds.NumberOfFrames}")
        assert f"b = {diff.DiffusionBValue:g} s/mm" in inspector.frame_text
        assert diff.DiffusionDirectionality in inspector.frame_text
        rows = all_rows(inspector.frame_model)
        shown_b = [n.value for n in rows if n.tag == 0x00189087]
        assert shown_b == [f"{diff.DiffusionBValue:g}"]
        pos = [n.value for n in rows if n.tag == 0x00200032]
        assert pos == ["\\".join(str(v) for v in
                                 ds.PerFrameFunctionalGroupsSequence[frame].PlanePositionSequence[0]
                                 .ImagePositionPatient)]
        if "DiffusionGradientDirectionSequence" in diff:
            g = diff.DiffusionGradientDirectionSequence[0].DiffusionGradientOrientation
            assert "gradient (" + ", ".join(f"{float(v):g}" for v in g) + ")" in inspector.frame_text


def test_single_frame_file_has_no_frame_panel(inspector: TagInspector) -> None:
    inspector.show_file(CT, frame_index=0)
    assert not inspector.frame_panel.isVisibleTo(inspector)


@pytest.mark.parametrize("name", ["zero_bytes.dcm", "not_dicom.png", "MR_truncated.dcm"])
def test_broken_files_show_a_message(inspector: TagInspector, name: str) -> None:
    inspector.show_file(CORPUS / "broken" / name)
    text = inspector.header_label.text()
    assert name in text
    if name == "MR_truncated.dcm":
        assert "reading stopped" in text and inspector.model.rowCount() > 0
    else:
        assert inspector.model.rowCount() == 0


def test_expand_collapse_and_lazy_children(inspector: TagInspector) -> None:
    # (show_file in the background decodes ahead in the reader thread; show_dataset does not.)
    inspector.show_dataset(pydicom.dcmread(DWI))
    seq = next(n for n in inspector.model.roots if n.keyword == "PerFrameFunctionalGroupsSequence")
    assert seq._children is None  # nothing built before the row is expanded
    inspector.expand_all()
    assert seq._children is not None
    idx = inspector.model.index_of(seq)
    assert inspector.tree.isExpanded(idx)
    inspector.collapse_all()
    assert not inspector.tree.isExpanded(idx)


def test_tooltip_shows_group_and_pn_components(inspector: TagInspector) -> None:
    from PySide6.QtCore import Qt

    path = CORPUS / "charset" / "chrH31.dcm"
    inspector.show_file(path)
    pn = pydicom.dcmread(path).PatientName
    node = next(n for n in inspector.model.roots if n.tag == 0x00100010)
    tip = inspector.model.index_of(node).data(Qt.ItemDataRole.ToolTipRole)
    assert "Group 0010: Patient" in tip
    family, given = pn.ideographic.split("^")[:2]
    assert f"Ideographic: family {family!r}, given {given!r}" in tip


def test_copy_shortcuts(inspector: TagInspector, qtbot) -> None:
    from PySide6.QtCore import Qt

    inspector.show_file(CT)
    inspector.show()
    inspector.activateWindow()
    qtbot.waitActive(inspector)
    _select(inspector, 0x00080060)
    inspector.tree.setFocus()
    clipboard = QGuiApplication.clipboard()
    clipboard.clear()
    qtbot.keyClick(inspector.tree, Qt.Key.Key_C,
                   Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    assert clipboard.text() == "(0008,0060)"
    qtbot.keyClick(inspector.tree, Qt.Key.Key_C, Qt.KeyboardModifier.ControlModifier)
    assert clipboard.text() == pydicom.dcmread(CT).Modality
