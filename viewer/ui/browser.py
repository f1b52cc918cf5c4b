"""The study browser: Patient > Study > Series with thumbnails, filled progressively while media load.

The widget only mirrors a :class:`viewer.dicom.model.StudyTree`; :meth:`StudyBrowser.refresh`
is called at most every few tens of milliseconds by the main window (refreshes are coalesced)
and updates items in place, so a 5,000-file CD does not rebuild the tree per file.
"""

from __future__ import annotations

import logging
import os
from functools import partial
from typing import Any, Sequence

from PySide6.QtCore import QMimeData, QSize, Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QProgressBar,
    QPushButton,
    QSplitter,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from viewer.dicom.model import format_person_name_groups
from viewer.ui.fit_columns import ColumnFit, ColumnFitter
from viewer.ui.thumbnails import THUMB_SIZE
from viewer.ui.viewport_drag import SERIES_MIME

log = logging.getLogger(__name__)

SERIES_ROLE = Qt.ItemDataRole.UserRole + 1
UID_ROLE = Qt.ItemDataRole.UserRole + 2


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def _series_tooltip(series: Any) -> str:
    """The series item's tooltip: how to show it, and which images lacked UIDs (the model
    generated stable ones so they can be shown; DCMTK renders such files too)."""
    tip = "Drag onto a viewport to show it there"
    notes = list(getattr(series, "uid_notes", []))
    if notes:
        shown = [f"{os.path.basename(path) or path}: {note}\n  {path}" for path, note in notes[:10]]
        more = [f"... and {len(notes) - 10} more image(s)"] if len(notes) > 10 else []
        tip = "\n".join([*shown, *more, "", tip])
    return tip


class _SeriesTree(QTreeWidget):
    """A tree whose series rows can be dragged onto a viewport (Series Instance UID as payload)."""

    def mimeData(self, items: Sequence[QTreeWidgetItem]) -> QMimeData:
        data = QMimeData()
        uid = next((it.data(0, UID_ROLE) for it in items if it.data(0, UID_ROLE)), None)
        if uid:
            data.setData(SERIES_MIME, str(uid).encode("ascii", "replace"))
        return data

    def mimeTypes(self) -> list[str]:
        return [SERIES_MIME]


