"""The tag inspector: every element of the current image as a searchable tree.

A dock in the main window calls :meth:`TagInspector.show_file` when the current image
changes and :meth:`TagInspector.set_frame` when the frame changes. The tree is a
:class:`QAbstractItemModel` over :class:`viewer.dicom.dump.DumpNode`; sequence contents are
built only when a row is expanded, so filling the tree with a 2,000-element data set is
cheap (``bench/dump.py`` measures it). Search and the private/empty filters run in the
core (:mod:`viewer.dicom.dump_search`) and the model shows the surviving nodes.

Files are read with bulk values left on disk (``defer_size``), so a large file costs no
more than its header.
"""

from __future__ import annotations

import logging
import os
from typing import Any

from pydicom.dataset import Dataset
from PySide6.QtCore import (QAbstractItemModel, QEvent, QModelIndex, QObject, QPersistentModelIndex, Qt,
                            QThreadPool, QTimer, Signal)
from PySide6.QtGui import QAction, QBrush, QColor, QFont, QGuiApplication, QKeyEvent, QKeySequence
from PySide6.QtWidgets import (QCheckBox, QHBoxLayout, QHeaderView, QLabel, QLineEdit, QMenu, QSplitter, QToolButton,
                               QTreeView, QVBoxLayout, QWidget)

from viewer.dicom.charset import describe, terms
from viewer.dicom.dump import DumpNode, NodeKind, dump_dataset, iter_nodes, read_dataset
from viewer.dicom.dump_search import Query, visible_nodes
from viewer.dicom.dump_text import dcmdump_line
from viewer.dicom.functional_groups import diffusion_info, frame_nodes, has_functional_groups, number_of_frames
from viewer.errors import ViewerError
from viewer.ui.workers import Worker, connect, launch

log = logging.getLogger(__name__)

COLUMNS = ("Tag", "Keyword", "VR", "VM", "Length", "Value")
COL_TAG, COL_KEYWORD, COL_VR, COL_VM, COL_LENGTH, COL_VALUE = range(6)
#: Characters of a value shown in the tree; the full text is in the tooltip and the copy.
DISPLAY_LIMIT = 200
#: Search results with at most this many rows are expanded automatically.
AUTO_EXPAND_LIMIT = 400
SEARCH_DELAY_MS = 120
#: Nodes decoded by the reader thread before the tree is shown (the rest on demand).
PREDECODE_LIMIT = 20000


