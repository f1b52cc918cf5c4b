"""A faster receive path for P-DATA-TF PDUs in pynetdicom's DUL (PS3.8 9.3.5, Annex E).

Why: a PACS streams an instance as many P-DATA-TF PDUs (Orthanc: 16 KB each, ~35 per
512x512 CT slice). pynetdicom 3.0 handles every PDU with a ``select``, reads in 4 KB
pieces, decodes it into PDU item objects, fires three events, queues an FSM event and runs
the state machine action DT-2, whose only effect in Sta6 is
``assoc.dimse.receive_primitive(pdu.to_primitive())`` (PS3.8 9.2.3, Sta6 + Evt10). That
per-PDU Python work made our C-GET/C-MOVE ~4x slower than DCMTK (bench/retrieve.py).

What :func:`install` changes, on one association only: its DUL's ``_read_pdu_data`` (a
bound-method attribute on the instance; the class is untouched). The replacement takes the
fast path only when nothing can observe a difference:

* the state machine is in Sta6 (data transfer) and its event queue is empty, so the
  original would run exactly DT-2 for this PDU next and stay in Sta6;
* no handler is bound to ``EVT_DATA_RECV`` or ``EVT_FSM_TRANSITION``, and
  ``EVT_PDU_RECV`` has at most pynetdicom's standard handler (which logs nothing for
  P-DATA-TF), since those events are not fired on the fast path;
* the data set is received in memory (``_config.STORE_RECV_CHUNKED_DATASET`` off) over
  a plain TCP socket (``MSG_PEEK`` is not available on TLS sockets);
* the next PDU is a P-DATA-TF (peeked, not consumed).

Otherwise, and for every other PDU type, the original method runs. On the fast path a
whole PDU is read with ``recv_into`` into one buffer and its PDV items (PS3.8 9.3.5.1) are
parsed with ``struct``. A PDU holding only data set fragments that are not the last
(message control header xxxxxx00, PS3.8 E.2) is appended to the DIMSE message being
received, which is what ``DIMSEMessage.decode_msg`` does with such fragments; when the
PDU ends with the last fragment (xxxxxx10), its data is appended too and ``decode_msg``
gets that fragment's header alone, so it completes the message as it would; any other
PDU goes to ``dimse.receive_primitive`` as DT-2 would pass it (after the collected
fragments have been appended). Fragments are collected and joined once per message
(growing a BytesIO PDU by PDU copied the data set again and again). Consecutive PDUs are
handled in one call as long as nothing else is queued for the DUL (a primitive to send,
an FSM event) and the DUL is not being stopped; while a message is incomplete the call
waits for the peer's next PDU itself (checking for DUL work every ``_MID_MESSAGE_WAIT``
s) instead of going back to the DUL's poll-and-sleep loop.

A PDU holding a whole command set of a C-STORE request or C-GET/C-MOVE response starts
the message as a :class:`viewer.net._fast_cmd.FastMessage` (decoded without pydicom)
when no handler is bound to ``EVT_DIMSE_RECV`` (which would expect pydicom's Dataset).

When a message is complete and its response is already queued for the DUL (a C-STORE
served on this thread, :mod:`viewer.net._serve_inline`), the DUL is told at once
(``_process_recv_primitive``, what its loop does first on its next turn), so the response
goes out without a poll-and-sleep turn in between.
"""

from __future__ import annotations

import io
import logging
import select
import socket
import struct
from typing import Any, Callable

import pynetdicom
from pynetdicom import _config, evt
from pynetdicom._handlers import standard_pdu_recv_handler
from pynetdicom.pdu_primitives import P_DATA

from viewer.net._fast_cmd import fast_message

log = logging.getLogger(__name__)

#: pynetdicom versions whose DUL internals this module was written against (3.0.x).
SUPPORTED_VERSIONS = ("3.0.",)
_P_DATA_TF = 0x04
_HEADER = struct.Struct(">BBL")  # PDU type, reserved, PDU length (PS3.8 9.3.1)
_ITEM = struct.Struct(">LB")  # PDV item length, presentation context ID (PS3.8 9.3.5.1)
_STA6 = "Sta6"  # association established, ready for data transfer (PS3.8 Table 9-1)
#: Seconds between checks for DUL work while waiting for the rest of a DIMSE message.
_MID_MESSAGE_WAIT = 0.002


def supported() -> bool:
    """Whether the installed pynetdicom is one this module knows the internals of."""
    return str(pynetdicom.__version__).startswith(SUPPORTED_VERSIONS)