class StudyBrowser(QWidget):
    """A tree of what is open; emits ``series_activated(series)`` on selection."""

    series_activated = Signal(object)
    #: the context menu asked to show a series in a viewport: (series, viewport number from 0)
    series_to_viewport = Signal(object, int)
    #: the user asked to stop loading
    cancel_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        #: True while the selection follows the screen (not a request to show a series)
        self._following = False
        self.tree = _SeriesTree()
        self.tree.setHeaderLabels(["Patient / Study / Series", "Mod.", "Images"])
        # Modality and image count in full at the right edge, whatever the dock's width; the
        # names take the rest (elided when long, in full in the tooltip).
        self.tree_fit = ColumnFitter(self.tree, (ColumnFit(0, "Xxxxxxx, Xxxxx", 1), ColumnFit(1, "XX"),
                                                 ColumnFit(2, "000 (000 fr)")))
        self.setMinimumWidth(220)  # the dock can be narrowed (or closed) to give the images room
        self.tree.setIconSize(QSize(THUMB_SIZE, THUMB_SIZE))
        self.tree.setDragEnabled(True)
        self.tree.setDragDropMode(QAbstractItemView.DragDropMode.DragOnly)
        self.tree.itemSelectionChanged.connect(self._on_selection)
        self.tree.itemActivated.connect(lambda *_: self._on_selection())
        self.tree.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.tree.customContextMenuRequested.connect(self._context_menu)
        #: how many viewports the layout shows (the context menu offers each)
        self.viewport_count = 1
        self.last_context_menu: Any = None
        self.progress = QProgressBar()
        self.progress.setTextVisible(True)
        self.progress.setFormat("%v / %m files")
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.clicked.connect(self.cancel_requested.emit)
        self.loading_row = QWidget()
        row = QHBoxLayout(self.loading_row)
        row.setContentsMargins(4, 2, 4, 2)
        row.addWidget(self.progress, 1)
        row.addWidget(self.cancel_button)
        self.loading_row.setVisible(False)
        self.errors_label = QLabel("Unreadable files")
        self.errors = QListWidget()
        self.errors.setToolTip("Files that could not be read, with the reason")
        # Every reason in full: long lines wrap inside the list instead of running off its edge.
        self.errors.setWordWrap(True)
        self.errors.setTextElideMode(Qt.TextElideMode.ElideNone)
        self.errors.setResizeMode(QListWidget.ResizeMode.Adjust)
        self.errors.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        errors_box = QWidget()
        eb = QVBoxLayout(errors_box)
        eb.setContentsMargins(0, 0, 0, 0)
        eb.addWidget(self.errors_label)
        eb.addWidget(self.errors)
        self.errors_box = errors_box
        errors_box.setVisible(False)
        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(self.tree)
        split.addWidget(errors_box)
        split.setStretchFactor(0, 4)
        split.setStretchFactor(1, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.loading_row)
        layout.addWidget(split)
        self._items: dict[str, QTreeWidgetItem] = {}
        self._series: dict[str, Any] = {}
        #: (key, path, frame) of series that got a row and want a thumbnail
        self.thumbnail_wanted: list[tuple[str, str, int]] = []

    # ------------------------------------------------------------------ loading state
    def set_loading(self, loading: bool) -> None:
        self.loading_row.setVisible(loading)
        if loading:
            self.progress.setRange(0, 0)

    def set_progress(self, done: int, total: int) -> None:
        if total > 0:
            self.progress.setRange(0, total)
            self.progress.setValue(min(done, total))

    def clear(self) -> None:
        self.tree.clear()
        self.errors.clear()
        self.errors_box.setVisible(False)
        self._items.clear()
        self._series.clear()
        self.thumbnail_wanted.clear()

    def clear_errors(self) -> None:
        """Forget the unreadable files of the previous open (what is open stays)."""
        self.errors.clear()
        self.errors_box.setVisible(False)

    def add_error(self, path: str, message: str) -> None:
        self.errors.addItem(f"{path}: {message}")
        self.errors.item(self.errors.count() - 1).setToolTip(f"{path}\n{message}")
        self.errors_label.setText(f"Unreadable files ({self.errors.count()})")
        self.errors_box.setVisible(True)

    # ------------------------------------------------------------------ model -> widget
    def refresh(self, tree: Any) -> None:
        """Bring the widget up to date with a :class:`viewer.dicom.model.StudyTree`."""
        self.tree.setUpdatesEnabled(False)
        try:
            for patient in tree.patients:
                pkey = f"P:{patient.patient_id}\x00{patient.patient_name}"
                pitem, new_p = self._item(pkey, None)
                # Every component group: alphabetic, ideographic, phonetic (PS3.5 6.2.1.1).
                name = format_person_name_groups(patient.patient_name) or "(no name)"
                pitem.setText(0, f"{name}  [{patient.patient_id}]" if patient.patient_id else name)
                pitem.setToolTip(0, pitem.text(0))  # in full where the dock elides it
                for study in patient.studies:
                    skey = f"S:{study.study_instance_uid}"
                    sitem, _ = self._item(skey, pitem)
                    from viewer.dicom.model import format_date

                    sitem.setText(0, " ".join(x for x in (format_date(study.study_date), study.study_description)
                                              if x) or "(study)")
                    sitem.setToolTip(0, sitem.text(0))
                    sitem.setText(1, "/".join(study.modalities))
                    sitem.setText(2, str(study.instance_count))
                    for series in study.series:
                        key = f"E:{series.series_instance_uid}"
                        item, new = self._item(key, sitem)
                        number = "" if series.series_number is None else f"#{series.series_number} "
                        label = series.series_description or "(series)"
                        if series.modality == "KO":  # a Key Object Selection: its images (virtual series)
                            label = f"Key images: {series.series_description}" if series.series_description \
                                else "Key images"
                        item.setText(0, f"{number}{label}")
                        item.setText(1, series.modality)
                        frames = series.frame_count
                        count = series.instance_count
                        item.setText(2, str(count) if frames == count else f"{count} ({frames} fr)")
                        item.setData(0, SERIES_ROLE, series)
                        item.setData(0, UID_ROLE, series.series_instance_uid)
                        item.setFlags(item.flags() | Qt.ItemFlag.ItemIsDragEnabled)
                        item.setToolTip(0, _series_tooltip(series))
                        self._series[series.series_instance_uid] = series
                        if new:
                            self._want_thumbnail(key, series)
                    if not sitem.isExpanded():
                        sitem.setExpanded(True)
                if new_p or not pitem.isExpanded():
                    pitem.setExpanded(True)
        finally:
            self.tree.setUpdatesEnabled(True)

    def _want_thumbnail(self, key: str, series: Any) -> None:
        first = next((i for i in series._instances if i.path), None) if hasattr(series, "_instances") else None
        if first is not None:
            self.thumbnail_wanted.append((key, str(first.path), max(0, first.number_of_frames // 2)))

    def set_thumbnail(self, key: str, pixmap: Any) -> None:
        from PySide6.QtGui import QIcon

        item = self._items.get(key)
        if item is not None:
            item.setIcon(0, QIcon(pixmap))

    def _item(self, key: str, parent: QTreeWidgetItem | None) -> tuple[QTreeWidgetItem, bool]:
        item = self._items.get(key)
        if item is not None:
            return item, False
        item = QTreeWidgetItem()
        if parent is None:
            self.tree.addTopLevelItem(item)
        else:
            parent.addChild(item)
        self._items[key] = item
        return item, True

    def series_items(self) -> list[QTreeWidgetItem]:
        return [item for key, item in self._items.items() if key.startswith("E:")]

    def series_by_uid(self, uid: str) -> Any:
        return self._series.get(uid)

    def select_first_series(self) -> None:
        items = self.series_items()
        if items:
            self.tree.setCurrentItem(items[0])

    def select_series(self, uid: str) -> None:
        item = self._items.get(f"E:{uid}")
        if item is not None:
            self.tree.setCurrentItem(item)

    def follow_series(self, uid: str) -> None:
        """Select series ``uid`` as the one on screen, without asking to show it (the browser
        follows what a hanging protocol or the active viewport shows)."""
        item = self._items.get(f"E:{uid}")
        if item is None or self.tree.currentItem() is item:
            return
        self._following = True
        try:
            self.tree.setCurrentItem(item)
            self.tree.scrollToItem(item)
        finally:
            self._following = False

    def context_menu_for(self, item: QTreeWidgetItem) -> Any:
        """The right-click menu of a row: show its series in a chosen viewport, copy its UID."""
        from PySide6.QtWidgets import QApplication, QMenu

        menu = QMenu(self)
        series = item.data(0, SERIES_ROLE)
        if series is not None:
            menu.addAction("Show in the active viewport", lambda: self.series_activated.emit(series))
            for i in range(self.viewport_count if self.viewport_count > 1 else 0):
                menu.addAction(f"Show in viewport {i + 1}", partial(self.series_to_viewport.emit, series, i))
            menu.addSeparator()
            uid = str(item.data(0, UID_ROLE) or "")
            menu.addAction("Copy Series Instance UID", lambda: QApplication.clipboard().setText(uid))
        menu.addAction("Expand all", self.tree.expandAll)
        menu.addAction("Collapse all", self.tree.collapseAll)
        self.last_context_menu = menu
        return menu

    def _context_menu(self, pos: Any) -> None:
        item = self.tree.itemAt(pos)
        if item is not None:
            self.context_menu_for(item).popup(self.tree.viewport().mapToGlobal(pos))

    def _on_selection(self) -> None:
        if self._following:
            return
        items = self.tree.selectedItems()
        if items:
            series = items[0].data(0, SERIES_ROLE)
            if series is not None:
                self.series_activated.emit(series)
