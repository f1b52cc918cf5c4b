"""The one GUI worker (viewer.ui.workers.Worker): signals, exceptions, cancellation, owners."""

from __future__ import annotations

import threading
from typing import Any, Callable, Iterator

import pytest
import shiboken6
from PySide6.QtCore import QObject, QThreadPool

from viewer.cancel import CancelToken
from viewer.errors import NetError
from viewer.ui.workers import Pools, Worker, connect, launch, message, run_in

pytestmark = pytest.mark.gui


@pytest.fixture
def pool() -> Iterator[QThreadPool]:
    p = QThreadPool()
    p.setMaxThreadCount(2)
    yield p
    p.waitForDone(10000)


def _record(worker: Worker) -> list[tuple[str, Any]]:
    """Every signal of ``worker`` in the order the GUI thread received them."""
    seen: list[tuple[str, Any]] = []
    sig = worker.signals
    sig.started.connect(lambda: seen.append(("started", None)))
    sig.yielded.connect(lambda v: seen.append(("yielded", v)))
    sig.progress.connect(lambda v: seen.append(("progress", v)))
    sig.returned.connect(lambda v: seen.append(("returned", v)))
    sig.errored.connect(lambda e: seen.append(("errored", e)))
    sig.aborted.connect(lambda: seen.append(("aborted", None)))
    sig.finished.connect(lambda: seen.append(("finished", None)))
    return seen


def test_returned_then_finished(qtbot, pool) -> None:
    worker = Worker(lambda a, b=0: a * b, 6, b=7)
    seen = _record(worker)
    with qtbot.waitSignal(worker.signals.finished, timeout=10000):
        launch(pool, worker)
    assert seen == [("started", None), ("returned", 42), ("finished", None)]


def test_errored_carries_the_exception_instance(qtbot, pool) -> None:
    boom = NetError("association rejected", status=0xA700, category="Failure")

    def fail() -> None:
        raise boom

    worker = Worker(fail)
    seen = _record(worker)
    with qtbot.waitSignal(worker.signals.finished, timeout=10000):
        launch(pool, worker)
    errors = [v for k, v in seen if k == "errored"]
    assert len(errors) == 1 and errors[0] is boom and errors[0].status == 0xA700
    assert "returned" not in [k for k, _ in seen] and seen[-1] == ("finished", None)
    assert message(boom) == "association rejected"
    assert message(KeyError("x")) == "KeyError: 'x'"  # not a ViewerError: its type is named


def test_cancel_stops_a_generator_between_yields(qtbot, pool) -> None:
    """A generator that does not take the token is closed between two items."""
    step = threading.Semaphore(0)
    closed = threading.Event()

    def numbers() -> Iterator[int]:
        try:
            for i in range(100):
                assert step.acquire(timeout=10)
                yield i
        finally:
            closed.set()

    worker = Worker(numbers)
    seen = _record(worker)
    launch(pool, worker)
    step.release()
    step.release()
    qtbot.waitUntil(lambda: [v for k, v in seen if k == "yielded"] == [0, 1], timeout=10000)
    worker.cancel()
    assert worker.cancelled
    for _ in range(5):  # the generator may produce item 2, which must not be delivered
        step.release()
    qtbot.waitUntil(lambda: ("finished", None) in seen, timeout=10000)
    assert closed.wait(5)  # the generator's finally ran (close() at the cancel)
    kinds = [k for k, _ in seen]
    assert [v for k, v in seen if k == "yielded"] == [0, 1]
    assert kinds[-2:] == ["aborted", "finished"] and "returned" not in kinds


def test_a_generator_given_the_token_ends_itself(qtbot, pool) -> None:
    """With ``pass_cancel`` the function decides: here a last item reports the cancel."""
    go = threading.Event()

    def send(token: CancelToken) -> Iterator[str]:
        yield "first"
        go.wait(10)
        yield "report: cancelled" if token.cancelled else "report: done"

    worker = Worker(send, pass_cancel="token")
    seen = _record(worker)
    launch(pool, worker)
    qtbot.waitUntil(lambda: ("yielded", "first") in seen, timeout=10000)
    worker.cancel()
    go.set()
    qtbot.waitUntil(lambda: ("finished", None) in seen, timeout=10000)
    assert [v for k, v in seen if k == "yielded"] == ["first", "report: cancelled"]


def test_cancelled_raised_by_the_function_is_aborted_not_errored(qtbot, pool) -> None:
    def work(cancel: CancelToken) -> None:
        assert cancel.wait(10)
        cancel.raise_if_cancelled("export cancelled")

    worker = Worker(work, pass_cancel=True)
    seen = _record(worker)
    launch(pool, worker)
    qtbot.waitUntil(lambda: ("started", None) in seen, timeout=10000)
    with qtbot.waitSignal(worker.signals.finished, timeout=10000):
        worker.cancel()
    assert [k for k, _ in seen] == ["started", "aborted", "finished"]


def test_progress_reports_reach_the_gui_in_order(qtbot, pool) -> None:
    def job(progress: Callable[..., None]) -> str:
        for i in range(3):
            progress(f"film {i + 1}/3", (i + 1) / 3)
        progress("event")  # one value travels as is
        return "printed"

    worker = Worker(job, pass_progress=True)
    seen = _record(worker)
    with qtbot.waitSignal(worker.signals.finished, timeout=10000):
        launch(pool, worker)
    assert [v for k, v in seen if k == "progress"] == [("film 1/3", 1 / 3), ("film 2/3", 2 / 3),
                                                       ("film 3/3", 1.0), "event"]
    assert ("returned", "printed") in seen


def test_a_destroyed_owner_cancels_the_work_and_hears_nothing(qtbot) -> None:
    """The owner (a window) goes while its work runs: the work is cancelled, no callback runs."""
    pools = Pools()
    owner = QObject()
    started = threading.Event()
    calls: list[str] = []

    def slow(cancel: CancelToken) -> str:
        started.set()
        cancel.wait(20)
        return "late result"

    worker = run_in(pools, pools.network, slow, owner=owner, pass_cancel=True,
                    on_result=lambda r: calls.append(f"result {r}"), on_abort=lambda: calls.append("aborted"),
                    on_finished=lambda: calls.append("finished"))
    assert started.wait(10)
    finished: list[bool] = []
    worker.signals.finished.connect(lambda: finished.append(True))
    shiboken6.delete(owner)  # what closing a window does to its C++ object
    qtbot.waitUntil(lambda: finished == [True], timeout=10000)
    assert worker.token.cancelled
    assert calls == []  # no callback ran on the deleted owner
    qtbot.waitUntil(lambda: pools.live == 0, timeout=5000)
    pools.shutdown()


def test_connect_without_owner_and_a_cancel_while_queued(qtbot) -> None:
    """A worker cancelled before a pool thread picks it up never runs its function."""
    pool = QThreadPool()
    pool.setMaxThreadCount(1)
    gate = threading.Event()
    blocker = Worker(lambda: gate.wait(10))
    launch(pool, blocker)
    ran: list[bool] = []
    queued = connect(Worker(lambda: ran.append(True)), on_abort=lambda: ran.append(False))
    launch(pool, queued)
    queued.cancel()
    with qtbot.waitSignal(queued.signals.finished, timeout=10000):
        gate.set()
    assert ran == [False]
    pool.waitForDone(5000)

