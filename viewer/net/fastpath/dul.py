"""A faster receive path for P-DATA-TF PDUs in pynetdicom's DUL (PS3.8 9.3.5, Annex E).

Why: a PACS streams an instance as many P-DATA-TF PDUs (Orthanc: 16 KB each, ~35 per
512x512 CT slice). pynetdicom 3.0 handles every PDU with a ``select``, reads in 4 KB
pieces, decodes it into PDU item objects, fires three events, queues an FSM event and runs
the state machine action DT-2, whose only effect in Sta6 is
``assoc.dimse.receive_primitive(pdu.to_primitive())`` (PS3.8 9.2.3, Sta6 + Evt10). That
per-PDU Python work made our C-GET/C-MOVE ~4x slower than DCMTK (bench/retrieve.py).

What :func:`install` changes, on one association only: its DUL's ``_read_pdu_data`` (a
bound-method attribute on the instance; the class is untouched) and the class of its
socket object (:class:`_BufferedSocket`, so pynetdicom reads first what we read ahead).
The replacement takes the fast path only when nothing can observe a difference:

* the state machine is in Sta6 (data transfer) and its event queue is empty, so the
  original would run exactly DT-2 for each P-DATA-TF PDU and stay in Sta6;
* no handler is bound to ``EVT_DATA_RECV`` or ``EVT_FSM_TRANSITION``, and
  ``EVT_PDU_RECV`` has at most pynetdicom's standard handler (which logs nothing for
  P-DATA-TF) and our size guard (counted here), since those events are not fired;
* the data set is received in memory (``_config.STORE_RECV_CHUNKED_DATASET`` off) over
  a plain TCP socket (not TLS).

Otherwise the original method runs. On the fast path whatever the socket holds is read
with one system call into a per-association buffer (:func:`_read_ready`), and every whole
PDU in it is handled in order; the first PDU of another type (release, abort) is left in
the buffer for the original method. A PDU's PDV items (PS3.8 9.3.5.1) are parsed with
``struct``:

* the data set of a C-STORE request for our store is written to its file as it arrives
  (:mod:`viewer.net.incoming`; one ``writev`` per read) and answered from here;
* other data set fragments (PS3.8 E.2) are collected and appended to the DIMSE message
  being received once, which is what ``DIMSEMessage.decode_msg`` does with them;
* a whole command set of a C-STORE request or C-GET/C-MOVE response is decoded without
  pydicom (:class:`viewer.net.fastpath.command.FastMessage`) when no handler is bound to
  ``EVT_DIMSE_RECV``; any other PDU goes to ``dimse.receive_primitive`` as DT-2 passes it.

The loop keeps reading as long as nothing is queued for the DUL (a primitive to send, an
FSM event) and the DUL is not being stopped. While a message is incomplete it waits for
the peer itself (checking for DUL work every ``_MID_MESSAGE_WAIT`` s), and between
messages it waits that long once, instead of going back to the DUL's poll-and-sleep loop;
it restarts the DUL's idle timer whenever bytes arrive, as that loop would. A P-DATA
primitive queued for the peer (our response) is sent from here (:func:`_dul_has_work`).
"""

from __future__ import annotations

import io
import logging
import os
import select
import socket
import struct
from typing import TYPE_CHECKING, Any, Callable

from pynetdicom import _config, evt
from pynetdicom._handlers import standard_pdu_recv_handler, standard_pdu_sent_handler
from pynetdicom.dimse_primitives import C_STORE
from pynetdicom.pdu_primitives import P_DATA
from pynetdicom.service_class import StorageServiceClass
from pynetdicom.sop_class import uid_to_service_class
from pynetdicom.transport import AssociationSocket

from viewer.net.fastpath import door, rsp
from viewer.net.fastpath.command import FastMessage, fast_message
from viewer.net.fastpath.stream import sink_for
from viewer.net.incoming import IncomingInstance

if TYPE_CHECKING:
    from pynetdicom.association import Association

