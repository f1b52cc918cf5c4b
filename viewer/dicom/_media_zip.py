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


def _cleanup() -> None:
    for folder in _folders:
        shutil.rmtree(folder, ignore_errors=True)


atexit.register(_cleanup)


def is_unpacked(path: str | os.PathLike[str]) -> bool:
    """Whether ``path`` lies in a folder this process unpacked an archive into (removed at exit)."""
    text = os.path.abspath(path)
    return any(text.startswith(folder + os.sep) for folder in _folders)


def extract_zip(path: str | os.PathLike[str], cancel: CancelToken | None = None) -> Path:
    """Unpack ``path`` into a new temporary folder and return it.

    Raises
    ------
    ReadError
        Not a ZIP archive, or a corrupt one.
    Cancelled
        ``cancel`` was set while unpacking.
    """
    try:
        archive = zipfile.ZipFile(path)
        members = [m for m in archive.infolist() if not m.is_dir()]
    except _DAMAGED as exc:
        raise ReadError(f"not a readable ZIP archive: {exc}", path=str(path)) from exc
    folder = tempfile.mkdtemp(prefix="dicom-viewer-zip-")
    _folders.append(folder)
    declared = sum(m.file_size for m in members)
    room = shutil.disk_usage(folder).free - MIN_FREE_BYTES
    if declared > min(MAX_UNPACKED_BYTES, room):
        archive.close()
        raise ReadError(f"refusing to unpack: the archive expands to {declared} bytes, more than "
                        f"{min(MAX_UNPACKED_BYTES, max(room, 0))} allowed", path=str(path))
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
