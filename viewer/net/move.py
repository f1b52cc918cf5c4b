"""C-MOVE (PS3.4 C.4.2): ask a peer to send instances to a storage SCP (ours, usually)."""

from __future__ import annotations

import logging
import queue
from contextlib import nullcontext
from pathlib import Path
from typing import Iterator

from pydicom.dataset import Dataset

from viewer.config import DimseNode
from viewer.cancel import CancelToken
from viewer.net import fastpath
from viewer.net.association import Context, associate
from viewer.net.progress import RetrieveProgress, run_retrieve
from viewer.net.storage_scp import StorageSCP

log = logging.getLogger(__name__)


def move(node: DimseNode, calling_aet: str, identifier: Dataset, dest_aet: str, model: str, *,
         scp: StorageSCP | None = None, token: CancelToken | None = None) -> Iterator[RetrieveProgress]:
    """Send one C-MOVE and yield progress from each response.

    Parameters
    ----------
    identifier
        Level and unique keys (see :func:`viewer.net.progress.retrieve_identifier`).
    dest_aet
        Move Destination (0000,0600): an AE the peer knows, e.g. our storage SCP's.
    scp
        When given (it must be running), files it stores during the move are reported in
        :attr:`RetrieveProgress.files`, and ``node``'s AE title is allowed to call it.

    Raises
    ------
    NetError
        As :func:`viewer.net.progress.follow`; 0xA801 means the peer does not know ``dest_aet``.
    Cancelled
        ``token`` was cancelled: C-CANCEL is sent (PS3.7 9.1.4.1.2), files stay.
    """
    files: "queue.Queue[Path]" = queue.Queue()
    remove = None
    if scp is not None:
        scp.allow(node.ae_title)
        remove = scp.add_listener(lambda path, _calling: files.put(path))
    try:
        assoc = associate(node, calling_aet, [Context(model)], token=token, fast_path=True)
        # Only pending responses come on this association while the instances arrive on
        # another one: its DUL may poll at pynetdicom's pace (1 ms) and leave the CPU to
        # the storage SCP's threads.
        fastpath.quiet(assoc)
        # Our SCP's files are made ahead, while the peer reads each response
        # (LocalStore.creating_ahead).
        ahead = scp.store.creating_ahead() if scp is not None else nullcontext()
        yield from run_retrieve("C-MOVE", assoc, node, model, files, token,
                                lambda msg_id: assoc.send_c_move(identifier, dest_aet, model, msg_id=msg_id), ahead)
    finally:
        if remove is not None:
            remove()
