"""Our Storage SCP (PS3.4 B): the destination of C-MOVE, and the C-STORE handler of C-GET.

Only the expected calling AEs may associate unless ``accept_any`` is set (the A-ASSOCIATE-RJ
reason is then "calling AE title not recognized", PS3.8 9.3.4). Each received instance is
written with :meth:`LocalStore.write` from the encoded bytes as received (no decode and
re-encode), so the stored file is the peer's data set with a File Meta Information header.
"""

from __future__ import annotations

import logging
import os
import ssl
import threading
from pathlib import Path
from typing import Callable, Iterable

from pydicom import dcmread
from pydicom.dataset import Dataset
from pynetdicom import AE, AllStoragePresentationContexts, evt
from pynetdicom.dimse_primitives import C_STORE
from pynetdicom.events import Event, EventHandlerType
from pynetdicom.transport import ThreadedAssociationServer
from pynetdicom.sop_class import Verification

from viewer.errors import NetError
from viewer.net import fastpath
from viewer.net.fastpath.door import Door
from viewer.net._pdu_guard import guard_message_size
from viewer.net.incoming import (STORE_CANNOT_UNDERSTAND, STORE_OUT_OF_RESOURCES, STORE_SUCCESS,  # noqa: F401
                                 IncomingInstance, OnStored, Sink, peer_title)
from viewer.net.association import MAX_PDU, tune_connection
from viewer.dicom.local_store import LocalStore

log = logging.getLogger(__name__)

#: Seconds a connection may take to associate (or to close after an abort) before it is dropped.
ACSE_TIMEOUT = 10.0
#: pynetdicom counts every open connection, associated or not, against this limit: a few
#: idle or hostile connections must not lock out the PACS.
MAX_ASSOCIATIONS = 32
#: Connections one remote address may hold at once (viewer.net.fastpath.door): a host that
#: opens many and never associates leaves the other half of the slots to the rest.
MAX_PER_HOST = MAX_ASSOCIATIONS // 2

#: Transfer syntaxes our storage SCP accepts (PS3.5 A.4): uncompressed, deflated, then
#: JPEG, JPEG-LS, JPEG 2000 and RLE, which pydicom's pylibjpeg plugins decode.
STORE_TRANSFER_SYNTAXES = (
    "1.2.840.10008.1.2.1", "1.2.840.10008.1.2", "1.2.840.10008.1.2.1.99", "1.2.840.10008.1.2.2",
    "1.2.840.10008.1.2.4.50", "1.2.840.10008.1.2.4.51", "1.2.840.10008.1.2.4.57", "1.2.840.10008.1.2.4.70",
    "1.2.840.10008.1.2.4.80", "1.2.840.10008.1.2.4.81", "1.2.840.10008.1.2.4.90", "1.2.840.10008.1.2.4.91",
    "1.2.840.10008.1.2.5",
)

#: Bytes a C-STORE data set may exceed the store's per-object limit by while it arrives
#: (the limit counts the file with its File Meta Information header, PS3.10 7.1).
SIZE_GUARD_MARGIN = 64 * 1024

#: pynetdicom treats an empty require_calling_aet as "anyone"; this title stands for nobody.
_NOBODY = "-NOBODY-ALLOWED-"


def bound_reads(event: Event, timeout: float) -> None:
    """``EVT_CONN_OPEN`` handler: a read on an accepted connection waits at most ``timeout``.

    pynetdicom leaves accepted sockets blocking; a peer that sends half a PDU and stops would
    hold its thread, and one of ``maximum_associations``, for as long as TCP keeps the
    connection (no ARTIM can fire while the DUL thread is inside ``recv``).
    """
    transport = event.assoc.dul.socket
    sock = transport.socket if transport is not None else None
    if sock is not None:
        sock.settimeout(timeout)


def handle_store(event: Event, store: LocalStore, on_stored: OnStored | None = None) -> int:
    """Write the instance of a C-STORE request; the status to answer with.

    Usable as an ``EVT_C_STORE`` handler both for our server and on a C-GET association.
    The file is the File Meta Information (PS3.10 7.1) followed by the data set bytes
    exactly as received (:class:`viewer.net.incoming.IncomingInstance`). Where the
    fast path runs (:mod:`viewer.net.fastpath`), its P-DATA reader finds this handler bound
    and writes data sets as they arrive instead, with the same result.
    """
    sink = Sink(store, on_stored, peer_title(event.assoc))
    try:
        req = event.request
        if not isinstance(req, C_STORE) or req.DataSet is None:
            raise TypeError("not a C-STORE request with a data set")
        stream = req.DataSet.getvalue()
        ts = str(event.context.transfer_syntax)
        sop_class, sop_uid = str(req.AffectedSOPClassUID), str(req.AffectedSOPInstanceUID)
    except Exception as exc:  # noqa: BLE001 - a malformed request is the peer's error
        log.warning("C-STORE from %s: cannot read the request: %s", sink.peer, exc)
        return STORE_CANNOT_UNDERSTAND
    incoming = IncomingInstance(sink, sop_class, sop_uid, ts)
    incoming.feed((stream,))
    try:
        return incoming.finish()[0]
    finally:
        incoming.settle()


#: Marks the handler for the fast path (:mod:`viewer.net.fastpath`): data sets for it may be
#: written while they arrive.
handle_store.streams_into_store = True  # type: ignore[attr-defined]


