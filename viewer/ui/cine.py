"""Cine playback of a viewport's frames at the file's frame rate.

Timing comes from the Cine module (:func:`viewer.render.frame_times_ms`: Frame Time,
Frame Time Vector, Recommended Display Frame Rate, Cine Rate; PS3.3 C.7.6.5) unless the
user overrides the rate. Each frame has a due time on a steady clock measured from the
start; a precise single-shot timer wakes up for the next due time, so rounding never
accumulates. Frames are decoded ahead in the decode pool; if one is not ready in time the
player waits for it and counts it as late (it never shows frames out of order).
"""

from __future__ import annotations

import logging
import time
from collections import deque
from typing import Any, Protocol

from PySide6.QtCore import QObject, Qt, QTimer, Signal

from viewer.session import FrameRef, ViewState

log = logging.getLogger(__name__)

#: Rate for stacks and files without timing.
DEFAULT_FPS = 15.0
MODES = ("loop", "bounce", "once")


class CineHost(Protocol):
    """What the player needs of its viewport: the model, the decoded frame, the loader."""

    state: ViewState
    current: Any
    loader: Any
    fps_text: str

    @property
    def frame_count(self) -> int: ...

    @property
    def index(self) -> int: ...

    @property
    def frames(self) -> list[FrameRef]: ...

    def show_if_ready(self, index: int) -> bool: ...

    def view_key(self) -> tuple: ...


