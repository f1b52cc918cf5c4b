"""PACS use cases on a configured node, DIMSE or DICOMweb: echo, probe, query, worklist.

The GUI calls these and never chooses a protocol itself: a :class:`~viewer.config.DimseNode`
is asked by C-ECHO / C-FIND (PS3.4 A, C, K), a :class:`~viewer.config.DicomWebNode` by
QIDO-RS (PS3.18 10.6), with the same arguments and the same results (identifiers as pydicom
datasets). Retrieval is :func:`viewer.tasks.retrieve.retrieve_from`; sending is
:func:`viewer.tasks.send.send_paths`. Every function is blocking and takes the caller's
:class:`~viewer.cancel.CancelToken` as ``token``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator, Mapping, Union

from pydicom.dataset import Dataset

from viewer.cancel import CancelToken
from viewer.config import DicomWebNode, DimseNode
from viewer.errors import UsageError
from viewer.net.probe import ContextResult
from viewer.net.worklist import RequestedProcedure, WorklistFilter

__all__ = ["EchoReport", "Node", "RequestedProcedure", "WorklistFilter", "echo", "is_web", "probe", "query",
           "worklist", "worklist_procedures"]

#: A configured remote node.
Node = Union[DimseNode, DicomWebNode]


def is_web(node: object) -> bool:
    """A DICOMweb node (as opposed to a DIMSE one)."""
    return isinstance(node, DicomWebNode)


@dataclass(frozen=True)
class EchoReport:
    """Outcome of a verification: C-ECHO for DIMSE, a minimal QIDO-RS search for DICOMweb."""

    protocol: str
    target: str
    rtt: float
    #: DIMSE status and its category (PS3.7 C); None for DICOMweb (HTTP 200 is all we get).
    status: int | None = None
    category: str = ""

    def line(self) -> str:
        """The one-line result the panel and the CLI show."""
        if self.status is None:
            return f"{self.protocol} {self.target}: OK, {self.rtt * 1000:.1f} ms"
        return f"{self.protocol} {self.target}: 0x{self.status:04X} ({self.category}), {self.rtt * 1000:.1f} ms"


def echo(node: Node, calling_aet: str, token: CancelToken | None = None) -> EchoReport:
    """Verify ``node``: C-ECHO (PS3.4 A.4) or, for DICOMweb, ``studies?limit=1``.

    Raises
    ------
    NetError
        No association / no HTTP answer, with the reason.
    """
    if isinstance(node, DicomWebNode):
        from viewer.net.dicomweb import ping_node

        return EchoReport("QIDO-RS", node.base_url, ping_node(node, token))
    from viewer.net.echo import echo as c_echo

    result = c_echo(node, calling_aet, token)
    return EchoReport("C-ECHO", node.ae_title, result.rtt, result.status, result.category)


def probe(node: Node, calling_aet: str, token: CancelToken | None = None) -> list[ContextResult]:
    """Which presentation contexts ``node`` accepts (DIMSE only: DICOMweb has none)."""
    if isinstance(node, DicomWebNode):
        raise UsageError(f"{node.name}: a DICOMweb node has no presentation contexts to probe")
    from viewer.net.probe import probe as probe_contexts

    return probe_contexts(node, calling_aet, token=token)


def query(node: Node, calling_aet: str, root: str, level: str, keys: Mapping[str, str],
          token: CancelToken | None = None) -> Iterator[Dataset]:
    """Search ``node`` at ``level`` (PATIENT, STUDY, SERIES, IMAGE) for ``keys``.

    ``keys`` maps keywords to match values; empty values are return keys. DIMSE uses the
    ``root`` information model (``study`` or ``patient``, PS3.4 C.6); QIDO-RS is study-rooted.
    Identifiers are yielded as they arrive.
    """
    from viewer.net.find import FIND_MODEL, build_query, find, parse_root

    if isinstance(node, DicomWebNode):
        from viewer.net.dicomweb import keys_from_identifier, search_node

        qido_level, qido_keys = keys_from_identifier(build_query(level, keys, "study"))
        return search_node(node, qido_level, qido_keys, token)
    r = parse_root(root)
    return find(node, calling_aet, build_query(level, keys, r), FIND_MODEL[r], token=token)


def worklist(node: Node, calling_aet: str, flt: WorklistFilter,
             token: CancelToken | None = None) -> Iterator[Dataset]:
    """Modality Worklist C-FIND (PS3.4 K.6) with the filter's matching keys (DIMSE only)."""
    if isinstance(node, DicomWebNode):
        raise UsageError("the worklist needs a DIMSE node")
    from viewer.net.worklist import build_worklist_query
    from viewer.net.worklist import worklist as mwl_find

    return mwl_find(node, calling_aet, build_worklist_query(flt), token=token)


def worklist_procedures(items: list[Dataset]) -> list[RequestedProcedure]:
    """Worklist items grouped by Requested Procedure, each with its scheduled steps."""
    from viewer.net.worklist import group_by_procedure

    return group_by_procedure(items)
