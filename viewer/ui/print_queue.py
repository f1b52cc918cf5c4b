"""The application's print queue in the GUI: jobs run in the background, one at a time.

:class:`PrintQueue` belongs to the application (one per process, :meth:`PrintQueue.instance`),
not to the print dialog: closing the dialog leaves its jobs running. Jobs and the state
of each film are kept by :class:`viewer.tasks.print_queue.JobStore` (on disk), so the
queue window shows them again after a restart. Each job runs in a
:class:`viewer.ui.workers.Worker` on a single-thread pool.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from PySide6.QtCore import QObject, Qt, QThreadPool, Signal
from PySide6.QtWidgets import (QApplication, QHBoxLayout, QLabel, QMessageBox, QPlainTextEdit, QPushButton,
                               QSplitter, QTreeWidget, QTreeWidgetItem, QVBoxLayout, QWidget)

from viewer.errors import ViewerError
from viewer.tasks.print_queue import NOT_AGAIN, JobRecord, JobStore, requeue, run_job
from viewer.ui.workers import Worker, connect, launch, message

log = logging.getLogger(__name__)


class PrintQueue(QObject):
    """Runs print jobs of the application's queue; emits :attr:`job_changed` (job id) on every change.

    Parameters
    ----------
    store : JobStore, optional
        Where jobs are kept (default: the user's data folder).
    pool : QThreadPool, optional
        Pool to run jobs in (one thread is used: jobs print in order).
    """

    job_changed = Signal(int)
    #: (job id, text): progress of the running job, job events (PENDING, PRINTING, ...)
    progress = Signal(int, str)
    #: (job id, ok, summary) when a job ends
    finished = Signal(int, bool, str)
    #: (job id, PrintReport) when a job printed all its films
    job_done = Signal(int, object)
    #: (job id, message) when a job failed or was cancelled
    job_failed = Signal(int, str)

    _instance: "PrintQueue | None" = None

    def __init__(self, store: JobStore | None = None, pool: QThreadPool | None = None,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.store = store or JobStore()
        self.pool = pool or QThreadPool(self)
        self.pool.setMaxThreadCount(1)
        self.workers: dict[int, Worker] = {}
        #: bound of every wait for the printer, seconds
        self.timeout = 30.0
        # Store changes come from the worker thread: a queued signal brings them to the GUI thread.
        self.store.subscribe(lambda job: self.job_changed.emit(job.id))

    @classmethod
    def instance(cls, store: JobStore | None = None, pool: QThreadPool | None = None) -> "PrintQueue":
        """The application's queue (made on first use, owned by the QApplication)."""
        if cls._instance is None:
            cls._instance = cls(store, pool, parent=QApplication.instance())
            cls._instance.destroyed.connect(cls._forget)
        return cls._instance

    @classmethod
    def _forget(cls, *_: Any) -> None:
        cls._instance = None

    # ------------------------------------------------------------------ jobs
    def submit(self, refs: list[Any], box: Any, session: Any, profile: Any, options: dict[str, Any],
               timeout: float | None = None) -> int:
        """Queue a job; returns its id. ``timeout`` bounds every wait for the printer (s)."""
        job = self.store.add(list(refs), box, session, profile, options)
        self._start(job.id, timeout)
        return job.id

    def resume(self) -> list[int]:
        """Start the jobs left queued when the program last ended (not the interrupted ones:
        the user decides whether to retry them)."""
        ids = [j.id for j in self.store.jobs() if j.state == "queued" and j.id not in self.workers]
        for jid in ids:
            self._start(jid)
        return ids

    def _start(self, jid: int, timeout: float | None = None) -> None:
        timeout = self.timeout if timeout is None else timeout

        def job(cancel: Any, progress: Any) -> Any:
            return run_job(self.store, jid, cancel=cancel, timeout=timeout,
                           progress=lambda text, frac: progress(text, frac))

        worker = Worker(job, pass_cancel=True, pass_progress=True)
        connect(worker, self, on_progress=lambda value: self.progress.emit(jid, str(value[0])),
                on_result=lambda report: self._ended(jid, True, report=report),
                on_error=lambda exc: self._ended(jid, False, message(exc)),
                on_abort=lambda: self._ended(jid, False, "cancelled"),
                on_finished=lambda: self._forget_worker(jid, worker))
        self.workers[jid] = worker
        launch(self.pool, worker)

    def _forget_worker(self, jid: int, worker: Worker) -> None:
        # Only this run's worker: a Retry may have started the next run of the job before this
        # run's end was delivered, and the queue must go on waiting for that one.
        if self.workers.get(jid) is worker:
            del self.workers[jid]

    def _ended(self, jid: int, ok: bool, error: str = "", report: Any = None) -> None:
        try:
            job = self.store.get(jid)
        except KeyError:
            return
        if ok:
            self.job_done.emit(jid, report)
        else:
            printed = job.printed
            done = f" (printed: {', '.join(map(str, printed))} of {len(job.films)} films)" if printed else \
                f" (no film of {len(job.films)} printed)"
            if job.uncertain:
                done += f" (perhaps printed, no answer to N-ACTION: {', '.join(map(str, job.uncertain))})"
            self.job_failed.emit(jid, error + done if error != "cancelled" else f"cancelled{done}")
        self.finished.emit(jid, ok and job.state == "done", job.summary())

    def cancel(self, jid: int) -> None:
        """Cancel a queued or running job (films the printer accepted stay printed)."""
        worker = self.workers.get(jid)
        if worker is not None:
            worker.cancel()
            if self.pool.tryTake(worker):  # still queued: it will never run
                self.workers.pop(jid, None)
                self.store.change(jid, _cancelled)
                self.job_failed.emit(jid, "cancelled (no film printed)")
                self.finished.emit(jid, False, self.store.get(jid).summary())

    def retry(self, jid: int) -> None:
        """Print the films of a finished job that were not printed."""
        requeue(self.store, jid)
        self._start(jid)

    def reprint(self, jid: int) -> None:
        """Print every film of a finished job again."""
        requeue(self.store, jid, all_films=True)
        self._start(jid)

    @property
    def busy(self) -> bool:
        return bool(self.workers)

    def wait(self, timeout_ms: int = 60000) -> bool:
        """Wait until no job runs (tests, quitting)."""
        deadline = time.monotonic() + timeout_ms / 1000
        while self.workers and time.monotonic() < deadline:
            QApplication.processEvents()
            self.pool.waitForDone(20)
        QApplication.processEvents()
        return not self.workers


def _cancelled(job: JobRecord) -> None:
    job.state, job.error, job.finished = "cancelled", "cancelled before it started", time.time()


# ---------------------------------------------------------------------------- window
_FILM_TEXT = {"pending": "pending", "uncertain": "perhaps printed", "sent": "sent", "printing": "printing",
              "done": "done", "failed": "FAILED"}


class PrintQueueWindow(QWidget):
    """The queue and its history: jobs with their films' states; cancel, retry, reprint."""

    def __init__(self, queue: PrintQueue | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Print queue")
        self.queue = queue or PrintQueue.instance()
        self.tree = QTreeWidget()
        self.tree.setHeaderLabels(["Job / film", "Printer", "State", "Details"])
        self.tree.setColumnWidth(0, 200)
        self.tree.setColumnWidth(1, 150)
        self.tree.setColumnWidth(2, 110)
        self.tree.currentItemChanged.connect(self._selected)
        self.events = QPlainTextEdit(readOnly=True)
        self.events.setMaximumBlockCount(2000)
        self.cancel_button = QPushButton("Cancel")
        self.retry_button = QPushButton("Retry")
        self.retry_button.setToolTip("Print the films that were not printed")
        self.reprint_button = QPushButton("Reprint")
        self.reprint_button.setToolTip("Print every film of the job again")
        self.cancel_button.clicked.connect(lambda: self._act(self.queue.cancel))
        self.retry_button.clicked.connect(lambda: self._act(self.queue.retry))
        self.reprint_button.clicked.connect(lambda: self._act(self.queue.reprint))
        self.status = QLabel()
        buttons = QHBoxLayout()
        for b in (self.cancel_button, self.retry_button, self.reprint_button):
            buttons.addWidget(b)
        buttons.addStretch(1)
        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(self.tree)
        split.addWidget(self.events)
        split.setSizes([300, 120])
        lay = QVBoxLayout(self)
        lay.addWidget(split)
        lay.addLayout(buttons)
        lay.addWidget(self.status)
        self.queue.job_changed.connect(self._job_changed)
        self.queue.progress.connect(self._progress)
        self.refresh()

    def _items(self) -> dict[int, QTreeWidgetItem]:
        out = {}
        for i in range(self.tree.topLevelItemCount()):
            it = self.tree.topLevelItem(i)
            if it is not None:
                out[int(it.data(0, Qt.ItemDataRole.UserRole))] = it
        return out

    def refresh(self) -> None:
        """Show every job of the store (newest first)."""
        current = self.selected_job()
        self.tree.clear()
        for job in reversed(self.queue.store.jobs()):
            self._fill(QTreeWidgetItem(self.tree), job)
        if current is not None:
            self.select(current)
        self._buttons()

    def _fill(self, item: QTreeWidgetItem, job: JobRecord) -> None:
        when = time.strftime("%Y-%m-%d %H:%M", time.localtime(job.created))
        item.setText(0, f"job {job.id}  {when}")
        item.setData(0, Qt.ItemDataRole.UserRole, job.id)
        item.setText(1, job.printer)
        item.setText(2, job.state.upper())
        item.setText(3, job.summary().split(": ", 1)[1] + (f" — {len(job.warnings)} adapted/warnings"
                                                            if job.warnings else ""))
        item.takeChildren()
        for f in job.films:
            child = QTreeWidgetItem(item)
            child.setText(0, f"film {f.number} ({f.images} images)")
            child.setText(2, _FILM_TEXT.get(f.state, f.state))
            child.setText(3, " ".join(x for x in (f.execution_status, f.execution_status_info) if x))
        item.setExpanded(job.active or job.state in ("failed", "interrupted", "cancelled"))

    def _job_changed(self, jid: int) -> None:
        try:
            job = self.queue.store.get(jid)
        except KeyError:
            return
        item = self._items().get(jid)
        if item is None:
            item = QTreeWidgetItem()
            self.tree.insertTopLevelItem(0, item)
        self._fill(item, job)
        if jid == self.selected_job():
            self._show_events(job)
        self._buttons()

    def _progress(self, jid: int, text: str) -> None:
        self.status.setText(f"job {jid}: {text}")

    def selected_job(self) -> int | None:
        it = self.tree.currentItem()
        while it is not None and it.parent() is not None:
            it = it.parent()
        return None if it is None else int(it.data(0, Qt.ItemDataRole.UserRole))

    def select(self, jid: int) -> None:
        item = self._items().get(jid)
        if item is not None:
            self.tree.setCurrentItem(item)

    def _selected(self, *_: Any) -> None:
        jid = self.selected_job()
        if jid is not None:
            self._show_events(self.queue.store.get(jid))
        self._buttons()

    def _show_events(self, job: JobRecord) -> None:
        lines = list(job.events) + [f"warning: {w}" for w in job.warnings]
        self.events.setPlainText("\n".join(lines))

    def _buttons(self) -> None:
        jid = self.selected_job()
        job = self.queue.store.get(jid) if jid is not None else None
        self.cancel_button.setEnabled(job is not None and job.active)
        printed_all = job is not None and all(f.state in NOT_AGAIN for f in job.films)
        self.retry_button.setEnabled(job is not None and not job.active and not printed_all)
        self.reprint_button.setEnabled(job is not None and not job.active)

    def _act(self, fn: Any) -> None:
        jid = self.selected_job()
        if jid is None:
            return
        try:
            fn(jid)
        except ViewerError as exc:
            QMessageBox.warning(self, "Print queue", str(exc))
        self._buttons()
