"""A structured report in the viewport area: the report as HTML, its image references as links.

The HTML is :func:`viewer.dicom.sr_report.to_html`; image references are ``dicom:`` links
(``dicom:SOPInstanceUID?frame=N``, N counting from 1 as Referenced Frame Number does,
PS3.3 C.17.3.2.1.1) that the pane hands to the window through :attr:`ReportPane.image_link`.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QPoint, Qt, QUrl, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QMenu, QPushButton, QTextBrowser, QVBoxLayout, QWidget


def parse_image_link(url: QUrl | str) -> tuple[str, int] | None:
    """``dicom:1.2.3?frame=4`` -> (``"1.2.3"``, 3): the SOP Instance UID and a 0-based frame."""
    url = QUrl(url) if isinstance(url, str) else url
    if url.scheme() != "dicom" or not url.path():
        return None
    frame = 0
    for part in url.query().split("&"):
        key, _, value = part.partition("=")
        if key == "frame":
            try:
                frame = max(0, int(value) - 1)
            except ValueError:
                frame = 0
    return url.path(), frame


class ReportPane(QWidget):
    """The report's HTML in a :class:`QTextBrowser`, with export buttons above it.

    Signals
    -------
    image_link(str, int)
        An image reference was clicked: SOP Instance UID and 0-based frame.
    export_requested()
        The user asked to export the report (the window asks where).
    """

    image_link = Signal(str, int)
    export_requested = Signal()

    def __init__(self, title: str, html: str, text: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.html = html
        self.text = text
        self.setAutoFillBackground(True)
        self.title = QLabel(title)
        self.title.setStyleSheet("font-weight: bold;")
        export = QPushButton("Export report…")
        export.setToolTip("Save the report as HTML or plain text")
        export.clicked.connect(self.export_requested.emit)
        top = QHBoxLayout()
        top.setContentsMargins(6, 4, 6, 0)
        top.addWidget(self.title, 1)
        top.addWidget(export)
        self.browser = QTextBrowser()
        self.browser.setOpenLinks(False)  # dicom: links are ours; others are not followed
        self.browser.setOpenExternalLinks(False)
        self.browser.anchorClicked.connect(self._on_link)
        self.browser.setHtml(html)
        self.browser.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.browser.customContextMenuRequested.connect(self._context_menu)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addLayout(top)
        layout.addWidget(self.browser, 1)

    def context_menu(self) -> QMenu:
        """The report's right-click menu: copy and select all, then *Export report…*."""
        menu = self.browser.createStandardContextMenu()
        menu.addSeparator()
        menu.addAction("Export report as HTML/text…", self.export_requested.emit)
        return menu

    def _context_menu(self, pos: QPoint) -> None:
        menu = self.context_menu()
        menu.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        menu.popup(self.browser.viewport().mapToGlobal(pos))

    def _on_link(self, url: QUrl) -> None:
        link = parse_image_link(url)
        if link is not None:
            self.image_link.emit(*link)

    def links(self) -> list[str]:
        """The ``dicom:`` links of the report, in document order (tests, scripting)."""
        import re

        return re.findall(r'href="(dicom:[^"]+)"', self.html)

    def export(self, path: str | Path) -> Path:
        """Write the report: HTML for ``.htm``/``.html``, plain text otherwise."""
        out = Path(path)
        html = out.suffix.lower() in (".htm", ".html")
        out.write_text(self.html if html else self.text, encoding="utf-8")
        return out
