"""One header read per received file, shared by everyone who needs it.

A C-MOVE into our storage SCP tells two listeners of each file it stores: the library feed
of the SCP (:class:`viewer.tasks.library.LibraryFeed`, attached whenever the SCP runs) and
the retrieve's own progress, whose files the PACS panel indexes
(:func:`viewer.tasks.library.index_retrieve`) and the window shows as they arrive. Each of
them read the file's header: three reads of every instance a retrieve brought, on the same
two cores that receive the next one.

:class:`HeaderRecords` reads a file's header once (:func:`viewer.dicom.headers.read_instance`)
and gives the same :class:`~viewer.dicom.model.Instance` record to whoever asks next; one
that asks while the read is under way waits for it instead of reading again. A record is
known by the file's path, modification time and size (a file written again is read again),
and only the newest :data:`KEEP` are kept (a reader that comes later reads the file itself).
"""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from typing import TYPE_CHECKING, Iterable, Iterator

from viewer.dicom.headers import NotAnImage, read_instance
from viewer.dicom.model import Instance
from viewer.dicom.scan import EventKind, ScanEvent
from viewer.errors import Cancelled, ReadError

if TYPE_CHECKING:
    from viewer.cancel import CancelToken

#: Records kept: a retrieve's consumers are a few hundred files apart at most.
KEEP = 2048

_Key = tuple[str, int, int]


class HeaderRecords:
    """The header records of files just received, each read once (see the module doc)."""

    def __init__(self, keep: int = KEEP) -> None:
        self.keep = keep
        self._cond = threading.Condition()
        self._made: OrderedDict[_Key, Instance] = OrderedDict()
        self._reading: set[_Key] = set()

    def read(self, path: str | os.PathLike[str]) -> tuple[Instance, int]:
        """The record of ``path`` and the file's size, read now or by whoever asked first.

        Raises what :func:`~viewer.dicom.headers.read_instance` raises (``NotAnImage``,
        ``ReadError``); a failed read is not kept, so the next caller tries again.
        """
        name = os.fspath(path)
        try:
            st = os.stat(name)
        except OSError:
            return read_instance(name), 0  # gone: read_instance says why
        key = (name, st.st_mtime_ns, st.st_size)
        with self._cond:
            while key in self._reading:
                self._cond.wait()
            made = self._made.get(key)
            if made is not None:
                return made, st.st_size
            self._reading.add(key)
        inst: Instance | None = None
        try:
            inst = read_instance(name)
            return inst, st.st_size
        finally:
            with self._cond:
                self._reading.discard(key)
                if inst is not None:
                    self._made[key] = inst
                    while len(self._made) > self.keep:
                        self._made.popitem(last=False)
                self._cond.notify_all()

    def events(self, paths: Iterable[str | os.PathLike[str]],
               cancel: "CancelToken | None" = None) -> Iterator[ScanEvent]:
        """The folder scan's events (:func:`viewer.dicom.scan.scan`) for files just received,
        from their records: an ``instance`` or ``error`` per file, then ``done``."""
        done = 0
        cancelled = False
        for path in paths:
            if cancel is not None and cancel.cancelled:
                cancelled = True
                break
            name = os.fspath(path)
            done += 1
            try:
                inst, size = self.read(name)
            except NotAnImage:
                continue
            except Cancelled:
                cancelled = True
                break
            except ReadError as exc:
                yield ScanEvent(EventKind.ERROR, path=name, error=str(exc), done=done)
                continue
            yield ScanEvent(EventKind.INSTANCE, instance=inst, path=name, done=done, size=size)
        yield ScanEvent(EventKind.DONE, done=done, total=done, cancelled=cancelled)


__all__ = ["KEEP", "HeaderRecords"]
