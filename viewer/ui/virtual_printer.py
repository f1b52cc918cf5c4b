"""The "virtual printer" dialog: run our print SCP inside the GUI and look at what it printed.

Start/stop a :class:`viewer.tasks.print_server.VirtualPrinter` on a port with a printer profile; films
go to an output folder as PNG + PDF (:mod:`viewer.film.output`). The server runs in
pynetdicom's threads; this widget never touches them: a timer reads the counters and log
records cross over through a queued Qt signal (workers never touch widgets).
The server keeps running when the dialog is closed (it is a printer); it stops with
:meth:`VirtualPrinterDialog.shutdown`, which also runs when the application quits.
"""

from __future__ import annotations

import logging
from pathlib import Path

from PySide6.QtCore import QObject, QTimer, QUrl, Signal
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import (QApplication, QComboBox, QDialog, QFileDialog, QFormLayout, QHBoxLayout, QLabel,
                               QLineEdit, QPlainTextEdit, QPushButton, QSpinBox, QVBoxLayout, QWidget)

from viewer.errors import ViewerError
from viewer.tasks.print_server import LOGGERS, VirtualPrinter, printer_profile_names, start_virtual_printer

log = logging.getLogger(__name__)


class _LogBridge(QObject):
    """A logging handler's records, delivered to the GUI thread as a signal."""

    line = Signal(str)


class _SignalHandler(logging.Handler):
    def __init__(self, bridge: _LogBridge) -> None:
        super().__init__(logging.INFO)
        self.bridge = bridge

    def emit(self, record: logging.LogRecord) -> None:
        # The bridge has no parent: it lives as long as this handler, so the emit always has a
        # sender; if the dialog is gone, Qt has already dropped the connection to its text box.
        self.bridge.line.emit(f"{record.levelname[0]}: {record.getMessage()}")


def default_output_folder() -> Path:
    """Where films go unless the user picks another folder."""
    from viewer import paths

    return paths.data_dir() / "virtual-printer"


