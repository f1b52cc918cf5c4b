"""Capability probe against an in-process pynetdicom SCP whose supported contexts we choose:
the oracle is that configuration (and pynetdicom's acceptor-side negotiation)."""

from __future__ import annotations

import pytest
from pynetdicom import AE, AllStoragePresentationContexts
from pynetdicom.sop_class import CTImageStorage, StudyRootQueryRetrieveInformationModelFind, Verification

from tests.helpers.peers import free_port
from viewer.config import DimseNode
from viewer.net.probe import PROBE_CLASSES, ROLE_CLASSES, probe


@pytest.fixture
def scp():
    ae = AE(ae_title="PROBED")
    ae.add_supported_context(Verification)
    ae.add_supported_context(StudyRootQueryRetrieveInformationModelFind)
    ae.add_supported_context(CTImageStorage, scu_role=False, scp_role=False)  # refuses role selection
    for cx in AllStoragePresentationContexts[:40]:
        if cx.abstract_syntax != CTImageStorage:
            ae.add_supported_context(cx.abstract_syntax)
    port = free_port()
    server = ae.start_server(("127.0.0.1", port), block=False)
    yield DimseNode("probed", "PROBED", "127.0.0.1", port)
    server.shutdown()


def test_reports_accepted_and_rejected(scp) -> None:
    results = {r.abstract_syntax: r for r in probe(scp, "VIEWER")}
    assert len(results) == len(PROBE_CLASSES) + len(ROLE_CLASSES)
    assert results[Verification].accepted and results[StudyRootQueryRetrieveInformationModelFind].accepted
    rejected = results["1.2.840.10008.5.1.1.9"]
    assert not rejected.accepted and rejected.reason == "Abstract Syntax Not Supported"
    # CT proposed with our SCP role (for C-GET); this peer refuses role selection.
    ct = results[CTImageStorage]
    assert not ct.accepted and ct.scp_role_accepted is False and "SCP role not accepted" in ct.reason


def test_more_than_128_contexts_use_several_associations(scp) -> None:
    classes = tuple((cx.abstract_syntax.name, cx.abstract_syntax) for cx in AllStoragePresentationContexts[:150])
    results = probe(scp, "VIEWER", classes)
    assert len(results) == 150
    accepted = {r.abstract_syntax for r in results if r.accepted}
    expected = {cx.abstract_syntax for cx in AllStoragePresentationContexts[:40]} - {CTImageStorage}
    assert accepted == expected  # CT is proposed with role selection, which this peer refuses
    assert all(r.reason for r in results)
