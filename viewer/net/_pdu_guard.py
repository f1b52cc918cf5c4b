"""Bound the data set of one DIMSE message an SCP receives (bounded memory per
association).

pynetdicom collects every P-DATA-TF fragment of a message in memory before any handler
sees the request, so a peer could stream gigabytes into one N-SET or C-STORE. This
``EVT_PDU_RECV`` handler adds up the data set fragments of the message being received (PDV
message control header bit 0 clear = data set, bit 1 set = last fragment, PS3.8 E.2) and
closes the connection once they pass the limit; pynetdicom then ends the association as
aborted, and the request never reaches its handler (nothing is written).

The fast P-DATA reader (:mod:`viewer.net.fastpath.dul`) fires no ``EVT_PDU_RECV``; it takes
its fast path with this handler bound (``fast_path_count``) and counts each PDU's fragments
with :func:`count_fragments` itself, so the limit holds on both paths.

Limits: it sees whole PDUs, so one PDU far larger than the maximum PDU length we announced
(PS3.8 D.1) is still read before it is counted; peers that follow the protocol fragment by it.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Iterable

if TYPE_CHECKING:
    from pynetdicom.association import Association
    from pynetdicom.events import Event

log = logging.getLogger(__name__)

_ATTR = "_viewer_message_bytes"


def count_fragments(assoc: Association, fragments: Iterable[tuple[int, int]], limit: int) -> bool:
    """Add one PDU's PDV fragments to the message being received on ``assoc``.

    Parameters
    ----------
    assoc
        The pynetdicom association.
    fragments
        ``(message control header, data length)`` of each PDV of the PDU (PS3.8 E.2).
    limit
        Most data set bytes one message may have.

    Returns
    -------
    bool
        False when the limit was passed: the connection has been closed.
    """
    total = getattr(assoc, _ATTR, 0)
    for header, size in fragments:
        if header & 0x01:  # command fragment: not counted
            continue
        total += size
        if total > limit:
            log.warning("%s sent a data set of more than %d bytes; connection closed",
                        str(getattr(assoc.requestor, "ae_title", "")).strip() or "peer", limit)
            setattr(assoc, _ATTR, 0)
            sock = getattr(getattr(assoc, "dul", None), "socket", None)
            if sock is not None:
                sock.close()
            return False
        if header & 0x02:  # last fragment of the data set: the next message starts from zero
            total = 0
    setattr(assoc, _ATTR, total)
    return True


def guard_message_size(event: Event, limit: int) -> None:
    """``EVT_PDU_RECV`` handler: close the connection when a message's data set exceeds ``limit`` bytes."""
    items = getattr(event.pdu, "presentation_data_value_items", None)
    if not items:
        return
    count_fragments(event.assoc, ((v[0], len(v) - 1) for v in (i.presentation_data_value or b"" for i in items) if v),
                    limit)


#: Marks the handler for :mod:`viewer.net.fastpath.dul`: it may take its fast path with this
#: handler bound, calling ``fast_path_count(assoc, fragments, *args)`` for every PDU.
guard_message_size.fast_path_count = count_fragments  # type: ignore[attr-defined]
