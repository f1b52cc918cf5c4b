"""One image viewport: a pyqtgraph ``ImageItem`` showing a series, frame by frame.

Decoding and rendering run in the decode pool (:mod:`viewer.ui.workers`); the viewport only
ever receives finished display arrays. Arrays are ``(rows, cols[, 3])`` throughout
(``imageAxisOrder="row-major"`` set once, DESIGN.md house rule 12).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from viewer.ui.workers import Pools, run_in

pg.setConfigOptions(imageAxisOrder="row-major", antialias=True)

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class FrameRef:
    """One displayable frame: a file and a 0-based frame index."""

    path: str
    frame_index: int = 0


def decode_and_render(ref: FrameRef) -> tuple[FrameRef, np.ndarray, Any]:
    """Worker body: read, decode and render one frame (no Qt)."""
    from viewer.dicom.frames import open_frames
    from viewer.render import params_from_dataset, render

    src = open_frames(ref.path)
    params = params_from_dataset(src.dataset, frame_index=ref.frame_index)
    image = render(src.frame(ref.frame_index), params)
    return ref, image, params


class Viewport(QWidget):
    """Shows one series; ``image_shown`` fires after each displayed frame."""

    image_shown = Signal(object)  # FrameRef
    failed = Signal(str)

    def __init__(self, pools: Pools, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._pools = pools
        self._frames: list[FrameRef] = []
        self._index = 0
        self._pending: FrameRef | None = None
        self.view = pg.GraphicsLayoutWidget()
        self.view.setBackground("k")
        self.viewbox: pg.ViewBox = self.view.addViewBox(lockAspect=True, invertY=True, enableMenu=False)
        self.image_item = pg.ImageItem(axisOrder="row-major")
        self.viewbox.addItem(self.image_item)
        self.message = QLabel("", self)
        self.message.setStyleSheet("color: #ddd; background: transparent;")
        self.message.setAlignment(Qt.AlignmentFlag.AlignCenter)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.view)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)

    # ------------------------------------------------------------------ model
    def set_frames(self, frames: list[FrameRef]) -> None:
        """Show a stack (already in display order), starting at its first frame."""
        self._frames = list(frames)
        self._index = 0
        if self._frames:
            self._request(self._frames[0])

    @property
    def frame_count(self) -> int:
        return len(self._frames)

    @property
    def index(self) -> int:
        return self._index

    def set_index(self, index: int) -> None:
        if not self._frames:
            return
        index = max(0, min(index, len(self._frames) - 1))
        if index != self._index:
            self._index = index
            self._request(self._frames[index])

    # ------------------------------------------------------------------ work
    def _request(self, ref: FrameRef) -> None:
        self._pending = ref
        run_in(self._pools, self._pools.decode, decode_and_render, ref,
               on_result=self._on_rendered, on_error=self._on_error)

    def _on_rendered(self, result: tuple[FrameRef, np.ndarray, Any]) -> None:
        ref, image, _params = result
        if ref != self._pending:
            return  # a newer request superseded this one
        first = self.image_item.image is None
        if image.ndim == 2:
            self.image_item.setImage(image, levels=(0, 255), autoLevels=False)
        else:
            self.image_item.setImage(image, levels=(0, 255), autoLevels=False)
        if first:
            self.viewbox.autoRange(padding=0)
        self.image_shown.emit(ref)

    def _on_error(self, message: str) -> None:
        log.warning("cannot show image: %s", message)
        self.failed.emit(message)

    # ------------------------------------------------------------------ input
    def keyPressEvent(self, event: Any) -> None:  # noqa: N802 - Qt naming
        key = event.key()
        if key in (Qt.Key.Key_Down, Qt.Key.Key_Right):
            self.set_index(self._index + 1)
        elif key in (Qt.Key.Key_Up, Qt.Key.Key_Left):
            self.set_index(self._index - 1)
        elif key == Qt.Key.Key_PageDown:
            self.set_index(self._index + 10)
        elif key == Qt.Key.Key_PageUp:
            self.set_index(self._index - 10)
        elif key == Qt.Key.Key_Home:
            self.set_index(0)
        elif key == Qt.Key.Key_End:
            self.set_index(len(self._frames) - 1)
        else:
            super().keyPressEvent(event)
