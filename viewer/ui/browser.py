"""The study browser: Patient > Study > Series, filled progressively while media load."""

from __future__ import annotations

import logging
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QListWidget, QSplitter, QTreeWidget, QTreeWidgetItem, QVBoxLayout, QWidget

log = logging.getLogger(__name__)

SERIES_ROLE = Qt.ItemDataRole.UserRole + 1


def _text(value: Any) -> str:
    return "" if value is None else str(value)


class StudyBrowser(QWidget):
    """A tree of what is open; emits ``series_activated(series)`` on selection."""

    series_activated = Signal(object)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.tree = QTreeWidget()
        self.tree.setHeaderLabels(["Patient / Study / Series", "Modality", "Images"])
        self.tree.setColumnWidth(0, 230)
        self.tree.itemSelectionChanged.connect(self._on_selection)
        self.errors = QListWidget()
        self.errors.setToolTip("Files that could not be read, with the reason")
        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(self.tree)
        split.addWidget(self.errors)
        split.setStretchFactor(0, 4)
        split.setStretchFactor(1, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(split)
        self._items: dict[str, QTreeWidgetItem] = {}

    def clear(self) -> None:
        self.tree.clear()
        self.errors.clear()
        self._items.clear()

    def add_error(self, path: str, message: str) -> None:
        self.errors.addItem(f"{path}: {message}")

    def refresh(self, tree: Any) -> None:
        """Bring the widget up to date with a :class:`viewer.dicom.model.StudyTree`."""
        for patient in tree.patients:
            pkey = f"P:{getattr(patient, 'patient_id', '')}:{getattr(patient, 'key', id(patient))}"
            pitem = self._item(pkey, None)
            pitem.setText(0, f"{_text(getattr(patient, 'display_name', None) or getattr(patient, 'patient_name', ''))}"
                             f"  [{_text(getattr(patient, 'patient_id', ''))}]")
            for study in patient.studies:
                skey = f"S:{study.study_instance_uid}"
                sitem = self._item(skey, pitem)
                sitem.setText(0, " ".join(x for x in (_text(getattr(study, "study_date", "")),
                                                      _text(getattr(study, "study_description", ""))) if x)
                              or "(study)")
                for series in study.series:
                    key = f"E:{series.series_instance_uid}"
                    item = self._item(key, sitem)
                    number = _text(getattr(series, "series_number", ""))
                    desc = _text(getattr(series, "series_description", ""))
                    item.setText(0, f"#{number} {desc}".strip())
                    item.setText(1, _text(getattr(series, "modality", "")))
                    item.setText(2, str(len(series.instances)))
                    item.setData(0, SERIES_ROLE, series)
        self.tree.expandAll()

    def _item(self, key: str, parent: QTreeWidgetItem | None) -> QTreeWidgetItem:
        item = self._items.get(key)
        if item is None:
            item = QTreeWidgetItem()
            if parent is None:
                self.tree.addTopLevelItem(item)
            else:
                parent.addChild(item)
            self._items[key] = item
        return item

    def select_first_series(self) -> None:
        for key, item in self._items.items():
            if key.startswith("E:"):
                self.tree.setCurrentItem(item)
                return

    def _on_selection(self) -> None:
        items = self.tree.selectedItems()
        if items:
            series = items[0].data(0, SERIES_ROLE)
            if series is not None:
                self.series_activated.emit(series)