log = logging.getLogger(__name__)

_P_DATA_TF = 0x04
_HEADER = struct.Struct(">BBL")  # PDU type, reserved, PDU length (PS3.8 9.3.1)
_ITEM = struct.Struct(">LB")  # PDV item length, presentation context ID (PS3.8 9.3.5.1)
#: A PDU header, its first PDV item's length and context ID, and the PDV's message control
#: header (PS3.8 9.3.1, 9.3.5.1, E.2).
_SIMPLE = struct.Struct(">BBLLBB")
_STA6 = "Sta6"  # association established, ready for data transfer (PS3.8 Table 9-1)
#: Seconds between checks for DUL work while waiting for the rest of a DIMSE message.
_MID_MESSAGE_WAIT = 0.002
#: Receive buffer per association (grown for a larger PDU), and the room made before a read.
_BUFFER_BYTES = 1024 * 1024
_MIN_READ = 64 * 1024
_READV = getattr(os, "readv", None)  # not on Windows
_DONTWAIT = getattr(socket, "MSG_DONTWAIT", 0)


def install(assoc: Association) -> bool:
    """Use the fast P-DATA-TF reader on ``assoc``'s DUL; returns whether it was installed.

    Call it from an ``EVT_CONN_OPEN`` handler, through :func:`viewer.net.fastpath.install`
    (which checks the switch and the pynetdicom version). Does nothing (returns False) when
    the DUL lacks what it replaces.

    Parameters
    ----------
    assoc
        A ``pynetdicom.association.Association``.
    """
    dul = getattr(assoc, "dul", None)
    if dul is None or not hasattr(dul, "_read_pdu_data"):
        log.debug("fast P-DATA reader not installed (no DUL to patch)")
        return False
    if type(getattr(dul, "socket", None)) is not AssociationSocket:
        log.debug("fast P-DATA reader not installed (no plain AssociationSocket)")
        return False
    original: Callable[[], None] = dul._read_pdu_data
    state = _State()
    dul.socket.__class__ = _BufferedSocket  # pynetdicom reads what we read ahead first
    dul.socket._viewer_rx = state.rx

    def read_pdu_data() -> None:
        if not _eligible(dul):
            state.drop("the fast reader stopped")
            original()
            return
        _read_p_data(dul, original, state)

    dul._read_pdu_data = read_pdu_data
    # A data set being written when the connection ends (abort, peer gone): no file is left.
    assoc.bind(evt.EVT_CONN_CLOSE, lambda _event: state.drop("the connection closed"))
    return True


class _Buffer:
    """Bytes read from the socket and not handled yet: ``data[start:end]``."""

    def __init__(self) -> None:
        self.data = bytearray(_BUFFER_BYTES)
        self.view = memoryview(self.data)
        self.start = self.end = 0

    def reserve(self, room: int) -> None:
        """Make ``data[start:]`` hold at least ``room`` bytes (moving or growing the buffer)."""
        if len(self.data) - self.start >= room:
            return
        held = bytes(self.view[self.start:self.end])
        if room > len(self.data):
            self.data = bytearray(room)
            self.view = memoryview(self.data)
        self.data[:len(held)] = held
        self.start, self.end = 0, len(held)

    def take(self, size: int) -> bytes:
        """Up to ``size`` unhandled bytes, consumed."""
        got = bytes(self.view[self.start:min(self.end, self.start + size)])
        self.start += len(got)
        if self.start == self.end:
            self.start = self.end = 0
        return got


