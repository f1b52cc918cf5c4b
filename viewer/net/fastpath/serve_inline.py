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
  calls). The served request is still queued, marked served so the association's
  ``_c_store_scp`` skips it, when nothing was queued for ``_FORWARD_EVERY`` s (or a
  quarter of the DIMSE timeout if shorter): the C-GET loop's DIMSE timeout still runs
  from a recent message while C-STOREs flow, without waking it (and handing it the GIL)
  for every instance.

The ``EVT_C_STORE`` handler must not wait on the association (ours writes a file and
returns a status); its response is queued to the DUL, which sends it next
(see :mod:`viewer.net.fastpath.dul`).
"""

from __future__ import annotations

import logging
import queue
import time
from typing import TYPE_CHECKING, Any, Callable

from pynetdicom.dimse_primitives import C_STORE

if TYPE_CHECKING:
    from pynetdicom.association import Association

log = logging.getLogger(__name__)

_SERVED = "_viewer_served"  # attribute set on a C-STORE request served from the queue
#: Seconds: a served C-GET C-STORE request is still queued if none was for this long.
_FORWARD_EVERY = 0.5


def install(assoc: Association) -> bool:
    """Serve C-STORE requests on ``assoc``'s DUL thread; returns whether installed."""
    dimse = getattr(assoc, "dimse", None)
    if dimse is None or type(getattr(dimse, "msg_queue", None)) is not queue.Queue:
        return False
    if not dimse.msg_queue.empty() or not hasattr(assoc, "_c_store_scp"):
        return False
    if assoc.is_acceptor:
        dimse.msg_queue = _ServeQueue(lambda cx, msg: assoc._serve_request(msg, cx), forward=None)
        return True
    original: Callable[[Any], None] = assoc._c_store_scp

    def c_store_scp(req: Any) -> None:
        if not getattr(req, _SERVED, False):
            original(req)

    every = _FORWARD_EVERY
    if assoc.dimse_timeout:  # well inside the C-GET loop's DIMSE timeout, however short
        every = min(every, float(assoc.dimse_timeout) / 4)
    dimse.msg_queue = _ServeQueue(lambda cx, msg: original(msg), forward=every)
    assoc._c_store_scp = c_store_scp  # type: ignore[method-assign]  # the patch point this module documents
    return True


class _ServeQueue(queue.Queue[Any]):
    """A DIMSE message queue that serves C-STORE requests as they are put; ``forward``:
    queue a served request too if nothing was queued for that many seconds (None: never)."""

    def __init__(self, serve: Callable[[int, Any], None], *, forward: float | None) -> None:
        super().__init__()
        self._serve = serve
        self._forward = forward
        self._last_put = time.monotonic()

    def put(self, item: Any, block: bool = True, timeout: float | None = None) -> None:
        context_id, msg = item
        if isinstance(msg, C_STORE) and msg.MessageIDBeingRespondedTo is None:  # a request
            self._serve(context_id, msg)
            if self._forward is None or time.monotonic() - self._last_put < self._forward:
                return
            setattr(msg, _SERVED, True)
        self._last_put = time.monotonic()
        super().put(item, block, timeout)

    def note_served(self, context_id: int, msg: Any) -> None:
        """A C-STORE request ``msg`` was served elsewhere (its data set written as it
        arrived, :mod:`viewer.net.incoming`): forward it as :meth:`put` would."""
        if self._forward is None or time.monotonic() - self._last_put < self._forward:
            return
        setattr(msg, _SERVED, True)
        self._last_put = time.monotonic()
        super().put((context_id, msg))


__all__ = ["install"]
