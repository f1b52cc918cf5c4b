"""A DICOM print server (Print SCP) built on pynetdicom: the virtual film printer's front end.

Supports Verification; Basic Grayscale Print Management Meta (1.2.840.10008.5.1.1.9) and
Basic Color Print Management Meta (1.2.840.10008.5.1.1.18) with their Film Session, Film
Box, Image Box and Printer SOP classes; Presentation LUT (1.2.840.10008.5.1.1.23); Basic
Annotation Box (1.2.840.10008.5.1.1.15) and Print Job (1.2.840.10008.5.1.1.14), each as
the printer profile allows (PS3.4 H).

pynetdicom matches a request to a presentation context by its context ID, so Film Session,
Film Box, Image Box and Printer requests arrive on the meta SOP class context and are
dispatched by their own SOP class UID to the Print Management service class, whose
handlers (EVT_N_CREATE, ...) are :class:`~viewer.net.print_scp.service.PrintService`.

The server only parses and checks; what happens on N-ACTION print is the ``on_print``
callback's job (the virtual printer renders films with :mod:`viewer.film.output`; this
module does not import it: docs/architecture.md, Layers).

Example
-------
>>> server = PrintServer(on_print=print, port=0)   # doctest: +SKIP
>>> server.start(); server.port; server.stop()      # doctest: +SKIP
"""

from __future__ import annotations

import logging
import socket
import ssl
import threading
from typing import TYPE_CHECKING, Any, Callable, Iterable

from viewer.errors import NetError
from viewer.net._pdu_guard import guard_message_size
from viewer.net.fastpath.door import Door
from viewer.net.print_scp.printer_config import VirtualPrinterConfig, available_profiles, load_profile
from viewer.net.print_scp.service import PrintService
from viewer.net.print_scp.state import (ANNOTATION_BOX, COLOR_META, GRAY_META, PRESENTATION_LUT, PRINT_JOB,
                                         VERIFICATION, PrintRequest)

if TYPE_CHECKING:
    from pynetdicom import AE
    from pynetdicom.events import Event, EventHandlerType
    from pynetdicom.transport import ThreadedAssociationServer

__all__ = ["PrintRequest", "PrintServer", "VirtualPrinterConfig", "available_profiles", "load_profile"]

log = logging.getLogger(__name__)

#: Largest data set of one request (an N-SET of an 8192 x 8192 16-bit image box plus room for
#: its attributes); a bigger one closes the connection before it fills memory.
MAX_MESSAGE_BYTES = 8192 * 8192 * 2 + (1 << 20)
#: Maximum Length we announce and accept (PS3.8 D.1; pynetdicom's default).
MAX_PDU = 16382
#: Data set bytes of requests being received or handled by all associations together: a
#: request received in memory costs ~4x its size until answered (decoded, checked, kept),
#: so six 128 MiB N-SETs at once took 3.2 GB. The connection whose request passes the
#: bound is closed (its association ends as aborted).
MAX_IN_FLIGHT_BYTES = 2 * MAX_MESSAGE_BYTES


class _InFlight:
    """Counts the data set bytes of the request each association is receiving or having
    handled (PDV message control header bit 0 clear = data set, bit 1 = last fragment,
    PS3.8 E.2), from its first fragment until our response is sent."""

    def __init__(self, server: "PrintServer") -> None:
        self._server = server
        self._lock = threading.Lock()
        self._bytes: dict[int, int] = {}

    def on_pdu(self, event: Event) -> None:
        items = getattr(event.pdu, "presentation_data_value_items", None)
        if not items:
            return
        key = id(event.assoc)
        size = sum(len(v) - 1 for v in (i.presentation_data_value or b"" for i in items) if v and not v[0] & 0x01)
        if not size:
            return
        limit = self._server.max_in_flight_bytes
        with self._lock:
            mine = self._bytes.get(key, 0) + size
            total = sum(b for k, b in self._bytes.items() if k != key) + mine
            if total <= limit:
                self._bytes[key] = mine
                return
            self._bytes.pop(key, None)
        log.warning("%s: requests being received hold more than %d bytes in all; connection closed",
                    str(event.assoc.requestor.ae_title).strip(), limit)
        transport = event.assoc.dul.socket
        sock = transport.socket if transport is not None else None
        if sock is not None:
            sock.close()

    def done(self, event: Event) -> None:
        """Our response went out (``EVT_DIMSE_SENT``) or the connection closed: nothing held."""
        with self._lock:
            self._bytes.pop(id(event.assoc), None)


