"""ZIP archives of DICOM files or of a whole CD image: unpacked to a private temp folder.

The viewer reads pixels lazily from paths, so the archive is unpacked once (members
only, names sanitised by :meth:`zipfile.ZipFile.extract`) and scanned like a folder;
the folder is removed when the process exits.

An archive is untrusted input: ``extract`` drops ``..`` and absolute parts of
member names, the declared sizes (which ``zipfile`` enforces while inflating) must fit the
unpack limit and the free disk, and a damaged member is skipped with a warning.
"""

from __future__ import annotations

import atexit
import logging
import os
import shutil
import tempfile
import struct
import zipfile
import zlib
from pathlib import Path

from viewer.cancel import CancelToken
from viewer.errors import Cancelled, ReadError

log = logging.getLogger(__name__)

_folders: list[str] = []
#: At most this many bytes unpacked from one archive (a zip bomb declares far more).
MAX_UNPACKED_BYTES = 16 * 1024 ** 3
#: Unpacking must leave this much free on the temporary folder's disk.
MIN_FREE_BYTES = 256 * 1024 ** 2
#: Errors of a damaged archive or member (zipfile lets zlib's and struct's through).
_DAMAGED = (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, ValueError, struct.error, zlib.error,
            RuntimeError, NotImplementedError)


#: All archives unpacked from one archive the user opened (nested ZIPs included) share one
#: allowance: ``ZIP_RATIO`` times the outer archive's size, at least ``MIN_BUDGET_BYTES``,
#: at most :data:`MAX_UNPACKED_BYTES`.
ZIP_RATIO = 100
MIN_BUDGET_BYTES = 256 * 1024 ** 2
#: ZIPs inside ZIPs are unpacked this many levels deep at most (the outer archive is level 0).
MAX_ZIP_DEPTH = 3


class UnpackBudget:
    """Bytes that may still be unpacked from one opened archive and the archives in it."""

    def __init__(self, outer_size: int) -> None:
        self.total = min(MAX_UNPACKED_BYTES, max(MIN_BUDGET_BYTES, ZIP_RATIO * outer_size))
        self.left = self.total

    def take(self, n: int, path: str) -> None:
        if n > self.left:
            raise ReadError(f"refusing to unpack: the archive expands to {n} bytes, more than the "
                            f"{max(self.left, 0)} left of the {self.total} allowed for the archive "
                            "opened (nested archives share it)", path=path)
        self.left -= n


def _cleanup() -> None:
    for folder in _folders:
        shutil.rmtree(folder, ignore_errors=True)


atexit.register(_cleanup)


def remove_on_sigterm() -> None:
    """Remove the unpack folders on SIGTERM too (``atexit`` does not run then).

    Call from the main thread at start-up; a handler someone else installed is kept and
    called after the clean-up.
    """
    import signal
    import threading
    from types import FrameType

    if threading.current_thread() is not threading.main_thread():
        return
    previous = signal.getsignal(signal.SIGTERM)

    def handler(signum: int, frame: FrameType | None) -> None:
        _cleanup()
        if callable(previous):
            previous(signum, frame)
            return
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        os.kill(os.getpid(), signal.SIGTERM)

    signal.signal(signal.SIGTERM, handler)


def is_unpacked(path: str | os.PathLike[str]) -> bool:
    """Whether ``path`` lies in a folder this process unpacked an archive into (removed at exit)."""
    text = os.path.abspath(path)
    return any(text.startswith(folder + os.sep) for folder in _folders)


def extract_zip(path: str | os.PathLike[str], cancel: CancelToken | None = None,
                budget: UnpackBudget | None = None) -> Path:
    """Unpack ``path`` into a new temporary folder and return it.

    Parameters
    ----------
    budget : UnpackBudget, optional
        The allowance of the archive the user opened, when ``path`` was found inside it;
        by default a new one for ``path``.

    Raises
    ------
    ReadError
        Not a ZIP archive, a corrupt one, or one expanding past the budget.
    Cancelled
        ``cancel`` was set while unpacking.
    """
    try:
        archive = zipfile.ZipFile(path)
        members = [m for m in archive.infolist() if not m.is_dir()]
    except _DAMAGED as exc:
        raise ReadError(f"not a readable ZIP archive: {exc}", path=str(path)) from exc
    if budget is None:
        budget = UnpackBudget(os.path.getsize(path))
    declared = sum(m.file_size for m in members)
    try:
        budget.take(declared, str(path))
    except ReadError:
        archive.close()
        raise
    folder = tempfile.mkdtemp(prefix="dicom-viewer-zip-")
    _folders.append(folder)
    room = shutil.disk_usage(folder).free - MIN_FREE_BYTES
    if declared > room:
        archive.close()
        raise ReadError(f"refusing to unpack: the archive expands to {declared} bytes, more than "
                        f"{max(room, 0)} free on the temporary folder's disk", path=str(path))
    with archive:
        for member in members:
            if cancel is not None and cancel.cancelled:
                raise Cancelled("scan cancelled")
            try:
                archive.extract(member, folder)
            except _DAMAGED as exc:
                # One bad member (encrypted, corrupt): skip it, keep the others.
                log.warning("%s: cannot unpack %s: %s", path, member.filename, exc)
    log.info("unpacked %s into %s", path, folder)
    return Path(folder)
