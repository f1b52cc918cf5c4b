"""A faster C-STORE-RSP encoder for pynetdicom 3.0 associations (PS3.7 9.3.1.2, Annex E).

Why: for every received instance pynetdicom builds the response's command set as a pydicom
Dataset, sets its group length by encoding it once and encodes it again (~0.3 ms on an idle
machine, more on a busy one): at the ~1 ms per instance DCMTK needs, that is a third of
our budget, spent on ~150 bytes that are the same but for four values.

What :func:`install` changes, on one association only: its DIMSE provider's ``send_msg``
(an instance attribute; the class is untouched). A C-STORE response whose Offending
Element and Error Comment are unset is encoded here with ``struct`` and handed to the DUL as
one P-DATA primitive, exactly as ``DIMSEServiceProvider.send_msg`` would (tests compare the
bytes); it skips only ``EVT_DIMSE_SENT``, so the fast path runs only while that event has
no handler but pynetdicom's standard one (which logs nothing for C-STORE-RSP). Every other
message, and every response carrying more, goes through pynetdicom.
"""

from __future__ import annotations

import logging
import struct
from typing import TYPE_CHECKING, Any, Callable

from pynetdicom import evt
from pynetdicom._handlers import standard_dimse_sent_handler
from pynetdicom.dimse_primitives import C_STORE
from pynetdicom.pdu_primitives import P_DATA

if TYPE_CHECKING:
    from pynetdicom.association import Association

log = logging.getLogger(__name__)

_C_STORE_RSP = 0x8001  # Command Field (PS3.7 E.1-1)
_NO_DATA_SET = 0x0101  # Command Data Set Type: no data set follows (PS3.7 E.1-1)
_LAST_COMMAND = b"\x03"  # message control header: command, last fragment (PS3.8 E.2)
# Smallest maximum PDU length for which the one-PDV P-DATA-TF is certainly within limits.
_MIN_PDU = 512


def _element(tag: int, value: bytes) -> bytes:
    """An Implicit VR Little Endian element: the command set's encoding (PS3.7 6.3.1)."""
    return struct.pack("<HHI", tag >> 16, tag & 0xFFFF, len(value)) + value


def _uid(value: str) -> bytes:
    raw = value.encode("ascii")
    return raw + b"\x00" if len(raw) % 2 else raw  # UI pads with NUL (PS3.5 6.2)


def encode_store_rsp(sop_class: str, sop_instance: str, message_id: int, status: int) -> bytes:
    """The command set of a C-STORE-RSP (PS3.7 9.3.1.2), group length first (PS3.7 E.1-1)."""
    body = b"".join((
        _element(0x00000002, _uid(sop_class)),
        _element(0x00000100, struct.pack("<H", _C_STORE_RSP)),
        _element(0x00000120, struct.pack("<H", message_id)),
        _element(0x00000800, struct.pack("<H", _NO_DATA_SET)),
        _element(0x00000900, struct.pack("<H", status)),
        _element(0x00001000, _uid(sop_instance)),
    ))
    return _element(0x00000000, struct.pack("<I", len(body))) + body


def encode_store_rsp_pdu(context_id: int, sop_class: str, sop_instance: str, message_id: int, status: int) -> bytes:
    """A whole P-DATA-TF PDU (PS3.8 9.3.5) with the C-STORE-RSP command set in one PDV."""
    command = encode_store_rsp(sop_class, sop_instance, message_id, status)
    item = struct.pack(">LB", len(command) + 2, context_id) + _LAST_COMMAND + command
    return struct.pack(">BBL", 0x04, 0x00, len(item)) + item


def install(assoc: Association) -> bool:
    """Encode plain C-STORE responses on ``assoc`` here; returns whether installed."""
    dimse = getattr(assoc, "dimse", None)
    if dimse is None or not hasattr(dimse, "send_msg"):
        return False
    original: Callable[[Any, int], None] = dimse.send_msg

    def send_msg(primitive: Any, context_id: int) -> None:
        data = _plain_store_rsp(assoc, primitive)
        if data is None:
            original(primitive, context_id)
            return
        pdata = P_DATA()
        pdata.presentation_data_value_list = [[context_id, _LAST_COMMAND + data]]  # type: ignore[list-item]  # pynetdicom checks for lists
        assoc.dul.send_pdu(pdata)

    dimse.send_msg = send_msg
    return True


def can_send(assoc: Association) -> bool:
    """Whether a C-STORE response on ``assoc`` may be encoded here (nothing would see the
    skipped ``EVT_DIMSE_SENT``; the peer takes PDUs of :data:`_MIN_PDU` bytes)."""
    bound = assoc._handlers.get(evt.EVT_DIMSE_SENT)  # a notification event: a list of (handler, args)
    if isinstance(bound, list) and any(h[0] is not standard_dimse_sent_handler for h in bound):
        return False
    peer_max = assoc.dimse.maximum_pdu_size
    return not (peer_max and peer_max < _MIN_PDU)


def send_store_rsp(assoc: Association, context_id: int, sop_class: str, sop_instance: str, message_id: int,
                   status: int) -> None:
    """Queue a C-STORE response (PS3.7 9.3.1.2) for the DUL, as ``send_msg`` would; only
    where :func:`can_send` is true."""
    pdata = P_DATA()
    pdata.presentation_data_value_list = [[context_id, _LAST_COMMAND + encode_store_rsp(  # type: ignore[list-item]
        sop_class, sop_instance, message_id, status)]]
    assoc.dul.send_pdu(pdata)


def _plain_store_rsp(assoc: Association, primitive: Any) -> bytes | None:
    """The encoded command set if ``primitive`` is a plain C-STORE response we may encode."""
    if type(primitive) is not C_STORE or primitive.MessageIDBeingRespondedTo is None:
        return None
    if primitive.OffendingElement is not None or primitive.ErrorComment is not None:
        return None
    if primitive.AffectedSOPClassUID is None or primitive.AffectedSOPInstanceUID is None:
        return None
    if primitive.Status is None:
        return None
    if not can_send(assoc):
        return None
    try:
        return encode_store_rsp(str(primitive.AffectedSOPClassUID), str(primitive.AffectedSOPInstanceUID),
                                int(primitive.MessageIDBeingRespondedTo), int(primitive.Status))
    except (UnicodeEncodeError, struct.error):  # odd values: let pynetdicom deal with them
        return None


__all__ = ["can_send", "encode_store_rsp", "encode_store_rsp_pdu", "install", "send_store_rsp"]
