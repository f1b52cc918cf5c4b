"""The result of a capability probe (which presentation contexts a node accepts), in its own window.

A probe proposes some twenty SOP classes (PS3.8 9.3.2.2, presentation context negotiation);
the answer is a table, one row per class: accepted or not, the reason, the transfer syntax
and, for role selection (PS3.7 D.3.3.4), whether the node lets us act as SCP. The PACS
panel's status line keeps only the count.
"""

from __future__ import annotations

from typing import Any, Sequence

from PySide6.QtGui import QColor
from PySide6.QtWidgets import (QApplication, QDialog, QDialogButtonBox, QHeaderView, QLabel, QTableWidget,
                               QTableWidgetItem, QVBoxLayout, QWidget)

COLUMNS = ["SOP class", "Result", "Reason", "Transfer syntax", "Our SCP role"]


class ProbeDialog(QDialog):
    """A table of a probe's :class:`ContextResult` rows (reused for each probe)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Capability probe")
        self.resize(760, 480)
        lay = QVBoxLayout(self)
        self.summary = QLabel("")
        lay.addWidget(self.summary)
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.setSortingEnabled(True)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        lay.addWidget(self.table, 1)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        self.copy_button = buttons.addButton("Copy as text", QDialogButtonBox.ButtonRole.ActionRole)
        self.copy_button.clicked.connect(self.copy)
        buttons.rejected.connect(self.reject)
        lay.addWidget(buttons)
        self._lines: list[str] = []

    def show_results(self, node_name: str, results: Sequence[Any]) -> None:
        self.setWindowTitle(f"Capability probe: {node_name}")
        accepted = sum(1 for r in results if r.accepted)
        self.summary.setText(f"{node_name} accepted {accepted} of {len(results)} presentation contexts proposed.")
        self._lines = [r.line() for r in results]
        self.table.setSortingEnabled(False)
        self.table.setRowCount(len(results))
        for row, r in enumerate(results):
            role = "" if r.scp_role_accepted is None else ("accepted" if r.scp_role_accepted else "not accepted")
            cells = [f"{r.name} ({r.abstract_syntax})", "accepted" if r.accepted else "REJECTED", r.reason,
                     r.transfer_syntax if r.accepted else "", role]
            for col, text in enumerate(cells):
                item = QTableWidgetItem(text)
                item.setToolTip(text)
                if col == 1 and not r.accepted:
                    item.setForeground(QColor("#c0392b"))
                self.table.setItem(row, col, item)
        self.table.setSortingEnabled(True)
        self.table.resizeColumnsToContents()

    def copy(self) -> None:
        """The report as text (``getscu -d`` style lines) on the clipboard."""
        QApplication.clipboard().setText("\n".join(self._lines))