class VirtualPrinterDialog(QDialog):
    """Start/stop the virtual film printer and open its output folder.

    Parameters
    ----------
    parent : QWidget, optional
    out_dir : Path, optional
        Initial output folder (default: :func:`default_output_folder`).
    """

    #: emitted with True when the server started, False when it stopped
    running_changed = Signal(bool)

    def __init__(self, parent: QWidget | None = None, out_dir: Path | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Virtual film printer")
        self.server: VirtualPrinter | None = None
        self.port = QSpinBox()
        self.port.setRange(1, 65535)
        self.port.setValue(11110)
        self.aet = QLineEdit("VIEWERPRINT")
        self.aet.setMaxLength(16)  # PS3.5 6.2: AE titles are at most 16 characters
        self.bind = QLineEdit("0.0.0.0")
        self.profile = QComboBox()
        self.profile.addItems(printer_profile_names())
        self.profile.setCurrentText("default")
        self.dpi = QSpinBox()
        self.dpi.setRange(36, 1200)
        self.dpi.setValue(150)
        self.out_dir = QLineEdit(str(out_dir or default_output_folder()))
        self.browse = QPushButton("Browse…")
        self.browse.clicked.connect(self._browse)
        out_row = QHBoxLayout()
        out_row.addWidget(self.out_dir, 1)
        out_row.addWidget(self.browse)
        form = QFormLayout()
        for label, w in (("Port", self.port), ("AE title", self.aet), ("Listen on", self.bind),
                         ("Printer profile", self.profile), ("Resolution (DPI)", self.dpi)):
            form.addRow(label, w)
        form.addRow("Output folder", out_row)
        self.start_button = QPushButton("Start")
        self.start_button.clicked.connect(self._toggle)
        self.open_button = QPushButton("Open output folder")
        self.open_button.clicked.connect(self.open_output_folder)
        buttons = QHBoxLayout()
        buttons.addWidget(self.start_button)
        buttons.addWidget(self.open_button)
        buttons.addStretch(1)
        self.status = QLabel("Stopped")
        self.activity = QPlainTextEdit()
        self.activity.setReadOnly(True)
        self.activity.setMaximumBlockCount(2000)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addLayout(buttons)
        layout.addWidget(self.status)
        layout.addWidget(self.activity, 1)
        self._bridge = _LogBridge()
        self._bridge.line.connect(self.activity.appendPlainText)
        self._handler = _SignalHandler(self._bridge)
        self._timer = QTimer(self)
        self._timer.setInterval(500)
        self._timer.timeout.connect(self._refresh)
        app = QApplication.instance()
        if app is not None:
            app.aboutToQuit.connect(self.shutdown)

    # ------------------------------------------------------------------ actions
    def _browse(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Output folder", self.out_dir.text())
        if folder:
            self.out_dir.setText(folder)

    def _toggle(self) -> None:
        if self.server is None:
            self.start()
        else:
            self.shutdown()

    def start(self) -> bool:
        """Start the server with the dialog's settings; show the reason if it cannot."""
        if self.server is not None:
            return True
        try:
            self._attach_log()  # before the start, so that "listening on" shows
            server = start_virtual_printer(self.profile.currentText(), Path(self.out_dir.text()).expanduser(),
                                           aet=self.aet.text().strip() or "VIEWERPRINT",
                                           host=self.bind.text().strip() or "0.0.0.0", port=self.port.value(),
                                           dpi=self.dpi.value())
        except (ViewerError, OSError) as exc:
            self._detach_log()
            self.status.setText(f"Not started: {exc}")
            log.warning("virtual printer not started: %s", exc)
            return False
        self.server = server
        for w in (self.port, self.aet, self.bind, self.profile, self.dpi, self.out_dir, self.browse):
            w.setEnabled(False)
        self.start_button.setText("Stop")
        self._timer.start()
        self._refresh()
        self.running_changed.emit(True)
        return True

    def shutdown(self) -> None:
        """Stop the server (if running) and release the port."""
        server, self.server = self.server, None
        if server is None:
            return
        server.stop()
        self._detach_log()
        self._timer.stop()
        for w in (self.port, self.aet, self.bind, self.profile, self.dpi, self.out_dir, self.browse):
            w.setEnabled(True)
        self.start_button.setText("Start")
        self.status.setText(f"Stopped ({server.films_printed} film(s) printed)")
        self.running_changed.emit(False)

    _LOGGERS = LOGGERS

    def _attach_log(self) -> None:
        """Show the server's INFO log (associations, messages) in the activity box."""
        self._levels = {}
        for name in self._LOGGERS:
            logger = logging.getLogger(name)
            self._levels[name] = logger.level
            if logger.getEffectiveLevel() > logging.INFO:
                logger.setLevel(logging.INFO)
            logger.addHandler(self._handler)

    def _detach_log(self) -> None:
        for name in self._LOGGERS:
            logger = logging.getLogger(name)
            logger.removeHandler(self._handler)
            if name in getattr(self, "_levels", {}):
                logger.setLevel(self._levels[name])
        self._levels = {}

    def _refresh(self) -> None:
        server = self.server
        if server is None:
            return
        self.status.setText(f"Listening on {server.host}:{server.port} as {server.aet} — "
                            f"{server.films_printed} film(s) printed, {server.open_associations} connection(s) open"
                            + (f", {server.jobs_failed} failed" if server.jobs_failed else ""))

    def open_output_folder(self) -> None:
        """Show the output folder in the desktop's file manager."""
        folder = Path(self.out_dir.text()).expanduser()
        folder.mkdir(parents=True, exist_ok=True)
        QDesktopServices.openUrl(QUrl.fromLocalFile(str(folder)))

    @property
    def films_printed(self) -> int:
        """Films printed since the server started (0 when stopped)."""
        return self.server.films_printed if self.server else 0