class _BufferedSocket(AssociationSocket):
    """pynetdicom's socket reading first the bytes the fast reader read ahead (``_viewer_rx``):
    the PDU after the last P-DATA-TF (release, abort), or any PDU once the fast reader
    is not used."""

    _viewer_rx: _Buffer

    @property
    def ready(self) -> bool:
        rx = self._viewer_rx
        if rx.end > rx.start and self.socket is not None and self._is_connected:
            return True
        return bool(AssociationSocket.ready.fget(self))  # type: ignore[attr-defined]

    def recv(self, nr_bytes: int) -> bytearray:
        rx = self._viewer_rx
        if rx.end == rx.start:
            return AssociationSocket.recv(self, nr_bytes)
        out = bytearray(rx.take(nr_bytes))
        if len(out) < nr_bytes and self.socket is not None:
            out += AssociationSocket.recv(self, nr_bytes - len(out))
        return out


class _State:
    """What the fast reader keeps between calls on one association."""

    def __init__(self) -> None:
        self.rx = _Buffer()
        #: The C-STORE data set being written as it arrives, with its request.
        self.incoming: tuple[IncomingInstance, int, Any] | None = None

    def flush(self) -> None:
        """Write what the C-STORE being received was fed (before rx is read into again)."""
        if self.incoming is not None:
            self.incoming[0].flush()

    def drop(self, why: str) -> None:
        incoming, self.incoming = self.incoming, None
        if incoming is not None:
            log.warning("C-STORE of %s not completed: %s", incoming[0].sop_instance, why)
            incoming[0].discard()


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


def _read_p_data(dul: Any, original: Callable[[], None], state: _State) -> None:
    """Read and dispatch P-DATA-TF PDUs while they are waiting on the socket.

    Data set fragments are collected and added to the DIMSE message in one write before
    anything else may look at it (growing a BytesIO PDU by PDU reallocates and copies
    the whole data set again and again).
    """
    pending: list[bytes] = []
    try:
        _read_loop(dul, original, pending, state)
    finally:
        _flush(dul.assoc.dimse, pending)
        state.flush()


def _flush(dimse: Any, pending: list[bytes]) -> None:
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


def _read_loop(dul: Any, original: Callable[[], None], pending: list[bytes], state: _State) -> None:
    sock: socket.socket = dul.socket.socket
    dimse = dul.assoc.dimse
    guards = _guards(dul)
    rx = state.rx
    limit = door.pdu_limit(dul.socket)  # the SCP's door: no PDU longer than we announced
    while True:
        need = 0  # bytes from rx.start a PDU cut short needs
        # Every whole PDU already read, in order.
        while rx.end - rx.start >= _HEADER.size:
            if state.incoming is not None and _stream_pdus(dul, state, rx, guards):
                if state.incoming is None and _dul_has_work(dul):
                    return  # a C-STORE completed, and the DUL has work to do
                continue
            pdu_type, _, length = _HEADER.unpack_from(rx.data, rx.start)
            if limit is not None and length > limit:
                rx.start = rx.end = 0
                pending.clear()
                state.drop("its PDU is too long")
                door.refuse(dul.socket, length, limit)
                dul.event_queue.put("Evt17")  # as the original on a PDU cut short
                return
            if pdu_type != _P_DATA_TF:
                _flush(dimse, pending)
                original()  # another PDU: pynetdicom reads it from rx (_BufferedSocket)
                return
            first, size = rx.start, _HEADER.size + length
            if rx.end - first < size:
                need = size  # the rest of it is still to come
                break
            rx.start += size
            if not _handle_pdu(dul, guards, pending, state, rx.view, first, first + size):
                return
            if dimse.message is None and state.incoming is None and _dul_has_work(dul):
                return  # a complete message, and the DUL has work to do
        state.flush()  # the data set fragments of this read, in one write (viewer.net.incoming)
        # A message or PDU still incomplete: the peer owes us more, so wait for it here
        # (checking every _MID_MESSAGE_WAIT s for work or a stop) rather than in the DUL's
        # poll-and-sleep loop, whose sleeps cost far more than _run_loop_delay on a busy
        # machine. Between messages (our response sent), the peer's next PDU usually
        # follows within a millisecond: wait _MID_MESSAGE_WAIT for it once, then give the
        # DUL its turn (its timers run there).
        partial = rx.end > rx.start or dimse.message is not None or state.incoming is not None
        # After the flush: this may move what the fed fragments point into.
        rx.reserve(max(need, rx.end - rx.start + _MIN_READ))
        # Mid-message the rest is usually there already: read without asking select first.
        got = _read_ready(sock, rx) if partial else None
        while got is None:
            if _dul_has_work(dul):
                return
            if select.select([sock], [], [], _MID_MESSAGE_WAIT)[0]:
                got = _read_ready(sock, rx)
            elif not partial:
                return
        if not got:
            # As the original (READ_PDU_EXC_A-E): Evt17, transport connection closed.
            if rx.end > rx.start:
                log.error("Connection closed before the entire PDU was received")
            rx.start = rx.end = 0
            _flush(dimse, pending)
            dul.event_queue.put("Evt17")
            return
        # The peer is not idle: what the DUL's loop does after each PDU it reads. While
        # instances keep coming this loop does not return, and the association's reactor
        # would otherwise abort it once the network timeout passed since the first read.
        dul._idle_timer.restart()


