"""Text shown over a viewport's image: a message in the middle, a note near the top.

The message says why there is no image (nothing dropped here yet, a frame that cannot be
decoded, a series without pixel data); the note says something about the image shown
(e.g. its UIDs were generated). Both let the mouse through to the image.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QWidget


class MessageOverlay:
    """The message and note labels over one viewport's view.

    Attributes
    ----------
    message_label, note_label : QLabel
        Children of the view, placed by :meth:`place` (call it when the view is resized).
    """

    def __init__(self, view: QWidget) -> None:
        self.view = view
        self._shown: tuple[str, str] | None = None
        self.message_label = QLabel(view)
        self.message_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.message_label.setWordWrap(True)
        self.message_label.setStyleSheet("color: #e0e0e0; background: rgba(40, 40, 40, 200); padding: 8px; "
                                         "border-radius: 4px; font-size: 12px;")
        self.message_label.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        self.note_label = QLabel(view)
        self.note_label.setWordWrap(True)
        self.note_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.note_label.setStyleSheet("color: #ffd0d0; background: rgba(120, 20, 20, 190); padding: 4px; "
                                      "border-radius: 3px; font-size: 11px;")
        self.note_label.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        self.note_label.setVisible(False)

    def show(self, text: str, note: str) -> None:
        """Show ``text`` and ``note`` ("" hides either)."""
        if (text, note) == self._shown:
            return  # every frame of a cine passes here: no relayout when nothing changed
        self._shown = (text, note)
        self.message_label.setText(text)
        self.message_label.setVisible(bool(text))
        self.note_label.setText(note)
        self.note_label.setVisible(bool(note))
        self.place()

    def place(self) -> None:
        """Centre the message in the view, the note below the top corner texts."""
        w, h = self.view.width(), self.view.height()
        lw = max(120, min(w - 24, 460))
        self.message_label.setFixedWidth(lw)
        self.message_label.adjustSize()
        self.message_label.move((w - lw) // 2, max(4, (h - self.message_label.height()) // 2))
        nw = max(120, min(w - 24, 520))
        self.note_label.setFixedWidth(nw)
        self.note_label.adjustSize()
        # Below the top corner texts' first lines, centred.
        self.note_label.move((w - nw) // 2, max(4, h // 6))

    @property
    def text(self) -> str:
        """The text shown ("" when none), the note first if there is one."""
        parts = [lbl.text() for lbl in (self.note_label, self.message_label) if not lbl.isHidden() and lbl.text()]
        return "\n".join(parts)
