"""C-GET (PS3.4 C.4.3): instances come back on the same association as C-STORE sub-operations.

We must act as Storage SCP on that association, so every storage class is proposed with
SCP/SCU Role Selection (PS3.7 D.3.3.4, scp_role=1). All must fit in the 128 presentation
contexts (PS3.8 9.3.2.2) next to the GET model, so callers pass the SOP classes they know
the study holds (SOP Classes in Study (0008,0062), or the series' SOP Class UIDs);
otherwise a default list of common storage classes is proposed.
"""

from __future__ import annotations

import logging
import queue
from pathlib import Path
from typing import Iterable, Iterator

from pydicom.dataset import Dataset
from pynetdicom import ALL_TRANSFER_SYNTAXES, DEFAULT_TRANSFER_SYNTAXES, StoragePresentationContexts, evt
from pynetdicom.events import EventHandlerType

from viewer.config import DimseNode
from viewer.cancel import CancelToken
from viewer.net.association import MAX_CONTEXTS, Context, associate
from viewer.net.progress import RetrieveProgress, run_retrieve
from viewer.net.storage_scp import handle_store
from viewer.dicom.local_store import LocalStore

log = logging.getLogger(__name__)

#: Transfer syntaxes proposed for classes we know are in the study: uncompressed first
#: (what DCMTK getscu proposes), then the compressed ones we can decode.
_KNOWN_TS = tuple(DEFAULT_TRANSFER_SYNTAXES) + tuple(t for t in ALL_TRANSFER_SYNTAXES
                                                      if t not in DEFAULT_TRANSFER_SYNTAXES)


def storage_contexts(sop_classes: Iterable[str] | None, room: int) -> list[Context]:
    """Storage contexts with our SCP role, at most ``room`` of them.

    With known ``sop_classes`` each gets every transfer syntax we decode; without, the
    first ``room`` of pynetdicom's common storage classes with the uncompressed ones.
    """
    if sop_classes:
        uids = list(dict.fromkeys(str(u) for u in sop_classes if u))
        if len(uids) > room:
            log.warning("%d storage classes known, only %d fit next to the GET model; proposing the first %d",
                        len(uids), room, room)
        return [Context(u, _KNOWN_TS, scu_role=False, scp_role=True) for u in uids[:room]]
    return [Context(str(cx.abstract_syntax), tuple(DEFAULT_TRANSFER_SYNTAXES), scu_role=False, scp_role=True)
            for cx in StoragePresentationContexts[:room]]


def get(node: DimseNode, calling_aet: str, identifier: Dataset, model: str, store: LocalStore, *,
        sop_classes: Iterable[str] | None = None,
        token: CancelToken | None = None) -> Iterator[RetrieveProgress]:
    """Send one C-GET, store what arrives in ``store``, yield progress from each response.

    Raises
    ------
    NetError
        As :func:`viewer.net.progress.follow`. Orthanc answers 0xA702 with every
        sub-operation failed when no storage class was accepted with our SCP role.
    Cancelled
        ``token`` was cancelled (C-CANCEL sent); received files stay in the store.
    """
    files: "queue.Queue[Path]" = queue.Queue()
    contexts = [Context(model)]
    contexts += storage_contexts(sop_classes, MAX_CONTEXTS - len(contexts))
    handlers: list[EventHandlerType] = [
        (evt.EVT_C_STORE, handle_store, [store, lambda path, _calling: files.put(path)])]
    # The fast path (viewer.net.fastpath): handle_store only writes a file, so C-STOREs may
    # be served on the DUL thread.
    assoc = associate(node, calling_aet, contexts, evt_handlers=handlers, token=token, fast_path=True)
    refused = [c.abstract_syntax for c in assoc.accepted_contexts if c.abstract_syntax != model and not c.as_scp]
    if refused:
        log.info("%s did not grant our SCP role for %d storage class(es)", node.ae_title, len(refused))
    # Each instance's file is made ahead, while the peer reads our last response
    # (LocalStore.creating_ahead).
    yield from run_retrieve("C-GET", assoc, node, model, files, token,
                            lambda msg_id: assoc.send_c_get(identifier, model, msg_id=msg_id), store.creating_ahead())


def get_sop_classes(results: Iterable[Dataset]) -> list[str]:
    """SOP classes to propose for a retrieve, from query results: SOP Classes in Study
    (0008,0062) at STUDY level or SOP Class UID (0008,0016) at IMAGE level."""
    out: list[str] = []
    for ds in results:
        for kw in ("SOPClassesInStudy", "SOPClassUID"):
            value = ds.get(kw)
            if value:
                out.extend(str(v) for v in (value if not isinstance(value, str) else [value]))
    return list(dict.fromkeys(out))