def _read_ready(sock: socket.socket, rx: _Buffer) -> int | None:
    """Read what the socket holds into ``rx`` without waiting, in one system call: the
    byte count (0: connection closed), or None if nothing is there yet.

    A socket with a timeout is non-blocking underneath, and Python would ``poll`` it before
    every ``recv``; ``os.readv`` reads it directly. A blocking socket is read with
    ``MSG_DONTWAIT``. Elsewhere (no ``readv``): ``recv_into`` after ``select`` said so.
    """
    view = rx.view[rx.end:]
    try:
        if sock.gettimeout() is not None and _READV is not None:
            got = _READV(sock.fileno(), [view])
        elif _DONTWAIT:
            got = sock.recv_into(view, 0, _DONTWAIT)
        elif select.select([sock], [], [], 0)[0]:
            got = sock.recv_into(view)
        else:
            return None
    except (BlockingIOError, InterruptedError):
        return None
    except OSError:
        return 0
    rx.end += got
    return got


def _dul_has_work(dul: Any) -> bool:
    """True if the DUL must run before more is read.

    P-DATA primitives queued for the peer (a C-STORE response) are sent here first, as the
    DUL's loop would send them: ``_process_recv_primitive`` queues Evt9 and, in Sta6, the
    state machine's action DT-1 sends the PDU (PS3.8 9.2.3). Sending them from this loop
    saves the DUL's poll-and-sleep turn before the peer sees our answer.
    """
    while (dul.to_provider_queue.queue and type(dul.to_provider_queue.queue[0]) is P_DATA
           and not dul.event_queue.queue and not dul._kill_thread
           and dul.state_machine.current_state == _STA6):
        dul._process_recv_primitive()
        dul.state_machine.do_action(dul.event_queue.get(block=False))
    return bool(dul._kill_thread or dul.to_provider_queue.queue or dul.event_queue.queue
                or dul.state_machine.current_state != _STA6)


