"""Printers are added in a form, filled by "Test printer"; the dialog remembers printer and layout.

Oracle: the printer's own configuration (DCMTK printers.cfg AGFA emulation served by
dcmprscp: FilmSizeID 8INX10IN\\11INX14IN\\14INX14IN\\14INX17IN, PresentationLUTinFilmSession)
and the saved profile file read back by viewer.film.profile.
"""

from __future__ import annotations


import pytest
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication

from tests.helpers.peers import c_echo
from viewer.film.profile import load_profiles

pytestmark = [pytest.mark.gui, pytest.mark.peers]


def test_add_printer_with_test_printer_then_remembered(qtbot, print_scp_factory, corpus, tmp_path) -> None:
    from viewer.tasks.print_queue import JobStore
    from viewer.ui.print_dialog import PrintDialog
    from viewer.ui.print_queue import PrintQueue

    scp = print_scp_factory("AGFA")
    scp.clear()
    queue = PrintQueue(JobStore(tmp_path / "queue.json"))
    images = [(str(p), 0) for p in sorted((corpus / "series" / "ct_stack_40").glob("*.dcm"))[:2]]
    dlg = PrintDialog(images, queue=queue)
    qtbot.addWidget(dlg)
    dlg.show()
    shots = {}

    def drive_form() -> None:
        form = dlg.printer_form
        form.name_edit.setText("ward-agfa")
        form.host_edit.setText("127.0.0.1")
        form.port_spin.setValue(scp.port)
        form.aet_edit.setText(scp.aet)
        form.test_printer()
        qtbot.waitUntil(lambda: form.test_button.isEnabled(), timeout=60000)
        shots["form"] = form.grab()
        shots["sizes"] = form.list_edits["film_sizes"].text()
        shots["plut"] = form.plut_combo.currentText()
        shots["log"] = form.test_log.toPlainText()
        form.save()

    QTimer.singleShot(0, lambda: None)
    QTimer.singleShot(50, drive_form)
    dlg.add_printer()
    shots["form"].save(str(tmp_path / "printer-form.png"))
    assert shots["sizes"] == "8INX10IN; 11INX14IN; 14INX14IN; 14INX17IN"
    assert shots["plut"] == "film session"
    assert "N-DELETE Film Session: nothing was printed" in shots["log"]
    assert scp.stored_prints() == []
    saved = load_profiles()["ward-agfa"]
    assert saved.presentation_lut == "film_session" and saved.port == scp.port
    assert dlg.printer_combo.currentText() == "ward-agfa"
    dlg.layout_combo.setCurrentText("STANDARD\\2,1")
    jid = dlg.print_now()
    assert queue.wait(60000)
    assert queue.store.get(jid).state == "done"
    assert len(scp.stored_prints()) == 1
    dlg.close()
    again = PrintDialog(images, queue=queue)
    qtbot.addWidget(again)
    assert again.printer_combo.currentText() == "ward-agfa"
    assert again.layout_combo.currentText() == "STANDARD\\2,1"
    assert c_echo(scp.port, scp.aet) == 0
    QApplication.processEvents()
