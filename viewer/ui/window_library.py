"""The main window's use of the study library: File > Recent, opening studies, CD export.

The library (:mod:`viewer.tasks.library_feed`) indexes every open and retrieve; the window
opens a study of it by the files it lists (offline when they are not there: the media it
was opened from is not inserted), lists the studies last opened under File > Recent and
exports studies as a DICOM file set for a CD or USB stick (PS3.10, PS3.11).
"""

from __future__ import annotations

import logging
from typing import Any

#: The main window, typed loosely: this module must not import it (it imports this one).
MainWindow = Any

log = logging.getLogger(__name__)

#: How many studies File > Recent lists.
MAX_RECENT = 10


class LibraryActions:
    """File > Recent and the library's studies opened or exported from a :class:`MainWindow`."""

    def __init__(self, window: MainWindow) -> None:
        self.w = window

    def refresh_recent(self) -> None:
        """File > Recent: the studies last opened (from the library), not files."""
        from viewer.ui.library_browser import study_label

        menu = self.w.recent_menu
        menu.clear()
        try:
            studies = self.w.library.recent(MAX_RECENT)
        except Exception as exc:  # noqa: BLE001 - an unreadable library leaves the menu empty, not the window
            log.warning("recent studies unavailable: %s", exc)
            studies = []
        for row in studies:
            action = menu.addAction(study_label(row))
            action.setToolTip(row.study_instance_uid)
            action.triggered.connect(lambda _=False, uid=row.study_instance_uid: self.open_study(uid))
        menu.setEnabled(bool(studies))

    def open_study(self, study_uid: str) -> bool:
        """Open a study of the library (File > Recent); False when it is offline."""
        return self.open_studies([study_uid])

    def open_studies(self, study_uids: list[str], prior_of: str = "", *, copy: bool = False) -> bool:
        """Open studies of the library (see :meth:`MainWindow.open_studies`)."""
        w = self.w
        files = [f for uid in study_uids for f in w.library.files(uid)]
        if not files:
            w.statusBar().showMessage("Offline: the files of this study are not there (insert the media it "
                                      "was opened from, then Check media)", 10000)
            return False
        w.prior_studies = set(study_uids) if prior_of else set()
        w.open_paths(files, copy=copy, label=f"{len(study_uids)} stud{'y' if len(study_uids) == 1 else 'ies'}")
        if prior_of:
            w.opened_studies[prior_of] = None  # the current study's patient is the one hung
        return True

    def export_cd_dialog(self, study_uids: list[str] | None = None) -> Any:
        """Export studies (default: those open) as a DICOM file set for a CD or USB stick."""
        from viewer.ui.cd_export_dialog import CdExportDialog

        w = self.w
        uids = list(study_uids or [])
        if not uids and w._tree is not None:
            uids = [st.study_instance_uid for p in w._tree.patients for st in p.studies]
        if not uids:
            w.statusBar().showMessage("Select studies in the library (or open them) to export", 8000)
            return None
        dialog = CdExportDialog(w.library, uids, w.pools, w)
        dialog.show()
        return dialog
