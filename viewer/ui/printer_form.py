"""A form to add or edit a DICOM printer (no JSON to write), with a "Test printer" button.

The form edits a printer profile as the plain dict of
:meth:`viewer.film.profile.PrinterProfile.to_dict` and saves it through
:func:`viewer.tasks.print_preview.save_printer_profile`; "Test printer" runs
:func:`viewer.tasks.print_probe.probe_printer_dict` in a worker (echo, capability probe,
N-GET Printer, film session and film boxes created and deleted without printing) and fills
the form with what the printer accepts.

Lists are typed separated by semicolons; an empty field means "unknown: send what the
user asks", ``none`` means "the printer does not support this attribute".
"""

from __future__ import annotations

import logging
from typing import Any

from PySide6.QtCore import QThreadPool
from PySide6.QtWidgets import (QCheckBox, QComboBox, QDialog, QDialogButtonBox, QFormLayout, QHBoxLayout, QLabel,
                               QLineEdit, QMessageBox, QPlainTextEdit, QPushButton, QSpinBox, QVBoxLayout, QWidget)

from viewer.errors import ViewerError
from viewer.tasks.print_preview import save_printer_profile
from viewer.tasks.print_probe import probe_printer_dict
from viewer.ui.workers import Worker, connect, launch, message

log = logging.getLogger(__name__)

#: (profile key, label) of the list fields
LISTS = (("display_formats", "Layouts (C,R)"), ("film_sizes", "Film sizes"), ("medium_types", "Medium types"),
         ("film_destinations", "Film destinations"), ("magnification_types", "Magnification"),
         ("smoothing_types", "Smoothing"), ("border_densities", "Border densities"),
         ("empty_image_densities", "Empty image densities"), ("resolution_ids", "Resolution IDs"),
         ("configuration_information", "Configuration information"),
         ("annotation_display_formats", "Annotation formats"))
_PLUT = (("film box", "film_box"), ("film session", "film_session"), ("none", None))
_TRISTATE = (("unknown (try, adapt on refusal)", None), ("yes", True), ("no", False))


def list_text(value: list[str] | None) -> str:
    """A profile list as the form shows it."""
    if value is None:
        return ""
    return "none" if not value else "; ".join(value)


def parse_list(text: str) -> list[str] | None:
    """The form's text as a profile list (see the module docstring)."""
    text = text.strip()
    if not text:
        return None
    if text.lower() == "none":
        return []
    return [p.strip() for p in text.split(";") if p.strip()]