class CinePlayer(QObject):
    """Plays the frames of one viewport.

    Attributes
    ----------
    mode : str
        ``"loop"``, ``"bounce"`` (back and forth) or ``"once"``.
    fps_override : float or None
        Frames per second to use instead of the file's timing.
    shown : list of (index, due_ms, shown_ms)
        What was shown in the current run and when, relative to its start (for the fps
        readout, the benchmark and the tests).
    """

    playing_changed = Signal(bool)
    #: measured rate of what is actually shown, about twice a second
    fps_measured = Signal(float)

    def __init__(self, viewport: Any) -> None:
        super().__init__(viewport)
        self.vp: CineHost = viewport
        self.mode = "loop"
        self.fps_override: float | None = None
        self.prefetch_depth = 12
        self.playing = False
        self.shown: list[tuple[int, float, float]] = []
        #: positions in ``shown`` after which the clock was restarted (the player fell far behind)
        self.resyncs: list[int] = []
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setTimerType(Qt.TimerType.PreciseTimer)
        self._timer.timeout.connect(self._tick)
        self._t0 = 0.0
        self._due = 0.0
        self._next = 0
        self._direction = 1
        self._recent: deque[float] = deque(maxlen=240)
        self._last_readout = 0.0
        self.fps = 0.0

    # ------------------------------------------------------------------ timing
    def interval_ms(self, index: int) -> float:
        """Milliseconds between the previous frame and frame ``index``."""
        if self.fps_override:
            return 1000.0 / self.fps_override
        item = self.vp.current
        times = item.times_ms if item is not None else []
        if times and len(times) == self.vp.frame_count:
            t = times[index]
            if t <= 0:  # Frame Time Vector starts with 0 (PS3.3 C.7.6.5.1.2): loop uses the next step
                t = next((v for v in times[1:] if v > 0), 1000.0 / DEFAULT_FPS)
            return float(t)
        return 1000.0 / DEFAULT_FPS

    def nominal_fps(self) -> float:
        """The rate the file asks for (mean over its frames), or the override."""
        n = self.vp.frame_count
        if n == 0:
            return 0.0
        total = sum(self.interval_ms(i) for i in range(n))
        return 1000.0 * n / total if total > 0 else 0.0

    def set_fps(self, fps: float | None) -> None:
        """Override the rate (None: back to the file's timing); kept in the view model."""
        self.fps_override = float(fps) if fps else None
        self.vp.state.cine_fps = self.fps_override

    def set_mode(self, mode: str) -> None:
        if mode not in MODES:
            raise ValueError(f"cine mode must be one of {MODES}")
        self.mode = mode
        self.vp.state.cine_mode = mode

    # ------------------------------------------------------------------ control
    def toggle(self) -> None:
        self.stop() if self.playing else self.play()

    def play(self) -> None:
        """Start from the frame shown."""
        if self.playing or self.vp.frame_count < 2:
            return
        self.playing = True
        self.shown = []
        self.resyncs = []
        self._recent.clear()
        self._direction = 1
        self._t0 = time.perf_counter()
        self._next = self._step(self.vp.index)
        self._due = self.interval_ms(self._next)
        self._prefetch(self._next)
        self._timer.start(int(self._due))
        self.vp.state.playing = True
        self.playing_changed.emit(True)

    def stop(self) -> None:
        if not self.playing:
            return
        self.playing = False
        self._timer.stop()
        self.vp.fps_text = ""
        self.vp.state.playing = False
        self.playing_changed.emit(False)

    def elapsed_ms(self) -> float:
        return (time.perf_counter() - self._t0) * 1000.0

    def _step(self, index: int) -> int:
        n = self.vp.frame_count
        nxt = index + self._direction
        if 0 <= nxt < n:
            return nxt
        if self.mode == "bounce":
            self._direction = -self._direction
            return max(0, min(n - 1, index + self._direction))
        if self.mode == "once":
            return -1
        return 0

    def _order_from(self, index: int, count: int) -> list[int]:
        n = self.vp.frame_count
        out, i, d = [], index, self._direction
        for _ in range(min(count, n)):
            out.append(i)
            j = i + d
            if not 0 <= j < n:
                if self.mode == "bounce":
                    d = -d
                    j = i + d
                elif self.mode == "once":
                    break
                else:
                    j = 0
            i = j
        return out

    def _prefetch(self, index: int) -> None:
        frames = self.vp.frames
        self.vp.loader.prefetch([frames[i] for i in self._order_from(index, self.prefetch_depth)],
                                view=self.vp.view_key())

    def _tick(self) -> None:
        if not self.playing:
            return
        k = self._next
        if k < 0:
            self.stop()
            return
        now = self.elapsed_ms()
        if now + 0.5 < self._due:  # woke up early
            self._timer.start(max(0, int(self._due - now)))
            return
        if not self.vp.show_if_ready(k):
            self._prefetch(k)
            self._timer.start(2)  # the decoder is behind: look again shortly
            return
        shown = self.elapsed_ms()
        self.shown.append((k, self._due, shown))
        self._recent.append(shown)
        self._readout(shown)
        self._next = self._step(k)
        if self._next < 0:
            self.stop()
            return
        interval = self.interval_ms(self._next)
        self._due += interval
        if shown - self._due > 2 * interval:  # far behind (e.g. a stall): restart the clock here
            self._due = shown + interval
            self.resyncs.append(len(self.shown))
        self._prefetch(self._next)
        self._timer.start(max(0, int(self._due - self.elapsed_ms())))

    def _readout(self, now: float) -> None:
        while self._recent and now - self._recent[0] > 1000.0:
            self._recent.popleft()
        if now - self._last_readout < 500.0 and self._last_readout <= now:
            return
        self._last_readout = now
        span = (self._recent[-1] - self._recent[0]) if len(self._recent) > 1 else 0.0
        self.fps = 1000.0 * (len(self._recent) - 1) / span if span > 0 else 0.0
        self.vp.fps_text = f"{self.fps:.1f} fps (file {self.nominal_fps():.1f})"
        self.fps_measured.emit(self.fps)

    def on_time_fraction(self, tolerance_ms: float | None = None) -> float:
        """Fraction of the frames due so far that were shown within ``tolerance_ms`` of their due time."""
        if not self.shown:
            return 0.0
        ok = 0
        for index, due, shown in self.shown:
            tol = tolerance_ms if tolerance_ms is not None else 0.5 * self.interval_ms(index)
            ok += shown - due <= tol
        return ok / len(self.shown)

    def stats(self) -> dict[str, Any]:
        """Frames shown, span and mean rate of the current (or last) run."""
        if len(self.shown) < 2:
            return {"frames": len(self.shown), "span_ms": 0.0, "fps": 0.0}
        span = self.shown[-1][2] - self.shown[0][2]
        return {"frames": len(self.shown), "span_ms": span, "fps": 1000.0 * (len(self.shown) - 1) / span}
