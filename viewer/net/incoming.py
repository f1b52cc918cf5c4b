"""C-STORE data sets written to their store file while their P-DATA fragments arrive.

Why: a PACS sends the next instance of a retrieve only after our C-STORE response
(PS3.4 C.4.2.3, C.4.3.3: sub-operations one after another), so everything we do between
the last fragment and the response is time the transfer stands still. Collecting a 512 KB
data set in memory and writing it then cost ~0.6 ms of that gap per CT slice, about half of
what DCMTK needs for a whole instance (bench/retrieve.py). Written fragment by fragment
while the peer is still sending, only the last fragment, a link and the response are left.

:class:`IncomingInstance` is the one implementation of what our ``EVT_C_STORE`` handler
(:func:`viewer.net.storage_scp.handle_store`) does: a File Meta Information header
(PS3.10 7.1) followed by the data set bytes exactly as received, written to a temporary
file of the :class:`LocalStore` and given its name by Study, Series and SOP Instance UID.
The handler feeds it a whole data set; where the fast path runs (:mod:`viewer.net.fastpath`),
its P-DATA reader feeds it fragment by fragment when it finds that handler bound to the
association, and sends the response itself. Plain file writing: no pynetdicom internals.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence

from pydicom import dcmread
from pynetdicom import PYNETDICOM_IMPLEMENTATION_UID, PYNETDICOM_IMPLEMENTATION_VERSION
from pynetdicom.association import Association

from viewer.net._walk import walk_file
from viewer.net._filemeta import file_header, scan_uids, study_series_uids, study_series_uids_early
from viewer.dicom.local_store import LocalStore, PendingFile

log = logging.getLogger(__name__)

#: C-STORE statuses we send (PS3.4 B.2.3).
STORE_SUCCESS = 0x0000
STORE_OUT_OF_RESOURCES = 0xA700
STORE_CANNOT_UNDERSTAND = 0xC000

#: Bytes of the start of a data set kept in memory to find its Study and Series Instance
#: UIDs; a data set with them further in is read back from its file.
HEAD_BYTES = 256 * 1024

_DEFLATED = "1.2.840.10008.1.2.1.99"

#: Called for every stored file: (path, calling AE title).
OnStored = Callable[[Path, str], None]


@dataclass(frozen=True)
class Sink:
    """Where an association's C-STORE data sets go: the store and who is told."""

    store: LocalStore
    on_stored: OnStored | None
    peer: str  # the AE title of the peer sending the instances


def peer_title(assoc: Association) -> str:
    """The AE title of the peer that sends C-STOREs on ``assoc`` (either role)."""
    return str(assoc.requestor.ae_title if assoc.is_acceptor else assoc.acceptor.ae_title)


