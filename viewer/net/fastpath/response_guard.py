"""Keep DIMSE responses for the request that waits for them (pynetdicom 3.0 reactor race).

Why: on every association pynetdicom runs a *reactor* thread that takes messages off the
DIMSE message queue without blocking (``DIMSEServiceProvider.get_msg(block=False)``) to
serve the peer's requests (an N-EVENT-REPORT from a printer, PS3.4 H.4.4.1.2; a C-STORE
during a C-GET). A ``send_*()`` method pauses it before sending its request, but the pause
handshake has a gap: the reactor announces it is paused just *before* it checks the
pause, so when the reactor thread loses the CPU right after that check, the requesting
thread sends its request, loses the CPU before its blocking ``get_msg(block=True)``, the
peer answers, and the reactor wakes up and takes the response. pynetdicom then logs
"Received unexpected ... service message", drops the response, and the request waits
for the full DIMSE timeout and aborts the association. On a loaded machine (2 cores, many
processes) that happened against DCMTK's dcmprscp, which had answered in a millisecond (its
log shows the response): 5 of 144 print tests failed with two test runs side by side. It
is not specific to printing: C-ECHO, C-FIND, C-STORE, C-GET and C-MOVE requests go
through the same pause.

What :func:`guard` changes, on one association: a non-blocking ``get_msg`` (the
reactor's) takes the first queued message only when it is a request primitive (PS3.7
9.1, 10.1; pynetdicom's ``is_valid_request``). Responses and the ``(None, None)``
pynetdicom queues when the association ends stay for the ``send_*()`` caller's blocking
``get_msg``, which takes whatever comes first, as shipped. Only public attributes are
used: ``get_msg``, ``msg_queue`` (a :class:`queue.Queue`, whose ``mutex`` and ``queue``
make the look-and-take atomic) and the primitives' ``is_valid_request``.
"""

from __future__ import annotations

import queue

from pynetdicom.association import Association
from pynetdicom.dimse_primitives import DimseServiceType

#: What pynetdicom's DIMSE message queue holds: (context ID, message), or (None, None)
#: when the association ended.
QueueItem = tuple[None, None] | tuple[int, DimseServiceType]

_GUARDED = "_viewer_response_guard"


def _is_request(msg: DimseServiceType | None) -> bool:
    return msg is not None and bool(msg.is_valid_request)


def guard(assoc: Association) -> None:
    """Make ``assoc``'s reactor leave DIMSE responses to the request waiting for them.

    Call it on a requestor association before its first ``send_*()``; a second call does
    nothing.
    """
    dimse = assoc.dimse
    if getattr(dimse, _GUARDED, False):
        return
    shipped = dimse.get_msg

    def get_msg(block: bool = False) -> QueueItem:
        if block:
            return shipped(block=True)
        q = dimse.msg_queue  # read each time: the fast path may replace it (a Queue subclass)
        if not isinstance(q, queue.Queue):
            return shipped(block=False)
        with q.mutex:
            if not q.queue or not _is_request(q.queue[0][1]):
                return None, None
            item: QueueItem = q.queue.popleft()
            q.not_full.notify()
            return item

    dimse.get_msg = get_msg  # type: ignore[method-assign]  # per instance, see the module docstring
    setattr(dimse, _GUARDED, True)


__all__ = ["guard"]