def install(assoc: Any) -> bool:
    """Use the fast P-DATA-TF reader on ``assoc``'s DUL; returns whether it was installed.

    Call it from an ``EVT_CONN_OPEN`` handler. Does nothing (returns False) on a pynetdicom
    version other than :data:`SUPPORTED_VERSIONS` or when the DUL lacks what it replaces.

    Parameters
    ----------
    assoc
        A ``pynetdicom.association.Association``.
    """
    dul = getattr(assoc, "dul", None)
    if not supported() or dul is None or not hasattr(dul, "_read_pdu_data"):
        log.debug("fast P-DATA reader not installed (pynetdicom %s)", pynetdicom.__version__)
        return False
    original: Callable[[], None] = dul._read_pdu_data

    def read_pdu_data() -> None:
        if not _eligible(dul):
            original()
            return
        _read_p_data(dul, original)

    dul._read_pdu_data = read_pdu_data
    return True


def _eligible(dul: Any) -> bool:
    """True when the fast path behaves exactly as the original would (see module doc)."""
    if dul.state_machine.current_state != _STA6 or dul.event_queue.queue:
        return False
    if _config.STORE_RECV_CHUNKED_DATASET:
        return False
    sock = getattr(dul.socket, "socket", None)
    if type(sock) is not socket.socket:  # None (closed) or an ssl.SSLSocket
        return False
    handlers = dul.assoc._handlers
    if handlers.get(evt.EVT_DATA_RECV) or handlers.get(evt.EVT_FSM_TRANSITION):
        return False
    # A size guard (viewer.net._pdu_guard) is counted by the fast path itself (_guards).
    return all(h[0] is standard_pdu_recv_handler or hasattr(h[0], "fast_path_count")
               for h in handlers.get(evt.EVT_PDU_RECV, ()))


def _guards(dul: Any) -> list[tuple[Callable[..., bool], list[Any]]]:
    """The message size guards bound to ``EVT_PDU_RECV`` (:mod:`viewer.net._pdu_guard`)."""
    return [(h[0].fast_path_count, list(h[1] or ())) for h in dul.assoc._handlers.get(evt.EVT_PDU_RECV, ())
            if hasattr(h[0], "fast_path_count")]


def _read_p_data(dul: Any, original: Callable[[], None]) -> None:
    """Read and dispatch P-DATA-TF PDUs while they are waiting on the socket.

    Data set fragments are collected and added to the DIMSE message in one write before
    anything else may look at it (growing a BytesIO PDU by PDU reallocates and copies
    the whole data set again and again).
    """
    pending: list[memoryview] = []
    try:
        _read_loop(dul, original, pending)
    finally:
        _flush(dul.assoc.dimse, pending)


def _flush(dimse: Any, pending: list[memoryview]) -> None:
    """Append the collected data set fragments to the message being received.

    Into an empty data set, the joined bytes become the BytesIO's buffer, which BytesIO
    shares rather than copies (and ``getvalue()`` hands back as is), so a whole instance
    is copied once between the socket and the file.
    """
    if not pending:
        return
    data = b"".join(pending)
    pending.clear()
    message = dimse.message
    if message.data_set.seek(0, io.SEEK_END) == 0:
        message.data_set = io.BytesIO(data)
        message.data_set.seek(0, io.SEEK_END)  # decode_msg appends at the position
    else:
        message.data_set.write(data)