def _handle_pdu(dul: Any, guards: list[tuple[Callable[..., bool], list[Any]]], pending: list[bytes],
                state: _State, view: memoryview, first: int, end: int) -> bool:
    """Dispatch the P-DATA-TF PDU ``view[first:end]``; False if reading must stop."""
    dimse = dul.assoc.dimse
    pdvs = _pdv_spans(view, first, end)
    if pdvs is None:  # malformed: let pynetdicom decode it and raise Evt19 as usual
        _flush(dimse, pending)
        _dispatch_slow(dul, bytes(view[first:end]))
        return False
    for count, args in guards:  # as the EVT_PDU_RECV the original would fire
        if not count(dul.assoc, [(view[start], stop - start - 1) for _, start, stop in pdvs], *args):
            pending.clear()  # connection closed (Evt17 queued): the message is dropped
            state.drop("its data set is too large")
            return False
    message = dimse.message
    last = view[pdvs[-1][1]]
    only_data = all(view[start] & 0x03 == 0 for _, start, _ in pdvs[:-1]) and last & 0x01 == 0
    if state.incoming is not None and not only_data:
        state.drop("a command arrived inside its data set")  # PS3.8 E.2; pynetdicom decides
    if state.incoming is not None:
        # Data set fragments of a C-STORE, written as they arrive (viewer.net.incoming).
        state.incoming[0].feed([view[start + 1:stop] for _, start, stop in pdvs])
        if last & 0x02:
            _store_complete(dul, state)
    elif message is not None and message._data_set_file is None and only_data:
        # Data set fragments (PS3.8 E.2): decode_msg appends them to the data set.
        pending.extend(bytes(view[start + 1:stop]) for _, start, stop in pdvs)
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
        if message is None and len(pdvs) == 1 and view[pdvs[0][1]] & 0x03 == 0x03 \
                and not dul.assoc._handlers.get(evt.EVT_DIMSE_RECV):
            # A whole command set: decoded without pydicom when it can be (fastpath.command).
            context_id, start, stop = pdvs[0]
            fast = fast_message(context_id, bytes(view[start + 1:stop]))
            if fast is not None and _start_store(dul.assoc, fast, state):
                return True  # its data set is written as it arrives
            dimse.message = fast
        primitive = P_DATA()
        # As P_DATA_TF.to_primitive: set an empty list, then add (ID, bytes) tuples.
        primitive.presentation_data_value_list = []
        primitive.presentation_data_value_list.extend((cx, bytes(view[start:stop])) for cx, start, stop in pdvs)
        dimse.receive_primitive(primitive)  # what FSM action DT-2 does (PS3.8 9.2.3)
    return True


def _start_store(assoc: Association, fast: FastMessage, state: _State) -> bool:
    """Begin writing the data set of the C-STORE request ``fast`` as it arrives, if this
    association's C-STORE handler is our store's and nothing would see the difference."""
    primitive = fast.primitive
    if (type(primitive) is not C_STORE or primitive.MessageIDBeingRespondedTo is not None
            or not fast.has_data or assoc._sent_release):
        return False
    sink = sink_for(assoc)
    if sink is None or not rsp.can_send(assoc):
        return False
    if not assoc.is_acceptor and not hasattr(assoc.dimse.msg_queue, "note_served"):
        return False  # a C-GET loop that would not learn of the C-STOREs (fastpath.serve_inline)
    sop_class, sop_instance = primitive.AffectedSOPClassUID, primitive.AffectedSOPInstanceUID
    cx = assoc._accepted_cx.get(fast.context_id)
    # The checks pynetdicom makes before calling the handler (Association._c_store_scp,
    # _serve_request): an accepted context of this storage class, in our SCP role.
    if (cx is None or sop_class is None or sop_instance is None or cx.abstract_syntax != sop_class
            or (not assoc.is_acceptor and not cx.as_scp) or not _is_storage(sop_class)):
        return False
    primitive.DataSet = io.BytesIO()  # as pynetdicom hands it over (message_to_primitive)
    primitive._context_id = fast.context_id
    incoming = IncomingInstance(sink, str(sop_class), str(sop_instance), str(cx.transfer_syntax[0]))
    state.incoming = (incoming, fast.context_id, primitive)
    return True


def _is_storage(sop_class: Any) -> bool:
    """True if pynetdicom would serve a C-STORE of ``sop_class`` with its Storage service."""
    return uid_to_service_class(sop_class) is StorageServiceClass


def _may_send_now(dul: Any) -> bool:
    """True if a P-DATA-TF PDU may go to the socket directly: the DUL has nothing queued
    before it, the state machine is in Sta6 (DT-1 sends and stays there, PS3.8 9.2.3), and
    the skipped ``EVT_PDU_SENT`` has only pynetdicom's standard handler (which does nothing
    for P-DATA-TF). ``AssociationSocket.send`` still fires ``EVT_DATA_SENT``."""
    if (dul.to_provider_queue.queue or dul.event_queue.queue or dul._kill_thread
            or dul.state_machine.current_state != _STA6):
        return False
    return all(h[0] is standard_pdu_sent_handler for h in dul.assoc._handlers.get(evt.EVT_PDU_SENT, ()))


