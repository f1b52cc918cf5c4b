"""Background work for the GUI: one :class:`Worker` (a ``QRunnable``) whose signals live on a
separate QObject, after superqt's ``WorkerBase``.

A worker runs a plain core function from :mod:`viewer.tasks` (or the other layers): blocking,
possibly a generator. What it produces travels back to the GUI thread through queued signals;
it never touches a widget. Each worker owns one :class:`viewer.cancel.CancelToken`; the
function receives it when asked (``pass_cancel``) and checks it between steps; a generator
that was not given the token is closed between two items. See docs/architecture.md,
"Threads and cancellation".

Lifetime: :func:`launch` (used by :class:`Pools`) keeps every started worker, and so its
signals object, alive until it has finished, so an emit never meets a deleted sender.
Callbacks given to :func:`connect` / :func:`run_in` with an ``owner`` QObject are called
through a relay parented to that owner: when the owner (a window, a panel) is destroyed, Qt
disconnects the relay and the worker is cancelled, so no callback ever runs on a deleted
widget.

Pools: one for decoding (thumbnails, frames), one for the network, and a single-thread queue
for print jobs, so a slow PACS never delays an image and print jobs never overlap.
"""

from __future__ import annotations

import logging
import threading
from typing import Any, Callable, Iterable

import shiboken6
from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal, Slot

from viewer.cancel import CancelToken
from viewer.errors import Cancelled, ViewerError

log = logging.getLogger(__name__)


class WorkerSignals(QObject):
    """Signals of a :class:`Worker` (a QRunnable cannot have signals itself)."""

    started = Signal()
    #: one item yielded by a generator function
    yielded = Signal(object)
    #: a report the function passed to its ``progress`` callback (see ``pass_progress``)
    progress = Signal(object)
    #: the return value of a plain function (None for a generator); not emitted when cancelled
    returned = Signal(object)
    #: the exception instance the function raised (:func:`message` makes a line of it)
    errored = Signal(object)
    #: the work stopped because its token was cancelled (or it raised Cancelled)
    aborted = Signal()
    #: always emitted last, after returned, errored or aborted
    finished = Signal()


def message(exc: BaseException) -> str:
    """One line for the user: a :class:`ViewerError`'s message as is, else prefixed by its type."""
    if isinstance(exc, ViewerError):
        return str(exc)
    return f"{type(exc).__name__}: {exc}"


class Worker(QRunnable):
    """Run ``fn(*args, **kwargs)`` in a pool; stream the items if it returns an iterator.

    Parameters
    ----------
    fn
        The work; never touches Qt.
    pass_cancel
        ``True`` passes the worker's token as keyword ``cancel``; a string names the keyword
        (the network functions call it ``token``). A generator that gets the token decides
        itself how to end on cancel (e.g. C-CANCEL, then a last item with the report), so all
        its items are delivered; any other generator is closed between two items.
    pass_progress
        Pass ``progress=callback``; each call's arguments (one value, or a tuple of several)
        are emitted as :attr:`WorkerSignals.progress`.
    """

    def __init__(self, fn: Callable[..., Any], *args: Any, pass_cancel: bool | str = False,
                 pass_progress: bool = False, **kwargs: Any) -> None:
        super().__init__()
        # The Python object owns the C++ runnable: Pools drops it once finished was delivered.
        self.setAutoDelete(False)
        self.signals = WorkerSignals()
        self.token = CancelToken()
        self._fn, self._args, self._kwargs = fn, args, kwargs
        self._fn_stops = bool(pass_cancel)
        if pass_cancel:
            self._kwargs["cancel" if pass_cancel is True else str(pass_cancel)] = self.token
        if pass_progress:
            self._kwargs["progress"] = self._report

    def cancel(self) -> None:
        """Ask the work to stop at its next check; ``aborted`` and ``finished`` follow."""
        self.token.cancel()

    @property
    def cancelled(self) -> bool:
        return self.token.cancelled

    def _report(self, *values: Any) -> None:
        self._emit(self.signals.progress, values[0] if len(values) == 1 else values)

    def _emit(self, signal: Any, *args: Any) -> None:
        # The signals object is owned by this worker, which Pools keeps until finished:
        # it is valid unless the whole application is being torn down.
        if shiboken6.isValid(self.signals):
            signal.emit(*args)

    def run(self) -> None:  # runs in a pool thread
        sig = self.signals
        try:
            self._emit(sig.started)
            self.token.raise_if_cancelled()  # cancelled while queued
            result = self._fn(*self._args, **self._kwargs)
            if _is_iterator(result):
                try:
                    for item in result:
                        if self.token.cancelled and not self._fn_stops:
                            break
                        self._emit(sig.yielded, item)
                finally:
                    close = getattr(result, "close", None)
                    if close is not None:
                        close()  # runs the generator's finally blocks (release, C-CANCEL) now
                result = None
            if self.token.cancelled and not self._fn_stops:
                self._emit(sig.aborted)
            else:  # a function given the token returned normally: its result stands
                self._emit(sig.returned, result)
        except Cancelled:
            self._emit(sig.aborted)
        except Exception as exc:  # reported to the GUI, never raised into Qt
            if isinstance(exc, ViewerError):
                log.info("worker: %s", exc)
            else:
                log.exception("worker failed")
            self._emit(sig.errored, exc)
        finally:
            self._emit(sig.finished)


