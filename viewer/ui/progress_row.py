"""One task in progress in a panel's progress area: label, bar, Cancel button (a retrieve,
a send)."""

from __future__ import annotations

from typing import Callable

from PySide6.QtWidgets import QHBoxLayout, QLabel, QProgressBar, QPushButton, QWidget


class ProgressRow(QWidget):
    """A label, a busy bar (give it a range to show progress) and Cancel calling ``cancel``."""

    def __init__(self, title: str, cancel: Callable[[], None], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        lay = QHBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        self.label = QLabel(title)
        self.bar = QProgressBar()
        self.bar.setRange(0, 0)
        self.cancel = QPushButton("Cancel")
        self.cancel.clicked.connect(cancel)
        lay.addWidget(self.label, 2)
        lay.addWidget(self.bar, 3)
        lay.addWidget(self.cancel)

    def dismissable(self, dismiss: Callable[[], None]) -> None:
        """The task ended: the button now reads *Dismiss* and calls ``dismiss`` (remove the row)."""
        self.cancel.clicked.disconnect()
        self.cancel.setText("Dismiss")
        self.cancel.setEnabled(True)
        self.cancel.clicked.connect(dismiss)
