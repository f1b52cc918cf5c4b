"""Composition root of the GUI: QApplication, settings, pools, main window.

Imported by :mod:`viewer.cli` only when no subcommand is given.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QCoreApplication, QSettings, QTimer
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QApplication

from viewer import __version__
from viewer.errors import UsageError

if TYPE_CHECKING:
    from viewer.ui.log_view import LogBuffer
    from viewer.ui.main_window import MainWindow

log = logging.getLogger(__name__)

ORG = "dicom-viewer"
APP = "dicom-viewer"


def _parse_size(text: str) -> tuple[int, int]:
    try:
        w, h = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise UsageError(f"--size must look like 1280x800, not {text!r}") from None
    if not (200 <= w <= 10000 and 200 <= h <= 10000):
        raise UsageError(f"--size {text} is out of range (200..10000 per side)")
    return w, h


def _hanging_args(args: argparse.Namespace) -> tuple[str | None, str | None]:
    """``--layout`` and ``--protocol``, checked before any window opens."""
    from viewer.session.hanging import ProtocolError, check_layout, find_protocol, load_protocols, protocol_folders

    layout = getattr(args, "layout", None)
    protocol = getattr(args, "protocol", None)
    if layout:
        try:
            check_layout(layout.lower(), "--layout")
        except ProtocolError as exc:
            raise UsageError(str(exc)) from None
        layout = layout.lower()
    if protocol:
        try:
            find_protocol(load_protocols(protocol_folders()), protocol)
        except KeyError as exc:
            raise UsageError(str(exc.args[0])) from None
    return layout or None, protocol or None


def make_application(argv: list[str] | None = None) -> QApplication:
    """The QApplication (one per process), with names that QSettings keys on."""
    app = QApplication.instance()
    if app is None:
        QCoreApplication.setOrganizationName(ORG)
        QCoreApplication.setApplicationName(APP)
        QCoreApplication.setApplicationVersion(__version__)
        app = QApplication(argv or [sys.argv[0]])
        # Window icon, and the desktop entry name Wayland/X11 use to match windows to it.
        from viewer.ui.about import app_icon

        app.setWindowIcon(app_icon())
        QGuiApplication.setDesktopFileName("dicom-viewer")
    return app  # type: ignore[return-value]


def attach_log_handlers() -> "LogBuffer":
    """Send log records to the GUI's log view and to a rotating file in the log folder.

    The root logger is lowered to INFO for these two; the console handler that
    :func:`viewer.cli.setup_logging` installed keeps the level the user asked for.
    """
    from logging.handlers import RotatingFileHandler

    from viewer import paths
    from viewer.ui.log_view import FORMAT, LogBuffer

    root = logging.getLogger()
    for handler in root.handlers:
        if handler.level == logging.NOTSET:
            handler.setLevel(root.level)
    root.setLevel(min(root.level, logging.INFO))
    buffer = LogBuffer()
    root.addHandler(buffer)
    try:
        file_handler = RotatingFileHandler(paths.ensure(paths.log_dir()) / paths.LOG_FILE,
                                           maxBytes=2_000_000, backupCount=3, encoding="utf-8")
    except OSError as exc:
        log.warning("no log file: %s", exc)
    else:
        file_handler.setFormatter(logging.Formatter(FORMAT))
        file_handler.setLevel(logging.INFO)
        root.addHandler(file_handler)
    return buffer


def run_gui(args: argparse.Namespace) -> int:
    """Open the main window (optionally on paths); with ``--screenshot``, grab and exit."""
    for p in args.paths:
        if not Path(p).exists():
            raise UsageError(f"no such file or directory: {p}")
    size = _parse_size(args.size)
    layout, protocol = _hanging_args(args)
    app = make_application()
    log_buffer = attach_log_handlers()
    from viewer.ui.main_window import MainWindow
    from viewer.ui.workers import Pools

    settings = QSettings()
    pools = Pools()
    window = MainWindow(settings=settings, pools=pools)
    from viewer.ui import log_view

    log_view.install(window, log_buffer)
    from viewer.ui.panels import install_panels

    panels = install_panels(window)
    window.hanging.layout, window.hanging.protocol = layout, protocol
    # A screenshot shows the final hanging: wait for the whole scan before hanging.
    window.hanging.wait_for_scan = bool(args.screenshot)
    window.resize(*size)
    window.show()
    if args.paths:
        QTimer.singleShot(0, lambda: window.open_paths(list(args.paths)))
    if args.screenshot:
        try:
            return _screenshot(app, window, args.screenshot, args.timeout, expect_image=bool(args.paths))
        finally:
            panels.shutdown()
    # Python runs signal handlers (SIGTERM removes unpacked ZIPs, viewer.dicom._media_zip)
    # only between bytecodes: a timer gives it the chance while the event loop idles.
    signal_timer = QTimer()
    signal_timer.timeout.connect(lambda: None)
    signal_timer.start(250)
    status = app.exec()
    panels.shutdown()
    pools.shutdown()
    return int(status)


def _screenshot(app: QApplication, window: MainWindow, out: str, timeout: float, expect_image: bool) -> int:
    """Wait for the first image (or a failure, or the timeout), grab the window, exit."""
    outcome: dict[str, str] = {}

    def done(kind: str, message: str = "") -> None:
        if outcome:
            return
        outcome[kind] = message
        # Let the paint of the new image land before grabbing.
        QTimer.singleShot(150, app.quit)

    window.first_image_shown.connect(lambda: done("ok"))
    window.load_failed.connect(lambda msg: done("failed", msg))
    if not expect_image:
        QTimer.singleShot(300, lambda: done("ok"))
    QTimer.singleShot(int(timeout * 1000), lambda: done("timeout", f"no image after {timeout:g} s"))
    app.exec()
    app.processEvents()
    pixmap = window.grab()
    if not pixmap.save(out, "PNG"):
        print(f"dicom-viewer: error: cannot write {out}", file=sys.stderr)
        return 1
    window.shutdown()
    if "ok" in outcome:
        log.info("screenshot written to %s", out)
        return 0
    message = outcome.get("failed") or outcome.get("timeout") or "unknown"
    print(f"dicom-viewer: error: loading failed: {message} (screenshot written to {out})", file=sys.stderr)
    return 1