def _is_iterator(obj: Any) -> bool:
    return hasattr(obj, "__next__") and hasattr(obj, "__iter__") and not isinstance(obj, (str, bytes))


class _Relay(QObject):
    """Calls a worker's callbacks in the GUI thread while its owner lives.

    A child of the owner: Qt disconnects it when the owner goes, and drops its queued calls.
    """

    def __init__(self, owner: QObject, worker: Worker, callbacks: dict[str, Callable[..., Any] | None]) -> None:
        super().__init__(owner)
        self._cb = callbacks
        self._worker = worker
        sig = worker.signals
        sig.yielded.connect(self.on_yielded)
        sig.progress.connect(self.on_progress)
        sig.returned.connect(self.on_returned)
        sig.errored.connect(self.on_errored)
        sig.aborted.connect(self.on_aborted)
        sig.finished.connect(self.on_finished)
        # The relay dies with its owner: the work is cancelled then (and harmlessly again
        # when the relay is deleted after finished).
        self.destroyed.connect(worker.token.cancel)

    def _call(self, name: str, *args: Any) -> None:
        cb = self._cb.get(name)
        if cb is not None:
            cb(*args)

    @Slot(object)
    def on_yielded(self, item: Any) -> None:
        self._call("yielded", item)

    @Slot(object)
    def on_progress(self, value: Any) -> None:
        self._call("progress", value)

    @Slot(object)
    def on_returned(self, value: Any) -> None:
        self._call("returned", value)

    @Slot(object)
    def on_errored(self, exc: Any) -> None:
        self._call("errored", exc)

    @Slot()
    def on_aborted(self) -> None:
        self._call("aborted")

    @Slot()
    def on_finished(self) -> None:
        try:
            self._call("finished")
        finally:
            self.setParent(None)
            self.deleteLater()


#: Workers started and not yet finished, whoever started them: the reference that keeps a
#: worker (and its signals object) alive while it runs.
_running: set[Worker] = set()
_running_lock = threading.Lock()


def launch(pool: QThreadPool, worker: Worker, priority: int = 0) -> Worker:
    """Start ``worker`` in ``pool``, keeping it alive until its ``finished`` was delivered.

    Higher ``priority`` runs first among queued workers (the frame on screen before frames
    decoded ahead for cine).
    """
    with _running_lock:
        _running.add(worker)
    worker.signals.finished.connect(lambda w=worker: _release(w))
    pool.start(worker, priority)
    return worker