class PrintServer:
    """A print SCP listening on ``host:port``; several associations at once.

    Parameters
    ----------
    on_print : callable
        Called with a :class:`PrintRequest` for each N-ACTION print, in the association's
        thread; the SCU gets its N-ACTION response after it returns.
    profile : VirtualPrinterConfig, optional
        What the printer accepts (default: the bundled ``default`` profile).
    aet : str
        Our AE title; calls to another called AE title are rejected.
    host, port : str, int
        Where to listen; port 0 picks a free port (see :attr:`port`).
    timeout : float
        ACSE, DIMSE and network timeout in seconds.
    max_associations : int
        Concurrent associations accepted.
    box_size_mm : callable, optional
        ``(film_box, position) -> (width, height)`` in mm of an image box, to answer a
        Requested Image Size larger than its box with B604 / B609 / C603 (PS3.4 H.4.3.1.2.1.2);
        the virtual printer passes the film renderer's geometry.
    ssl_context : ssl.SSLContext, optional
        Listen for DICOM over TLS (PS3.15 B.9), e.g. :func:`viewer.net.tls.server_context`.
    allowed_calling : iterable of str, optional
        Accept only these calling AE titles (default: any).
    """

    def __init__(self, on_print: Callable[[PrintRequest], object], profile: VirtualPrinterConfig | None = None,
                 aet: str = "VIEWERPRINT", host: str = "0.0.0.0", port: int = 11110, timeout: float = 30.0,
                 max_associations: int = 20,
                 box_size_mm: Callable[[Any, int], tuple[float, float] | None] | None = None,
                 ssl_context: ssl.SSLContext | None = None, allowed_calling: Iterable[str] | None = None) -> None:
        self.profile = profile or load_profile("default")
        #: Calling AE titles allowed to associate; None accepts any (A-ASSOCIATE-RJ otherwise,
        #: reason "calling AE title not recognized", PS3.8 9.3.4).
        self.allowed_calling = sorted(set(allowed_calling)) if allowed_calling is not None else None
        self.aet = aet
        self.host = host
        self.requested_port = port
        self.timeout = timeout
        self.max_associations = max_associations
        self.service = PrintService(self.profile, on_print, box_size_mm)
        self.ssl_context = ssl_context  # viewer.net.tls.server_context(): DICOM over TLS (PS3.15 B.9)
        self.max_message_bytes = MAX_MESSAGE_BYTES
        #: Connections one remote address may hold at once (viewer.net.fastpath.door).
        self.max_per_host = max(1, max_associations // 2)
        #: Longest PDU we accept: the Maximum Length we announce (PS3.8 D.1).
        self.max_pdu = MAX_PDU
        #: Bound of the requests in memory across associations (:data:`MAX_IN_FLIGHT_BYTES`).
        self.max_in_flight_bytes = MAX_IN_FLIGHT_BYTES
        self._server: ThreadedAssociationServer | None = None
        self._lock = threading.Lock()

    # ------------------------------------------------------------------ life cycle
    def _make_ae(self) -> AE:
        from pynetdicom import AE

        ae = AE(ae_title=self.aet)
        ae.require_called_aet = True
        if self.allowed_calling is not None:
            ae.require_calling_aet = self.allowed_calling or ["-NOBODY-ALLOWED-"]  # [] would mean anyone
        ae.maximum_associations = self.max_associations
        ae.acse_timeout = ae.dimse_timeout = ae.network_timeout = self.timeout
        ae.maximum_pdu_size = self.max_pdu
        # Explicit VR Little Endian first, Implicit (the default every SCU offers), Explicit BE.
        syntaxes = ["1.2.840.10008.1.2.1", "1.2.840.10008.1.2", "1.2.840.10008.1.2.2"]
        uids = [VERIFICATION, GRAY_META]
        p = self.profile
        uids += [COLOR_META] if p.color else []
        uids += [PRESENTATION_LUT] if p.presentation_lut else []
        uids += [PRINT_JOB] if p.print_job else []
        uids += [ANNOTATION_BOX] if p.annotation else []
        for uid in uids:
            ae.add_supported_context(uid, syntaxes)
        return ae

    def _event_handlers(self) -> list[EventHandlerType]:
        from pynetdicom import evt

        svc = self.service

        def on_accepted(event: Event) -> None:
            req = event.assoc.requestor
            accepted = ", ".join(_name(cx.abstract_syntax) for cx in event.assoc.accepted_contexts)
            rejected = ", ".join(_name(cx.abstract_syntax) for cx in event.assoc.rejected_contexts)
            svc.state(event.assoc)
            log.info("Association Received %s:%s %s -> %s; accepted: %s%s", req.address, req.port,
                     str(req.ae_title).strip(), self.aet, accepted, f"; rejected: {rejected}" if rejected else "")

        def on_rejected(event: Event) -> None:
            log.warning("Association Rejected from %s", event.assoc.requestor.address)

        def on_released(event: Event) -> None:
            log.info("Association Released by %s", str(event.assoc.requestor.ae_title).strip())
            svc.drop(event.assoc, "release")

        def on_aborted(event: Event) -> None:
            log.warning("Association Aborted (%s)", str(event.assoc.requestor.ae_title).strip())
            svc.drop(event.assoc, "abort")

        def on_open(event: Event) -> None:
            # Small DIMSE messages go out as several writes (command, then data set); without
            # TCP_NODELAY, Nagle + the peer's delayed ACK hold each response back ~40 ms.
            transport = event.assoc.dul.socket
            sock = transport.socket if transport is not None else None
            if sock is not None:
                try:
                    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                except OSError:
                    pass
                # pynetdicom leaves accepted sockets blocking: a peer that stops in the middle
                # of a PDU would hold its thread (and an association slot) forever.
                sock.settimeout(self.timeout)

        def on_closed(event: Event) -> None:
            svc.drop(event.assoc, "connection closed")

        def on_echo(event: Event) -> int:
            log.info("%s: C-ECHO -> 0x0000", str(event.assoc.requestor.ae_title).strip())
            return 0x0000

        door = Door(max_pdu=self.max_pdu, associate_within=self.timeout, per_host=self.max_per_host)
        in_flight = _InFlight(self)
        return [door.handler(),
                (evt.EVT_ACCEPTED, on_accepted), (evt.EVT_REJECTED, on_rejected), (evt.EVT_RELEASED, on_released),
                (evt.EVT_ABORTED, on_aborted), (evt.EVT_CONN_OPEN, on_open), (evt.EVT_CONN_CLOSE, on_closed),
                (evt.EVT_C_ECHO, on_echo),
                (evt.EVT_N_CREATE, svc.n_create), (evt.EVT_N_SET, svc.n_set), (evt.EVT_N_GET, svc.n_get),
                (evt.EVT_N_ACTION, svc.n_action), (evt.EVT_N_DELETE, svc.n_delete),
                (evt.EVT_PDU_RECV, guard_message_size, [self.max_message_bytes]),
                (evt.EVT_PDU_RECV, in_flight.on_pdu), (evt.EVT_DIMSE_SENT, in_flight.done),
                (evt.EVT_CONN_CLOSE, in_flight.done)]

    def start(self) -> None:
        """Start listening in background threads; raise :class:`NetError` if the port is taken."""
        with self._lock:
            if self._server is not None:
                return
            ae = self._make_ae()
            try:
                self._server = ae.start_server((self.host, self.requested_port), block=False,
                                               evt_handlers=self._event_handlers(), ssl_context=self.ssl_context)
            except OSError as exc:
                raise NetError(f"cannot listen on {self.host}:{self.requested_port}: {exc.strerror or exc}") from None
        log.info("print SCP %s listening on %s:%d, profile %s (%s)", self.aet, self.host, self.port,
                 self.profile.name, self.profile.description or "")

    @property
    def port(self) -> int:
        """The port actually listened on (useful with port 0)."""
        server = self._server
        return int(server.server_address[1]) if server is not None else self.requested_port

    @property
    def running(self) -> bool:
        return self._server is not None

    def stop(self) -> None:
        """Stop listening and abort open associations (bounded by pynetdicom's shutdown)."""
        with self._lock:
            server, self._server = self._server, None
        if server is None:
            return
        server.shutdown()
        log.info("print SCP stopped: %d film(s) printed, %d job(s) failed", self.service.films_printed,
                 self.service.jobs_failed)

    def __enter__(self) -> "PrintServer":
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _name(uid: str | None) -> str:
    from pydicom.uid import UID

    return UID(uid).name if uid else "(none)"
