"""Serve C-STORE requests on the DUL thread of our associations (pynetdicom 3.0).

Why: when a DIMSE message is complete, pynetdicom's DUL thread queues it for another
thread. On an acceptor (our storage SCP, the C-MOVE destination) that is the
association's reactor, which looks at its queue only every 1 ms
(``Association._run_reactor``); on a C-GET it is the thread iterating
``send_c_get``, woken through a condition variable. At the ~1 ms per instance DCMTK needs,
that hand-off was a good part of our time per instance, and the response then waited
for the DUL's next poll to be sent.

What :func:`install` changes, on one association only: the DIMSE provider's
``msg_queue`` (replaced before the association is negotiated, while it is empty) by a
queue whose ``put`` serves a C-STORE request at once, in the putting thread (the DUL's),
the way its consumer would have:

* acceptor: ``Association._serve_request`` (what the reactor calls); the request is not
  queued;
* requestor (C-GET): ``Association._c_store_scp`` (what ``send_c_get``'s response loop
  calls); the request is then queued as before, marked served, and the association's
  ``_c_store_scp`` skips marked requests, so the C-GET loop still wakes for every
  message and its DIMSE timeout runs from the last C-STORE as it did.

The ``EVT_C_STORE`` handler must not wait on the association (ours writes a file and
returns a status); its response is queued to the DUL, which sends it next
(see :mod:`viewer.net._fast_dul`).
"""

from __future__ import annotations

import logging
import queue
from typing import Any, Callable

from pynetdicom.dimse_primitives import C_STORE

from viewer.net._fast_dul import supported

log = logging.getLogger(__name__)

_SERVED = "_viewer_served"  # attribute set on a C-STORE request served from the queue


def install(assoc: Any) -> bool:
    """Serve C-STORE requests on ``assoc``'s DUL thread; returns whether installed."""
    dimse = getattr(assoc, "dimse", None)
    if not supported() or dimse is None or type(getattr(dimse, "msg_queue", None)) is not queue.Queue:
        return False
    if not dimse.msg_queue.empty() or not hasattr(assoc, "_c_store_scp"):
        return False
    if assoc.is_acceptor:
        dimse.msg_queue = _ServeQueue(lambda cx, msg: assoc._serve_request(msg, cx), forward=False)
        return True
    original: Callable[[Any], None] = assoc._c_store_scp

    def c_store_scp(req: Any) -> None:
        if not getattr(req, _SERVED, False):
            original(req)

    dimse.msg_queue = _ServeQueue(lambda cx, msg: original(msg), forward=True)
    assoc._c_store_scp = c_store_scp
    return True


class _ServeQueue(queue.Queue):  # type: ignore[type-arg]
    """A DIMSE message queue that serves C-STORE requests as they are put."""

    def __init__(self, serve: Callable[[int, Any], None], *, forward: bool) -> None:
        super().__init__()
        self._serve = serve
        self._forward = forward

    def put(self, item: Any, block: bool = True, timeout: float | None = None) -> None:
        context_id, msg = item
        if isinstance(msg, C_STORE) and msg.MessageIDBeingRespondedTo is None:  # a request
            self._serve(context_id, msg)
            if not self._forward:
                return
            setattr(msg, _SERVED, True)
        super().put(item, block, timeout)


__all__ = ["install"]