def _release(worker: Worker) -> None:
    with _running_lock:
        _running.discard(worker)


def connect(worker: Worker, owner: QObject | None = None, *,
            on_yield: Callable[[Any], object] | None = None, on_result: Callable[[Any], object] | None = None,
            on_error: Callable[[BaseException], object] | None = None, on_finished: Callable[[], object] | None = None,
            on_progress: Callable[[Any], object] | None = None, on_abort: Callable[[], object] | None = None) -> Worker:
    """Connect callbacks to ``worker``'s signals (before it starts).

    With ``owner`` the callbacks run only while ``owner`` lives, and its destruction cancels
    the work (see the module docstring). ``on_error`` receives the exception instance.
    """
    callbacks = {"yielded": on_yield, "returned": on_result, "errored": on_error, "finished": on_finished,
                 "progress": on_progress, "aborted": on_abort}
    if owner is not None:
        _Relay(owner, worker, callbacks)
    else:
        sig = worker.signals
        for signal, slot in ((sig.yielded, on_yield), (sig.returned, on_result), (sig.errored, on_error),
                             (sig.progress, on_progress), (sig.aborted, on_abort), (sig.finished, on_finished)):
            if slot is not None:
                signal.connect(slot)
    return worker


class Pools:
    """The application's thread pools (decode, network, print queue)."""

    def __init__(self) -> None:
        self.decode = QThreadPool()
        self.decode.setMaxThreadCount(max(2, QThreadPool.globalInstance().maxThreadCount()))
        self.network = QThreadPool()
        self.network.setMaxThreadCount(4)
        self.print_queue = QThreadPool()
        self.print_queue.setMaxThreadCount(1)  # print jobs run one at a time, in order
        self._live: set[Worker] = set()
        self._lock = threading.Lock()

    def start(self, pool: QThreadPool, worker: Worker, priority: int = 0) -> Worker:
        """:func:`launch` ``worker`` in ``pool``, cancellable by :meth:`shutdown` until it finishes."""
        with self._lock:
            self._live.add(worker)
        worker.signals.finished.connect(lambda w=worker: self._forget(w))
        return launch(pool, worker, priority)

    def _forget(self, worker: Worker) -> None:
        with self._lock:
            self._live.discard(worker)

    @property
    def live(self) -> int:
        """Workers started here and not yet finished."""
        with self._lock:
            return len(self._live)

    def shutdown(self, timeout_ms: int = 3000) -> None:
        """Cancel everything and wait a bounded time (docs/architecture.md, Threads: on close)."""
        with self._lock:
            live = list(self._live)
        for w in live:
            w.cancel()
        for pool in (self.decode, self.network, self.print_queue):
            pool.clear()
            pool.waitForDone(timeout_ms)


def run_in(pools: Pools, pool: QThreadPool, fn: Callable[..., Any], *args: Any, owner: QObject | None = None,
           on_yield: Callable[[Any], object] | None = None, on_result: Callable[[Any], object] | None = None,
           on_error: Callable[[BaseException], object] | None = None, on_finished: Callable[[], object] | None = None,
           on_progress: Callable[[Any], object] | None = None, on_abort: Callable[[], object] | None = None,
           pass_cancel: bool | str = False, pass_progress: bool = False, priority: int = 0,
           **kwargs: Any) -> Worker:
    """Build a worker, :func:`connect` the callbacks (through ``owner`` if given), start it."""
    worker = Worker(fn, *args, pass_cancel=pass_cancel, pass_progress=pass_progress, **kwargs)
    connect(worker, owner, on_yield=on_yield, on_result=on_result, on_error=on_error, on_finished=on_finished,
            on_progress=on_progress, on_abort=on_abort)
    return pools.start(pool, worker, priority)


def drain(items: Iterable[Any]) -> list[Any]:
    """Collect an iterable (for tests)."""
    return list(items)
