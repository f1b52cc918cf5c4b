"""Progress of a C-MOVE or C-GET, from the sub-operation counts of its responses (PS3.4 C.4.2.1.6)."""

from __future__ import annotations

import logging
import queue
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, ContextManager, Iterator

from pydicom.dataset import Dataset
from pynetdicom.association import Association

from viewer.config import DimseNode
from viewer.errors import Cancelled, NetError
from viewer.net import fastpath
from viewer.cancel import CancelToken
from viewer.net.association import (CANCEL, FAILURE, PENDING, SUCCESS, WARNING, required_context,
                                    cancel_watch, check_final, describe_status, release, status_category,
                                    status_of)

log = logging.getLogger(__name__)


@dataclass
class RetrieveProgress:
    """One step of a retrieve: the peer's counts and the files stored since the last step."""

    remaining: int | None = None
    completed: int = 0
    failed: int = 0
    warning: int = 0
    #: DIMSE status of the response this step comes from (None before any response).
    status: int | None = None
    #: Files written to the store since the previous step.
    files: list[Path] = field(default_factory=list)
    #: True for the final response.
    final: bool = False
    #: Failed SOP Instance UID List (0008,0058) of the final response, if the peer sent one.
    failed_uids: list[str] = field(default_factory=list)
    #: Number of files received so far in this retrieve.
    received: int = 0

    @property
    def total(self) -> int | None:
        """Sub-operations in all, when the peer reports remaining ones."""
        if self.remaining is None:
            return None
        return self.remaining + self.completed + self.failed + self.warning

    @property
    def category(self) -> str | None:
        return None if self.status is None else status_category(self.status)

    def summary(self) -> str:
        text = f"{self.completed} completed, {self.failed} failed, {self.warning} warning"
        if self.remaining:
            text += f", {self.remaining} remaining"
        if self.status is not None:
            text += f"; status {describe_status(self.status)}"
        return text


def _count(rsp: Dataset, name: str) -> int | None:
    value = rsp.get(name)
    return None if value is None or value == "" else int(value)


def _step(state: RetrieveProgress, files: list[Path]) -> RetrieveProgress:
    """A copy of ``state`` with ``files``; drained first, so ``received`` counts them."""
    return RetrieveProgress(**{**state.__dict__, "files": files})


def follow(op: str, responses: Iterator[tuple[Dataset, Dataset | None]], files: "queue.Queue[Path]",
           assoc: Association, node: DimseNode, token: CancelToken | None) -> Iterator[RetrieveProgress]:
    """Turn C-MOVE/C-GET responses into :class:`RetrieveProgress`, draining ``files``.

    The last item has ``final=True``; a warning status (0xB000, some sub-operations failed,
    PS3.4 C.4.2.1.5) is reported, not raised.

    Raises
    ------
    NetError
        Failure status, abort, or no response within the DIMSE timeout. Files already
        stored stay in the store.
    Cancelled
        ``token`` was cancelled (C-CANCEL was sent by the caller's cancel watch).
    """
    state = RetrieveProgress()

    def drain() -> list[Path]:
        out = []
        while True:
            try:
                out.append(files.get_nowait())
            except queue.Empty:
                state.received += len(out)
                return out

    final: Dataset | None = None
    final_ident: Dataset | None = None
    last, waited = time.monotonic(), 0.0
    for rsp, ident in responses:
        waited, last = time.monotonic() - last, time.monotonic()
        status = status_of(rsp)
        if status is None:
            break
        for name, attr in (("NumberOfRemainingSuboperations", "remaining"),
                           ("NumberOfCompletedSuboperations", "completed"),
                           ("NumberOfFailedSuboperations", "failed"),
                           ("NumberOfWarningSuboperations", "warning")):
            value = _count(rsp, name)
            if value is not None:
                setattr(state, attr, value)
        state.status = status
        if status_category(status) == PENDING:
            yield _step(state, drain())
            last = time.monotonic()  # the consumer's time is not the peer's
            continue
        final, final_ident = rsp, ident
        break
    if token is not None and token.cancelled:
        raise Cancelled(f"{op} cancelled after {state.received + len(drain())} file(s)")
    status = check_final(op, final, assoc, node, waited=waited)
    state.status = status
    state.final = True
    if final is not None and final.get("NumberOfRemainingSuboperations") is None:
        state.remaining = 0
    if final_ident is not None and "FailedSOPInstanceUIDList" in final_ident:
        value = final_ident.FailedSOPInstanceUIDList
        state.failed_uids = [str(v) for v in ([value] if isinstance(value, str) else list(value))]
    category = status_category(status)
    outcome = _step(state, drain())
    if category == CANCEL:
        yield outcome
        raise Cancelled(f"{op} cancelled by the peer: {outcome.summary()}")
    if category in (SUCCESS, WARNING):
        if category == WARNING:
            log.warning("%s %s: %s", op, node.ae_title, outcome.summary())
        yield outcome
        return
    yield outcome
    comment = str(final.get("ErrorComment", "")) if final is not None else ""
    raise NetError(f"{op} {node.ae_title}: {outcome.summary()}" + (f": {comment}" if comment else ""),
                   status=status, category=category if category else FAILURE)


