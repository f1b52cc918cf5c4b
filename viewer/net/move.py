"""C-MOVE (PS3.4 C.4.2): ask a peer to send instances to a storage SCP (ours, usually)."""

from __future__ import annotations

import logging
import queue
from contextlib import nullcontext
from pathlib import Path
from typing import Iterator

from pydicom.dataset import Dataset

from viewer.config import DimseNode
from viewer.errors import NetError
from viewer.net.association import (CancelToken, Context, accepted_context, associate, cancel_watch, release,
                                    slow_poll)
from viewer.net.progress import RetrieveProgress, follow
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
        assoc = associate(node, calling_aet, [Context(model)], token=token)
        # Only pending responses come on this association while the instances arrive on
        # another one: its DUL may poll at pynetdicom's pace (1 ms) and leave the CPU to
        # the storage SCP's threads.
        slow_poll(assoc)
        finished = False
        try:
            cx = accepted_context(assoc, model)
            if cx is None:
                raise NetError(f"{node.ae_title} does not accept {getattr(model, 'name', model)}")
            msg_id = 1
            # Our SCP's temporary files are made while the peer sends (viewer.net._spare_files).
            ahead = scp.store.creating_ahead() if scp is not None else nullcontext()
            with ahead, cancel_watch(assoc, token, lambda: assoc.send_c_cancel(msg_id, cx.context_id)) as done:
                responses = assoc.send_c_move(identifier, dest_aet, model, msg_id=msg_id)
                yield from follow("C-MOVE", responses, files, assoc, node, token)
                done.set()
            finished = True
        finally:
            if not finished and assoc.is_established:
                assoc.abort()
            release(assoc)
    finally:
        if remove is not None:
            remove()
