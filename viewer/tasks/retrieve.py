"""Query/retrieve use case: fetch a study, series or instance by C-MOVE (to our own storage
SCP, started on demand), by C-GET or, from a DICOMweb node, by WADO-RS, into the local store,
with streamed progress (:func:`retrieve_from` chooses by the node's kind)."""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from typing import Callable, Iterable, Iterator, Mapping

from pydicom.dataset import Dataset

from viewer.cancel import CancelToken
from viewer.config import DicomWebNode, DimseNode, LocalAE, default_store_dir
from viewer.errors import UsageError
from viewer.net import fastpath
from viewer.net.find import GET_MODEL, MOVE_MODEL, Root
from viewer.net.progress import RetrieveProgress, retrieve_identifier
from viewer.net.storage_scp import StorageSCP
from viewer.dicom.local_store import LocalStore

__all__ = ["LocalStore", "RetrieveProgress", "RetrieveRequest", "ScpHolder", "StorageSCP", "open_store", "retrieve",
           "retrieve_from"]

log = logging.getLogger(__name__)


def open_store(local: LocalAE) -> LocalStore:
    """The local store of retrieved instances: the configured folder or the user data folder."""
    return LocalStore(local.store_dir or default_store_dir())


@dataclass
class RetrieveRequest:
    """What to fetch from where.

    ``uids`` holds the unique keys down to ``level`` (PatientID for Patient Root,
    StudyInstanceUID, SeriesInstanceUID, SOPInstanceUID).
    """

    node: DimseNode
    level: str
    uids: dict[str, str]
    root: Root = Root.STUDY
    method: str = "move"
    #: C-GET: storage SOP classes known to be in the data (keeps within 128 contexts).
    sop_classes: list[str] = field(default_factory=list)
    #: C-MOVE: destination AE; empty means our own storage SCP.
    dest_aet: str = ""


class ScpHolder:
    """Starts our storage SCP on first use and keeps it running until :meth:`stop`.

    One SCP per process: the GUI and the CLI share this pattern so that two retrieves
    at once use the same listening port.
    """

    def __init__(self, local: LocalAE, store: LocalStore, allowed: set[str] | None = None, *,
                 on_start: Callable[[StorageSCP], Callable[[], None] | None] | None = None) -> None:
        self.local = local
        fastpath.configure(local.fast_path)  # the setting, for this process's retrieves
        self.store = store
        self._allowed = set(allowed or ())
        self._scp: StorageSCP | None = None
        self._lock = threading.Lock()
        #: called with the SCP each time it starts (e.g. to index what it receives); what it
        #: returns is called when the SCP stops
        self.on_start = on_start
        self._on_stop: Callable[[], None] | None = None

    def allow(self, *aets: str) -> None:
        """Also accept these calling AE titles (a node added while running)."""
        with self._lock:
            self._allowed.update(aets)
            if self._scp is not None:
                self._scp.allow(*aets)

    def get(self) -> StorageSCP:
        with self._lock:
            if self._scp is None:
                ssl_context = None
                if self.local.tls_cert_file:  # DICOM over TLS (PS3.15 B.9), client certificates required
                    from viewer.net.tls import ServerTls, server_context

                    ssl_context = server_context(ServerTls(self.local.tls_cert_file, self.local.tls_key_file,
                                                           self.local.tls_ca_file))
                self._scp = StorageSCP(self.store, self.local.ae_title, self.local.store_port,
                                       allowed_calling=self._allowed,
                                       accept_any=self.local.accept_any_calling, ssl_context=ssl_context).start()
                if self.on_start is not None:
                    self._on_stop = self.on_start(self._scp)
            return self._scp

    @property
    def running(self) -> bool:
        """Whether the SCP is listening now."""
        scp = self._scp
        return scp is not None and scp.running

    def stop(self) -> None:
        with self._lock:
            scp, self._scp = self._scp, None
            on_stop, self._on_stop = self._on_stop, None
        if scp is not None:
            scp.stop()
        if on_stop is not None:
            on_stop()


def retrieve(request: RetrieveRequest, calling_aet: str, store: LocalStore, *,
             scp: ScpHolder | None = None, token: CancelToken | None = None) -> Iterator[RetrieveProgress]:
    """Retrieve ``request`` and yield progress; files land in ``store``.

    Raises
    ------
    UsageError
        A C-MOVE to ourselves without an SCP holder, or an unknown method.
    NetError, Cancelled
        See :func:`viewer.net.move.move` and :func:`viewer.net.get.get`.
    """
    identifier = retrieve_identifier(request.level, request.uids, patient_root=request.root is Root.PATIENT)
    if request.method == "get":
        from viewer.net.get import get

        yield from get(request.node, calling_aet, identifier, GET_MODEL[request.root], store,
                       sop_classes=request.sop_classes or None, token=token)
        return
    if request.method != "move":
        raise UsageError(f"unknown retrieve method {request.method!r}: use move or get")
    from viewer.net.move import move

    server = None
    if not request.dest_aet or (scp is not None and request.dest_aet == scp.local.ae_title):
        if scp is None:
            raise UsageError("C-MOVE to our own AE needs the storage SCP")
        server = scp.get()
    dest = request.dest_aet or (scp.local.ae_title if scp is not None else "")
    yield from move(request.node, calling_aet, identifier, dest, MOVE_MODEL[request.root], scp=server, token=token)


def retrieve_from(node: DimseNode | DicomWebNode, level: str, uids: Mapping[str, str], calling_aet: str,
                  store: LocalStore, *, root: str = "study", found: Iterable[Dataset] = (),
                  scp: ScpHolder | None = None, token: CancelToken | None = None) -> Iterator[RetrieveProgress]:
    """Retrieve what ``uids`` names at ``level`` from ``node`` into ``store``, yielding progress.

    A DIMSE node uses its configured method (C-MOVE to our storage SCP, or C-GET proposing the
    storage SOP classes named in ``found``, the query results of the item); a DICOMweb node
    uses WADO-RS. ``uids`` holds the unique keys down to ``level`` (see :class:`RetrieveRequest`).
    """
    if isinstance(node, DicomWebNode):
        from viewer.net.dicomweb import retrieve_node

        yield from retrieve_node(node, level, uids, store, token)
        return
    from viewer.net.get import get_sop_classes

    request = RetrieveRequest(node, level, dict(uids), root=Root(root), method=node.retrieve,
                              sop_classes=get_sop_classes(found))
    yield from retrieve(request, calling_aet, store, scp=scp, token=token)