def _stream_pdus(dul: Any, state: _State, rx: _Buffer, guards: list[tuple[Callable[..., bool], list[Any]]]) -> bool:
    """The common case while a C-STORE data set streams in, in one tight loop: whole
    P-DATA-TF PDUs in ``rx`` holding one data set PDV each (PS3.8 9.3.5, E.2). Feeds their
    fragments to the C-STORE being received and completes it at the last one; returns
    False, consuming nothing, if the next PDU is anything else (:func:`_handle_pdu` then
    takes it)."""
    data, view = rx.data, rx.view
    pos, end = rx.start, rx.end
    limit = door.pdu_limit(dul.socket)  # a longer PDU is refused by _read_loop
    unpack = _SIMPLE.unpack_from
    fragments: list[memoryview] = []
    last = False
    while end - pos >= _SIMPLE.size:
        pdu_type, _, length, item_length, _cx, control = unpack(data, pos)
        if (pdu_type != _P_DATA_TF or item_length != length - 4 or item_length < 2 or control & 0x01
                or end - pos < _HEADER.size + length or (limit is not None and length > limit)):
            break
        fragments.append(view[pos + _SIMPLE.size:pos + _HEADER.size + length])
        pos += _HEADER.size + length
        if control & 0x02:
            last = True
            break
    if not fragments:
        return False
    rx.start = pos
    if guards:  # as the EVT_PDU_RECV the original would fire for each PDU
        sizes = [(0, len(f)) for f in fragments]
        if last:
            sizes[-1] = (0x02, sizes[-1][1])
        for count, args in guards:  # counts fragment by fragment: stops where the limit is passed
            if not count(dul.assoc, sizes, *args):
                state.drop("its data set is too large")  # connection closed (Evt17 queued)
                return True
    state.incoming[0].feed(fragments)  # type: ignore[index]
    if last:
        _store_complete(dul, state)
    return True


def _store_complete(dul: Any, state: _State) -> None:
    """The whole data set is written: name the file, queue the C-STORE response."""
    incoming, context_id, request = state.incoming  # type: ignore[misc]
    state.incoming = None
    try:
        status, _path = incoming.finish()
        if _may_send_now(dul):
            # What DT-1 would send (PS3.8 9.2.3), without the primitive and PDU objects.
            dul.socket.send(rsp.encode_store_rsp_pdu(context_id, incoming.sop_class, incoming.sop_instance,
                                                           int(request.MessageID), status))
        else:
            rsp.send_store_rsp(dul.assoc, context_id, incoming.sop_class, incoming.sop_instance,
                                     int(request.MessageID), status)
            _dul_has_work(dul)  # sends the response now, if nothing else is queued before it
    finally:
        incoming.settle()  # the rest of the bookkeeping, while the peer reads our answer
    incoming.sink.store.prepare_next()  # and the next instance's file (_spare_files)
    note = getattr(dul.assoc.dimse.msg_queue, "note_served", None)
    if note is not None:  # the C-GET loop learns a C-STORE arrived (fastpath.serve_inline)
        note(context_id, request)


def _pdv_spans(buf: bytes | bytearray | memoryview, first: int = 0,
               end: int | None = None) -> list[tuple[int, int, int]] | None:
    """``(context ID, start, end)`` of each PDV's data (control header included) of the PDU
    ``buf[first:end]``, offsets into ``buf``, or None if the items do not exactly fill the
    PDU (PS3.8 9.3.5.1: item length >= 2)."""
    spans: list[tuple[int, int, int]] = []
    end = len(buf) if end is None else end
    offset = first + _HEADER.size
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


__all__ = ["install"]
