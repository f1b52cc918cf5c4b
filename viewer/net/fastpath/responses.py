"""C-GET / C-MOVE responses followed without a pydicom Dataset per pending response.

Why: pynetdicom 3.0's ``Association._wrap_get_move_responses`` turns every response into a
Dataset of its status elements: ~0.1 ms of interpreter time per retrieved instance (a PACS
sends a pending response after each sub-operation, PS3.4 C.4.2.1.5, C.4.3.1.5), taken
while the thread receiving the instances needs the interpreter too.

What :func:`responses` does: the same loop over the DIMSE messages of the association
(C-STORE requests on a C-GET served, an unexpected or invalid message aborts, no message
within the DIMSE timeout is handled as pynetdicom handles it, the reactor checkpoint set
at the end), yielding pending responses as a :class:`PendingStatus` (the status elements
in a dict, read by ``viewer.net.progress.follow`` with ``get``, ``in`` and attributes) and
the final response exactly as pynetdicom does (a Dataset, with the Identifier decoded for
Cancel, Warning and Failure, PS3.4 C.4.3.1.3.1). Used only on a pynetdicom version whose
internals it knows, and only in place of pynetdicom's own generator before that started.
"""

from __future__ import annotations

import inspect
import logging
from typing import Any, Iterator

from pydicom.dataset import Dataset
from pynetdicom.association import Association
from pynetdicom.dimse_primitives import C_GET, C_MOVE, C_STORE
from pynetdicom.dsutils import decode
from pynetdicom.status import code_to_category


log = logging.getLogger(__name__)

_PENDING = "Pending"  # pynetdicom's STATUS_PENDING category (PS3.4 C.4.2.1.5)
_DECODED_FINAL = ("Cancel", "Warning", "Failure")  # final responses whose Identifier is read


class PendingStatus(dict[str, Any]):
    """The status elements of a pending response: keyword -> value (no Dataset)."""

    def __getattr__(self, name: str) -> Any:
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None


def wrap(assoc: Association, shipped: Iterator[tuple[Dataset, Dataset | None]],
         transfer_syntax: Any) -> Iterator[tuple[Any, Dataset | None]]:
    """:func:`responses` in place of ``shipped``, pynetdicom's generator just returned by
    ``send_c_get``/``send_c_move``, when that is the generator this module knows and it
    has not started; otherwise ``shipped`` itself."""
    if (not inspect.isgenerator(shipped)
            or shipped.gi_code is not Association._wrap_get_move_responses.__code__
            or inspect.getgeneratorstate(shipped) != inspect.GEN_CREATED):
        return shipped
    shipped.close()  # never started: nothing of it ran
    return responses(assoc, transfer_syntax)


def responses(assoc: Association, transfer_syntax: Any) -> Iterator[tuple[Any, Dataset | None]]:
    """The responses to the C-GET or C-MOVE just sent on ``assoc`` (see the module doc)."""
    while True:
        _cx, rsp = assoc.dimse.get_msg(block=True)
        if rsp is None:  # no message within the DIMSE timeout
            assoc._handle_no_response()
            assoc._reactor_checkpoint.set()
            yield Dataset(), None
            return
        if not isinstance(rsp, (C_STORE, C_GET, C_MOVE)):
            log.error("Received an unexpected %s message from the peer", type(rsp).__name__.replace("_", "-"))
            assoc.abort()
            assoc._reactor_checkpoint.set()
            yield Dataset(), None
            return
        if isinstance(rsp, C_STORE):  # a C-GET sub-operation (served already, fastpath.serve_inline)
            assoc._c_store_scp(rsp)
            continue
        if not rsp.is_valid_response:
            log.error("Received an invalid %s response from the peer", type(rsp).__name__.replace("_", "-"))
            assoc.abort()
            assoc._reactor_checkpoint.set()
            yield Dataset(), None
            return
        category = code_to_category(int(rsp.Status or 0))  # set: a valid response
        if category == _PENDING:
            pending = PendingStatus(Status=rsp.Status)
            for keyword in rsp.STATUS_OPTIONAL_KEYWORDS:
                value = getattr(rsp, keyword)
                if value is not None:
                    pending[keyword] = value
            yield pending, None
            continue
        status = Dataset()
        status.Status = rsp.Status
        for keyword in rsp.STATUS_OPTIONAL_KEYWORDS:
            if getattr(rsp, keyword) is not None:
                setattr(status, keyword, getattr(rsp, keyword))
        identifier = None
        if rsp.Identifier and category in _DECODED_FINAL:
            with assoc.lock:
                try:
                    identifier = decode(rsp.Identifier, transfer_syntax.is_implicit_VR,
                                        transfer_syntax.is_little_endian, transfer_syntax.is_deflated)
                except Exception:
                    log.exception("Failed to decode the received Identifier dataset")
                    identifier = None
        assoc._reactor_checkpoint.set()
        yield status, identifier
        return


__all__ = ["PendingStatus", "responses", "wrap"]
