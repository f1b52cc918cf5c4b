"""Background work for the GUI: ``QRunnable`` workers whose signals live on a separate QObject.

The pattern is superqt's ``WorkerBase`` (docs/architecture.md, Threads): a worker runs a plain core
function (blocking, possibly a generator) in a thread pool; what it produces travels back to
the GUI thread through queued signals; it never touches a widget. Cancellation is a
:class:`threading.Event` the core function checks between steps.

Pools: one for decoding (thumbnails, frames), one for the network, and a single-thread queue
for print jobs, so a slow PACS never delays an image and print jobs never overlap.
"""

from __future__ import annotations

import logging
import threading
from typing import Any, Callable, Iterable

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal

from viewer.cancel import CancelToken
from viewer.errors import Cancelled, ViewerError

log = logging.getLogger(__name__)


class WorkerSignals(QObject):
    """Signals of a :class:`Worker` (a QRunnable cannot have signals itself)."""

    started = Signal()
    #: one item yielded by a generator function
    yielded = Signal(object)
    #: the return value of a plain function (or None for a generator)
    returned = Signal(object)
    #: a user-facing message; the exception itself is logged
    errored = Signal(str)
    #: always emitted last, after returned or errored (also when cancelled)
    finished = Signal()


class Worker(QRunnable):
    """Run ``fn(*args, cancel=event, **kwargs)`` in a pool; stream items if it is a generator.

    ``fn`` receives the cancel :class:`threading.Event` as keyword ``cancel`` when
    ``pass_cancel`` is true. Exceptions become ``errored`` with a one-line message:
    :class:`ViewerError` messages as they are, anything else prefixed with its type.
    """

    def __init__(self, fn: Callable[..., Any], *args: Any, pass_cancel: bool = False, **kwargs: Any) -> None:
        super().__init__()
        self.setAutoDelete(True)
        self.signals = WorkerSignals()
        self.cancel_event = CancelToken()
        self._fn, self._args, self._kwargs = fn, args, kwargs
        if pass_cancel:
            self._kwargs["cancel"] = self.cancel_event

    def cancel(self) -> None:
        """Ask the work to stop at its next check; ``finished`` still follows."""
        self.cancel_event.cancel()

    @property
    def cancelled(self) -> bool:
        return self.cancel_event.cancelled

    def run(self) -> None:  # runs in a pool thread
        sig = self.signals
        try:
            sig.started.emit()
            result = self._fn(*self._args, **self._kwargs)
            if _is_iterator(result):
                for item in result:
                    if self.cancel_event.cancelled:
                        close = getattr(result, "close", None)
                        if close:
                            close()
                        break
                    sig.yielded.emit(item)
                result = None
            if not self.cancel_event.cancelled:
                sig.returned.emit(result)
        except Cancelled:
            pass
        except ViewerError as exc:
            log.info("worker: %s", exc)
            _emit_quietly(sig.errored, str(exc))
        except RuntimeError as exc:
            if "Signal source has been deleted" in str(exc):  # window closed while we worked
                log.debug("worker result dropped: %s", exc)
            else:
                log.exception("worker failed")
                _emit_quietly(sig.errored, f"{type(exc).__name__}: {exc}")
        except Exception as exc:  # noqa: BLE001 - reported to the GUI, never raised into Qt
            log.exception("worker failed")
            _emit_quietly(sig.errored, f"{type(exc).__name__}: {exc}")
        finally:
            try:
                sig.finished.emit()
            except RuntimeError:  # the receiver was deleted while we worked (window closed)
                pass


def _emit_quietly(signal: Any, *args: Any) -> None:
    try:
        signal.emit(*args)
    except RuntimeError:  # the signals object was deleted (window closed)
        pass


def _is_iterator(obj: Any) -> bool:
    return hasattr(obj, "__next__") and hasattr(obj, "__iter__") and not isinstance(obj, (str, bytes))


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
        """Start ``worker`` in ``pool`` and keep it cancellable until it finishes.

        Higher ``priority`` runs first among queued workers (the frame on screen before
        frames decoded ahead for cine).
        """
        with self._lock:
            self._live.add(worker)
        worker.signals.finished.connect(lambda w=worker: self._forget(w))
        pool.start(worker, priority)
        return worker

    def _forget(self, worker: Worker) -> None:
        with self._lock:
            self._live.discard(worker)

    def shutdown(self, timeout_ms: int = 3000) -> None:
        """Cancel everything and wait a bounded time (docs/architecture.md, Threads: on close)."""
        with self._lock:
            live = list(self._live)
        for w in live:
            w.cancel()
        for pool in (self.decode, self.network, self.print_queue):
            pool.clear()
            pool.waitForDone(timeout_ms)


def run_in(pools: Pools, pool: QThreadPool, fn: Callable[..., Any], *args: Any,
           on_yield: Callable[[Any], None] | None = None, on_result: Callable[[Any], None] | None = None,
           on_error: Callable[[str], None] | None = None, on_finished: Callable[[], None] | None = None,
           pass_cancel: bool = False, **kwargs: Any) -> Worker:
    """Convenience: build a worker, connect the callbacks, start it."""
    worker = Worker(fn, *args, pass_cancel=pass_cancel, **kwargs)
    for signal, slot in ((worker.signals.yielded, on_yield), (worker.signals.returned, on_result),
                         (worker.signals.errored, on_error), (worker.signals.finished, on_finished)):
        if slot is not None:
            signal.connect(slot)
    return pools.start(pool, worker)


def drain(items: Iterable[Any]) -> list[Any]:
    """Collect an iterable (for tests)."""
    return list(items)
