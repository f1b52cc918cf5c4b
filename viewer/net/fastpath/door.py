"""The door of our SCPs: how much a peer may make us read before and during an association.

Installed on every connection our storage SCP and print SCP accept, whatever the fast-path
switch says (it is correctness, not speed), from an ``EVT_CONN_OPEN`` handler
(:meth:`Door.on_open`) bound before the fast path's.

* **PDU length.** pynetdicom reads a PDU by its declared length into one growing
  ``bytearray`` before anything looks at it, so a peer declaring a 4 GiB PDU and streaming
  zeros made the process grow by what it sent. A PDU longer than :attr:`Door.max_pdu` (the
  Maximum Length we announced, PS3.8 D.1) is refused with an A-ABORT (source: service
  provider, reason: invalid PDU parameter value, PS3.8 9.3.8) before its body is read; the
  first PDU of a connection (the A-ASSOCIATE-RQ, PS3.8 9.3.2) may be at most
  :data:`PRE_ASSOCIATION_PDU` bytes. The fast P-DATA reader (:mod:`.dul`) checks the same
  limit (:func:`pdu_limit`).
* **Association phase deadline (ARTIM, PS3.8 9.1.5).** pynetdicom runs the ARTIM timer
  only between reads; a peer trickling one byte of its A-ASSOCIATE-RQ at a time kept a
  thread, and one of the associations the AE allows, for as long as it liked. Here the
  A-ASSOCIATE-RQ must be complete within :attr:`Door.associate_within` seconds of the
  connection, or the connection is closed.
* **Connections per host.** One remote address may hold at most :attr:`Door.per_host`
  connections (associated or not), so one host cannot take every slot.

Private pynetdicom names touched: ``AssociationSocket.recv`` is shadowed per instance (an
attribute on the object; the class, possibly :class:`.dul._BufferedSocket`, still reads),
its ``socket`` (the raw socket: timeout, reads before association) and ``close``;
``Association.dul.socket``; ``AE.active_associations`` and ``requestor.address``;
``Association._serve_request`` (wrapped per instance: an invalid C-STORE request is answered
0xC000 rather than dropped) and ``_sent_release``; ``DIMSEServiceProvider.send_msg``.
"""

from __future__ import annotations

import logging
import socket
import struct
import threading
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pynetdicom.association import Association
    from pynetdicom.events import Event

log = logging.getLogger(__name__)

#: Largest first PDU (an A-ASSOCIATE-RQ, PS3.8 9.3.2) accepted: 128 presentation contexts
#: with 32 transfer syntaxes each, and a 64 KiB user identity, stay well below it.
PRE_ASSOCIATION_PDU = 256 * 1024
#: PDU header: type, reserved, length (PS3.8 9.3.1).
_HEADER = struct.Struct(">BBL")
#: A-ABORT PDU (PS3.8 9.3.8): source 2 (service provider), reason 6 (invalid PDU parameter value).
_ABORT_INVALID = bytes((0x07, 0, 0, 0, 0, 4, 0, 0, 2, 6))
_ATTR = "_viewer_door"


@dataclass
class _Gate:
    """What the door knows about one connection."""

    door: "Door"
    deadline: float
    first_done: bool = False
    expect_body: int | None = None  # declared length of the PDU whose header was just read
    refused: bool = False


@dataclass
class Door:
    """Bounds for the connections one SCP accepts (see the module doc).

    Parameters
    ----------
    max_pdu
        Longest PDU (its length field, PS3.8 9.3.1) accepted once associated: the Maximum
        Length we announce.
    associate_within
        Seconds from connection to a complete A-ASSOCIATE-RQ.
    per_host
        Connections one remote address may hold at once.
    """

    max_pdu: int
    associate_within: float
    per_host: int
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def on_open(self, event: Event) -> None:
        """``EVT_CONN_OPEN`` handler: refuse a host over its share, else guard the reads."""
        assoc = event.assoc
        transport = getattr(assoc.dul, "socket", None)
        if transport is None or getattr(transport, "socket", None) is None:
            return
        address = getattr(event, "address", None)  # EVT_CONN_OPEN carries the peer address
        host = str(address[0]) if address else ""
        with self._lock:
            held = sum(1 for a in assoc.ae.active_associations
                       if a is not assoc and str(getattr(a.requestor, "address", "")) == host)
            if held >= self.per_host:
                log.warning("connection from %s refused: it holds %d connection(s) already (limit %d)",
                            host, held, self.per_host)
                _close(transport)
                # The acceptor thread waits for an A-ASSOCIATE-RQ up to its ACSE timeout even
                # once the socket is closed (the DUL's Evt17 in Sta2 tells it nothing), holding
                # one of maximum_associations meanwhile: a refused connection must end now.
                assoc.acse_timeout = 0.001
                return
        _answer_invalid_stores(assoc)
        gate = _Gate(self, time.monotonic() + self.associate_within)
        setattr(transport, _ATTR, gate)

        def recv(nr_bytes: int) -> bytearray:
            return _recv(transport, gate, nr_bytes)

        transport.recv = recv  # shadows the class's (pynetdicom's reader calls self.socket.recv)

    def handler(self) -> tuple[Any, Any]:
        """The ``(EVT_CONN_OPEN, handler)`` pair to bind first."""
        from pynetdicom import evt

        return (evt.EVT_CONN_OPEN, self.on_open)