class StorageSCP:
    """A storage SCP on ``port``, started on demand, stopped by :meth:`stop`.

    Parameters
    ----------
    store
        Where instances go.
    ae_title
        Our AE title (the C-MOVE destination the PACS knows).
    port
        TCP port; 0 picks a free one (see :attr:`port` after :meth:`start`).
    allowed_calling
        Calling AE titles allowed to associate; ignored when ``accept_any``.
    ssl_context
        Listen for DICOM over TLS (PS3.15 B.9) with this server context
        (:func:`viewer.net.tls.server_context`); None for plain TCP.
    """

    def __init__(self, store: LocalStore, ae_title: str, port: int, *,
                 allowed_calling: Iterable[str] = (), accept_any: bool = False,
                 host: str = "", network_timeout: float = 60.0, ssl_context: ssl.SSLContext | None = None) -> None:
        self.store = store
        self.ae_title = ae_title
        self.host = host
        self.port = port
        self.accept_any = accept_any
        self._allowed = set(allowed_calling)
        self._listeners: list[OnStored] = []
        self._lock = threading.Lock()
        self._server: ThreadedAssociationServer | None = None
        self.network_timeout = network_timeout
        self.ssl_context = ssl_context  # viewer.net.tls.server_context(): DICOM over TLS (PS3.15 B.9)
        #: Seconds a connection has to complete its A-ASSOCIATE-RQ (ARTIM, PS3.8 9.1.5).
        self.acse_timeout = min(network_timeout, ACSE_TIMEOUT)
        self.max_per_host = MAX_PER_HOST

    def allow(self, *aets: str) -> None:
        """Also accept these calling AE titles (e.g. the node a C-MOVE is sent to)."""
        with self._lock:
            self._allowed.update(aets)
            if self._server is not None and not self.accept_any:
                self._server.ae.require_calling_aet = sorted(self._allowed) or [_NOBODY]

    def add_listener(self, cb: OnStored) -> Callable[[], None]:
        """Call ``cb(path, calling_aet)`` for every stored file; returns a remover."""
        with self._lock:
            self._listeners.append(cb)

        def remove() -> None:
            with self._lock:
                if cb in self._listeners:
                    self._listeners.remove(cb)

        return remove

    def _notify(self, path: Path, calling: str) -> None:
        with self._lock:
            listeners = list(self._listeners)
        for cb in listeners:
            cb(path, calling)

    @property
    def running(self) -> bool:
        return self._server is not None

    def start(self) -> "StorageSCP":
        """Listen (idempotent). Raises :class:`NetError` if the port is taken."""
        if self._server is not None:
            return self
        self.store.clean_partial()
        ae = AE(ae_title=self.ae_title)
        ae.network_timeout = self.network_timeout
        # ARTIM (PS3.8 9.1.5) bounds a connection that never completes association or release
        # (hostile or broken peer): each holds one of maximum_associations until it expires.
        ae.acse_timeout = self.acse_timeout
        ae.maximum_pdu_size = MAX_PDU
        ae.maximum_associations = MAX_ASSOCIATIONS
        # Every storage SOP class, with the uncompressed transfer syntaxes and the
        # compressed ones the viewer decodes. Not all 45 that pynetdicom knows: pynetdicom
        # copies the supported contexts for every association, and 170 x 45 of them made
        # each association request take ~100 ms (13 TS: ~20 ms).
        for cx in AllStoragePresentationContexts:
            if cx.abstract_syntax is not None:  # always set in pynetdicom's list
                ae.add_supported_context(cx.abstract_syntax, list(STORE_TRANSFER_SYNTAXES))
        ae.add_supported_context(Verification)
        if not self.accept_any:
            ae.require_calling_aet = sorted(self._allowed) or [_NOBODY]
        # tune_connection(fast_path=True): the pynetdicom fast path (viewer.net.fastpath).
        # The door first: PDU lengths, the association deadline, connections per host.
        door = Door(max_pdu=MAX_PDU, associate_within=self.acse_timeout, per_host=self.max_per_host)
        handlers: list[EventHandlerType] = [door.handler(),
                                            (evt.EVT_C_STORE, handle_store, [self.store, self._notify]),
                                            (evt.EVT_CONN_OPEN, tune_connection, [True]),
                                            (evt.EVT_CONN_OPEN, bound_reads, [self.network_timeout])]
        if self.store.max_object_bytes is not None:
            # Bounded memory: an object over the store's limit is cut off while
            # its P-DATA fragments arrive (connection closed, association aborted), not
            # collected in memory to be refused at write time; the fast P-DATA reader
            # counts it too (viewer.net.fastpath.dul).
            handlers.append((evt.EVT_PDU_RECV, guard_message_size,
                             [self.store.max_object_bytes + SIZE_GUARD_MARGIN]))
        try:
            server = ae.start_server((self.host, self.port), block=False, evt_handlers=handlers,
                                     ssl_context=self.ssl_context)
        except OSError as exc:
            raise NetError(f"cannot listen on port {self.port} for {self.ae_title}: {exc}") from exc
        assert server is not None  # start_server(block=False) returns the running server
        self._server = server
        fastpath.install_server(server)
        self.port = int(server.server_address[1])
        log.info("storage SCP %s listening on port %d", self.ae_title, self.port)
        return self

    def stop(self) -> None:
        """Stop listening and close open associations."""
        server, self._server = self._server, None
        if server is not None:
            # Open associations are aborted (A-ABORT), not waited for: a peer frozen in the
            # middle of a C-STORE would otherwise keep the process alive until the network
            # timeout ended its association (the threads are not daemons).
            for assoc in server.active_associations:
                try:
                    assoc.abort()
                except Exception:  # a connection already gone: nothing to abort
                    log.debug("abort on stop failed", exc_info=True)
            server.shutdown()
            log.info("storage SCP %s stopped", self.ae_title)

    def __enter__(self) -> "StorageSCP":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def read_header(path: str | os.PathLike[str]) -> Dataset:
    """Header of a stored file (for listeners that want to show what arrived)."""
    return dcmread(path, stop_before_pixels=True)
