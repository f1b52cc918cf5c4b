"""The one cancel token (viewer.cancel): flag, wait, raise, callbacks, children. No Qt."""

from __future__ import annotations

import threading
import time

import pytest

from viewer.cancel import CancelToken, is_cancelled
from viewer.errors import Cancelled, ViewerError


def test_flag_and_raise() -> None:
    token = CancelToken()
    assert not token.cancelled and not is_cancelled(token) and not is_cancelled(None)
    token.raise_if_cancelled()  # not cancelled: nothing happens
    token.cancel()
    token.cancel()  # idempotent
    assert token.cancelled and is_cancelled(token)
    with pytest.raises(Cancelled, match="send cancelled") as info:
        token.raise_if_cancelled("send cancelled")
    assert isinstance(info.value, ViewerError)  # the GUI and CLI catch one hierarchy


def test_wait_times_out_then_wakes_on_cancel_from_another_thread() -> None:
    token = CancelToken()
    assert token.wait(0.01) is False
    started = threading.Event()

    def waiter(out: list[bool]) -> None:
        started.set()
        out.append(token.wait(30))

    out: list[bool] = []
    t = threading.Thread(target=waiter, args=(out,))
    t.start()
    assert started.wait(5)
    token.cancel()
    t.join(10)
    assert out == [True]


def test_callbacks_run_once_in_order_and_removers_work() -> None:
    token = CancelToken()
    calls: list[str] = []
    token.add_callback(lambda: calls.append("a"))
    remove_b = token.add_callback(lambda: calls.append("b"))
    token.add_callback(lambda: calls.append("c"))
    remove_b()
    token.cancel()
    token.cancel()
    assert calls == ["a", "c"]
    token.add_callback(lambda: calls.append("late"))  # already cancelled: runs at once
    assert calls == ["a", "c", "late"]


def test_a_failing_callback_does_not_stop_the_others() -> None:
    token = CancelToken()
    calls: list[int] = []

    def boom() -> None:
        raise RuntimeError("callback failed")

    token.add_callback(boom)
    token.add_callback(lambda: calls.append(1))
    token.cancel()
    assert token.cancelled and calls == [1]


def test_child_follows_parent_not_the_reverse() -> None:
    parent = CancelToken()
    child, unlink = parent.child()
    child.cancel()
    assert child.cancelled and not parent.cancelled
    other, unlink_other = parent.child()
    unlink_other()
    third, _ = parent.child()
    parent.cancel()
    assert third.cancelled and not other.cancelled


def test_many_threads_cancel_at_once_callbacks_run_once() -> None:
    token = CancelToken()
    count: list[int] = []
    token.add_callback(lambda: count.append(1))
    barrier = threading.Barrier(8)

    def hit() -> None:
        barrier.wait()
        token.cancel()

    threads = [threading.Thread(target=hit) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert count == [1]


def test_wait_returns_promptly_when_already_cancelled() -> None:
    token = CancelToken()
    token.cancel()
    t0 = time.monotonic()
    assert token.wait(30) is True
    assert time.monotonic() - t0 < 10  # generous: it must not have waited the timeout
