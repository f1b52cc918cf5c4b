"""Dialog to edit a DICOMweb node (base URL, authentication, TLS), checked by
:meth:`viewer.config.DicomWebNode.validate`."""

from __future__ import annotations

import logging

from PySide6.QtWidgets import (QCheckBox, QComboBox, QDialog, QDialogButtonBox, QDoubleSpinBox, QFormLayout,
                               QLineEdit, QMessageBox, QWidget)

from viewer.config import DicomWebNode
from viewer.errors import UsageError

log = logging.getLogger(__name__)


class WebNodeDialog(QDialog):
    """Edit (or create, with ``node=None``) one DICOMweb node; :meth:`node` gives the result."""

    def __init__(self, node: DicomWebNode | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("DICOMweb node")
        node = node or DicomWebNode("New DICOMweb node", "https://")
        form = QFormLayout(self)
        self.name = QLineEdit(node.name)
        self.url = QLineEdit(node.base_url)
        self.url.setPlaceholderText("https://pacs.example/dicom-web")
        self.auth = QComboBox()
        self.auth.addItems(["none", "basic", "bearer"])
        self.auth.setCurrentText(node.auth)
        self.username, self.password, self.token = QLineEdit(node.username), QLineEdit(node.password), \
            QLineEdit(node.token)
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.token.setEchoMode(QLineEdit.EchoMode.Password)
        self.verify = QCheckBox("Verify the server's TLS certificate")
        self.verify.setChecked(node.verify_tls)
        self.ca_file = QLineEdit(node.ca_file)
        self.timeout = QDoubleSpinBox()
        self.timeout.setRange(1, 3600)
        self.timeout.setSuffix(" s")
        self.timeout.setValue(node.timeout)
        for label, w in (("Name", self.name), ("Base URL", self.url), ("Authentication", self.auth),
                         ("User", self.username), ("Password", self.password), ("Bearer token", self.token),
                         ("", self.verify), ("CA certificates", self.ca_file), ("Timeout", self.timeout)):
            form.addRow(label, w)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self._accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)
        self.auth.currentTextChanged.connect(self._on_auth_changed)
        self._on_auth_changed(self.auth.currentText())
        self._result: DicomWebNode | None = None

    def _on_auth_changed(self, auth: str) -> None:
        self.username.setEnabled(auth == "basic")
        self.password.setEnabled(auth == "basic")
        self.token.setEnabled(auth == "bearer")

    def _build(self) -> DicomWebNode:
        return DicomWebNode(self.name.text().strip(), self.url.text().strip(), auth=self.auth.currentText(),
                            username=self.username.text(), password=self.password.text(), token=self.token.text(),
                            verify_tls=self.verify.isChecked(), ca_file=self.ca_file.text().strip(),
                            timeout=self.timeout.value()).validate()

    def _accept(self) -> None:
        try:
            self._result = self._build()
        except UsageError as exc:
            QMessageBox.warning(self, "DICOMweb node", str(exc))
            return
        self.accept()

    def node(self) -> DicomWebNode | None:
        """The edited node (after OK), or None."""
        return self._result
