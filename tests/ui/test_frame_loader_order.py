"""The frame loader under every order in which a worker's queued signals can reach the GUI.

A worker emits ``errored`` (or ``returned``) and then ``finished``; both are queued, and
other events (another frame's failure, the user's next click) can be handled between them.
Seen in CI's GUI fuzz run: a frame decoded ahead failed while another frame was on screen;
the user then went to that frame before the ahead worker's ``finished`` was handled, the
loader still counted the worker in flight and started nothing, and the viewport waited for
ever (no picture, no message).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from viewer.session.frames import FrameRef
from viewer.ui.viewport_loader import FrameLoader, LoadedFrame

pytestmark = pytest.mark.gui


class _HeldPools:
    """Pools that start nothing: the test plays each worker's signals itself, in its order."""

    decode = None

    def __init__(self) -> None:
        self.started: list[Any] = []

    def start(self, _pool: Any, worker: Any, priority: int = 0) -> Any:
        self.started.append(worker)
        return worker


def _item(ref: FrameRef) -> LoadedFrame:
    return LoadedFrame(ref, np.zeros((4, 4), np.uint16), None, None, 1, None, None, None, [], [])


def _outcomes(loader: FrameLoader) -> list[tuple[str, int]]:
    seen: list[tuple[str, int]] = []
    loader.loaded.connect(lambda item: seen.append(("loaded", item.ref.frame_index)))
    loader.failed.connect(lambda ref, _msg: seen.append(("failed", ref.frame_index)))
    return seen


def test_frame_asked_for_between_a_failure_and_its_finished_is_decoded_again(qtbot: Any) -> None:
    pools = _HeldPools()
    loader = FrameLoader(pools)  # type: ignore[arg-type]
    seen = _outcomes(loader)
    ref = FrameRef("/x/a.dcm", 1, "1.2.3")
    assert loader.request(ref, urgent=False) is None  # decoded ahead
    ahead = pools.started[-1]
    ahead.signals.errored.emit(ValueError("pixel data too short"))  # handled; finished still queued
    assert seen == [("failed", 1)]

    assert loader.request(ref) is None  # the user goes to that frame now
    assert len(pools.started) == 2, "the frame asked for again started no decode"
    again = pools.started[-1]
    ahead.signals.finished.emit()  # the first worker's finished, handled late
    assert loader.in_flight(ref), "the late finished forgot the new decode"
    assert loader.request(ref) is None and len(pools.started) == 2  # not started twice
    again.signals.returned.emit(_item(ref))
    again.signals.finished.emit()
    assert seen == [("failed", 1), ("loaded", 1)]
    assert not loader.in_flight(ref)


def test_aborted_worker_frees_its_frame_for_the_next_request(qtbot: Any) -> None:
    pools = _HeldPools()
    loader = FrameLoader(pools)  # type: ignore[arg-type]
    ref = FrameRef("/x/a.dcm", 0, "1.2.3")
    loader.request(ref)
    first = pools.started[-1]
    first.signals.aborted.emit()
    loader.request(ref)
    assert len(pools.started) == 2
    first.signals.finished.emit()
    assert loader.in_flight(ref)


def test_loaded_frame_is_served_from_memory_before_its_finished(qtbot: Any) -> None:
    pools = _HeldPools()
    loader = FrameLoader(pools)  # type: ignore[arg-type]
    ref = FrameRef("/x/a.dcm", 2, "1.2.3")
    loader.request(ref, urgent=False)
    worker = pools.started[-1]
    worker.signals.returned.emit(_item(ref))
    item = loader.request(ref)
    assert item is not None and item.ref == ref and len(pools.started) == 1
    worker.signals.finished.emit()
    assert not loader.in_flight(ref)
