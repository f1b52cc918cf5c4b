"""Which paths on a medium may be opened: regular files, inside the folder being read.

A folder, a ZIP or a CD image is untrusted input. Two things in it must never be
opened by a reader:

- non-regular files (FIFOs, sockets, devices): ``open()`` on a FIFO blocks until a
  writer appears, which hangs a scan, an export or the GUI for good;
- symbolic links whose target lies outside the folder the user chose: the DICOMDIR
  rule (PS3.10 8.5, a File ID names a file *of the File-set*) applied to plain folders
  and unpacked ZIPs, so a link to ``/home/x/other.dcm`` never turns up as a patient or
  is sent to a PACS.

A path the user names explicitly is opened if it is a regular file (links included:
the user chose it); only what is *found* in a folder is held to the folder.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Iterator


def not_regular(path: str | os.PathLike[str]) -> str | None:
    """Why ``path`` is not a regular file that can be opened without blocking, or None.

    Follows symbolic links (``os.stat``), never opens the file.
    """
    return file_status(path)[0]


def file_status(path: str | os.PathLike[str]) -> tuple[str | None, int]:
    """:func:`not_regular` and the file's size in bytes (-1 when it is not a regular file).

    The one ``stat`` of a file in a scan: the study library keeps the size it gives.
    """
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return "no such file (or a dangling symbolic link)", -1
    except OSError as exc:
        return f"cannot read: {exc.strerror or exc}", -1
    mode = st.st_mode
    if stat.S_ISREG(mode):
        return None, st.st_size
    return _irregular(mode), -1


def _irregular(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "is a folder"
    kind = ("a FIFO (named pipe)" if stat.S_ISFIFO(mode) else "a socket" if stat.S_ISSOCK(mode)
            else "a device" if stat.S_ISCHR(mode) or stat.S_ISBLK(mode) else "something else")
    return f"not a regular file but {kind}; skipped"


class Containment:
    """Whether paths found below ``root`` really lie below it once links are resolved."""

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.real_root = os.path.realpath(root)
        self._prefix = self.real_root.rstrip(os.sep) + os.sep

    def inside(self, path: str | os.PathLike[str]) -> bool:
        real = os.path.realpath(path)
        return real == self.real_root or real.startswith(self._prefix)

    def refuse(self, path: str | os.PathLike[str]) -> str | None:
        """Why ``path`` (found below the root) may not be opened, or None."""
        return self.status(path)[0]

    def status(self, path: str | os.PathLike[str]) -> tuple[str | None, int]:
        """:meth:`refuse` and the file's size (:func:`file_status`)."""
        if os.path.islink(path) and not self.inside(path):
            return "symbolic link leading outside the folder; skipped", -1
        return file_status(path)


def walk_files(root: str | os.PathLike[str]) -> Iterator[tuple[Path, str | None]]:
    """Every file below ``root``, sorted, with the reason it may not be opened (or None).

    Linked folders are not descended into (``os.walk`` default); linked files are
    kept only when their target lies below ``root``.
    """
    guard = Containment(root)
    for folder, dirs, names in os.walk(root):
        dirs.sort()
        for name in sorted(names):
            p = os.path.join(folder, name)
            yield Path(p), guard.refuse(p)
