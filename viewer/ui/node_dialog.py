"""Dialogs to edit a remote DIMSE node and the local AE (values checked by :mod:`viewer.config`)."""

from __future__ import annotations

import logging

from PySide6.QtWidgets import (QCheckBox, QComboBox, QDialog, QDialogButtonBox, QDoubleSpinBox, QFormLayout,
                               QLineEdit, QMessageBox, QSpinBox, QWidget)

from viewer.config import DimseNode, LocalAE, Timeouts, TlsOptions
from viewer.errors import UsageError

log = logging.getLogger(__name__)


class NodeDialog(QDialog):
    """Edit (or create, with ``node=None``) one remote node; :meth:`node` gives the result."""

    def __init__(self, node: DimseNode | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("DICOM node")
        node = node or DimseNode("New node", "ANY-SCP", "127.0.0.1", 104)
        form = QFormLayout(self)
        self.name = QLineEdit(node.name)
        self.ae_title = QLineEdit(node.ae_title)
        self.ae_title.setMaxLength(16)  # PS3.5 6.2, AE VR
        self.host = QLineEdit(node.host)
        self.port = QSpinBox()
        self.port.setRange(1, 65535)
        self.port.setValue(node.port)
        self.timeout = QDoubleSpinBox()
        self.timeout.setRange(1, 3600)
        self.timeout.setSuffix(" s")
        self.timeout.setValue(node.timeouts.dimse)
        self.retrieve = QComboBox()
        self.retrieve.addItems(["move", "get"])
        self.retrieve.setCurrentText(node.retrieve)
        self.tls = QCheckBox("Use TLS")
        self.tls.setChecked(node.tls is not None)
        tls = node.tls or TlsOptions()
        self.ca_file, self.cert_file, self.key_file = (QLineEdit(tls.ca_file), QLineEdit(tls.cert_file),
                                                       QLineEdit(tls.key_file))
        for label, w in (("Name", self.name), ("AE title", self.ae_title), ("Host", self.host), ("Port", self.port),
                         ("Timeout", self.timeout), ("Retrieve with", self.retrieve), ("", self.tls),
                         ("CA certificates", self.ca_file), ("Client certificate", self.cert_file),
                         ("Client key", self.key_file)):
            form.addRow(label, w)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self._accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)
        self._result: DimseNode | None = None

    def _build(self) -> DimseNode:
        t = self.timeout.value()
        tls = TlsOptions(self.ca_file.text(), self.cert_file.text(), self.key_file.text()) \
            if self.tls.isChecked() else None
        return DimseNode(self.name.text().strip(), self.ae_title.text(), self.host.text().strip(), self.port.value(),
                         timeouts=Timeouts(min(t, 10.0), t, t, max(t, 60.0)), tls=tls,
                         retrieve=self.retrieve.currentText()).validate()

    def _accept(self) -> None:
        try:
            self._result = self._build()
        except UsageError as exc:
            QMessageBox.warning(self, "Invalid node", str(exc))
            return
        self.accept()

    def node(self) -> DimseNode | None:
        """The edited node after ``exec()`` returned Accepted, else None."""
        return self._result


class LocalAeDialog(QDialog):
    """Edit our own AE title, storage port and calling-AE policy."""

    def __init__(self, local: LocalAE, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Local AE")
        form = QFormLayout(self)
        self.ae_title = QLineEdit(local.ae_title)
        self.ae_title.setMaxLength(16)
        self.port = QSpinBox()
        self.port.setRange(1, 65535)
        self.port.setValue(local.store_port)
        self.accept_any = QCheckBox("Accept C-STORE from any calling AE")
        self.accept_any.setChecked(local.accept_any_calling)
        self.store_dir = QLineEdit(local.store_dir)
        self.store_dir.setPlaceholderText("default: user data folder")
        form.addRow("AE title", self.ae_title)
        form.addRow("Storage port", self.port)
        form.addRow("", self.accept_any)
        form.addRow("Store folder", self.store_dir)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self._accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)
        self._result: LocalAE | None = None

    def _accept(self) -> None:
        try:
            self._result = LocalAE(self.ae_title.text(), self.port.value(), self.accept_any.isChecked(),
                                   self.store_dir.text().strip()).validate()
        except UsageError as exc:
            QMessageBox.warning(self, "Invalid local AE", str(exc))
            return
        self.accept()

    def local(self) -> LocalAE | None:
        return self._result
