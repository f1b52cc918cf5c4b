"""The library browser: every study opened, retrieved or received, searched as you type.

A table of the studies in the library (:class:`viewer.tasks.library_feed.LibraryService`),
one row each, sortable by any column; a search field (patient name in any PN component
group, with ``*``/``?`` wildcards, case and accents ignored; Patient ID; accession;
descriptions), a date field taking dates as the viewer shows them (``2003-05-05``,
``2003-05-01..2003-05-31``, ``today``, ``last 7 days``; :mod:`viewer.dicom.daterange`) and a
modality field. Studies whose files are not there (a CD taken out) are shown offline, in
grey, and come back when "Check media" finds them again. Beside the table, the selected
study's priors: the patient's other studies (same Patient ID and issuer, or, marked as a
guess, the same name and birth date). Opening a prior hangs it beside the current study.

Both tables fit the width of the dock (:mod:`viewer.ui.fit_columns`): in a narrow dock the
patient, study date, description and modalities are shown in full and the other columns
give way (every value of a study is in its row's tooltip); a wider dock shows them all.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any, Callable, Sequence

from PySide6.QtCore import (QAbstractTableModel, QItemSelection, QItemSelectionModel, QModelIndex, QObject,
                            QPersistentModelIndex, Qt, QTimer, Signal)
from PySide6.QtGui import QBrush, QColor, QIcon
from PySide6.QtWidgets import (QAbstractItemView, QApplication, QHBoxLayout, QHeaderView, QLabel, QLineEdit, QMenu,
                               QMessageBox, QProgressBar, QPushButton, QSplitter, QStyle, QTableView, QTableWidget,
                               QTableWidgetItem, QVBoxLayout, QWidget)

from viewer.dicom.daterange import parse_date_range
from viewer.dicom.model import format_date, format_person_name_groups
from viewer.tasks.library_feed import StudyFilter, StudyRow
from viewer.ui.fit_columns import ColumnFit, ColumnFitter
from viewer.ui.workers import Pools, Worker, message, run_in

if TYPE_CHECKING:
    from viewer.cancel import CancelToken
    from viewer.tasks.library_feed import LibraryService

log = logging.getLogger(__name__)

COLUMNS = ["Patient", "Patient ID", "Birth date", "Study date", "Description", "Modalities", "Accession", "Images",
           "State"]
PRIOR_COLUMNS = ["Study date", "Description", "Modalities", "Images", "Match"]
#: Header labels shorter than the column's name (the name is the header's tooltip).
SHORT_LABELS = {"Modalities": "Mod."}
_DATE = "0000-00-00"
#: The study list's columns in the order they are shown as the dock widens (see
#: viewer.ui.fit_columns): what tells studies apart first, then the rest.
STUDY_FITS = (ColumnFit(0, "Xxxxxxx, Xxxx", 3, extra=20), ColumnFit(3, _DATE), ColumnFit(4, "XX Xxxxxxx", 2),
              ColumnFit(5, "CT/MR"), ColumnFit(1, "XXX-00000", 1), ColumnFit(7, "0000"),
              ColumnFit(8, "offline"), ColumnFit(2, _DATE), ColumnFit(6, "XXX000000"))
PRIOR_FITS = (ColumnFit(0, _DATE), ColumnFit(1, "XX Xxxxxxxx", 2), ColumnFit(4, "same Patient ID", 1),
              ColumnFit(2, "CT/MR"), ColumnFit(3, "0000"))
#: Columns of STUDY_FITS the dock always has room for (its least width); the patient's
#: has room for the offline mark too.
ALWAYS_SHOWN = 4
UID_ROLE = Qt.ItemDataRole.UserRole + 10
#: Quiet time after a key stroke before the search runs (search as you type).
SEARCH_DELAY_MS = 120
OFFLINE = QColor("#8a8a8a")


def study_label(row: StudyRow) -> str:
    """One line naming a study (File > Recent, tooltips): name, date, description, modalities."""
    name = format_person_name_groups(row.patient_name) or "(no name)"
    parts = [name, format_date(row.study_date), row.study_description or "(study)"]
    label = " — ".join(p for p in parts if p)
    if row.modalities:
        label += f" ({'/'.join(row.modalities)})"
    return label + ("  [offline]" if row.offline else "")


def state_text(row: StudyRow) -> str:
    if row.instances and row.online == 0:
        return "offline"
    if row.offline:
        return f"partly offline ({row.online}/{row.instances})"
    return ", ".join(row.sources) or "online"


def study_tooltip(row: StudyRow) -> str:
    """Everything the study list knows of a study, one line each (columns a narrow dock hides too)."""
    groups = [g for g in row.patient_name.split("=") if g]
    names = " = ".join(format_person_name_groups(g) for g in groups) or "(no name)"
    lines = [names,
             f"Patient ID {row.patient_id or '(none)'}"
             + (f" (issuer {row.issuer_of_patient_id})" if row.issuer_of_patient_id else "")
             + (f", born {format_date(row.patient_birth_date)}" if row.patient_birth_date else ""),
             f"{format_date(row.study_date) or '(no date)'} {row.study_description or '(no description)'}"
             + (f" ({'/'.join(row.modalities)})" if row.modalities else ""),
             f"Accession {row.accession_number or '(none)'}; {row.series_count} series, {row.instances} images",
             f"State: {state_text(row)}"]
    if row.offline:
        lines.append("Offline: the files are not there (media taken out); they come back when the media is in again")
    return "\n".join(lines)


def _cell_text(row: StudyRow, column: int) -> str:
    if column == 0:
        return format_person_name_groups(row.patient_name) or "(no name)"
    if column == 1:
        return row.patient_id
    if column == 2:
        return format_date(row.patient_birth_date)
    if column == 3:
        return format_date(row.study_date)
    if column == 4:
        return row.study_description
    if column == 5:
        return "/".join(row.modalities)
    if column == 6:
        return row.accession_number
    if column == 7:
        return str(row.instances)
    return state_text(row)


def _sort_key(column: int) -> Callable[[StudyRow], Any]:
    """The sort key of a column from the raw values (names folded, dates as DA, counts as numbers),
    so sorting never formats a row."""
    keys: dict[int, Callable[[StudyRow], Any]] = {
        0: lambda r: r.patient_name.lower(), 1: lambda r: r.patient_id.lower(), 2: lambda r: r.patient_birth_date,
        3: lambda r: r.study_date + r.study_time, 4: lambda r: r.study_description.lower(),
        5: lambda r: "/".join(r.modalities), 6: lambda r: r.accession_number.lower(), 7: lambda r: r.instances,
    }
    return keys.get(column, state_text)


class StudyTableModel(QAbstractTableModel):
    """The studies of a search, one row each; cells are made when the view paints them, so a
    library of thousands of studies is listed at once (nothing per row but the sort)."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.rows: list[StudyRow] = []
        self._sort: tuple[int, Qt.SortOrder] = (COLUMNS.index("Study date"), Qt.SortOrder.DescendingOrder)
        self._offline = QBrush(OFFLINE)
        self._offline_icon: QIcon | None = None

    def set_rows(self, rows: list[StudyRow]) -> None:
        self.beginResetModel()
        self.rows = list(rows)
        self._apply_sort()
        self.endResetModel()

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(self, section: int, orientation: Qt.Orientation,
                   role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return SHORT_LABELS.get(COLUMNS[section], COLUMNS[section])
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.ToolTipRole:
            return COLUMNS[section]
        return None

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        row = self.rows[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            return _cell_text(row, index.column())
        if role == UID_ROLE:
            return row.study_instance_uid
        if role == Qt.ItemDataRole.ToolTipRole:
            return study_tooltip(row)
        if row.offline and role == Qt.ItemDataRole.ForegroundRole:
            return self._offline
        if row.offline and role == Qt.ItemDataRole.DecorationRole and index.column() == 0:
            return self.offline_icon()  # seen in a narrow dock, where the State column gives way
        return None

    def offline_icon(self) -> QIcon:
        """The mark of an offline study (a disc: its media are out), made once."""
        if self._offline_icon is None:
            self._offline_icon = QApplication.style().standardIcon(QStyle.StandardPixmap.SP_DriveCDIcon)
        return self._offline_icon

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        self.layoutAboutToBeChanged.emit()
        self._sort = (column, order)
        self._apply_sort()
        self.layoutChanged.emit()

    def _apply_sort(self) -> None:
        column, order = self._sort
        self.rows.sort(key=_sort_key(column), reverse=order == Qt.SortOrder.DescendingOrder)


class _Cell:
    """What :meth:`StudyTable.item` returns: a cell's text and colour, as a table item gives them."""

    def __init__(self, index: QModelIndex) -> None:
        self._index = index

    def text(self) -> str:
        return str(self._index.data(Qt.ItemDataRole.DisplayRole) or "")

    def foreground(self) -> QBrush:
        brush = self._index.data(Qt.ItemDataRole.ForegroundRole)
        return brush if isinstance(brush, QBrush) else QBrush(QColor("black"))

    def data(self, role: int) -> Any:
        return self._index.data(role)


class StudyTable(QTableView):
    """The view of :class:`StudyTableModel` (rows of one height, so only those on screen are made)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.study_model = StudyTableModel(self)
        self.setModel(self.study_model)

    def rowCount(self) -> int:
        return self.study_model.rowCount()

    def item(self, row: int, column: int) -> _Cell | None:
        index = self.study_model.index(row, column)
        return _Cell(index) if index.isValid() else None


class LibraryBrowser(QWidget):
    """The library's studies with search, priors and the actions on a study.

    Signals
    -------
    open_requested(list, str)
        Open these Study Instance UIDs; the second value is the current study when the
        others are its priors (hung beside it), else "".
    export_requested(list)
        Export these studies to CD/USB.
    """

    open_requested = Signal(list, str)
    import_requested = Signal(list)
    export_requested = Signal(list)

    def __init__(self, library: "LibraryService", parent: QWidget | None = None, *,
                 pools: "Pools | None" = None) -> None:
        super().__init__(parent)
        self.library = library
        self.pools = pools if pools is not None else Pools()
        self._check_job: Worker | None = None
        self.rows: list[StudyRow] = []
        self.prior_rows: list[StudyRow] = []
        self.search = QLineEdit()
        self.search.setPlaceholderText("Search: name, ID, accession, description (* and ? wildcards)")
        self.search.setClearButtonEnabled(True)
        self.date = QLineEdit()
        self.date.setPlaceholderText("Date: 2003-05-05, ..2003-05-31, last 7 days")
        self.modality = QLineEdit()
        self.modality.setPlaceholderText("Mod.")
        self.modality.setMaximumWidth(60)
        self.check_button = QPushButton("Check media")
        self.check_button.setToolTip("Look for the files of every study again: media taken out go offline, "
                                     "media put back come online")
        self.check_button.clicked.connect(self._check_clicked)
        self.check_progress = QProgressBar()
        self.check_progress.setMaximumWidth(140)
        self.check_progress.setVisible(False)
        # The search field has a line of its own: in a narrow dock it would be squeezed to a
        # few letters beside the date.
        row = QHBoxLayout()
        row.addWidget(self.date, 2)
        row.addWidget(self.modality)
        row.addWidget(self.check_progress)
        row.addWidget(self.check_button)
        self.status = QLabel("")
        self.table = StudyTable()
        self.table.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        self.table.setWordWrap(False)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.table.setSortingEnabled(True)
        self.table.sortByColumn(COLUMNS.index("Study date"), Qt.SortOrder.DescendingOrder)
        self.table.verticalHeader().setVisible(False)
        self.table_fit = ColumnFitter(self.table, STUDY_FITS)
        self.table.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.table.customContextMenuRequested.connect(self._context_menu)
        self.table.selectionModel().selectionChanged.connect(lambda *_a: self._on_selection())
        self.table.doubleClicked.connect(lambda _index: self.open_selected())
        self.priors_label = QLabel("Priors")
        self.priors = QTableWidget(0, len(PRIOR_COLUMNS))
        self.priors.setHorizontalHeaderLabels(PRIOR_COLUMNS)
        self.priors.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.priors.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.priors.verticalHeader().setVisible(False)
        self.priors.setWordWrap(False)
        for c, name in enumerate(PRIOR_COLUMNS):
            header_item = QTableWidgetItem(SHORT_LABELS.get(name, name))
            header_item.setToolTip(name)
            self.priors.setHorizontalHeaderItem(c, header_item)
        self.priors_fit = ColumnFitter(self.priors, PRIOR_FITS)
        self.priors.itemDoubleClicked.connect(lambda _item: self.open_with_prior())
        self.open_prior_button = QPushButton("Open beside the current study")
        self.open_prior_button.setEnabled(False)
        self.open_prior_button.clicked.connect(lambda: self.open_with_prior())
        priors_box = QWidget()
        pb = QVBoxLayout(priors_box)
        pb.setContentsMargins(0, 0, 0, 0)
        pb.addWidget(self.priors_label)
        pb.addWidget(self.priors, 1)
        pb.addWidget(self.open_prior_button)
        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(self.table)
        split.addWidget(priors_box)
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.search)
        layout.addLayout(row)
        layout.addWidget(self.status)
        layout.addWidget(split, 1)
        # The dock is never narrower than the patient, study date, description and modalities
        # need (a narrower one cut the study list off after the Patient ID).
        self.setMinimumWidth(self.table_fit.least_width(ALWAYS_SHOWN))
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(SEARCH_DELAY_MS)
        self._timer.timeout.connect(self.refresh)
        for field in (self.search, self.date, self.modality):
            field.textChanged.connect(lambda _t: self._timer.start())

    # ------------------------------------------------------------------ reading the library
    def current_filter(self) -> StudyFilter:
        """The fields as a library filter (raises ValueError for a date it cannot read)."""
        dates = parse_date_range(self.date.text()) if self.date.text().strip() else None
        return StudyFilter(text=self.search.text().strip(), modality=self.modality.text().strip().upper(),
                           date_from=dates.start if dates else "", date_to=dates.end if dates else "")

    def stop(self) -> None:
        """No more refreshes (the window is closing its library)."""
        self._timer.stop()
        self._stopped = True
        if self._check_job is not None:
            self._check_job.cancel()

    def schedule_refresh(self) -> None:
        """Refresh soon (the library changed; many batches in a row refresh once)."""
        if not self._timer.isActive():
            self._timer.start(300)

    def refresh(self) -> None:
        """Run the search and show its studies (the selection is kept)."""
        if getattr(self, "_stopped", False):
            return
        try:
            flt = self.current_filter()
        except ValueError as exc:
            self.status.setText(f"Date: {exc}")
            return
        try:
            rows = self.library.studies(flt)
        except Exception as exc:  # noqa: BLE001 - an unreadable library is a message, not a crash
            log.warning("library search failed: %s", exc)
            self.status.setText(f"The library cannot be read: {exc}")
            return
        selected = set(self.selected_uids())
        self.rows = rows
        table = self.table
        table.selectionModel().blockSignals(True)
        try:
            table.study_model.set_rows(rows)
            if selected:
                model = table.study_model
                selection = QItemSelection()
                for r, row in enumerate(model.rows):
                    if row.study_instance_uid in selected:
                        selection.select(model.index(r, 0), model.index(r, len(COLUMNS) - 1))
                table.selectionModel().select(selection, QItemSelectionModel.SelectionFlag.ClearAndSelect)
        finally:
            table.selectionModel().blockSignals(False)
        offline = sum(1 for r in rows if r.offline)
        self.status.setText(f"{len(rows)} studies" + (f", {offline} offline" if offline else ""))

    def row_of(self, study_uid: str) -> int:
        """The table row showing ``study_uid`` (-1 if it is not listed)."""
        for r, row in enumerate(self.table.study_model.rows):
            if row.study_instance_uid == study_uid:
                return r
        return -1

    def _uid_at(self, table: QTableWidget, r: int) -> str:
        item = table.item(r, 0)
        return "" if item is None else str(item.data(UID_ROLE))

    def listed_uids(self) -> list[str]:
        """The studies listed, in the table's (sorted) order."""
        return [row.study_instance_uid for row in self.table.study_model.rows]

    def selected_uids(self) -> list[str]:
        rows = self.table.study_model.rows
        picked = sorted({i.row() for i in self.table.selectionModel().selectedRows()})
        return [rows[r].study_instance_uid for r in picked if r < len(rows)]

    def select_study(self, study_uid: str) -> bool:
        r = self.row_of(study_uid)
        if r >= 0:
            self.table.selectRow(r)
        return r >= 0

    # ------------------------------------------------------------------ priors
    def _on_selection(self) -> None:
        uids = self.selected_uids()
        self.show_priors(uids[0] if len(uids) == 1 else None)

    def show_priors(self, study_uid: str | None) -> None:
        """List the priors of ``study_uid`` (none when None)."""
        self.prior_rows = self.library.priors(study_uid) if study_uid else []
        self._priors_of = study_uid
        self.priors.setRowCount(len(self.prior_rows))
        for r, row in enumerate(self.prior_rows):
            match = ("guess: same name and birth date, other ID" if row.guess
                     else "same Patient ID")
            cells = [format_date(row.study_date), row.study_description, "/".join(row.modalities), str(row.instances),
                     match + (" (offline)" if row.offline else "")]
            for c, text in enumerate(cells):
                item = QTableWidgetItem(text)
                item.setData(UID_ROLE, row.study_instance_uid)
                if row.guess:
                    item.setToolTip(f"Patient ID {row.patient_id or '(none)'} differs: the same name and birth "
                                    "date suggest the same person, the viewer cannot know it")
                if row.offline:
                    item.setForeground(QBrush(OFFLINE))
                self.priors.setItem(r, c, item)
        if study_uid and self.prior_rows:
            self.priors_label.setText(f"Priors ({len(self.prior_rows)}) of the selected study's patient")
        else:
            self.priors_label.setText("Priors: none" if study_uid else "Priors (select one study)")
        self.open_prior_button.setEnabled(bool(self.prior_rows))
        if self.prior_rows:
            self.priors.selectRow(0)

    # ------------------------------------------------------------------ actions
    def open_selected(self) -> None:
        uids = self.selected_uids()
        if uids:
            self.open_requested.emit(uids, "")

    def open_with_prior(self, prior_uid: str | None = None) -> None:
        """Open the selected study with a prior (default: the prior selected), side by side."""
        current = getattr(self, "_priors_of", None)
        if prior_uid is None:
            rows = sorted({i.row() for i in self.priors.selectedIndexes()})
            if not rows:
                return
            prior_uid = self._uid_at(self.priors, rows[0])
        if current:
            self.open_requested.emit([current, prior_uid], current)

    def _check_clicked(self) -> None:
        if self._check_job is not None:
            self._check_job.cancel()
            self.status.setText("Cancelling the media check…")
        else:
            self.check_media()

    def check_media(self) -> Worker | None:
        """Check which studies' files are there (a CD taken out or put back), in a worker.

        One ``stat`` per file of the library: the check shows its progress and the button
        cancels it (what was checked until then stays). Returns the worker (None if one runs).
        """
        if self._check_job is not None:
            return None
        library = self.library

        def work(cancel: "CancelToken | None" = None,
                 progress: "Callable[[int, int], None] | None" = None) -> tuple[int, int]:
            return library.refresh_online(cancel=cancel, progress=progress)

        def on_progress(value: Any) -> None:
            done, total = value
            self.check_progress.setRange(0, max(1, total))
            self.check_progress.setValue(done)

        def on_result(result: Any) -> None:
            gone, back = result
            self.refresh()
            self.status.setText(self.status.text() + f" ({gone} files went offline, {back} came back)")

        def on_abort() -> None:
            self.refresh()
            self.status.setText(self.status.text() + " (media check cancelled)")

        def on_error(exc: BaseException) -> None:
            self.status.setText(f"Media not checked: {message(exc)}")

        def on_finished() -> None:
            self._check_job = None
            self.check_progress.setVisible(False)
            self.check_button.setText("Check media")

        self.check_progress.setRange(0, 0)
        self.check_progress.setVisible(True)
        self.check_button.setText("Cancel")
        self.status.setText("Checking media…")
        self._check_job = run_in(self.pools, self.pools.decode, work, owner=self, pass_cancel=True,
                                 pass_progress=True, on_progress=on_progress, on_result=on_result,
                                 on_abort=on_abort, on_error=on_error, on_finished=on_finished)
        return self._check_job

    def remove_selected(self, confirm: bool = True) -> int:
        """Remove the selected studies from the library (only local-store files are deleted)."""
        uids = self.selected_uids()
        if not uids:
            return 0
        if confirm:
            answer = QMessageBox.question(
                self, "Remove from the library",
                f"Remove {len(uids)} stud{'y' if len(uids) == 1 else 'ies'} from the library?\n\n"
                "Files in the local store are deleted; files on CDs, USB sticks or folders you opened are not.")
            if answer != QMessageBox.StandardButton.Yes:
                return 0
        deleted = 0
        for uid in uids:
            try:
                deleted += len(self.library.remove(uid)[1])
            except Exception as exc:  # noqa: BLE001
                self.status.setText(f"Not removed: {exc}")
        self.refresh()
        self.status.setText(self.status.text() + f"; removed {len(uids)}, {deleted} local-store files deleted")
        return len(uids)

    def context_menu_for(self, uids: Sequence[str]) -> QMenu:
        menu = QMenu(self)
        if uids:
            menu.addAction("Open", self.open_selected)
            if len(uids) == 1 and self.prior_rows:
                menu.addAction("Open with the newest prior", lambda: self.open_with_prior(
                    self.prior_rows[0].study_instance_uid))
            menu.addAction("Import into the local store", lambda: self.import_requested.emit(list(uids)))
            menu.addAction("Export to CD/USB…", lambda: self.export_requested.emit(list(uids)))
            menu.addSeparator()
            menu.addAction("Remove from the library…", self.remove_selected)
        menu.addAction("Check media", self.check_media)
        return menu

    def _context_menu(self, pos: Any) -> None:
        self.context_menu_for(self.selected_uids()).popup(self.table.viewport().mapToGlobal(pos))
