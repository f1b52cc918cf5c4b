"""Columns that fit the width of their view: the most useful first, none cut off at the edge.

A side dock is narrow (a fifth of the window at most, :attr:`MainWindow.DOCK_SHARE`); a
table of nine columns at fixed widths ran past its edge behind a horizontal scroll bar, so
the study date and the description were not on screen at all. :class:`ColumnFitter` watches
a view's width and, each time it changes, shows the columns in order of use while each
still fits at the width its sample text needs, hides the rest (the caller puts their values
in the row's tooltip) and shares the room left over among the columns that hold free text
(names, descriptions), where Qt elides what is still too long.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableView, QTreeView
from shiboken6 import isValid

#: Pixels around a cell's text (margins, grid line) and beside a header's (sort arrow).
CELL_PADDING = 14
SORT_ARROW = 14


@dataclass(frozen=True)
class ColumnFit:
    """One column: the text that must fit in it, its share of any room left over, and pixels
    beside the text (an icon some rows carry)."""

    column: int
    sample: str
    stretch: int = 0
    extra: int = 0


def _header(view: QAbstractItemView) -> QHeaderView:
    if isinstance(view, QTreeView):
        return view.header()
    assert isinstance(view, QTableView)
    return view.horizontalHeader()


def minimum_width(view: QAbstractItemView, fit: ColumnFit) -> int:
    """Pixels column ``fit.column`` needs for its sample text and its header label."""
    model = view.model()
    label = str(model.headerData(fit.column, Qt.Orientation.Horizontal) or "") if model is not None else ""
    header = _header(view)
    text = view.fontMetrics().horizontalAdvance(fit.sample) + CELL_PADDING + fit.extra
    title = header.fontMetrics().horizontalAdvance(label) + CELL_PADDING + SORT_ARROW
    return max(text, title)


def fit_columns(view: QAbstractItemView, fits: Sequence[ColumnFit], width: int | None = None) -> list[int]:
    """Show the columns of ``fits`` (in order of use) that fit in ``width`` (default: the view's
    viewport), hide the others, share the room left over by ``stretch``; returns those shown.

    The first column is always shown; past it, the first column that does not fit ends the
    list, so a narrow view keeps the most useful columns, not whichever happen to be small.
    """
    available = view.viewport().width() if width is None else width
    header = _header(view)
    shown: list[tuple[ColumnFit, int]] = []
    used = 0
    for fit in fits:
        need = minimum_width(view, fit)
        if shown and used + need > available:
            break
        shown.append((fit, need))
        used += need
    listed = {f.column for f, _ in shown}
    for fit in fits:
        header.setSectionHidden(fit.column, fit.column not in listed)
    spare = max(0, available - used)
    weights = sum(f.stretch for f, _ in shown)
    given = 0
    stretchy = [f for f, _ in shown if f.stretch]
    for fit, need in shown:
        extra = 0
        if weights and fit.stretch:
            # The last stretching column takes what rounding left, so the row ends at the edge.
            extra = spare - given if fit is stretchy[-1] else spare * fit.stretch // weights
            given += extra
        header.resizeSection(fit.column, need + extra)
    return [f.column for f, _ in shown]


class ColumnFitter(QObject):
    """Keeps ``view``'s columns fitted (:func:`fit_columns`) whenever its viewport is resized."""

    def __init__(self, view: QAbstractItemView, fits: Sequence[ColumnFit]) -> None:
        super().__init__(view)
        self.view = view
        self.fits = list(fits)
        header = _header(view)
        header.setStretchLastSection(False)
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        view.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAsNeeded)
        self._viewport = view.viewport()
        self._viewport.installEventFilter(self)
        self.shown: list[int] = []
        self.fit()

    def fit(self) -> list[int]:
        """Fit now (also after the header labels changed)."""
        self.shown = fit_columns(self.view, self.fits)
        return self.shown

    def least_width(self, columns: int) -> int:
        """Width of the view that shows the first ``columns`` columns of the fit order in full
        (with a vertical scroll bar and the frame)."""
        view = self.view
        need = sum(minimum_width(view, fit) for fit in self.fits[:columns])
        return need + view.verticalScrollBar().sizeHint().width() + 2 * view.frameWidth()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        # Resize events also come while the view is being destroyed: then nothing is fitted.
        if event.type() == QEvent.Type.Resize and watched is self._viewport and isValid(self.view):
            self.fit()
        return False
