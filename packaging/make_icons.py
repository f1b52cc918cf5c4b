#!/usr/bin/env python
"""Render ``resources/icons/dicom-viewer.svg`` to the PNG sizes of the freedesktop icon theme.

    .venv/bin/python packaging/make_icons.py

Writes ``resources/icons/hicolor/NxN/apps/dicom-viewer.png`` (the desktop entry and the
window icon) and ``.../mimetypes/application-dicom.png`` (files of type application/dicom),
plus ``resources/icons/dicom-viewer.ico`` for the Windows build. Uses Qt's SVG renderer, so
the PNGs are what Qt itself shows. ``tests/unit/test_packaging.py`` checks they are current.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ICONS = ROOT / "resources" / "icons"
SIZES = (16, 24, 32, 48, 64, 128, 256)


def render(svg: Path, size: int):  # type: ignore[no-untyped-def]
    """The SVG rendered to a ``size`` x ``size`` ARGB QImage."""
    from PySide6.QtCore import Qt
    from PySide6.QtGui import QImage, QPainter
    from PySide6.QtSvg import QSvgRenderer

    image = QImage(size, size, QImage.Format.Format_ARGB32)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    QSvgRenderer(str(svg)).render(painter)
    painter.end()
    return image


def main() -> int:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtGui import QGuiApplication

    app = QGuiApplication.instance() or QGuiApplication([])  # noqa: F841 - fonts/image plugins need it
    svg = ICONS / "dicom-viewer.svg"
    for size in SIZES:
        image = render(svg, size)
        for kind, name in (("apps", "dicom-viewer"), ("mimetypes", "application-dicom")):
            out = ICONS / "hicolor" / f"{size}x{size}" / kind / f"{name}.png"
            out.parent.mkdir(parents=True, exist_ok=True)
            if not image.save(str(out), "PNG"):
                print(f"cannot write {out}", file=sys.stderr)
                return 1
    render(svg, 256).save(str(ICONS / "dicom-viewer.ico"), "ICO")
    print(f"wrote {len(SIZES) * 2} PNGs under {ICONS / 'hicolor'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
