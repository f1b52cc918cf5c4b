"""The PACS use cases (viewer.tasks.query) choose the protocol by the node, not the caller.

A pynetdicom peer in this process answers C-ECHO and C-FIND; what it holds is the oracle.
"""

from __future__ import annotations

from typing import Any, Iterator

import pytest
from pydicom.dataset import Dataset

from tests.helpers.net import c_find_peer
from viewer.cancel import CancelToken
from viewer.config import DicomWebNode, DimseNode
from viewer.errors import Cancelled, UsageError
from viewer.tasks import query as pacs

STUDIES = [("P1", "1.2.826.0.1.3680043.8.498.1"), ("P2", "1.2.826.0.1.3680043.8.498.2")]


@pytest.fixture(scope="module")
def peer() -> Iterator[DimseNode]:
    def on_find(event: Any) -> Iterator[tuple[int, Dataset | None]]:
        for pid, uid in STUDIES:
            ds = Dataset()
            ds.QueryRetrieveLevel, ds.PatientID, ds.StudyInstanceUID = "STUDY", pid, uid
            yield 0xFF00, ds
        yield 0x0000, None

    with c_find_peer(on_find, "PEER", echo=True) as port:
        yield DimseNode("peer", "PEER", "127.0.0.1", port)


def test_echo_a_dimse_node_is_c_echo(peer) -> None:
    report = pacs.echo(peer, "VIEWER")
    assert (report.protocol, report.status, report.category) == ("C-ECHO", 0x0000, "Success")
    assert report.line().startswith("C-ECHO PEER: 0x0000 (Success), ")


def test_query_a_dimse_node_is_c_find_with_the_root_asked(peer) -> None:
    found = list(pacs.query(peer, "VIEWER", "study", "STUDY", {"PatientID": ""}))
    assert [(str(d.PatientID), str(d.StudyInstanceUID)) for d in found] == STUDIES


def test_a_cancelled_token_stops_the_query_before_it_starts(peer) -> None:
    token = CancelToken()
    token.cancel()
    with pytest.raises(Cancelled):
        list(pacs.query(peer, "VIEWER", "study", "STUDY", {}, token))


def test_what_dicomweb_has_no_counterpart_for_is_a_clear_usage_error() -> None:
    web = DicomWebNode("web", "http://127.0.0.1:9/dicom-web")
    assert pacs.is_web(web) and not pacs.is_web(DimseNode("d", "D", "127.0.0.1", 104))
    with pytest.raises(UsageError, match="presentation contexts"):
        pacs.probe(web, "VIEWER")
    with pytest.raises(UsageError, match="worklist needs a DIMSE node"):
        pacs.worklist(web, "VIEWER", pacs.WorklistFilter())
