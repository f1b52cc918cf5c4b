"""The PACS panel's "Send…" action: send files or a folder (an outside CD) to the selected
node, by C-STORE to a DIMSE node or STOW-RS to a DICOMweb node, with a progress row and
cancel. The work is :func:`viewer.tasks.send.send_paths` in a network worker.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any, Sequence

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import (QDialog, QDialogButtonBox, QFileDialog, QFormLayout, QGroupBox, QHBoxLayout,
                               QLabel, QLineEdit, QPushButton, QVBoxLayout, QWidget)

from viewer.ui.progress_row import ProgressRow

if TYPE_CHECKING:
    from viewer.tasks.send import Destination, SendStep
    from viewer.ui.workers import Worker

log = logging.getLogger(__name__)


class SendAction(QObject):
    """Send button and logic, attached to a :class:`viewer.ui.pacs_panel.PacsPanel`.

    Parameters
    ----------
    panel : PacsPanel
        Gives the current node, the local AE title, the worker start and the progress area.
    """

    #: a send ended: (summary text, ok)
    send_finished = Signal(str, bool)

    def __init__(self, panel: Any) -> None:
        super().__init__(panel)
        self.panel = panel
        self.button = QPushButton("Send…")
        self.button.setToolTip("Send a folder (e.g. an outside CD) to the selected node: "
                               "C-STORE, or STOW-RS for a DICOMweb node")
        self.button.clicked.connect(self.choose_and_send)
        #: Identity coercion for the next sends (viewer.tasks.send.IdentityCoercion) or None.
        self.coercion: Any = None
        #: The report of the last send that finished.
        self.last_report: Any = None

    def choose_and_send(self) -> None:
        """Ask for a folder and, optionally, a new patient identity; then send."""
        node = self.panel.current_node()
        if node is None:
            self.panel._set_status("no node to send to: add one first")
            return
        dlg = SendDialog(getattr(node, "name", str(node)), self.panel)
        if dlg.exec() and dlg.folder():
            self.coercion = dlg.coercion()
            self.send_paths([Path(dlg.folder())], node)

    def send_paths(self, paths: Sequence[Path], node: Destination | None = None) -> Worker | None:
        """Send ``paths`` to ``node`` (default: the panel's current node); returns the job."""
        from viewer.tasks.send import send_paths

        node = node if node is not None else self.panel.current_node()
        if node is None:
            self.panel._set_status("no node to send to: add one first")
            return None
        title = f"Send to {getattr(node, 'name', node)}"
        calling = self.panel.config.local.ae_title
        coerce = self.coercion
        rows: list[ProgressRow] = []
        errors: list[str] = []
        last: list[SendStep] = []

        def step(s: SendStep) -> None:
            last[:] = [s]
            row = rows[0]
            if s.report is None:
                row.bar.setRange(0, max(s.total, 1))
                row.bar.setValue(s.done)
                row.label.setText(f"{title}: {s.done}/{s.total}")

        def done() -> None:
            row = rows[0]
            row.cancel.setEnabled(False)
            report = last[0].report if last and last[0].report is not None else None
            self.last_report = report
            if errors:
                text, ok = f"{title}: {errors[0]}", False
            elif report is None:
                text, ok = f"{title}: nothing sent", False
            else:
                text = f"{title}: {report.summary()}"
                if report.error:
                    text += f" ({report.error})"
                ok = not (report.error or report.cancelled or report.failed)
                row.bar.setRange(0, 1)
                row.bar.setValue(1)
                for r in report.failed[:20]:
                    log.warning("not sent: %s: %s", r.item.path, r.message)
            row.label.setText(text)
            self.panel._set_status(text)
            self.send_finished.emit(text, ok)

        job = self.panel._start(lambda token: send_paths(node, list(paths), token=token, calling_aet=calling,
                                                         coerce=coerce),
                                on_item=step, on_error=errors.append, on_done=done)
        row = ProgressRow(title, job.cancel, self.panel)
        rows.append(row)
        self.panel.progress_box.addWidget(row)
        return job


class SendDialog(QDialog):
    """Folder to send and optional identity coercion for an outside study (IHE Import
    Reconciliation: the hospital's Patient ID and accession; the old ID is kept in
    Other Patient IDs Sequence)."""

    def __init__(self, node_name: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"Send to {node_name}")
        lay = QVBoxLayout(self)
        row = QHBoxLayout()
        self.folder_edit = QLineEdit()
        self.folder_edit.setPlaceholderText("folder or CD to send")
        browse = QPushButton("Browse…")
        browse.clicked.connect(self._browse)
        row.addWidget(QLabel("Folder"))
        row.addWidget(self.folder_edit, 1)
        row.addWidget(browse)
        lay.addLayout(row)
        self.coerce_box = QGroupBox("Replace patient identity (outside study)")
        self.coerce_box.setCheckable(True)
        self.coerce_box.setChecked(False)
        form = QFormLayout(self.coerce_box)
        self.patient_id, self.issuer, self.accession = QLineEdit(), QLineEdit(), QLineEdit()
        form.addRow("New Patient ID", self.patient_id)
        form.addRow("Issuer of Patient ID", self.issuer)
        form.addRow("New Accession Number", self.accession)
        lay.addWidget(self.coerce_box)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        lay.addWidget(buttons)

    def _browse(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Folder to send")
        if folder:
            self.folder_edit.setText(folder)

    def folder(self) -> str:
        return self.folder_edit.text().strip()

    def coercion(self) -> Any:
        """The :class:`viewer.tasks.send.IdentityCoercion` asked for, or None."""
        from viewer.tasks.send import IdentityCoercion

        if not self.coerce_box.isChecked():
            return None
        c = IdentityCoercion(self.patient_id.text().strip() or None, self.issuer.text().strip() or None,
                             self.accession.text().strip() or None)
        return c or None