def _read_loop(dul: Any, original: Callable[[], None], pending: list[memoryview]) -> None:
    sock: socket.socket = dul.socket.socket
    dimse = dul.assoc.dimse
    guards = _guards(dul)
    while True:
        try:
            head = sock.recv(_HEADER.size, socket.MSG_PEEK)
        except OSError:
            head = b""
        if len(head) < _HEADER.size or head[0] != _P_DATA_TF:
            _flush(dimse, pending)
            original()  # other PDUs, a short read or a closed connection: as before
            return
        length = _HEADER.unpack(head)[2]
        buf = bytearray(_HEADER.size + length)
        if not _recv_exact(sock, memoryview(buf)):
            # As the original (READ_PDU_EXC_D/E): Evt17, transport connection closed.
            log.error("Connection closed before the entire PDU was received")
            dul.event_queue.put("Evt17")
            return
        pdvs = _pdv_spans(buf)
        if pdvs is None:  # malformed: let pynetdicom decode it and raise Evt19 as usual
            _flush(dimse, pending)
            _dispatch_slow(dul, bytes(buf))
            return
        for count, args in guards:  # as the EVT_PDU_RECV the original would fire
            if not count(dul.assoc, [(buf[start], end - start - 1) for _, start, end in pdvs], *args):
                pending.clear()  # connection closed (Evt17 queued): the message is dropped
                return
        view = memoryview(buf)
        message = dimse.message
        last = buf[pdvs[-1][1]]
        if (message is not None and message._data_set_file is None
                and all(buf[start] & 0x03 == 0 for _, start, _ in pdvs[:-1]) and last & 0x01 == 0):
            # Data set fragments (PS3.8 E.2): decode_msg appends them to the data set.
            pending.extend(view[start + 1:end] for _, start, end in pdvs)
            if last & 0x02:
                # The last fragment: its data is in `pending` already; decode_msg gets
                # the control header with no data to end the message as usual.
                _flush(dimse, pending)
                primitive = P_DATA()
                primitive.presentation_data_value_list = []
                primitive.presentation_data_value_list.append((pdvs[-1][0], bytes((last,))))
                dimse.receive_primitive(primitive)
        else:
            _flush(dimse, pending)
            if message is None and len(pdvs) == 1 and buf[pdvs[0][1]] & 0x03 == 0x03 \
                    and not dul.assoc._handlers.get(evt.EVT_DIMSE_RECV):
                # A whole command set: decoded without pydicom when it can be (_fast_cmd).
                context_id, start, end = pdvs[0]
                dimse.message = fast_message(context_id, bytes(view[start + 1:end]))
            primitive = P_DATA()
            # As P_DATA_TF.to_primitive: set an empty list, then add (ID, bytes) tuples.
            primitive.presentation_data_value_list = []
            primitive.presentation_data_value_list.extend((cx, bytes(view[start:end])) for cx, start, end in pdvs)
            dimse.receive_primitive(primitive)  # what FSM action DT-2 does (PS3.8 9.2.3)
        # A message still incomplete: the peer owes us its next PDU, so wait for it here
        # (checking every _MID_MESSAGE_WAIT s for work or a stop) rather than in the DUL's
        # poll-and-sleep loop, whose sleeps cost far more than _run_loop_delay on a busy
        # machine. A complete message: return, so the DUL sends what the user queues.
        wait = _MID_MESSAGE_WAIT if dimse.message is not None else 0.0
        while True:
            if dul.to_provider_queue.queue and not dul.event_queue.queue and not dul._kill_thread:
                dul._process_recv_primitive()  # a response to send: the loop runs it next
                return
            if (dul._kill_thread or dul.to_provider_queue.queue or dul.event_queue.queue
                    or dul.state_machine.current_state != _STA6):
                return
            if select.select([sock], [], [], wait)[0]:
                break
            if not wait:
                return


def _recv_exact(sock: socket.socket, view: memoryview) -> bool:
    """Fill ``view`` from ``sock`` (blocking, as pynetdicom's reads); False if it closed."""
    got, size = 0, len(view)
    try:
        while got < size:
            # MSG_WAITALL: one wake-up per PDU instead of one per TCP segment (a socket
            # with a timeout is non-blocking underneath and may still return less).
            n = sock.recv_into(view[got:], size - got, socket.MSG_WAITALL)
            if n == 0:
                return False
            got += n
    except OSError:
        return False
    return True


def _pdv_spans(buf: bytearray) -> list[tuple[int, int, int]] | None:
    """``(context ID, start, end)`` of each PDV's data (control header included), or None
    if the items do not exactly fill the PDU (PS3.8 9.3.5.1: item length >= 2)."""
    spans: list[tuple[int, int, int]] = []
    offset, end = _HEADER.size, len(buf)
    while offset < end:
        if end - offset < _ITEM.size + 1:
            return None
        item_length, context_id = _ITEM.unpack_from(buf, offset)
        item_end = offset + 4 + item_length
        if item_length < 2 or item_end > end:
            return None
        spans.append((context_id, offset + _ITEM.size, item_end))
        offset = item_end
    return spans or None


def _dispatch_slow(dul: Any, data: bytes) -> None:
    """The tail of pynetdicom's ``_read_pdu_data``: decode, queue the FSM event."""
    try:
        pdu, event = dul._decode_pdu(bytearray(data))
    except Exception as exc:  # noqa: BLE001 - as pynetdicom: READ_PDU_EXC_F -> Evt19
        log.error("Unable to decode the received PDU data: %s", exc)
        dul.event_queue.put("Evt19")
        return
    dul.event_queue.put(event)
    dul._recv_pdu.put(pdu)


__all__ = ["SUPPORTED_VERSIONS", "install", "supported"]
