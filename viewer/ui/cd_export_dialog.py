"""Export studies of the library to a CD or USB stick: a DICOM file set in a folder ready to burn.

The file set is the core's (:mod:`viewer.tasks.cd_export`: PS3.10 DICOMDIR, PS3.11 General
Purpose CD-R file IDs), optionally de-identified and optionally with the viewer itself and
a README so the receiving doctor can open it without installing anything. The export runs
in a worker with a busy bar and Cancel (a cancelled export leaves no partial folder).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtWidgets import (QCheckBox, QDialog, QDialogButtonBox, QFileDialog, QHBoxLayout, QLabel, QLineEdit,
                               QProgressBar, QPushButton, QVBoxLayout, QWidget)

from viewer.tasks.library_feed import CdOptions, CdReport
from viewer.ui.workers import Pools, Worker, message, run_in

if TYPE_CHECKING:
    from viewer.cancel import CancelToken
    from viewer.tasks.library_feed import LibraryService

log = logging.getLogger(__name__)


class CdExportDialog(QDialog):
    """Choose the folder and options, export, report (see the module's description)."""

    def __init__(self, library: "LibraryService", study_uids: list[str], pools: Pools,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.library = library
        self.study_uids = list(study_uids)
        self.pools = pools
        self.report: CdReport | None = None
        self.error = ""
        self._job: Worker | None = None
        self.setWindowTitle("Export to CD/USB")
        lay = QVBoxLayout(self)
        lay.addWidget(QLabel(f"{len(study_uids)} stud{'y' if len(study_uids) == 1 else 'ies'} as a DICOM file set "
                             "(DICOMDIR) in a new or empty folder, ready to burn or copy to a USB stick."))
        row = QHBoxLayout()
        self.folder = QLineEdit()
        self.folder.setPlaceholderText("Export folder (new or empty)")
        browse = QPushButton("Choose…")
        browse.clicked.connect(self._choose)
        row.addWidget(self.folder, 1)
        row.addWidget(browse)
        lay.addLayout(row)
        self.anonymize = QCheckBox("De-identify (PS3.15 basic profile; new UIDs, patient name ANONYMOUS)")
        self.with_viewer = QCheckBox("Add the viewer, with a README and autorun (opens without installing)")
        lay.addWidget(self.anonymize)
        lay.addWidget(self.with_viewer)
        self.progress = QProgressBar()
        self.progress.setVisible(False)
        lay.addWidget(self.progress)
        self.outcome = QLabel("")
        self.outcome.setWordWrap(True)
        lay.addWidget(self.outcome)
        self.buttons = QDialogButtonBox()
        self.export_button = self.buttons.addButton("Export", QDialogButtonBox.ButtonRole.AcceptRole)
        self.cancel_button = self.buttons.addButton(QDialogButtonBox.StandardButton.Cancel)
        self.export_button.clicked.connect(self.start)
        self.cancel_button.clicked.connect(self.cancel)
        lay.addWidget(self.buttons)

    def _choose(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Export folder (new or empty)")
        if folder:
            self.folder.setText(folder)

    def start(self) -> Worker | None:
        """Export into the chosen folder in a worker."""
        text = self.folder.text().strip()
        if not text:
            self.outcome.setText("Choose an export folder first.")
            return None
        out = Path(text)
        opts = CdOptions(anonymize=self.anonymize.isChecked(), with_viewer=self.with_viewer.isChecked())
        uids = list(self.study_uids)
        library = self.library

        def work(cancel: "CancelToken | None" = None) -> CdReport:
            return library.export_cd(uids, out, opts, cancel)

        self.report, self.error = None, ""
        self.export_button.setEnabled(False)
        self.progress.setRange(0, 0)
        self.progress.setVisible(True)
        self.outcome.setText(f"Exporting to {out}…")
        self._job = run_in(self.pools, self.pools.decode, work, pass_cancel=True, owner=self,
                           on_result=self._done, on_error=self._failed, on_finished=self._finished)
        return self._job

    def cancel(self) -> None:
        """Stop an export in progress (its folder is removed), or close the dialog."""
        if self._job is not None:
            self._job.cancel()
            self.outcome.setText("Cancelling…")
        else:
            self.reject()

    def _done(self, report: Any) -> None:
        self.report = report
        text = f"{len(report.written)} files written for {len(report.studies)} studies."
        if report.failed:
            text += f" {len(report.failed)} not written (first: {report.failed[0][0]}: {report.failed[0][1]})."
        if report.notes:
            text += " " + " ".join(report.notes)
        self.outcome.setText(text)

    def _failed(self, exc: BaseException) -> None:
        self.error = message(exc)
        self.outcome.setText(f"Not exported: {self.error}")

    def _finished(self) -> None:
        self._job = None
        self.progress.setVisible(False)
        self.export_button.setEnabled(True)
        self.cancel_button.setText("Close")
