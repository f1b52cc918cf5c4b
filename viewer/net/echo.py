"""C-ECHO (Verification, PS3.4 A) with round-trip time."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

from pynetdicom.sop_class import Verification

from viewer.config import DimseNode
from viewer.errors import NetError
from viewer.cancel import CancelToken
from viewer.net.association import (SUCCESS, Context, associate, check_final, release,
                                    status_category)

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class EchoResult:
    """Outcome of one C-ECHO."""

    status: int
    #: Seconds from sending C-ECHO-RQ to receiving C-ECHO-RSP.
    rtt: float
    #: Seconds to open the association (TCP connect + A-ASSOCIATE).
    associate_time: float

    @property
    def category(self) -> str:
        return status_category(self.status)


def echo(node: DimseNode, calling_aet: str, token: CancelToken | None = None) -> EchoResult:
    """Associate with ``node``, send one C-ECHO, release.

    Raises
    ------
    NetError
        Association failed or the status is not Success (PS3.4 A.4: only 0x0000 is defined
        for success; anything else is a failure of the peer).
    """
    t0 = time.perf_counter()
    assoc = associate(node, calling_aet, [Context(Verification)], token=token)
    t1 = time.perf_counter()
    try:
        rsp = assoc.send_c_echo()
        rtt = time.perf_counter() - t1
        status = check_final("C-ECHO", rsp, assoc, node)
    finally:
        release(assoc)
    result = EchoResult(status, rtt, t1 - t0)
    if result.category != SUCCESS:
        raise NetError(f"C-ECHO to {node.ae_title}: status 0x{status:04X} ({result.category})",
                       status=status, category=result.category)
    log.info("C-ECHO %s: 0x%04X in %.1f ms", node.ae_title, status, rtt * 1000)
    return result