class DumpTreeModel(QAbstractItemModel):
    """Qt model over dump nodes, with lazily built children and an optional filter."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._roots: list[DumpNode] = []
        self._visible: set[int] | None = None
        self._kids: dict[int | None, list[DumpNode]] = {}
        self._rows: dict[int, int] = {}

    # -- content ---------------------------------------------------------------------
    def set_nodes(self, nodes: list[DumpNode], visible: set[int] | None = None) -> None:
        """Show ``nodes`` (top level); ``visible`` restricts to those ``id()``s."""
        self.beginResetModel()
        self._roots = nodes
        self._visible = visible
        self._kids.clear()
        self._rows.clear()
        self.endResetModel()

    def set_visible(self, visible: set[int] | None) -> None:
        self.set_nodes(self._roots, visible)

    @property
    def roots(self) -> list[DumpNode]:
        return self._roots

    def visible_count(self) -> int | None:
        return None if self._visible is None else len(self._visible)

    def _children_of(self, node: DumpNode | None) -> list[DumpNode]:
        key = None if node is None else id(node)
        kids = self._kids.get(key)
        if kids is None:
            source = self._roots if node is None else node.children
            if self._visible is not None:
                source = [c for c in source if id(c) in self._visible]
            kids = list(source)
            self._kids[key] = kids
            for row, child in enumerate(kids):
                self._rows[id(child)] = row
        return kids

    def node(self, index: QModelIndex | QPersistentModelIndex) -> DumpNode | None:
        """The node behind ``index`` (None for the invisible root)."""
        if not index.isValid():
            return None
        return index.internalPointer()

    def index_of(self, node: DumpNode, column: int = 0) -> QModelIndex:
        """Model index of a visible ``node`` (its ancestors' rows are computed on the way)."""
        chain = []
        n: DumpNode | None = node
        while n is not None:
            chain.append(n)
            n = n.parent
        parent = QModelIndex()
        for n in reversed(chain):
            kids = self._children_of(self.node(parent))
            try:
                row = kids.index(n)
            except ValueError:
                return QModelIndex()
            parent = self.index(row, 0, parent)
        return parent.siblingAtColumn(column)

    # -- QAbstractItemModel ------------------------------------------------------------
    def index(self, row: int, column: int, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> QModelIndex:
        kids = self._children_of(self.node(parent))
        if 0 <= row < len(kids) and 0 <= column < len(COLUMNS):
            return self.createIndex(row, column, kids[row])
        return QModelIndex()

    def parent(self, index: Any = QModelIndex()) -> Any:
        if not isinstance(index, (QModelIndex, QPersistentModelIndex)):
            return super().parent()
        node = self.node(index)
        if node is None or node.parent is None:
            return QModelIndex()
        p = node.parent
        row = self._rows.get(id(p))
        if row is None:
            grand = self._children_of(p.parent)
            row = grand.index(p)
        return self.createIndex(row, 0, p)

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:
        if parent.isValid() and parent.column() != 0:
            return 0
        return len(self._children_of(self.node(parent)))

    def columnCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:
        return len(COLUMNS)

    def hasChildren(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> bool:
        node = self.node(parent)
        if node is None:
            return bool(self._roots)
        if parent.column() != 0:
            return False
        if self._visible is None:
            return node.has_children  # no need to build children to draw the expander
        return bool(self._children_of(node))

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return COLUMNS[section]
        return None

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        node = self.node(index)
        if node is None:
            return None
        col = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return _cell_text(node, col)
        if role == Qt.ItemDataRole.ToolTipRole:
            return _tooltip(node)
        if role == Qt.ItemDataRole.ForegroundRole:
            if node.problems:
                return QBrush(QColor(200, 40, 40))
            if node.retired or node.is_private:
                return QBrush(QColor(120, 120, 120))
        if role == Qt.ItemDataRole.FontRole and node.is_meta and col == COL_TAG:
            font = QFont()
            font.setItalic(True)
            return font
        return None


def _cell_text(node: DumpNode, col: int) -> str:
    if col == COL_TAG:
        return node.tag_text if node.kind is not NodeKind.ITEM else node.name
    if col == COL_KEYWORD:
        return node.keyword + (" (retired)" if node.retired else "")
    if col == COL_VR:
        return node.vr if node.kind is not NodeKind.ITEM else ""
    if col == COL_VM:
        return str(node.vm) if node.kind is not NodeKind.ITEM else ""
    if col == COL_LENGTH:
        return "u/l" if node.length is None and node.kind is NodeKind.SEQUENCE else (
            "" if node.length is None else str(node.length))
    if col == COL_VALUE:
        text = node.value.replace("\r\n", " ").replace("\n", " ")
        if node.problems:
            text = "\u26a0 " + text
        return text if len(text) <= DISPLAY_LIMIT else text[:DISPLAY_LIMIT] + "\u2026"
    return ""


def _tooltip(node: DumpNode) -> str:
    if node.kind is NodeKind.ITEM:
        lines = [node.name]
    else:
        lines = [f"{node.tag_text} {node.name}", f"Group {node.group:04X}: {node.group_name}"]
    if node.vr == "PN" and node.value:
        lines.extend(_pn_lines(node.value))
    if node.private_creator:
        lines.append(f"Private Creator: {node.private_creator}")
    if node.retired:
        lines.append("Retired (PS3.6)")
    lines.extend(f"Invalid: {p}" for p in node.problems)
    if len(node.value) > DISPLAY_LIMIT:
        lines.append(node.value[:2000])
    return "\n".join(lines)


def _load(path: str, include_meta: bool, predecode: int = 0
          ) -> tuple[str, Dataset | None, list[DumpNode], str | None, str | None]:
    """Read and dump ``path``: (path, dataset, top-level nodes, where reading stopped, error).

    ``predecode`` nodes (depth first) are decoded here, so that in a worker thread the
    first search does not have to decode them on the GUI thread.
    """
    try:
        ds, stopped = read_dataset(path)
        nodes = dump_dataset(ds, include_meta=include_meta)
        for count, node in enumerate(iter_nodes(nodes)):
            if count >= predecode:
                break
            node.value  # noqa: B018 - decodes the lazy node
        return path, ds, nodes, stopped, None
    except ViewerError as exc:
        return path, None, [], None, str(exc)
    except Exception as exc:  # the inspector must survive any file
        log.exception("cannot read %s", path)
        return path, None, [], None, f"{path}: cannot read: {exc}"


def _pn_lines(value: str) -> list[str]:
    """Person Name components per group (PS3.5 6.2.1.1): family, given, middle, prefix, suffix."""
    out = []
    for v in value.split("\\"):
        for label, group in zip(("Alphabetic", "Ideographic", "Phonetic"), v.split("=")):
            if group:
                parts = (group.split("^") + [""] * 5)[:5]
                names = ("family", "given", "middle", "prefix", "suffix")
                out.append(f"{label}: " + ", ".join(f"{n} {p!r}" for n, p in zip(names, parts) if p))
    return out


class TagInspector(QWidget):
    """Tree of every element of a file, with search, filters, copy and a per-frame view.

    Parameters
    ----------
    parent : QWidget, optional

    Attributes
    ----------
    loaded : Signal(str)
        Emitted with the path once :meth:`show_file` has filled the tree (or shown why not).
    """

    loaded = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._dataset: Dataset | None = None
        self._nodes: list[DumpNode] = []
        self._frame: int | None = None
        self._menu_tree: QTreeView | None = None
        self._request = 0
        # One reader thread: a newer file waits for the current read, stale results are dropped.
        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(1)

        self.search_box = QLineEdit(placeholderText="Search keyword, tag (0008,0060) or value")
        self.search_box.setClearButtonEnabled(True)
        self.meta_check = QCheckBox("File meta")
        self.meta_check.setChecked(True)
        self.private_check = QCheckBox("Hide private")
        self.empty_check = QCheckBox("Hide empty")
        expand = QToolButton()
        expand.setText("Expand all")
        collapse = QToolButton()
        collapse.setText("Collapse all")

        self.header_label = QLabel()
        self.header_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.header_label.setWordWrap(True)

        self.model = DumpTreeModel(self)
        self.tree = self._make_tree(self.model)

        self.frame_label = QLabel()
        self.frame_label.setWordWrap(True)
        self.frame_model = DumpTreeModel(self)
        self.frame_tree = self._make_tree(self.frame_model)
        self.frame_panel = QWidget()
        fl = QVBoxLayout(self.frame_panel)
        fl.setContentsMargins(0, 0, 0, 0)
        fl.addWidget(self.frame_label)
        fl.addWidget(self.frame_tree)
        self.frame_panel.hide()

        # Two rows, so the dock fits its share of a 1600 px window beside the library (one row
        # of search box, three check boxes and two buttons needed 511 px).
        bar = QHBoxLayout()
        bar.addWidget(self.search_box, 1)
        bar.addWidget(expand)
        bar.addWidget(collapse)
        options = QHBoxLayout()
        for check in (self.meta_check, self.private_check, self.empty_check):
            options.addWidget(check)
        options.addStretch(1)
        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(self.tree)
        split.addWidget(self.frame_panel)
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 1)
        layout = QVBoxLayout(self)
        layout.addWidget(self.header_label)
        layout.addLayout(bar)
        layout.addLayout(options)
        layout.addWidget(split, 1)

        self._timer = QTimer(self, singleShot=True, interval=SEARCH_DELAY_MS)
        self._timer.timeout.connect(self.apply_filter)
        self.search_box.textChanged.connect(lambda _text: self._timer.start())
        for box in (self.private_check, self.empty_check):
            box.toggled.connect(lambda _on: self.apply_filter())
        self.meta_check.toggled.connect(lambda _on: self._rebuild())
        expand.clicked.connect(self.expand_all)
        collapse.clicked.connect(self.collapse_all)
        self._make_actions()

    def _make_tree(self, model: DumpTreeModel) -> QTreeView:
        tree = QTreeView()
        tree.setModel(model)
        tree.setUniformRowHeights(True)  # lets Qt skip measuring every row
        tree.setAlternatingRowColors(True)
        tree.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        tree.customContextMenuRequested.connect(lambda pos, t=tree: self._context_menu(t, pos))
        # Widths from the font, not fixed pixels: the Value column has to start on screen in a
        # side dock (fixed widths put it at 550 px, past a 1600 px window's dock).
        fm = tree.fontMetrics()
        pad = 10
        widths = ((COL_TAG, fm.horizontalAdvance("(0000,0000)") + tree.indentation() + 2 * pad),
                  (COL_KEYWORD, fm.horizontalAdvance("SeriesInstanceUID") + pad),
                  (COL_VR, fm.horizontalAdvance("VR") + pad), (COL_VM, fm.horizontalAdvance("VM") + pad),
                  (COL_LENGTH, fm.horizontalAdvance("Length") + 2 * pad))
        for col, width in widths:
            tree.setColumnWidth(col, width)
        # Length and VM after the value, as dcmdump prints them: the value starts on screen in
        # a side dock of a 1600 px window and takes the room the narrow columns leave.
        header = tree.header()
        header.moveSection(header.visualIndex(COL_VALUE), header.visualIndex(COL_VR) + 1)
        header.setStretchLastSection(False)
        header.setSectionResizeMode(COL_VALUE, QHeaderView.ResizeMode.Stretch)
        return tree

    def _make_actions(self) -> None:
        def action(text: str, keys: str, slot: Any) -> QAction:
            # The keys are shown in the context menu; the trees handle them themselves
            # (eventFilter), since QTreeView would otherwise take Ctrl+C for its own copy.
            act = QAction(text, self)
            act.setShortcut(QKeySequence(keys))
            act.setShortcutContext(Qt.ShortcutContext.WidgetShortcut)
            act.triggered.connect(slot)
            self._copy_keys.append((QKeySequence(keys), act))
            return act

        self._copy_keys: list[tuple[QKeySequence, QAction]] = []
        self.copy_value_action = action("Copy value", "Ctrl+C", self.copy_value)
        self.copy_tag_action = action("Copy tag", "Ctrl+Shift+C", self.copy_tag)
        self.copy_line_action = action("Copy as dcmdump line", "Ctrl+Alt+C", self.copy_dcmdump_line)
        for tree in (self.tree, self.frame_tree):
            tree.installEventFilter(self)
        find = QAction("Find", self)
        find.setShortcut(QKeySequence.StandardKey.Find)
        find.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        find.triggered.connect(self._focus_search)
        self.addAction(find)

    def _focus_search(self) -> None:
        self.search_box.setFocus()
        self.search_box.selectAll()

    # -- public API ----------------------------------------------------------------------
    def show_file(self, path: str | os.PathLike[str], frame_index: int | None = None, *,
                  background: bool = True) -> None:
        """Show the elements of ``path``; a file that cannot be read shows a message, never raises.

        The file is read in a worker thread (``background=True``) with bulk values left on
        disk; :attr:`loaded` is emitted once the tree shows it. A newer call supersedes a
        read still running.
        """
        self._request += 1
        title = os.fspath(path)
        if not background:
            self._on_loaded(self._request, _load(title, self.meta_check.isChecked()), frame_index)
            return
        self.header_label.setText(f"{title}\nreading\u2026")
        worker = Worker(_load, title, self.meta_check.isChecked(), PREDECODE_LIMIT)
        # Through a relay owned by this widget: nothing runs if the widget goes first.
        request = self._request
        connect(worker, self, on_result=lambda result: self._on_loaded(request, result, frame_index))
        launch(self._pool, worker)

    def _on_loaded(self, request: int, result: Any, frame_index: int | None) -> None:
        if request != self._request:
            return  # a newer file was asked for meanwhile
        title, ds, nodes, stopped, error = result
        if error is not None:
            self.clear(error)
        else:
            self._show(ds, nodes, frame_index, title, stopped)
        self.loaded.emit(title)

    def show_dataset(self, ds: Dataset, frame_index: int | None = None, *, title: str = "",
                     note: str | None = None) -> None:
        """Show the elements of an in-memory dataset (and the functional groups of a frame)."""
        self._request += 1
        self._show(ds, None, frame_index, title, note)

    def _show(self, ds: Dataset, nodes: list[DumpNode] | None, frame_index: int | None, title: str,
              note: str | None) -> None:
        self._dataset = ds
        charset = ds.get("SpecificCharacterSet")
        charset_text = "\\".join(terms(charset)) + f" ({describe(charset)})" if charset else describe(None)
        parts = [p for p in (title, f"Specific Character Set: {charset_text}", note) if p]
        self.header_label.setText("\n".join(parts))
        self._rebuild(nodes)
        self._frame = None
        self.set_frame(frame_index if frame_index is not None else 0)

    def set_frame(self, frame_index: int | None) -> None:
        """Show the Shared + Per-frame Functional Groups of ``frame_index`` (0-based)."""
        ds = self._dataset
        if ds is None or not has_functional_groups(ds) or frame_index is None:
            self.frame_panel.hide()
            self.frame_model.set_nodes([])
            return
        n = number_of_frames(ds)
        frame = min(max(0, frame_index), n - 1)
        if frame == self._frame and self.frame_model.roots:
            return
        self._frame = frame
        text = f"Frame {frame + 1} of {n}"
        info = diffusion_info(ds, frame)
        if info is not None:
            text += f" \u2014 {info}"
        self.frame_label.setText(text)
        self.frame_model.set_nodes(frame_nodes(ds, frame))
        self.frame_tree.expandAll()
        self.frame_panel.show()

    def clear(self, message: str = "") -> None:
        """Empty the inspector, showing ``message`` (e.g. why a file could not be read)."""
        self._dataset = None
        self._nodes = []
        self.model.set_nodes([])
        self.frame_model.set_nodes([])
        self.frame_panel.hide()
        self.header_label.setText(message)

    @property
    def frame_text(self) -> str:
        """The frame summary line (frame number and diffusion parameters)."""
        return self.frame_label.text()

    @property
    def dataset(self) -> Dataset | None:
        return self._dataset

    def set_search(self, text: str) -> None:
        """Set the search text and filter at once (no typing delay)."""
        self.search_box.setText(text)
        self._timer.stop()
        self.apply_filter()

    def query(self) -> Query:
        return Query(self.search_box.text(), self.private_check.isChecked(), self.empty_check.isChecked())

    def apply_filter(self) -> None:
        """Filter the tree by the search box and the private/empty check boxes."""
        self._timer.stop()
        query = self.query()
        visible = visible_nodes(self._nodes, query)
        self.model.set_visible(visible)
        if visible is not None and query.text.strip() and len(visible) <= AUTO_EXPAND_LIMIT:
            self.tree.expandAll()

    def expand_all(self) -> None:
        self.tree.expandAll()

    def collapse_all(self) -> None:
        self.tree.collapseAll()

    def current_node(self) -> DumpNode | None:
        """The node of the current row of whichever tree has focus (main tree by default)."""
        tree = self.frame_tree if self.frame_tree.hasFocus() or self._menu_tree is self.frame_tree else self.tree
        model = tree.model()
        assert isinstance(model, DumpTreeModel)
        return model.node(tree.currentIndex())

    def select_node(self, node: DumpNode) -> bool:
        """Make ``node`` the current row of the main tree; False when it is filtered out."""
        index = self.model.index_of(node)
        if not index.isValid():
            return False
        self.tree.setCurrentIndex(index)
        self.tree.scrollTo(index)
        return True

    def copy_value(self) -> None:
        node = self.current_node()
        if node is not None:
            QGuiApplication.clipboard().setText(node.value)

    def copy_tag(self) -> None:
        node = self.current_node()
        if node is not None:
            QGuiApplication.clipboard().setText(node.tag_text)

    def copy_dcmdump_line(self) -> None:
        node = self.current_node()
        if node is not None:
            QGuiApplication.clipboard().setText(dcmdump_line(node).strip())

    # -- internals -----------------------------------------------------------------------
    def _copy_action_for(self, event: QKeyEvent) -> QAction | None:
        pressed = QKeySequence(event.keyCombination())
        for keys, act in self._copy_keys:
            if pressed.matches(keys) == QKeySequence.SequenceMatch.ExactMatch:
                return act
        return None

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched in (self.tree, self.frame_tree) and isinstance(event, QKeyEvent):
            act = self._copy_action_for(event)
            if act is not None:
                if event.type() == QEvent.Type.ShortcutOverride:
                    event.accept()  # deliver the key to us, not to a shortcut or the view
                    return True
                if event.type() == QEvent.Type.KeyPress:
                    self._menu_tree = watched if isinstance(watched, QTreeView) else None
                    try:
                        act.trigger()
                    finally:
                        self._menu_tree = None
                    return True
        return super().eventFilter(watched, event)

    def _rebuild(self, nodes: list[DumpNode] | None = None) -> None:
        ds = self._dataset
        if nodes is None:
            nodes = dump_dataset(ds, include_meta=self.meta_check.isChecked()) if ds is not None else []
        self._nodes = nodes
        self.model.set_nodes(self._nodes)
        self.apply_filter()

    def _context_menu(self, tree: QTreeView, pos: Any) -> None:
        index = tree.indexAt(pos)
        if index.isValid():
            tree.setCurrentIndex(index)
        menu = QMenu(self)
        for act in (self.copy_value_action, self.copy_tag_action, self.copy_line_action):
            menu.addAction(act)
        menu.addSeparator()
        menu.addAction("Expand all", tree.expandAll)
        menu.addAction("Collapse all", tree.collapseAll)
        self._menu_tree = tree
        try:
            menu.exec(tree.viewport().mapToGlobal(pos))
        finally:
            self._menu_tree = None