class PrinterForm(QDialog):
    """Add or edit one printer.

    Parameters
    ----------
    data : dict, optional
        The profile to edit (``PrinterProfile.to_dict()``); None: a new printer.
    """

    def __init__(self, data: dict[str, Any] | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Printer" if data else "Add printer")
        self.data: dict[str, Any] = dict(data or {"name": "", "ae_title": "", "host": "", "port": 104,
                                                  "calling_ae_title": "VIEWER", "annotation_display_formats": None})
        self.saved_path: str = ""
        self.pool = QThreadPool(self)
        self.pool.setMaxThreadCount(1)
        self._worker: Worker | None = None
        self.name_edit = QLineEdit()
        self.description_edit = QLineEdit()
        self.host_edit = QLineEdit()
        self.port_spin = QSpinBox(minimum=1, maximum=65535)
        self.aet_edit = QLineEdit()
        self.calling_edit = QLineEdit()
        self.grayscale_check = QCheckBox("Grayscale (Basic Grayscale Print)")
        self.color_check = QCheckBox("Color (Basic Color Print)")
        self.bits_check = QCheckBox("12-bit image boxes")
        self.plut_combo = QComboBox()
        for text, _ in _PLUT:
            self.plut_combo.addItem(text)
        self.par_combo = QComboBox()
        for text, _ in _TRISTATE:
            self.par_combo.addItem(text)
        self.size_check = QCheckBox("Requested Image Size (true size)")
        self.trim_check = QCheckBox("Trim")
        self.min_spin = QSpinBox(minimum=0, maximum=500)
        self.max_spin = QSpinBox(minimum=0, maximum=500)
        for spin in (self.min_spin, self.max_spin):
            spin.setSpecialValueText("unknown")
        self.list_edits = {key: QLineEdit() for key, _ in LISTS}
        for e in self.list_edits.values():
            e.setPlaceholderText("unknown (send as asked); 'none' = not supported")
        self.tls_check = QCheckBox("TLS")
        self.tls_ca_edit, self.tls_cert_edit, self.tls_key_edit = QLineEdit(), QLineEdit(), QLineEdit()
        self.test_button = QPushButton("Test printer")
        self.test_button.setToolTip("Echo, capability probe, N-GET Printer, film session created and deleted "
                                    "without printing: fills this form")
        self.test_button.clicked.connect(self.test_printer)
        self.test_log = QPlainTextEdit(readOnly=True)
        self.test_log.setMaximumHeight(140)
        self.status = QLabel()

        form = QFormLayout()
        form.addRow("Name", self.name_edit)
        form.addRow("Description", self.description_edit)
        form.addRow("Host", self.host_edit)
        form.addRow("Port", self.port_spin)
        form.addRow("Called AE title", self.aet_edit)
        form.addRow("Our AE title", self.calling_edit)
        kinds = QHBoxLayout()
        kinds.addWidget(self.grayscale_check)
        kinds.addWidget(self.color_check)
        form.addRow("Printer", kinds)
        form.addRow("Presentation LUT", self.plut_combo)
        form.addRow("Pixel Aspect Ratio", self.par_combo)
        flags = QHBoxLayout()
        for w in (self.bits_check, self.size_check, self.trim_check):
            flags.addWidget(w)
        form.addRow("Accepts", flags)
        dens = QHBoxLayout()
        dens.addWidget(QLabel("min"))
        dens.addWidget(self.min_spin)
        dens.addWidget(QLabel("max"))
        dens.addWidget(self.max_spin)
        form.addRow("Density (1/100 OD)", dens)
        for key, label in LISTS:
            form.addRow(label, self.list_edits[key])
        tls = QHBoxLayout()
        tls.addWidget(self.tls_check)
        for edit, hint in ((self.tls_ca_edit, "CA file"), (self.tls_cert_edit, "certificate"),
                           (self.tls_key_edit, "key")):
            edit.setPlaceholderText(hint)
            tls.addWidget(edit)
        form.addRow("TLS", tls)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel)
        buttons.addButton(self.test_button, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.accepted.connect(self.save)
        buttons.rejected.connect(self.reject)
        lay = QVBoxLayout(self)
        lay.addLayout(form)
        lay.addWidget(self.test_log)
        lay.addWidget(self.status)
        lay.addWidget(buttons)
        self.fill(self.data)

    # ------------------------------------------------------------------ data
    def fill(self, d: dict[str, Any]) -> None:
        """Show the profile ``d`` in the form."""
        self.name_edit.setText(str(d.get("name", "")))
        self.description_edit.setText(str(d.get("description", "") or ""))
        self.host_edit.setText(str(d.get("host", "")))
        self.port_spin.setValue(int(d.get("port", 104) or 104))
        self.aet_edit.setText(str(d.get("ae_title", "")))
        self.calling_edit.setText(str(d.get("calling_ae_title", "VIEWER")))
        self.grayscale_check.setChecked(bool(d.get("grayscale", True)))
        self.color_check.setChecked(bool(d.get("color", False)))
        self.bits_check.setChecked(bool(d.get("supports_12_bit", True)))
        self.plut_combo.setCurrentIndex([v for _, v in _PLUT].index(d.get("presentation_lut", "film_box")))
        self.par_combo.setCurrentIndex([v for _, v in _TRISTATE].index(d.get("supports_pixel_aspect_ratio")))
        self.size_check.setChecked(bool(d.get("supports_requested_image_size", False)))
        self.trim_check.setChecked(bool(d.get("supports_trim", True)))
        self.min_spin.setValue(int(d.get("min_density") or 0))
        self.max_spin.setValue(int(d.get("max_density") or 0))
        for key, _ in LISTS:
            self.list_edits[key].setText(list_text(d.get(key, None if key != "annotation_display_formats" else [])))
        self.tls_check.setChecked(bool(d.get("tls", False)))
        self.tls_ca_edit.setText(str(d.get("tls_ca_file", "") or ""))
        self.tls_cert_edit.setText(str(d.get("tls_cert_file", "") or ""))
        self.tls_key_edit.setText(str(d.get("tls_key_file", "") or ""))

    def values(self) -> dict[str, Any]:
        """The profile the form shows, as a dict (other keys of the edited profile kept)."""
        d = dict(self.data)
        d.update(name=self.name_edit.text().strip(), description=self.description_edit.text().strip(),
                 host=self.host_edit.text().strip(), port=self.port_spin.value(),
                 ae_title=self.aet_edit.text().strip(), calling_ae_title=self.calling_edit.text().strip() or "VIEWER",
                 grayscale=self.grayscale_check.isChecked(), color=self.color_check.isChecked(),
                 supports_12_bit=self.bits_check.isChecked(),
                 presentation_lut=_PLUT[self.plut_combo.currentIndex()][1],
                 supports_pixel_aspect_ratio=_TRISTATE[self.par_combo.currentIndex()][1],
                 supports_requested_image_size=self.size_check.isChecked(),
                 supports_decimate_crop=bool(d.get("supports_decimate_crop")) and self.size_check.isChecked(),
                 supports_trim=self.trim_check.isChecked(),
                 min_density=self.min_spin.value() or None, max_density=self.max_spin.value() or None,
                 tls=self.tls_check.isChecked(), tls_ca_file=self.tls_ca_edit.text().strip(),
                 tls_cert_file=self.tls_cert_edit.text().strip(), tls_key_file=self.tls_key_edit.text().strip())
        for key, _ in LISTS:
            d[key] = parse_list(self.list_edits[key].text())
        if d["annotation_display_formats"]:
            d["annotation_positions"] = max(int(d.get("annotation_positions") or 0), 1)
        return d

    # ------------------------------------------------------------------ actions
    def save(self) -> None:
        """Check and save the profile in the user's printer folder; close on success."""
        d = self.values()
        if not d["name"] or not d["ae_title"] or not d["host"]:
            QMessageBox.warning(self, "Printer", "Name, host and called AE title are needed.")
            return
        try:
            _, path = save_printer_profile(d)
        except (ValueError, TypeError, ViewerError, OSError) as exc:
            QMessageBox.warning(self, "Printer", f"Not saved: {exc}")
            return
        self.data = d
        self.saved_path = str(path)
        self.accept()

    def test_printer(self) -> None:
        """Run "Test printer" in a worker; the form is filled with what the printer accepts."""
        d = self.values()
        if not d["ae_title"] or not d["host"]:
            self.status.setText("Host and called AE title are needed to test the printer.")
            return
        if not d["name"]:
            d["name"] = f"{d['ae_title']}@{d['host']}"
        self.test_button.setEnabled(False)
        self.status.setText(f"testing {d['ae_title']}@{d['host']}:{d['port']}…")
        self.test_log.clear()
        worker = Worker(probe_printer_dict, d, pass_cancel="cancel")
        connect(worker, self, on_result=self._tested, on_error=lambda exc: self._test_failed(message(exc)),
                on_finished=lambda: self.test_button.setEnabled(True))
        self._worker = worker
        launch(self.pool, worker)

    def _tested(self, result: tuple[dict[str, Any], list[str], bool]) -> None:
        found, lines, ok = result
        self.test_log.setPlainText("\n".join(lines))
        if ok:
            keep = {"name": self.name_edit.text().strip() or found["name"]}
            self.fill(found | keep)
            self.status.setText("The form shows what the printer accepts. Save to keep it.")
        else:
            self.status.setText("The printer could not be tested (see above); nothing was changed.")

    def _test_failed(self, text: str) -> None:
        self.test_log.setPlainText(text)
        self.status.setText("Test failed.")

    def done(self, result: int) -> None:  # QDialog API: stop a test still running
        if self._worker is not None:
            self._worker.cancel()
        self.pool.waitForDone(5000)
        super().done(result)
