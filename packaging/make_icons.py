#!/usr/bin/env python
"""Render ``resources/icons/dicom-viewer.svg`` to the PNG sizes of the freedesktop icon theme.

    .venv/bin/python packaging/make_icons.py           # regenerate
    .venv/bin/python packaging/make_icons.py --check   # exit 1 if a PNG is stale

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


def check() -> list[str]:
    """Names of committed PNGs that differ from a fresh rendering of the SVG (or are missing)."""
    import numpy as np
    from PySide6.QtGui import QImage

    stale = []
    svg = ICONS / "dicom-viewer.svg"
    for size in SIZES:
        fresh = render(svg, size).convertToFormat(QImage.Format.Format_RGBA8888)
        want = np.frombuffer(fresh.constBits(), np.uint8).reshape(size, fresh.bytesPerLine() // 4, 4)[:, :size]
        for kind, name in (("apps", "dicom-viewer"), ("mimetypes", "application-dicom")):
            path = ICONS / "hicolor" / f"{size}x{size}" / kind / f"{name}.png"
            have = QImage(str(path)).convertToFormat(QImage.Format.Format_RGBA8888)
            if have.isNull() or have.width() != size or have.height() != size:
                stale.append(str(path))
                continue
            got = np.frombuffer(have.constBits(), np.uint8).reshape(size, have.bytesPerLine() // 4, 4)[:, :size]
            # antialiasing may differ by a level or two between Qt versions
            if np.abs(got.astype(int) - want.astype(int)).max() > 8:
                stale.append(str(path))
    return stale


def main() -> int:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtGui import QGuiApplication

    app = QGuiApplication.instance() or QGuiApplication([])  # noqa: F841 - fonts/image plugins need it
    if "--check" in sys.argv:
        stale = check()
        for name in stale:
            print(f"stale: {name}")
        return 1 if stale else 0
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
