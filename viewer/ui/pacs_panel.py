"""The PACS side panel: node selector, echo/probe, query by level with drill-down, retrieve
with per-request progress and cancel, and a worklist tab.

Every network operation is a use case of :mod:`viewer.tasks` (query, echo, probe, worklist,
retrieve, send) run by a :class:`viewer.ui.workers.Worker` on the network pool, with the
panel as the worker's owner: results are applied in the GUI thread, only while the panel
lives, and closing it cancels the work. The panel never chooses a protocol: the tasks
dispatch by the kind of node (DIMSE or DICOMweb).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

from pydicom.dataset import Dataset
from pydicom.multival import MultiValue
from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (QCheckBox, QComboBox, QFormLayout, QHBoxLayout, QLabel, QLineEdit, QPushButton,
                               QTabWidget, QTreeWidget, QTreeWidgetItem, QVBoxLayout, QWidget)

from viewer.dicom.model import format_date, format_person_name_groups, format_time

from viewer.config import DicomWebNode, DimseNode, NetworkConfig, save_config
from viewer.tasks import query as pacs
from viewer.tasks.query_form import QueryForm, query_keys
from viewer.tasks.retrieve import LocalStore, ScpHolder, open_store, retrieve_from
from viewer.ui.progress_row import ProgressRow
from viewer.ui.workers import Pools, Worker, message, run_in

if TYPE_CHECKING:
    from viewer.tasks.retrieve import StorageSCP

log = logging.getLogger(__name__)

_ROLE = Qt.ItemDataRole.UserRole
_LEVEL_ROLE = Qt.ItemDataRole.UserRole + 1
_LOADED_ROLE = Qt.ItemDataRole.UserRole + 2
_CHILD = {"PATIENT": "STUDY", "STUDY": "SERIES", "SERIES": "IMAGE"}
COLUMNS = ["Patient / item", "Date", "Description", "Modality", "Count", "UID"]


def _text(ds: Dataset, kw: str) -> str:
    value = ds.get(kw, "")
    if value is None:
        return ""
    # Only real multi-values are joined: PersonName is iterable too (over its characters).
    if isinstance(value, (list, tuple, MultiValue)):
        return "\\".join(str(v) for v in value)
    return str(value)


def _name(ds: Dataset, kw: str = "PatientName") -> str:
    """A PN as the viewer shows names (``Family, Given``; every component group)."""
    return format_person_name_groups(_text(ds, kw)) or _text(ds, kw)


class _ResultItem(QTreeWidgetItem):
    """A result row that sorts counts as numbers (``10`` after ``6``), the rest as text."""

    def __lt__(self, other: QTreeWidgetItem) -> bool:
        tree = self.treeWidget()
        column = tree.sortColumn() if tree is not None else 0
        if column == COLUMNS.index("Count"):
            def number(item: QTreeWidgetItem) -> int:
                text = item.text(column)
                return int(text) if text.isdigit() else -1
            return number(self) < number(other)
        return self.text(column).lower() < other.text(column).lower()


def _retrieve_indexed(library: Any, node: DimseNode | DicomWebNode, level: str, uids: dict[str, str],
                      calling_aet: str, store: LocalStore, *, root: str, found: list[Dataset], scp: ScpHolder,
                      token: Any = None) -> Any:
    """A retrieve whose files are indexed in the library as they arrive (when there is one)."""
    steps = retrieve_from(node, level, uids, calling_aet, store, root=root, found=found, scp=scp, token=token)
    if library is None:
        return steps
    from viewer.tasks.library_feed import SourceKind

    kind = SourceKind.DICOMWEB if isinstance(node, DicomWebNode) else SourceKind.PACS
    return library.retrieved(steps, node.name, kind, opened=True)


class PacsPanel(QWidget):
    """Side panel for query/retrieve against the configured nodes.

    Parameters
    ----------
    config
        Network configuration (nodes, local AE); edited in place by the node dialogs.
    pools
        The application's pools; the panel uses ``pools.network``.
    on_retrieved
        Optional callback, also connected to :attr:`studies_retrieved`.
    config_dir
        Where to save the configuration after an edit (None: not saved).
    store
        The local store; default ``config.local.store_dir`` or the user data folder.
    """

    #: paths of instances just written to the local store (emitted as they arrive)
    studies_retrieved = Signal(list)
    #: a one-line status message (also shown in the panel)
    status_changed = Signal(str)
    #: a retrieve ended: (summary text, ok)
    retrieve_finished = Signal(str, bool)
    #: a query ended (number of top-level results)
    query_finished = Signal(int)

    def __init__(self, config: NetworkConfig, pools: Pools | None = None, *,
                 on_retrieved: Callable[[list], None] | None = None, config_dir: Path | None = None,
                 store: LocalStore | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.config = config
        self.pools = pools or Pools()
        self._own_pools = pools is None
        self.config_dir = config_dir
        self.store = store or open_store(config.local)
        self.scp = self._scp_holder()
        self._jobs: set[Worker] = set()
        self.probe_dialog: Any = None  #: the probe's result window, made on the first probe
        #: the study library (viewer.tasks.library_feed.LibraryService): retrieved files are
        #: indexed in it as they arrive, so a retrieve ends in the library's history
        self.library: Any = None
        if on_retrieved is not None:
            self.studies_retrieved.connect(on_retrieved)
        self._build()
        self._reload_nodes()
        if config.local.receive:  # listening when the program starts (after the window gives us its library)
            QTimer.singleShot(0, lambda: self.set_receiving(True))

    # ------------------------------------------------------------------ layout
    def _build(self) -> None:
        root = QVBoxLayout(self)
        row = QHBoxLayout()
        self.node_combo = QComboBox()
        self.edit_btn, self.add_btn = QPushButton("Edit…"), QPushButton("Add…")
        self.local_btn = QPushButton("Local AE…")
        self.echo_btn, self.probe_btn = QPushButton("Echo"), QPushButton("Probe")
        for w in (self.node_combo, self.add_btn, self.edit_btn, self.local_btn, self.echo_btn, self.probe_btn):
            row.addWidget(w)
        # DICOMweb nodes and the Send action (viewer.ui.send_action)
        from viewer.ui.send_action import SendAction

        self.add_web_btn = QPushButton("Add web…")
        self.add_web_btn.clicked.connect(lambda: self._edit_web_node(None))
        self.send_action = SendAction(self)
        row.insertWidget(row.indexOf(self.edit_btn), self.add_web_btn)
        row.addWidget(self.send_action.button)
        self.receive_check = QCheckBox("Receive")
        self.receive_check.setToolTip("Keep our storage SCP listening so that other systems can send studies "
                                      "to us at any time; they go into the library as they arrive")
        row.addWidget(self.receive_check)
        root.addLayout(row)
        self.status = QLabel("")
        self.status.setWordWrap(True)
        root.addWidget(self.status)
        self.tabs = QTabWidget()
        root.addWidget(self.tabs, 1)
        self.tabs.addTab(self._build_query_tab(), "Query")
        self.tabs.addTab(self._build_worklist_tab(), "Worklist")
        self.progress_box = QVBoxLayout()
        root.addLayout(self.progress_box)
        self.add_btn.clicked.connect(lambda: self._edit_node(new=True))
        self.edit_btn.clicked.connect(lambda: self._edit_node(new=False))
        self.local_btn.clicked.connect(self._edit_local)
        self.receive_check.toggled.connect(self.set_receiving)
        self.echo_btn.clicked.connect(self.echo)
        self.probe_btn.clicked.connect(self.probe)

    def _build_query_tab(self) -> QWidget:
        tab = QWidget()
        lay = QVBoxLayout(tab)
        form = QFormLayout()
        self.root_combo = QComboBox()
        self.root_combo.addItems(["study", "patient"])
        self.level_combo = QComboBox()
        self.level_combo.addItems(["STUDY", "PATIENT", "SERIES", "IMAGE"])
        self.q_name, self.q_id, self.q_acc = QLineEdit(), QLineEdit(), QLineEdit()
        self.q_date, self.q_modality, self.q_uid = QLineEdit(), QLineEdit(), QLineEdit()
        self.q_name.setPlaceholderText("DOE^J*")
        self.q_date.setPlaceholderText("2024-01-31, 2024-01-01..2024-01-31, today, last 7 days")
        self.q_date.setToolTip("Dates as the viewer shows them (2024-01-31) or as DICOM writes them (20240131); "
                               "ranges with '..' (open ends allowed), 'today', 'yesterday', 'last 7 days'")
        self.q_uid.setPlaceholderText("Study Instance UID (SERIES/IMAGE level)")
        for label, w in (("Root", self.root_combo), ("Level", self.level_combo), ("Patient name", self.q_name),
                         ("Patient ID", self.q_id), ("Accession", self.q_acc), ("Date", self.q_date),
                         ("Modality", self.q_modality), ("Study UID", self.q_uid)):
            form.addRow(label, w)
        lay.addLayout(form)
        buttons = QHBoxLayout()
        self.search_btn, self.cancel_btn = QPushButton("Search"), QPushButton("Cancel")
        self.retrieve_btn = QPushButton("Retrieve")
        self.cancel_btn.setEnabled(False)
        for b in (self.search_btn, self.cancel_btn, self.retrieve_btn):
            buttons.addWidget(b)
        lay.addLayout(buttons)
        self.results = QTreeWidget()
        self.results.setHeaderLabels(COLUMNS)
        self.results.setSelectionMode(QTreeWidget.SelectionMode.ExtendedSelection)
        self.results.setSortingEnabled(True)  # click a header to sort (drill-down rows sort within their parent)
        self.results.sortByColumn(1, Qt.SortOrder.DescendingOrder)  # newest first
        self.results.itemExpanded.connect(self._on_item_expanded)
        lay.addWidget(self.results, 1)
        self.search_btn.clicked.connect(self.search)
        self.cancel_btn.clicked.connect(self.cancel_query)
        self.retrieve_btn.clicked.connect(self.retrieve_selected)
        self._query_job: Worker | None = None
        self._worklist_job: Worker | None = None
        self._drill_jobs: set[Worker] = set()  #: drill-downs into the results shown
        return tab

    def _build_worklist_tab(self) -> QWidget:
        tab = QWidget()
        lay = QVBoxLayout(tab)
        form = QFormLayout()
        self.w_modality, self.w_station, self.w_date = QLineEdit(), QLineEdit(), QLineEdit()
        self.w_name, self.w_id, self.w_acc = QLineEdit(), QLineEdit(), QLineEdit()
        for label, w in (("Modality", self.w_modality), ("Station AE", self.w_station), ("Date", self.w_date),
                         ("Patient name", self.w_name), ("Patient ID", self.w_id), ("Accession", self.w_acc)):
            form.addRow(label, w)
        lay.addLayout(form)
        self.wl_btn = QPushButton("Search worklist")
        self.wl_btn.clicked.connect(self.search_worklist)
        lay.addWidget(self.wl_btn)
        self.worklist_tree = QTreeWidget()
        self.worklist_tree.setHeaderLabels(["Requested procedure / step", "Modality", "Station", "Date", "Time"])
        lay.addWidget(self.worklist_tree, 1)
        return tab

    # ------------------------------------------------------------------ nodes
    def _reload_nodes(self) -> None:
        current = self.node_combo.currentText()
        self.node_combo.blockSignals(True)
        self.node_combo.clear()
        self.node_combo.addItems([n.name for n in self.config.nodes] + [n.name for n in self.config.web_nodes])
        if current:
            self.node_combo.setCurrentText(current)
        self.node_combo.blockSignals(False)
        has = bool(self.config.nodes or self.config.web_nodes)
        for w in (self.edit_btn, self.echo_btn, self.probe_btn, self.wl_btn, self.retrieve_btn,
                  self.send_action.button):
            w.setEnabled(has)
        self.search_btn.setEnabled(has and self._query_job is None)  # not while a query runs

    def current_node(self) -> DimseNode | DicomWebNode | None:
        for web in self.config.web_nodes:  # a DICOMweb node by its name
            if web.name == self.node_combo.currentText():
                return web
        if not self.config.nodes:
            return self.config.web_nodes[0] if self.config.web_nodes else None
        return self.config.node(self.node_combo.currentText()) if self.node_combo.currentText() else \
            self.config.nodes[0]

    def _save(self) -> None:
        if self.config_dir is not None:
            save_config(self.config, self.config_dir)

    def _edit_node(self, new: bool) -> None:
        from viewer.ui.node_dialog import NodeDialog

        old = None if new else self.current_node()
        if isinstance(old, DicomWebNode):
            return self._edit_web_node(old)
        dlg = NodeDialog(old, self)
        if dlg.exec() and (node := dlg.node()) is not None:
            if isinstance(old, DimseNode):
                self.config.nodes[self.config.nodes.index(old)] = node
            else:
                self.config.nodes.append(node)
            self.scp.allow(node.ae_title)
            self._save()
            self._reload_nodes()
            self.node_combo.setCurrentText(node.name)

    def _edit_web_node(self, old: Any) -> None:
        """Add or edit a DICOMweb node."""
        from viewer.ui.web_node_dialog import WebNodeDialog

        dlg = WebNodeDialog(old, self)
        if dlg.exec() and (node := dlg.node()) is not None:
            if old is not None:
                self.config.web_nodes[self.config.web_nodes.index(old)] = node
            else:
                self.config.web_nodes.append(node)
            self._save()
            self._reload_nodes()
            self.node_combo.setCurrentText(node.name)

    def _edit_local(self) -> None:
        from viewer.ui.node_dialog import LocalAeDialog

        dlg = LocalAeDialog(self.config.local, self)
        if dlg.exec() and (local := dlg.local()) is not None:
            self.config.local = local
            receiving = self.scp.running
            self.scp.stop()  # restarted on demand with the new title/port
            self.scp = self._scp_holder()
            self._save()
            if receiving:
                self.set_receiving(True)

    # ------------------------------------------------------------------ our storage SCP
    def _scp_holder(self) -> ScpHolder:
        return ScpHolder(self.config.local, self.store, self.config.known_calling_aets(), on_start=self._scp_started)

    def _scp_started(self, scp: "StorageSCP") -> Callable[[], None] | None:
        """Whatever starts the SCP (Receive, a C-MOVE), what it receives is indexed in the library."""
        if self.library is None:
            return None
        remove: Callable[[], None] = self.library.attach_scp(scp)
        return remove

    def set_receiving(self, on: bool) -> bool:
        """Start (or stop) listening for studies sent to us; the choice is saved. False if it cannot listen."""
        local = self.config.local
        if on:
            try:
                self.scp.get()
            except Exception as exc:  # noqa: BLE001 - a taken port is a message, not a crash
                self._set_status(f"Cannot receive on port {local.store_port}: {message(exc)}")
                self.receive_check.blockSignals(True)
                self.receive_check.setChecked(False)
                self.receive_check.blockSignals(False)
                return False
            self._set_status(f"Receiving studies sent to {local.ae_title} on port {self.scp.get().port}")
        else:
            self.scp.stop()
            self._set_status("Not receiving (the storage SCP starts only for a C-MOVE)")
        if self.receive_check.isChecked() != on:
            self.receive_check.blockSignals(True)
            self.receive_check.setChecked(on)
            self.receive_check.blockSignals(False)
        if local.receive != on:
            local.receive = on
            self._save()
        return True

    # ------------------------------------------------------------------ jobs
    def _start(self, fn: Callable[..., Any], *args: Any, on_item: Callable[[Any], object] | None = None,
               on_error: Callable[[str], None] | None = None, on_done: Callable[[], None] | None = None,
               **kwargs: Any) -> Worker:
        """Run ``fn(*args, token=..., **kwargs)`` on the network pool; items and errors come back
        as callbacks in the GUI thread while the panel lives (errors as one line of text)."""
        worker = run_in(self.pools, self.pools.network, fn, *args, owner=self, pass_cancel="token",
                        on_yield=on_item, on_error=None if on_error is None else lambda exc: on_error(message(exc)),
                        on_finished=on_done, **kwargs)
        self._jobs.add(worker)
        worker.signals.finished.connect(lambda w=worker: self._jobs.discard(w))
        return worker

    def _set_status(self, text: str) -> None:
        self.status.setText(text)
        self.status_changed.emit(text)

    # ------------------------------------------------------------------ echo / probe
    def echo(self) -> None:
        """Verify the current node (C-ECHO, or a minimal QIDO-RS search for a DICOMweb node)."""
        node = self.current_node()
        if node is None:
            return
        self._set_status(f"verifying {node.name}…")
        self._start(lambda n, a, token: iter([pacs.echo(n, a, token)]), node, self.config.local.ae_title,
                    on_item=lambda report: self._set_status(report.line()), on_error=self._set_status)

    def probe(self) -> None:
        """Which presentation contexts the node accepts: one line here, the table in a dialog."""
        node = self.current_node()
        if node is None or pacs.is_web(node):
            return
        self._set_status(f"probing {node.name}…")
        results: list[Any] = []

        def done() -> None:
            if not results:
                return
            accepted = sum(1 for r in results if getattr(r, "accepted", False))
            self._set_status(f"{node.name}: {accepted} of {len(results)} presentation contexts accepted "
                             "(details in the probe window)")
            self.show_probe(node.name, results)

        self._start(lambda n, a, token: iter(pacs.probe(n, a, token)), node, self.config.local.ae_title,
                    on_item=results.append, on_error=self._set_status, on_done=done)

    def show_probe(self, node_name: str, results: list[Any]) -> None:
        """Show a probe's results in their own window (reused by the next probe)."""
        from viewer.ui.probe_dialog import ProbeDialog

        if self.probe_dialog is None:
            self.probe_dialog = ProbeDialog(self)
        self.probe_dialog.show_results(node_name, results)
        self.probe_dialog.show()
        self.probe_dialog.raise_()

    # ------------------------------------------------------------------ query
    def _query_keys(self) -> dict[str, str]:
        """The form as matching keys; dates as typed become DA values (raises ValueError)."""
        form = QueryForm(self.level_combo.currentText(), self.q_name.text(), self.q_id.text(), self.q_acc.text(),
                         self.q_date.text(), self.q_modality.text(), self.q_uid.text())
        return query_keys(form)

    def search(self) -> None:
        """Run the query of the form; results stream into the tree."""
        node = self.current_node()
        if node is None:
            return
        self.cancel_query()
        try:
            keys = self._query_keys()
        except ValueError as exc:  # a date the form cannot read: say so, send nothing
            self._set_status(f"Date: {exc}")
            return
        for drill in list(self._drill_jobs):  # their rows go with the results cleared
            drill.cancel()
        self._drill_jobs.clear()
        self.results.clear()
        level, root = self.level_combo.currentText(), self.root_combo.currentText()
        count = [0]
        failed: list[str] = []

        # A query replaced by a newer one (cancelled, its last matches still on their way)
        # no longer touches the results, the status or the buttons.
        def latest() -> bool:
            return self._query_job is job

        def fail(message: str) -> None:
            if latest():
                failed.append(message)
                self._set_status(message)

        def add(ds: Dataset) -> None:
            if latest():
                count[0] += 1
                self._add_result(None, ds, level)

        def done() -> None:
            if not latest():
                return
            self.cancel_btn.setEnabled(False)
            self.search_btn.setEnabled(True)
            self._query_job = None
            if not failed:
                self._set_status(f"{count[0]} result(s)" + (" (cancelled)" if job.token.cancelled else ""))
            self.query_finished.emit(count[0])

        self._set_status("searching…")
        self.search_btn.setEnabled(False)
        self.cancel_btn.setEnabled(True)
        job = self._query_job = self._start(pacs.query, node, self.config.local.ae_title, root, level,
                                            keys, on_item=add, on_error=fail, on_done=done)

    def cancel_query(self) -> None:
        if self._query_job is not None:
            self._query_job.cancel()
            self._set_status("query cancelled")

    def _add_result(self, parent: QTreeWidgetItem | None, ds: Dataset, level: str) -> QTreeWidgetItem:
        if level == "PATIENT":
            cols = [f"{_name(ds)} ({_text(ds, 'PatientID')})", format_date(_text(ds, "PatientBirthDate")), "", "",
                    _text(ds, "NumberOfPatientRelatedStudies"), _text(ds, "PatientID")]
        elif level == "STUDY":
            cols = [f"{_name(ds)} ({_text(ds, 'PatientID')})", format_date(_text(ds, "StudyDate")),
                    _text(ds, "StudyDescription"), _text(ds, "ModalitiesInStudy"),
                    _text(ds, "NumberOfStudyRelatedInstances"), _text(ds, "StudyInstanceUID")]
        elif level == "SERIES":
            cols = [f"Series {_text(ds, 'SeriesNumber')}", format_date(_text(ds, "SeriesDate")),
                    _text(ds, "SeriesDescription"), _text(ds, "Modality"), _text(ds, "NumberOfSeriesRelatedInstances"),
                    _text(ds, "SeriesInstanceUID")]
        else:
            cols = [f"Image {_text(ds, 'InstanceNumber')}", "", "", "", "", _text(ds, "SOPInstanceUID")]
        item = _ResultItem(cols)
        item.setData(0, _ROLE, ds)
        item.setData(0, _LEVEL_ROLE, level)
        if level in _CHILD and not (level == "PATIENT" and self.root_combo.currentText() == "study"):
            item.setChildIndicatorPolicy(QTreeWidgetItem.ChildIndicatorPolicy.ShowIndicator)
        if parent is None:
            self.results.addTopLevelItem(item)
        else:
            parent.addChild(item)
        return item

    def _on_item_expanded(self, item: QTreeWidgetItem) -> None:
        """Drill down: query the next level for this study/series the first time it opens."""
        if item.data(0, _LOADED_ROLE):
            return
        item.setData(0, _LOADED_ROLE, True)
        level = item.data(0, _LEVEL_ROLE)
        child = _CHILD.get(level)
        node = self.current_node()
        if child is None or node is None:
            return
        keys = self._parent_keys(item)
        root = self.root_combo.currentText()
        if root == "study":
            keys.pop("PatientID", None)

        def add(ds: Dataset) -> None:
            if job in self._drill_jobs:  # else a new search cleared the results (and ``item``)
                self._add_result(item, ds, child)

        job = self._start(pacs.query, node, self.config.local.ae_title, root, child, keys,
                          on_item=add, on_error=self._set_status)
        self._drill_jobs.add(job)
        job.signals.finished.connect(lambda: self._drill_jobs.discard(job))

    @staticmethod
    def _parent_keys(item: QTreeWidgetItem | None) -> dict[str, str]:
        keys: dict[str, str] = {}
        while item is not None:
            ds, level = item.data(0, _ROLE), item.data(0, _LEVEL_ROLE)
            uid_kw = {"PATIENT": "PatientID", "STUDY": "StudyInstanceUID", "SERIES": "SeriesInstanceUID",
                      "IMAGE": "SOPInstanceUID"}[level]
            keys.setdefault(uid_kw, _text(ds, uid_kw))
            if "PatientID" in ds and ds.PatientID:
                keys.setdefault("PatientID", _text(ds, "PatientID"))
            item = item.parent()
        return keys

    # ------------------------------------------------------------------ retrieve
    def retrieve_selected(self) -> None:
        """Retrieve every selected study/series/image with the node's method (move or get)."""
        for item in self.results.selectedItems():
            self.retrieve_item(item)

    def retrieve_item(self, item: QTreeWidgetItem) -> Worker | None:
        node = self.current_node()
        level = item.data(0, _LEVEL_ROLE)
        if node is None or level is None:
            return None
        root = self.root_combo.currentText()
        uids = self._parent_keys(item)
        children = (item.child(i) for i in range(item.childCount()))
        found = [item.data(0, _ROLE)] + [c.data(0, _ROLE) for c in children if c is not None]
        method = "WADO-RS" if isinstance(node, DicomWebNode) else node.retrieve.upper()
        title = f"{method} {level.lower()} {item.text(0)}"
        job_ref: list[Worker] = []
        row_ref: list[ProgressRow] = []
        last: list[Any] = []

        def step(p: Any) -> None:
            last[:] = [p]
            row = row_ref[0]
            if p.total:
                row.bar.setRange(0, p.total)
                row.bar.setValue(p.completed + p.failed + p.warning)
            row.label.setText(f"{title}: {p.completed} received" + (f", {p.failed} failed" if p.failed else ""))
            if p.files:
                self.studies_retrieved.emit([str(f) for f in p.files])

        errors: list[str] = []

        def done() -> None:
            row = row_ref[0]
            row.cancel.setEnabled(False)
            if errors:
                text, ok = f"{title}: {errors[0]}", False
            elif job_ref[0].token.cancelled:
                text, ok = f"{title}: cancelled ({last[0].received if last else 0} file(s) kept)", False
            elif last:
                p = last[0]
                row.bar.setRange(0, 1)
                row.bar.setValue(1)
                text, ok = f"{title}: {p.summary()}", p.failed == 0
            else:
                text, ok = f"{title}: nothing received", False
            row.label.setText(text)
            if ok and self.library is not None:
                # Done: the study is in the library (File > Recent, the Library tab), the row
                # leaves the progress area so that finished retrieves do not pile up in it.
                text += "; in the library"
                self._drop_row(row)
            else:  # failed or cancelled: the row stays, with its reason, until dismissed
                row.dismissable(lambda: self._drop_row(row))
            self._set_status(text)
            self.retrieve_finished.emit(text, ok)

        job = self._start(_retrieve_indexed, self.library, node, level, uids, self.config.local.ae_title, self.store,
                          root=root, found=found, scp=self.scp, on_item=step, on_error=errors.append, on_done=done)
        job_ref.append(job)
        row = ProgressRow(title, job.cancel, self)
        row_ref.append(row)
        self.progress_box.addWidget(row)
        return job

    def _drop_row(self, row: ProgressRow) -> None:
        """Take a finished task's row out of the progress area."""
        self.progress_box.removeWidget(row)
        row.hide()
        row.deleteLater()

    # ------------------------------------------------------------------ worklist
    def search_worklist(self) -> None:
        node = self.current_node()
        if node is None:
            return
        if pacs.is_web(node):
            self._set_status("the worklist needs a DIMSE node")
            return
        flt = pacs.WorklistFilter(self.w_modality.text().strip(), self.w_station.text().strip(),
                                  self.w_date.text().strip(), self.w_name.text().strip(), self.w_id.text().strip(),
                                  self.w_acc.text().strip())
        if self._worklist_job is not None:  # asked again: the newer search replaces it
            self._worklist_job.cancel()
        self.worklist_tree.clear()
        items: list[Dataset] = []
        failed: list[str] = []

        def done() -> None:
            if self._worklist_job is not job:
                return  # replaced by a newer search
            self._worklist_job = None
            for proc in pacs.worklist_procedures(items):
                parent = QTreeWidgetItem([proc.label])
                parent.setData(0, _ROLE, proc.item)
                self.worklist_tree.addTopLevelItem(parent)
                for sps in proc.steps:
                    parent.addChild(QTreeWidgetItem([
                        f"{_text(sps, 'ScheduledProcedureStepID')} {_text(sps, 'ScheduledProcedureStepDescription')}",
                        _text(sps, "Modality"), _text(sps, "ScheduledStationAETitle"),
                        format_date(_text(sps, "ScheduledProcedureStepStartDate")),
                        format_time(_text(sps, "ScheduledProcedureStepStartTime"))]))
                parent.setExpanded(True)
            if not failed:  # the failure stays in the status line
                self._set_status(f"{len(items)} worklist item(s)")
            self.query_finished.emit(len(items))

        def fail(text: str) -> None:
            if self._worklist_job is job:
                failed.append(text)
                self._set_status(text)

        job = self._worklist_job = self._start(pacs.worklist, node, self.config.local.ae_title, flt,
                                               on_item=items.append, on_error=fail, on_done=done)

    # ------------------------------------------------------------------ shutdown
    def shutdown(self, timeout_ms: int = 3000) -> None:
        """Cancel running jobs, stop the storage SCP, wait a bounded time (as on close)."""
        for job in list(self._jobs):
            job.cancel()
        if self._own_pools:
            self.pools.shutdown(timeout_ms)
        else:
            self.pools.network.waitForDone(timeout_ms)
        self.scp.stop()

