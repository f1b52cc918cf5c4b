"""The PACS side panel: node selector, echo/probe, query by level with drill-down, retrieve
with per-request progress and cancel, and a worklist tab.

Every network call runs in a :class:`viewer.ui.workers.Worker` on the network pool; the
worker's signals reach this panel through a small per-job QObject living in the GUI
thread, so results are applied in the GUI thread and workers never touch widgets.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any, Callable

from pydicom.dataset import Dataset
from pydicom.multival import MultiValue
from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import (QComboBox, QFormLayout, QHBoxLayout, QLabel, QLineEdit, QProgressBar, QPushButton,
                               QTabWidget, QTreeWidget, QTreeWidgetItem, QVBoxLayout, QWidget)

from viewer.config import NetworkConfig, default_store_dir, save_config
from viewer.cancel import CancelToken
from viewer.net.store import LocalStore
from viewer.ui.workers import Pools, Worker, run_in

log = logging.getLogger(__name__)

_ROLE = Qt.ItemDataRole.UserRole
_LEVEL_ROLE = Qt.ItemDataRole.UserRole + 1
_LOADED_ROLE = Qt.ItemDataRole.UserRole + 2
_CHILD = {"PATIENT": "STUDY", "STUDY": "SERIES", "SERIES": "IMAGE"}
COLUMNS = ["Patient / item", "Date", "Description", "Modality", "Count", "UID"]


class _Job(QObject):
    """Routes one worker's signals to callbacks, in the GUI thread (this object's thread)."""

    def __init__(self, parent: QObject, on_item: Callable[[Any], None] | None,
                 on_error: Callable[[str], None] | None, on_done: Callable[[], None] | None) -> None:
        super().__init__(parent)
        self._on_item, self._on_error, self._on_done = on_item, on_error, on_done
        self.token = CancelToken()
        self.worker: Worker | None = None

    def item(self, value: Any) -> None:
        if self._on_item is not None:
            self._on_item(value)

    def error(self, message: str) -> None:
        if self._on_error is not None:
            self._on_error(message)

    def done(self) -> None:
        if self._on_done is not None:
            self._on_done()
        self.deleteLater()

    def cancel(self) -> None:
        self.token.cancel()  # C-CANCEL now, abort after a grace period (viewer.net.association)


class _RetrieveRow(QWidget):
    """One retrieve in progress: label, bar, cancel button."""

    def __init__(self, title: str, job: _Job, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        lay = QHBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        self.label = QLabel(title)
        self.bar = QProgressBar()
        self.bar.setRange(0, 0)
        self.cancel = QPushButton("Cancel")
        self.cancel.clicked.connect(job.cancel)
        lay.addWidget(self.label, 2)
        lay.addWidget(self.bar, 3)
        lay.addWidget(self.cancel)


def _text(ds: Dataset, kw: str) -> str:
    value = ds.get(kw, "")
    if value is None:
        return ""
    # Only real multi-values are joined: PersonName is iterable too (over its characters).
    if isinstance(value, (list, tuple, MultiValue)):
        return "\\".join(str(v) for v in value)
    return str(value)


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
        from viewer.tasks.retrieve import ScpHolder

        self.config = config
        self.pools = pools or Pools()
        self._own_pools = pools is None
        self.config_dir = config_dir
        self.store = store or LocalStore(config.local.store_dir or default_store_dir())
        self.scp = ScpHolder(config.local, self.store, config.known_calling_aets())
        self._jobs: set[_Job] = set()
        if on_retrieved is not None:
            self.studies_retrieved.connect(on_retrieved)
        self._build()
        self._reload_nodes()

    # ------------------------------------------------------------------ layout
    def _build(self) -> None:
        root = QVBoxLayout(self)
        row = QHBoxLayout()
        self.node_combo = QComboBox()
        self.edit_btn, self.add_btn, self.local_btn = QPushButton("Edit…"), QPushButton("Add…"), QPushButton("Local AE…")
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
        self.q_date.setPlaceholderText("20240101-20241231")
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
        self.results.itemExpanded.connect(self._on_item_expanded)
        lay.addWidget(self.results, 1)
        self.search_btn.clicked.connect(self.search)
        self.cancel_btn.clicked.connect(self.cancel_query)
        self.retrieve_btn.clicked.connect(self.retrieve_selected)
        self._query_job: _Job | None = None
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
        for w in (self.edit_btn, self.echo_btn, self.probe_btn, self.search_btn, self.wl_btn, self.retrieve_btn,
                  self.send_action.button):
            w.setEnabled(has)

    def current_node(self) -> Any:
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
        if _is_web(old):
            return self._edit_web_node(old)
        dlg = NodeDialog(old, self)
        if dlg.exec() and dlg.node() is not None:
            node = dlg.node()
            if old is not None:
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
        if dlg.exec() and dlg.node() is not None:
            node = dlg.node()
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
        if dlg.exec() and dlg.local() is not None:
            self.config.local = dlg.local()
            self.scp.stop()  # restarted on demand with the new title/port
            from viewer.tasks.retrieve import ScpHolder

            self.scp = ScpHolder(self.config.local, self.store, self.config.known_calling_aets())
            self._save()

    # ------------------------------------------------------------------ jobs
    def _start(self, fn: Callable[..., Any], *args: Any, on_item: Callable[[Any], None] | None = None,
               on_error: Callable[[str], None] | None = None, on_done: Callable[[], None] | None = None) -> _Job:
        job = _Job(self, on_item, on_error, on_done)
        self._jobs.add(job)

        def wrapped(*a: Any) -> Any:
            return fn(*a, token=job.token)

        job.worker = run_in(self.pools, self.pools.network, wrapped, *args, on_yield=job.item,
                            on_error=job.error, on_finished=job.done)
        job.worker.signals.finished.connect(lambda j=job: self._jobs.discard(j))
        return job

    def _set_status(self, text: str) -> None:
        self.status.setText(text)
        self.status_changed.emit(text)

    # ------------------------------------------------------------------ echo / probe
    def echo(self) -> None:
        from viewer.net.echo import echo

        node = self.current_node()
        if node is None:
            return
        if _is_web(node):  # the DICOMweb counterpart, a minimal QIDO-RS search
            from viewer.net.dicomweb import ping_node

            self._start(lambda n, token: iter([ping_node(n, token)]), node, on_error=self._set_status,
                        on_item=lambda t: self._set_status(f"QIDO-RS {node.base_url}: OK, {t * 1000:.1f} ms"))
            return
        self._set_status(f"C-ECHO {node.ae_title}…")

        def show(result: Any) -> None:
            self._set_status(f"C-ECHO {node.ae_title}: 0x{result.status:04X} ({result.category}), "
                             f"{result.rtt * 1000:.1f} ms")

        self._start(lambda n, a, token: iter([echo(n, a, token)]), node, self.config.local.ae_title,
                    on_item=show, on_error=self._set_status)

    def probe(self) -> None:
        from viewer.net.probe import probe

        node = self.current_node()
        if node is None or _is_web(node):
            return
        self._set_status(f"probing {node.ae_title}…")
        lines: list[str] = []
        self._start(lambda n, a, token: iter(probe(n, a, token=token)), node, self.config.local.ae_title,
                    on_item=lambda r: lines.append(r.line()), on_error=self._set_status,
                    on_done=lambda: lines and self._set_status("\n".join(lines)))

    # ------------------------------------------------------------------ query
    def _query_keys(self) -> dict[str, str]:
        keys = {"PatientName": self.q_name.text().strip(), "PatientID": self.q_id.text().strip(),
                "AccessionNumber": self.q_acc.text().strip(), "StudyDate": self.q_date.text().strip(),
                "ModalitiesInStudy": self.q_modality.text().strip(), "StudyInstanceUID": self.q_uid.text().strip()}
        level = self.level_combo.currentText()
        if level == "PATIENT":
            keys = {k: v for k, v in keys.items() if k in ("PatientName", "PatientID")}
        elif level in ("SERIES", "IMAGE"):
            keys = {"StudyInstanceUID": keys["StudyInstanceUID"], "Modality": keys["ModalitiesInStudy"]} \
                if level == "SERIES" else {"StudyInstanceUID": keys["StudyInstanceUID"]}
        return {k: v for k, v in keys.items() if v}

    def search(self) -> None:
        """Run the query of the form; results stream into the tree."""
        node = self.current_node()
        if node is None:
            return
        self.cancel_query()
        self.results.clear()
        level, root = self.level_combo.currentText(), self.root_combo.currentText()
        count = [0]
        failed: list[str] = []

        def fail(message: str) -> None:
            failed.append(message)
            self._set_status(message)

        def add(ds: Dataset) -> None:
            count[0] += 1
            self._add_result(None, ds, level)

        def done() -> None:
            self.cancel_btn.setEnabled(False)
            self.search_btn.setEnabled(True)
            self._query_job = None
            if not failed:
                self._set_status(f"{count[0]} result(s)" + (" (cancelled)" if job.token.cancelled else ""))
            self.query_finished.emit(count[0])

        self._set_status("searching…")
        self.search_btn.setEnabled(False)
        self.cancel_btn.setEnabled(True)
        job = self._query_job = self._start(_run_find, node, self.config.local.ae_title, root, level,
                                            self._query_keys(), on_item=add, on_error=fail, on_done=done)

    def cancel_query(self) -> None:
        if self._query_job is not None:
            self._query_job.cancel()
            self._set_status("query cancelled")

    def _add_result(self, parent: QTreeWidgetItem | None, ds: Dataset, level: str) -> QTreeWidgetItem:
        if level == "PATIENT":
            cols = [f"{_text(ds, 'PatientName')} ({_text(ds, 'PatientID')})", _text(ds, "PatientBirthDate"), "", "",
                    _text(ds, "NumberOfPatientRelatedStudies"), _text(ds, "PatientID")]
        elif level == "STUDY":
            cols = [f"{_text(ds, 'PatientName')} ({_text(ds, 'PatientID')})", _text(ds, "StudyDate"),
                    _text(ds, "StudyDescription"), _text(ds, "ModalitiesInStudy"),
                    _text(ds, "NumberOfStudyRelatedInstances"), _text(ds, "StudyInstanceUID")]
        elif level == "SERIES":
            cols = [f"Series {_text(ds, 'SeriesNumber')}", _text(ds, "SeriesDate"), _text(ds, "SeriesDescription"),
                    _text(ds, "Modality"), _text(ds, "NumberOfSeriesRelatedInstances"), _text(ds, "SeriesInstanceUID")]
        else:
            cols = [f"Image {_text(ds, 'InstanceNumber')}", "", "", "", "", _text(ds, "SOPInstanceUID")]
        item = QTreeWidgetItem(cols)
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
        self._start(_run_find, node, self.config.local.ae_title, root, child, keys,
                    on_item=lambda ds: self._add_result(item, ds, child), on_error=self._set_status)

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

    def retrieve_item(self, item: QTreeWidgetItem) -> _Job | None:
        from viewer.net.find import Root
        from viewer.net.get import get_sop_classes
        from viewer.tasks.retrieve import RetrieveRequest, retrieve

        node = self.current_node()
        level = item.data(0, _LEVEL_ROLE)
        if node is None or level is None:
            return None
        root = Root(self.root_combo.currentText())
        uids = self._parent_keys(item)
        sop = get_sop_classes([item.data(0, _ROLE)] + [item.child(i).data(0, _ROLE) for i in range(item.childCount())])
        web = _is_web(node)  # WADO-RS from a DICOMweb node
        request = None if web else RetrieveRequest(node, level, uids, root=root, method=node.retrieve,
                                                   sop_classes=sop)
        title = f"{'WADO-RS' if web else node.retrieve.upper()} {level.lower()} {item.text(0)}"
        job_ref: list[_Job] = []
        row_ref: list[_RetrieveRow] = []
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
            self._set_status(text)
            self.retrieve_finished.emit(text, ok)

        if web:
            from viewer.net.dicomweb import retrieve_node

            body = lambda *a, token: retrieve_node(node, level, uids, self.store, token)  # noqa: E731
        else:
            body = lambda *a, token: retrieve(request, self.config.local.ae_title, self.store,  # noqa: E731
                                              scp=self.scp, token=token)
        job = self._start(body, on_item=step, on_error=errors.append, on_done=done)
        job_ref.append(job)
        row = _RetrieveRow(title, job, self)
        row_ref.append(row)
        self.progress_box.addWidget(row)
        return job

    # ------------------------------------------------------------------ worklist
    def search_worklist(self) -> None:
        from viewer.net.worklist import WorklistFilter

        node = self.current_node()
        if node is None:
            return
        if _is_web(node):
            self._set_status("the worklist needs a DIMSE node")
            return
        flt = WorklistFilter(self.w_modality.text().strip(), self.w_station.text().strip(), self.w_date.text().strip(),
                             self.w_name.text().strip(), self.w_id.text().strip(), self.w_acc.text().strip())
        self.worklist_tree.clear()
        items: list[Dataset] = []

        def done() -> None:
            from viewer.net.worklist import group_by_procedure

            for proc in group_by_procedure(items):
                parent = QTreeWidgetItem([proc.label])
                parent.setData(0, _ROLE, proc.item)
                self.worklist_tree.addTopLevelItem(parent)
                for sps in proc.steps:
                    parent.addChild(QTreeWidgetItem([
                        f"{_text(sps, 'ScheduledProcedureStepID')} {_text(sps, 'ScheduledProcedureStepDescription')}",
                        _text(sps, "Modality"), _text(sps, "ScheduledStationAETitle"),
                        _text(sps, "ScheduledProcedureStepStartDate"), _text(sps, "ScheduledProcedureStepStartTime")]))
                parent.setExpanded(True)
            self._set_status(f"{len(items)} worklist item(s)")
            self.query_finished.emit(len(items))

        self._start(_run_worklist, node, self.config.local.ae_title, flt, on_item=items.append,
                    on_error=self._set_status, on_done=done)

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


def _run_find(node: Any, aet: str, root: str, level: str, keys: dict[str, str], token: CancelToken) -> Any:
    """Worker body: build the query and stream C-FIND results (no Qt here)."""
    from viewer.net.find import FIND_MODEL, build_query, find, parse_root

    if _is_web(node):  # the same query by QIDO-RS (study-rooted, PS3.18 10.6)
        from viewer.net.dicomweb import keys_from_identifier, search_node

        qido_level, qido_keys = keys_from_identifier(build_query(level, keys, "study"))
        return search_node(node, qido_level, qido_keys, token)
    r = parse_root(root)
    return find(node, aet, build_query(level, keys, r), FIND_MODEL[r], token=token)


def _is_web(node: Any) -> bool:
    """A DICOMweb node, as opposed to a DIMSE one."""
    return node is not None and hasattr(node, "base_url")


def _run_worklist(node: Any, aet: str, flt: Any, token: CancelToken) -> Any:
    from viewer.net.worklist import build_worklist_query, worklist

    return worklist(node, aet, build_worklist_query(flt), token=token)
