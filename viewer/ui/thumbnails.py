"""Series thumbnails rendered in the decode pool, one worker draining a queue.

The worker body is plain numpy (no Qt): the middle frame of a series rendered with the
file's own window, subsampled to about ``size`` pixels on its long side.
"""

from __future__ import annotations

import logging
from typing import Any, Iterator

import numpy as np
from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QImage, QPixmap

from viewer.cancel import CancelToken
from viewer.ui.workers import Pools, Worker

log = logging.getLogger(__name__)

THUMB_SIZE = 48


def render_thumbnail(path: str, frame_index: int, size: int = THUMB_SIZE) -> np.ndarray:
    """A small uint8 display image of one frame (``(h, w)`` or ``(h, w, 3)``)."""
    from viewer.dicom.frames import open_frames
    from viewer.render import current_window, params_from_dataset, render

    src = open_frames(path)
    index = min(frame_index, src.num_frames - 1)
    frame = src.frame(index)
    params = params_from_dataset(src.dataset, frame_index=index)
    if params.window is None and params.voi_lut is None and not params.is_color:
        # Without a VOI in the file the viewport opens with the modality's default preset
        # (CT: soft tissue), else at min/max over the whole frame: the thumbnail does the same.
        from viewer.tasks.presets import default_preset, preset_window

        preset = default_preset(str(src.dataset.get("Modality", "") or ""))
        if preset is not None:
            center, width = preset_window(preset, frame, params)
            params = params.with_window(center, width)
        else:
            w = current_window(frame, params)
            if w is not None:
                params = params.with_window(w.center, w.width, w.function)
    step = max(1, int(max(frame.shape[:2]) // size))
    # Subsample stored values first: render is pointwise, so this equals subsampling the rendering.
    return np.ascontiguousarray(render(frame[::step, ::step], params))


def _drain(jobs: list[tuple[str, str, int]], cancel: CancelToken) -> Iterator[tuple[str, Any]]:
    for key, path, index in jobs:
        if cancel.cancelled:
            return
        try:
            yield key, render_thumbnail(path, index)
        except Exception as exc:  # noqa: BLE001 - a bad file just gets no thumbnail
            log.info("no thumbnail for %s: %s", path, exc)
            yield key, None


def to_pixmap(image: np.ndarray) -> QPixmap:
    """uint8 ``(h, w)`` or ``(h, w, 3)`` -> QPixmap (copied, so the array may go away)."""
    img = np.ascontiguousarray(image)
    h, w = img.shape[:2]
    if img.ndim == 2:
        q = QImage(img.data, w, h, img.strides[0], QImage.Format.Format_Grayscale8)
    else:
        q = QImage(img.data, w, h, img.strides[0], QImage.Format.Format_RGB888)
    return QPixmap.fromImage(q.copy())


class ThumbnailQueue(QObject):
    """Queue of (key, path, frame) thumbnails; ``ready(key, QPixmap)`` as each is done."""

    ready = Signal(str, object)

    def __init__(self, pools: Pools, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._pools = pools
        self._queue: list[tuple[str, str, int]] = []
        self._worker: Worker | None = None
        self._known: set[str] = set()

    def add(self, key: str, path: str, frame_index: int = 0) -> None:
        if key in self._known:
            return
        self._known.add(key)
        self._queue.append((key, path, frame_index))
        if self._worker is None:
            self._start()

    def _start(self) -> None:
        jobs, self._queue = self._queue, []
        if not jobs:
            return
        worker = Worker(_drain, jobs, pass_cancel=True)
        worker.signals.yielded.connect(self._on_item)
        worker.signals.finished.connect(self._on_finished)
        self._worker = worker
        self._pools.start(self._pools.decode, worker, priority=-5)

    def _on_item(self, item: tuple[str, Any]) -> None:
        key, image = item
        if image is not None:
            self.ready.emit(key, to_pixmap(image))

    def _on_finished(self) -> None:
        self._worker = None
        if self._queue:
            self._start()

    def clear(self) -> None:
        if self._worker is not None:
            self._worker.cancel()
        self._queue.clear()
        self._known.clear()
