"""A live film preview: the film at its aspect ratio, image boxes, densities, annotation text.

Pixels come from :func:`viewer.tasks.print_preview.preview_pixels` (numpy, no Qt); this widget only
scales them into its rectangle, keeping the film's aspect ratio, and writes the annotation
texts over the film (PS3.3 C.13.7 positions, shown top-left to bottom-right).
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QRectF, QSize, Qt
from PySide6.QtGui import QColor, QFont, QImage, QPainter, QPaintEvent, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget

from viewer.film.spec import FilmSpec
from viewer.tasks.print_preview import preview_pixels


def _to_qimage(px: np.ndarray) -> QImage:
    px = np.ascontiguousarray(px)
    h, w = px.shape[:2]
    if px.ndim == 3:
        img = QImage(px.data, w, h, 3 * w, QImage.Format.Format_RGB888)
    else:
        img = QImage(px.data, w, h, w, QImage.Format.Format_Grayscale8)
    return img.copy()  # own the bytes: ``px`` may go away


class FilmPreview(QWidget):
    """Shows one :class:`~viewer.film.spec.FilmSpec`; call :meth:`set_film` when it changes."""

    #: preview resolution (pixels across the film); the widget scales it smoothly
    RESOLUTION = 600

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setMinimumSize(QSize(200, 240))
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self._film: FilmSpec | None = None
        self._pixels: np.ndarray | None = None
        self._image: QImage | None = None
        self._message = "No images"

    def set_film(self, film: FilmSpec | None, message: str = "") -> None:
        """Show ``film`` (None: a message instead)."""
        self._film = film
        if film is None:
            self._pixels, self._image = None, None
            self._message = message or "No images"
        else:
            self._pixels = preview_pixels(film, self.RESOLUTION)
            self._image = _to_qimage(self._pixels)
        self.update()

    @property
    def pixels(self) -> np.ndarray | None:
        """The preview pixels at :attr:`RESOLUTION` (what the widget draws, before scaling)."""
        return self._pixels

    def film_rect(self) -> QRectF:
        """Where the film is drawn: the largest rectangle of its aspect ratio in the widget."""
        if self._image is None:
            return QRectF(self.rect())
        iw, ih = self._image.width(), self._image.height()
        scale = min((self.width() - 8) / iw, (self.height() - 8) / ih)
        w, h = iw * scale, ih * scale
        return QRectF((self.width() - w) / 2, (self.height() - h) / 2, w, h)

    def paintEvent(self, event: QPaintEvent) -> None:
        p = QPainter(self)
        p.fillRect(self.rect(), self.palette().window())
        if self._image is None:
            p.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, self._message)
            return
        rect = self.film_rect()
        p.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, True)
        p.drawImage(rect, self._image)
        p.setPen(QPen(QColor(128, 128, 128)))
        p.drawRect(rect)
        if self._film is not None and self._film.annotations:
            self._draw_annotations(p, rect)
        p.end()

    def _draw_annotations(self, p: QPainter, rect: QRectF) -> None:
        texts = sorted(self._film.annotations.items()) if self._film else []
        font = QFont()
        font.setPointSizeF(max(6.0, rect.height() / 50))
        p.setFont(font)
        p.setPen(QPen(QColor(255, 200, 0)))
        # Positions alternate top-left, top-right, bottom-left, bottom-right, ... (printer specific;
        # the preview only shows that they will be printed and where roughly).
        corners = [Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft,
                   Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignRight,
                   Qt.AlignmentFlag.AlignBottom | Qt.AlignmentFlag.AlignLeft,
                   Qt.AlignmentFlag.AlignBottom | Qt.AlignmentFlag.AlignRight]
        inner = rect.adjusted(4, 2, -4, -2)
        for i, (_pos, text) in enumerate(texts):
            p.drawText(inner, int(corners[i % 4]), text)
