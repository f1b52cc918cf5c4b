"""The local store: where retrieved instances are written.

Layout: ``ROOT/<StudyInstanceUID>/<SeriesInstanceUID>/<SOPInstanceUID>.dcm``, each part a
UID sanitized for the file system. UIDs are digits and dots (PS3.5 9.1), but a peer may
send anything, so a part keeps only ``[0-9A-Za-z.-]``, is cut to 64 characters, and a
part that is empty or only dots becomes ``_``: no value can name a path outside ROOT.

Files are written to a hidden temporary name in the target folder, flushed, then renamed
(``os.replace`` is atomic on POSIX), so a reader or a crash never sees a partial file.
"""

from __future__ import annotations

import logging
import os
import re
import tempfile
from pathlib import Path

log = logging.getLogger(__name__)

_UNSAFE = re.compile(r"[^0-9A-Za-z.\-]")
#: Prefix of temporary files; :meth:`LocalStore.clean_partial` removes leftovers.
TMP_PREFIX = ".partial-"


def sanitize_uid(value: object) -> str:
    """A file-system-safe name for a UID-like value (never empty, never ``.``/``..``)."""
    text = _UNSAFE.sub("_", str(value or "").strip().strip("\0"))[:64]
    if not text.strip("."):
        return "_"
    return text


class LocalStore:
    """A folder of retrieved instances, laid out by study/series/instance UID."""

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root).resolve()
        self.root.mkdir(parents=True, exist_ok=True)
        self._made: set[Path] = set()  # folders known to exist (saves a syscall per file)

    def path_for(self, study_uid: object, series_uid: object, sop_uid: object) -> Path:
        """Where the instance with these UIDs is (or will be) stored."""
        parts = (sanitize_uid(study_uid), sanitize_uid(series_uid), f"{sanitize_uid(sop_uid)}.dcm")
        # Belt and braces: sanitize_uid already forbids separators and dot-only names, so
        # each part is one plain name below the (resolved) root.
        if any(os.sep in p or p in (".", "..") for p in parts):
            raise ValueError(f"refusing to write outside the store: {parts}")
        return self.root.joinpath(*parts)

    def write(self, data: bytes, study_uid: object, series_uid: object, sop_uid: object) -> Path:
        """Write one encoded DICOM file atomically; returns its final path.

        An instance received again replaces the previous file (same UIDs, same object).
        """
        path = self.path_for(study_uid, series_uid, sop_uid)
        if path.parent not in self._made:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._made.add(path.parent)
        fd, tmp = tempfile.mkstemp(prefix=TMP_PREFIX, suffix=".dcm", dir=path.parent)
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return path

    def clean_partial(self) -> int:
        """Delete temporary files left by a crash; returns how many."""
        n = 0
        for tmp in self.root.rglob(f"{TMP_PREFIX}*"):
            tmp.unlink(missing_ok=True)
            n += 1
        if n:
            log.info("removed %d partial file(s) from %s", n, self.root)
        return n

    def instances(self) -> list[Path]:
        """Every stored instance file (no temporary files)."""
        return sorted(p for p in self.root.rglob("*.dcm") if not p.name.startswith(TMP_PREFIX))