#: C-STORE status for a request we cannot understand (PS3.4 B.2.3).
_CANNOT_UNDERSTAND = 0xC000


def _answer_invalid_stores(assoc: Association) -> None:
    """A C-STORE request pynetdicom finds invalid (an empty Affected SOP Instance UID, say)
    is answered 0xC000 instead of dropped without a response (``Association._serve_request``
    only logs it), so the peer is not left waiting (PS3.7 9.1.1.1.4: every request gets one)."""
    from pynetdicom.dimse_primitives import C_STORE

    serve = assoc._serve_request

    def serve_request(msg: Any, context_id: int) -> None:
        if (type(msg) is C_STORE and not msg.is_valid_request and msg.MessageID is not None
                and not assoc._sent_release):
            log.warning("C-STORE request %s without a valid Affected SOP Class/Instance UID: 0x%04X",
                        msg.MessageID, _CANNOT_UNDERSTAND)
            rsp = C_STORE()
            rsp.MessageIDBeingRespondedTo = msg.MessageID
            rsp.AffectedSOPClassUID = msg.AffectedSOPClassUID
            rsp.AffectedSOPInstanceUID = msg.AffectedSOPInstanceUID
            rsp.Status = _CANNOT_UNDERSTAND
            assoc.dimse.send_msg(rsp, context_id)
            return
        serve(msg, context_id)

    assoc._serve_request = serve_request  # type: ignore[method-assign]  # the patch this function makes


def pdu_limit(transport: Any) -> int | None:
    """The longest PDU the door lets ``transport`` (an ``AssociationSocket``) send now, or None."""
    gate: _Gate | None = getattr(transport, _ATTR, None)
    if gate is None:
        return None
    return gate.door.max_pdu if gate.first_done else PRE_ASSOCIATION_PDU


def refuse(transport: Any, length: int, limit: int) -> None:
    """A-ABORT and close: the peer declared a PDU of ``length`` bytes over ``limit``."""
    log.warning("peer %s declared a PDU of %d bytes (limit %d): A-ABORT, connection closed",
                _peer(transport), length, limit)
    raw = getattr(transport, "socket", None)
    if raw is not None:
        try:
            raw.settimeout(1.0)
            raw.sendall(_ABORT_INVALID)
        except OSError:
            pass
    _close(transport)


def _peer(transport: Any) -> str:
    raw = getattr(transport, "socket", None)
    try:
        return "%s:%s" % raw.getpeername()[:2] if raw is not None else "?"
    except OSError:
        return "?"


def _close(transport: Any) -> None:
    try:
        transport.close()
    except Exception:
        log.debug("closing a refused connection failed", exc_info=True)


def _recv(transport: Any, gate: _Gate, nr_bytes: int) -> bytearray:
    """``AssociationSocket.recv`` with the door's checks. pynetdicom's reader asks for a
    6-byte header, then for the length it declares (``_read_pdu_data``)."""
    if gate.refused:
        return bytearray()
    if gate.expect_body is not None and nr_bytes == gate.expect_body:
        gate.expect_body = None
        limit = pdu_limit(transport) or 0
        if nr_bytes > limit:
            gate.refused = True
            refuse(transport, nr_bytes, limit)
            return bytearray()  # "shorter than expected": Evt17, transport closed
        data = _read(transport, gate, nr_bytes)
        gate.first_done = True
        return data
    data = _read(transport, gate, nr_bytes)
    if nr_bytes == _HEADER.size and len(data) == _HEADER.size:
        gate.expect_body = _HEADER.unpack(bytes(data))[2]
    return data


def _read(transport: Any, gate: _Gate, nr_bytes: int) -> bytearray:
    """Before the A-ASSOCIATE-RQ is complete, read the raw socket within the deadline;
    afterwards as the class does."""
    if gate.first_done:
        return bytearray(type(transport).recv(transport, nr_bytes))  # the class's, maybe the fast path's
    raw: socket.socket | None = transport.socket
    out = bytearray()
    if raw is None:
        return out
    timeout = raw.gettimeout()
    try:
        while len(out) < nr_bytes:
            remaining = gate.deadline - time.monotonic()
            if remaining <= 0:
                log.warning("peer %s did not complete its A-ASSOCIATE-RQ within %.0f s: connection closed",
                            _peer(transport), gate.door.associate_within)
                gate.refused = True
                _close(transport)
                return out
            raw.settimeout(remaining if timeout is None else min(remaining, timeout))
            try:
                chunk = raw.recv(min(nr_bytes - len(out), 65536))
            except TimeoutError:
                continue
            except OSError:
                return out
            if not chunk:
                return out
            out += chunk
    finally:
        if transport.socket is not None:
            try:
                raw.settimeout(timeout)
            except OSError:
                pass
    return out


__all__ = ["PRE_ASSOCIATION_PDU", "Door", "pdu_limit", "refuse"]