def run_retrieve(op: str, assoc: Association, node: DimseNode, model: str, files: "queue.Queue[Path]",
                 token: CancelToken | None, request: Callable[[int], Iterator[tuple[Dataset, Dataset | None]]],
                 ahead: ContextManager[Any]) -> Iterator[RetrieveProgress]:
    """Send one C-GET or C-MOVE on ``assoc`` and :func:`follow` it; the association is
    aborted if the retrieve does not end normally and released in any case.

    ``request(message_id)`` sends the request (pynetdicom's ``send_c_get`` or
    ``send_c_move``) and returns its responses; on cancel a C-CANCEL is sent for that
    message (PS3.7 9.1.4.1.2, 9.1.3.1.2). ``ahead`` is entered around the transfer (the
    store's :meth:`~viewer.dicom.local_store.LocalStore.creating_ahead`).
    """
    finished = False
    try:
        cx = required_context(assoc, node, model)
        msg_id = 1
        with ahead, cancel_watch(assoc, token, lambda: assoc.send_c_cancel(msg_id, cx.context_id)) as done:
            responses = fastpath.wrap_responses(assoc, request(msg_id), cx.transfer_syntax[0])
            yield from follow(op, responses, files, assoc, node, token)
            done.set()
        finished = True
    finally:
        if not finished and assoc.is_established:
            assoc.abort()
        release(assoc)


def retrieve_identifier(level: str, uids: dict[str, str], patient_root: bool = False) -> Dataset:
    """A C-MOVE/C-GET identifier: the level and the unique keys only (PS3.4 C.4.2.1.4.1).

    ``uids`` maps keywords (PatientID, StudyInstanceUID, SeriesInstanceUID, SOPInstanceUID)
    to values; a value may be a list (list of UID matching, PS3.4 C.2.2.2.2).
    """
    ds = Dataset()
    ds.QueryRetrieveLevel = level.upper()
    order = ["PatientID", "StudyInstanceUID", "SeriesInstanceUID", "SOPInstanceUID"]
    need = {"PATIENT": 1, "STUDY": 2, "SERIES": 3, "IMAGE": 4}.get(ds.QueryRetrieveLevel)
    if need is None:
        raise NetError(f"unknown retrieve level {level!r}")
    for kw in order[0 if patient_root else 1:need]:
        value: Any = uids.get(kw)
        if value in (None, ""):
            from viewer.errors import UsageError
            raise UsageError(f"{ds.QueryRetrieveLevel} retrieve needs a value for {kw}")
        setattr(ds, kw, value)
    return ds
