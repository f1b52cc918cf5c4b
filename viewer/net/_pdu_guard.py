"""Bound the data set of one DIMSE message an SCP receives (issue 11: bounded memory per
association).

pynetdicom collects every P-DATA-TF fragment of a message in memory before any handler
sees the request, so a peer could stream gigabytes into one N-SET. This ``EVT_PDU_RECV``
handler adds up the data set fragments of the message being received (PDV message control
header bit 0 clear = data set, bit 1 set = last fragment, PS3.8 E.2) and closes the
connection once they pass the limit; pynetdicom then ends the association as aborted.

Limits: it sees whole PDUs, so one PDU far larger than the maximum PDU length we announced
(PS3.8 D.1) is still read before it is counted; peers that follow the protocol fragment by it.
"""

from __future__ import annotations

import logging
from typing import Any

log = logging.getLogger(__name__)

_ATTR = "_viewer_message_bytes"


def guard_message_size(event: Any, limit: int) -> None:
    """``EVT_PDU_RECV`` handler: close the connection when a message's data set exceeds ``limit`` bytes."""
    items = getattr(event.pdu, "presentation_data_value_items", None)
    if not items:
        return
    assoc = event.assoc
    total = getattr(assoc, _ATTR, 0)
    for item in items:
        value = item.presentation_data_value or b""
        if not value:
            continue
        header = value[0]
        if header & 0x01:  # command fragment: not counted
            continue
        total += len(value) - 1
        if total > limit:
            log.warning("%s sent a data set of more than %d bytes; connection closed",
                        str(getattr(assoc.requestor, "ae_title", "")).strip() or "peer", limit)
            setattr(assoc, _ATTR, 0)
            sock = getattr(getattr(assoc, "dul", None), "socket", None)
            if sock is not None:
                sock.close()
            return
        if header & 0x02:  # last fragment of the data set: the next message starts from zero
            total = 0
    setattr(assoc, _ATTR, total)