class IncomingInstance:
    """One C-STORE data set on its way into the store (see the module doc).

    Parameters
    ----------
    sink
        The store and listener.
    sop_class, sop_instance
        Affected SOP Class and Instance UID of the request (PS3.7 9.1.1.1).
    transfer_syntax
        Of the presentation context the data set comes on.
    """

    def __init__(self, sink: Sink, sop_class: str, sop_instance: str, transfer_syntax: str) -> None:
        self.sink = sink
        # The File Meta Information takes the UIDs as they are (PS3.5 9.1: ASCII digits and
        # dots); anything else is answered Cannot Understand (:meth:`finish`), not raised.
        self._bad_uid = "" if _plain_uid(sop_class) and _plain_uid(sop_instance) else (
            f"Affected SOP Class/Instance UID {sop_class!r}/{sop_instance!r} is empty or not ASCII")
        if self._bad_uid:
            sop_class, sop_instance = sop_class.encode("ascii", "replace").decode() or "0", \
                sop_instance.encode("ascii", "replace").decode() or "0"

        self.sop_class = sop_class
        self.sop_instance = sop_instance
        self.transfer_syntax = transfer_syntax
        header = file_header(sop_class, sop_instance, transfer_syntax, PYNETDICOM_IMPLEMENTATION_UID,
                             PYNETDICOM_IMPLEMENTATION_VERSION)
        self._header_size = len(header)
        self._queued: list[bytes | bytearray | memoryview] = []
        self._head: list[bytes] = []
        self._head_size = 0
        self._uids: tuple[str, str] | None = None
        self._scan_early = scan_uids(b"", transfer_syntax) is not None  # not deflated, not big endian
        self._file: PendingFile | None = None
        self._settle: PendingFile | None = None  # committed or failed, its temporary name to delete
        self._error: OSError | None = None
        try:
            self._file = sink.store.open_pending()
        except OSError as exc:
            self._error = exc
        self._queued.append(header)  # written with the first fragments

    def feed(self, fragments: Sequence[bytes | bytearray | memoryview]) -> None:
        """Append data set bytes in order (P-DATA fragments, PS3.8 E.2).

        They are written by the next :meth:`flush` (or :meth:`finish`): one system call
        for all the fragments of a read costs a fraction of one per PDU. Until then the
        caller keeps the fragments' memory unchanged.
        """
        self._queued.extend(fragments)
        # Read the UIDs while the peer is still sending (off the path to our response),
        # fragment by fragment: they are usually in the first one.
        for part in fragments:
            if self._uids is not None or self._head_size >= HEAD_BYTES:
                break
            self._head.append(bytes(part[:HEAD_BYTES - self._head_size]))
            self._head_size += len(self._head[-1])
            if self._scan_early:
                head = self._head[0] if len(self._head) == 1 else b"".join(self._head)
                self._uids = study_series_uids_early(head, self.transfer_syntax)

    def flush(self) -> None:
        """Write the fragments fed since the last flush."""
        queued, self._queued = self._queued, []
        if self._file is not None and queued:
            self._file.write(queued)

    def finish(self) -> tuple[int, Path | None]:
        """Name the file in the store and tell ``on_stored``; returns the C-STORE status and
        the path (or None).

        The listener hears of the file before the peer can (our response): a C-MOVE's
        final response, which the peer sends once it has ours, never overtakes it. What is
        left, deleting the temporary name, is done by :meth:`settle` once the response is
        on its way.
        """
        self.flush()
        file, self._file = self._file, None
        self._settle = file
        status, path = self._finish(file)
        if path is not None and self.sink.on_stored is not None:
            try:
                self.sink.on_stored(path, self.sink.peer)
            except Exception:
                log.exception("on_stored callback failed")
        return status, path

    def settle(self) -> None:
        """After :meth:`finish`: delete the temporary name (a committed file has its own)."""
        file, self._settle = self._settle, None
        if file is not None:
            file.discard()

    def _finish(self, file: PendingFile | None) -> tuple[int, Path | None]:
        peer = self.sink.peer
        if self._bad_uid:
            log.warning("C-STORE from %s: %s", peer, self._bad_uid)
            return STORE_CANNOT_UNDERSTAND, None
        if file is None:
            log.error("C-STORE from %s: cannot write %s: %s", peer, self.sop_instance, self._error)
            return STORE_OUT_OF_RESOURCES, None
        try:
            # The whole data set, element by element (a data set cut short inside Pixel
            # Data is not stored); a deflated one inflated in bounded pieces (viewer.net._walk).
            found = walk_file(file.tmp, self._header_size, self.transfer_syntax)
            if self.transfer_syntax == _DEFLATED:
                uids = (found.get(0x0020000D, ""), found.get(0x0020000E, ""))
            else:
                uids = self._uids or self._read_uids(file)
        except Exception as exc:  # noqa: BLE001 - whatever the bytes do to the reader: Cannot Understand
            log.warning("C-STORE from %s: cannot read the data set of %s: %s", peer, self.sop_instance, exc)
            return STORE_CANNOT_UNDERSTAND, None
        try:
            path = file.commit(uids[0], uids[1], self.sop_instance)
        except OSError as exc:
            log.error("C-STORE from %s: cannot write %s: %s", peer, self.sop_instance, exc)
            return STORE_OUT_OF_RESOURCES, None
        log.debug("stored %s from %s", path, peer)
        return STORE_SUCCESS, path

    def _read_uids(self, file: PendingFile) -> tuple[str, str]:
        """Study and Series Instance UID from the whole data set: the head kept in memory
        when it is all of it, else the file (read by pydicom up to the pixel data)."""
        if self._head_size < HEAD_BYTES:
            return study_series_uids(b"".join(self._head), self.transfer_syntax)
        ds = dcmread(file.tmp, stop_before_pixels=True, force=True,
                     specific_tags=["StudyInstanceUID", "SeriesInstanceUID"])
        return str(ds.get("StudyInstanceUID", "") or ""), str(ds.get("SeriesInstanceUID", "") or "")

    def discard(self) -> None:
        """Drop the instance (association aborted, protocol error): no file is left."""
        file, self._file = self._file, None
        self._queued = []
        if file is not None:
            file.discard()
        self.settle()


def _plain_uid(uid: str) -> bool:
    """A non-empty ASCII UID (what a file header can hold; hostile ones are kept inside the store)."""
    return bool(uid) and uid.isascii()


__all__ = ["HEAD_BYTES", "IncomingInstance", "Sink", "STORE_CANNOT_UNDERSTAND", "STORE_OUT_OF_RESOURCES",
           "STORE_SUCCESS", "peer_title"]
