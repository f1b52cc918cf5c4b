"""Window/level of a viewport: the right-button drag, presets, automatic and file windows.

The window in use is the view state's (the user's) or else the file's own (VOI LUT
Module, PS3.3 C.11.2; min/max when it has none). A drag changes the state's window by
about its whole width over 300 screen pixels; on a large image it paints a preview of the
visible region while it runs (:mod:`viewer.ui.viewport_render`). A new series whose file
has no window opens with its modality's default preset (:mod:`viewer.tasks.presets`).
"""

from __future__ import annotations

from typing import Any, Protocol

import numpy as np

from viewer.session import ViewState
from viewer.ui.viewport_geometry import ViewGeometry
from viewer.ui.viewport_loader import LoadedFrame
from viewer.ui.viewport_render import FrameRenderer

#: Above this many pixels a window/level drag renders the visible region only.
PREVIEW_PIXELS = 2_500_000


class WindowHost(Protocol):
    """What window/level needs of its viewport."""

    state: ViewState
    current: LoadedFrame | None
    view_geometry: ViewGeometry
    renderer: FrameRenderer

    def _write(self, **values: Any) -> None: ...

    def _refresh_annotations(self) -> None: ...


class WindowLevel:
    """The window/level gestures and choices of one viewport."""

    def __init__(self, host: WindowHost) -> None:
        self.vp = host
        self._start: tuple[float, float] | None = None  #: the window when a drag began

    @property
    def dragging(self) -> bool:
        """A window/level drag is under way."""
        return self._start is not None

    def current_window(self) -> tuple[float, float] | None:
        """The (center, width) in use, whether the user's or the file's (None for colour/VOI LUT)."""
        item = self.vp.current
        if item is None or item.is_color:
            return None
        if self.vp.state.window is not None:
            return self.vp.state.window
        from viewer.render import current_window

        w = current_window(item.stored, item.params)
        return (w.center, w.width) if w is not None else None

    def on_drag(self, dx: float, dy: float, phase: int) -> None:
        """A right-button drag moved by (dx, dy) screen pixels; phase 0 start, 1 move, 2 end."""
        item = self.vp.current
        if item is None or item.is_color:
            return
        if phase == 0 or self._start is None:
            self._start = self.current_window() or (128.0, 256.0)
        c, w = self.vp.state.window or self._start
        scale = max(self._start[1], 2.0) / 300.0  # about 300 px for the whole width
        self.vp._write(window=(c + dy * scale, max(1.0, w + dx * scale)), window_name="")
        shape = self.vp.view_geometry.shape
        big = shape is not None and shape[0] * shape[1] > PREVIEW_PIXELS
        renderer = self.vp.renderer
        if not big:
            renderer.render_full()
        elif phase == 2:
            renderer.render_full_async(lambda: self.dragging)
        else:
            renderer.render_preview()
        if phase == 2:
            self._start = None
        self.vp._refresh_annotations()

    def apply_default(self, item: LoadedFrame) -> None:
        """A new series whose file has no window (nor VOI LUT) opens with its modality's default
        preset (CT: soft tissue), not min/max; min/max stays one key away (:meth:`min_max`)."""
        params = item.params
        has_voi = bool(params.windows) or bool(params.voi_luts) or params.voi_lut is not None
        if self.vp.state.window is not None or item.is_color or has_voi:
            return
        from viewer.tasks.presets import default_preset, preset_window

        preset = default_preset(str(item.dataset.get("Modality", "") or ""))
        if preset is not None:
            center, width = preset_window(preset, item.stored, item.params)
            # Written without re-rendering here: the viewport renders next.
            self.vp._write(window=(float(center), max(1e-6, float(width))), window_name=preset.name)

    def apply_preset(self, preset: Any) -> None:
        """Use a window preset (:class:`viewer.tasks.presets.WindowPreset`), absolute or relative."""
        item = self.vp.current
        if item is None or item.is_color:
            return
        from viewer.tasks.presets import preset_window

        center, width = preset_window(preset, item.stored, item.params)
        self.vp.state.set_window(center, width, preset.name)

    def min_max(self) -> None:
        """The full range of this frame's values (DCMTK's min-max VOI)."""
        from viewer.tasks.presets import min_max_preset

        self.apply_preset(min_max_preset())

    def file_windows(self) -> list[tuple[str, float, float]]:
        """The windows stored in the file: (label, center, width)."""
        if self.vp.current is None:
            return []
        return [(w.label, w.center, w.width) for w in getattr(self.vp.current.params, "windows", ())]

    def auto(self) -> None:
        """A window over the 0.5-99.5 percentile of this frame's modality values."""
        item = self.vp.current
        if item is None or item.is_color:
            return
        from viewer.render import modality_values

        values = modality_values(item.stored[::2, ::2], item.params)
        lo, hi = (float(v) for v in np.percentile(values, [0.5, 99.5]))
        self.vp.state.set_window((lo + hi) / 2.0, max(1.0, hi - lo), "auto")
