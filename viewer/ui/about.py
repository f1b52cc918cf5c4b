"""About dialog, application icon, and the "open folder" actions of the Help menu.

The dialog lists the versions of everything a bug report needs (Qt, PySide6, pydicom,
pynetdicom, numpy, pyqtgraph and each pixel-data codec with whether pydicom can use it) and
the folders where settings, the local store and logs live (:mod:`viewer.paths`), each with
a button that opens it in the file manager.
"""

from __future__ import annotations

import importlib.metadata
import logging
import platform
import sys
from pathlib import Path
from typing import Any

from PySide6.QtCore import QUrl, qVersion
from PySide6.QtGui import QDesktopServices, QGuiApplication, QIcon
from PySide6.QtWidgets import (QDialog, QDialogButtonBox, QFormLayout, QHBoxLayout, QLabel, QMenu,
                               QPushButton, QVBoxLayout, QWidget)

from viewer import __version__, paths
from viewer.resources import resource_origin, resource_path, resource_root

log = logging.getLogger(__name__)

#: Distributions shown in the dialog, in order: (label, distribution name).
COMPONENTS: tuple[tuple[str, str], ...] = (
    ("PySide6", "PySide6-Essentials"),
    ("pydicom", "pydicom"),
    ("pynetdicom", "pynetdicom"),
    ("numpy", "numpy"),
    ("pyqtgraph", "pyqtgraph"),
    ("Pillow", "pillow"),
    ("pylibjpeg", "pylibjpeg"),
    ("pylibjpeg-libjpeg (JPEG, JPEG-LS)", "pylibjpeg-libjpeg"),
    ("pylibjpeg-openjpeg (JPEG 2000)", "pylibjpeg-openjpeg"),
    ("pylibjpeg-rle (RLE)", "pylibjpeg-rle"),
)

#: Transfer syntaxes whose decoder availability the dialog reports (PS3.5 A.4).
CODEC_SYNTAXES: tuple[tuple[str, str], ...] = (
    ("JPEG baseline", "1.2.840.10008.1.2.4.50"),
    ("JPEG lossless", "1.2.840.10008.1.2.4.70"),
    ("JPEG-LS", "1.2.840.10008.1.2.4.80"),
    ("JPEG 2000", "1.2.840.10008.1.2.4.90"),
    ("RLE", "1.2.840.10008.1.2.5"),
)


def _dist_version(name: str) -> str:
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        # PySide6 may be installed as the full "PySide6" distribution.
        if name == "PySide6-Essentials":
            try:
                return importlib.metadata.version("PySide6")
            except importlib.metadata.PackageNotFoundError:
                pass
        return "not installed"


def versions() -> dict[str, str]:
    """Label -> version of the application, Python, Qt and every component."""
    out = {"dicom-viewer": __version__, "Python": platform.python_version(), "Qt": qVersion()}
    out.update({label: _dist_version(dist) for label, dist in COMPONENTS})
    return out


def codec_status() -> dict[str, str]:
    """Codec label -> ``"available (plugin, ...)"`` or ``"unavailable"`` as pydicom sees it."""
    from pydicom.pixels import get_decoder

    out: dict[str, str] = {}
    for label, uid in CODEC_SYNTAXES:
        try:
            decoder = get_decoder(uid)
            plugins = sorted(decoder.available_plugins)
        except (NotImplementedError, ValueError):
            plugins = []
        out[label] = f"available ({', '.join(plugins)})" if plugins else "unavailable"
    return out


def report() -> str:
    """Plain-text report (versions, codecs, folders) for bug reports and the clipboard."""
    lines = [f"{k}: {v}" for k, v in versions().items()]
    lines += [f"codec {k}: {v}" for k, v in codec_status().items()]
    lines += [f"{k} folder: {v}" for k, v in paths.all_dirs().items()]
    lines.append(f"resources: {resource_root()} ({resource_origin().value})")
    lines.append(f"platform: {platform.platform()} ({sys.platform})")
    return "\n".join(lines)


def app_icon() -> QIcon:
    """The application icon: the SVG plus the rendered PNG sizes (for platforms without SVG)."""
    icon = QIcon()
    hicolor = resource_path("icons", "hicolor", must_exist=False)
    for png in sorted(hicolor.glob("*/apps/dicom-viewer.png")) if hicolor.is_dir() else []:
        icon.addFile(str(png))
    svg = resource_path("icons", "dicom-viewer.svg", must_exist=False)
    if svg.exists():
        icon.addFile(str(svg))
    return icon


def open_folder(path: Path) -> bool:
    """Create ``path`` if needed and open it in the desktop's file manager."""
    paths.ensure(path)
    ok = QDesktopServices.openUrl(QUrl.fromLocalFile(str(path)))
    if not ok:
        log.warning("cannot open %s in a file manager", path)
    return bool(ok)


def add_folder_actions(menu: QMenu, parent: QWidget) -> None:
    """Add "Open settings / local store / log folder" to ``menu``."""
    for name, folder in paths.all_dirs().items():
        if name == "cache":
            continue
        action = menu.addAction(f"Open {name} folder")
        action.setToolTip(str(folder))
        action.triggered.connect(lambda _checked=False, f=folder: open_folder(f))


class AboutDialog(QDialog):
    """Versions, codecs and folders, with a button to copy them as text."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("About dicom-viewer")
        self.setWindowIcon(app_icon())
        outer = QVBoxLayout(self)
        head = QHBoxLayout()
        logo = QLabel()
        logo.setPixmap(app_icon().pixmap(64, 64))
        head.addWidget(logo)
        head.addWidget(QLabel(f"<b>dicom-viewer {__version__}</b><br>DICOM viewer and DICOM print client"))
        head.addStretch(1)
        outer.addLayout(head)

        form = QFormLayout()
        self.labels: dict[str, QLabel] = {}
        for key, value in {**versions(), **{f"codec {k}": v for k, v in codec_status().items()}}.items():
            label = QLabel(value)
            label.setObjectName(f"version:{key}")
            self.labels[key] = label
            form.addRow(key, label)
        self.folder_buttons: dict[str, QPushButton] = {}
        for name, folder in paths.all_dirs().items():
            row = QHBoxLayout()
            row.addWidget(QLabel(str(folder)), 1)
            button = QPushButton("Open")
            button.clicked.connect(lambda _c=False, f=folder: open_folder(f))
            self.folder_buttons[name] = button
            row.addWidget(button)
            form.addRow(f"{name.capitalize()} folder", row)
        outer.addLayout(form)

        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        copy = buttons.addButton("Copy to clipboard", QDialogButtonBox.ButtonRole.ActionRole)
        copy.clicked.connect(self.copy_report)
        buttons.rejected.connect(self.reject)
        buttons.accepted.connect(self.accept)
        outer.addWidget(buttons)

    def copy_report(self) -> None:
        """Put :func:`report` on the clipboard."""
        QGuiApplication.clipboard().setText(report())


def show_about(parent: QWidget | None = None) -> Any:
    """Open the About dialog (modal) and return its result."""
    return AboutDialog(parent).exec()
