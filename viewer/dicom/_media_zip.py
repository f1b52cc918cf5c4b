"""ZIP archives of DICOM files or of a whole CD image: unpacked to a private temp folder.

The viewer reads pixels lazily from paths, so the archive is unpacked once (members
only, names sanitised by :meth:`zipfile.ZipFile.extract`) and scanned like a folder;
the folder is removed when the process exits.
"""

from __future__ import annotations

import atexit
import logging
import os
import shutil
import tempfile
import threading
import zipfile
from pathlib import Path

from viewer.errors import Cancelled, ReadError

log = logging.getLogger(__name__)

_folders: list[str] = []


def _cleanup() -> None:
    for folder in _folders:
        shutil.rmtree(folder, ignore_errors=True)


atexit.register(_cleanup)


def extract_zip(path: str | os.PathLike[str], cancel: threading.Event | None = None) -> Path:
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
    except (zipfile.BadZipFile, OSError) as exc:
        raise ReadError(f"not a readable ZIP archive: {exc}", path=str(path)) from exc
    folder = tempfile.mkdtemp(prefix="dicom-viewer-zip-")
    _folders.append(folder)
    with archive:
        for member in archive.infolist():
            if cancel is not None and cancel.is_set():
                raise Cancelled("scan cancelled")
            if member.is_dir():
                continue
            try:
                archive.extract(member, folder)
            except (zipfile.BadZipFile, OSError, RuntimeError, NotImplementedError) as exc:
                # One bad member (encrypted, corrupt): skip it, keep the others.
                log.warning("%s: cannot unpack %s: %s", path, member.filename, exc)
    log.info("unpacked %s into %s", path, folder)
    return Path(folder)
