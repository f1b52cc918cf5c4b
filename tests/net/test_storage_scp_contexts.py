"""Our storage SCP's supported contexts are copied cheaply for each association
(viewer.net.fastpath.contexts); negotiation must come out as with pynetdicom's deep copy."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
from pynetdicom import AE
from pynetdicom.sop_class import CTImageStorage, MRImageStorage

from viewer.config import FASTPATH_ENV
from viewer.net.storage_scp import StorageSCP
from viewer.dicom.local_store import LocalStore

EXPLICIT, IMPLICIT, JPEG_LS = "1.2.840.10008.1.2.1", "1.2.840.10008.1.2", "1.2.840.10008.1.2.4.80"
UNKNOWN_TS = "1.2.3.4.5.6.7"


def _accepted(port: int) -> dict[str, str | None]:
    """Abstract syntax -> accepted transfer syntax (None: rejected) for a fixed proposal."""
    ae = AE(ae_title="PACS")
    ae.acse_timeout = ae.network_timeout = 5
    ae.add_requested_context(CTImageStorage, [JPEG_LS, EXPLICIT])
    ae.add_requested_context(MRImageStorage, [UNKNOWN_TS])
    assoc = ae.associate("127.0.0.1", port, ae_title="VIEWER")
    assert assoc.is_established
    try:
        out: dict[str, str | None] = {str(cx.abstract_syntax): None for cx in assoc.rejected_contexts}
        out.update({str(cx.abstract_syntax): str(cx.transfer_syntax[0]) for cx in assoc.accepted_contexts})
        return out
    finally:
        assoc.release()

pytestmark = pytest.mark.fastpath  # the cheap copy is part of the fast path


def test_negotiation_matches_the_deep_copy(tmp_path: Path, monkeypatch) -> None:
    with StorageSCP(LocalStore(tmp_path / "a"), "VIEWER", 0, allowed_calling=["PACS"]) as scp:
        contexts = scp._server.contexts
        assert all(type(cx).__name__ == "_CheaplyCopiedContext" for cx in contexts)
        cheap = [_accepted(scp.port) for _ in range(3)]  # the same every time: no copy is shared
    monkeypatch.setenv(FASTPATH_ENV, "0")  # the fast path off: pynetdicom's deep copy
    with StorageSCP(LocalStore(tmp_path / "b"), "VIEWER", 0, allowed_calling=["PACS"]) as scp:
        deep = _accepted(scp.port)
    assert cheap == [deep] * 3
    # pynetdicom takes the first of our transfer syntaxes the peer offers (explicit VR LE)
    assert deep == {str(CTImageStorage): EXPLICIT, str(MRImageStorage): None}


def test_a_copy_is_independent_of_its_original(tmp_path: Path) -> None:
    with StorageSCP(LocalStore(tmp_path), "VIEWER", 0, allowed_calling=["PACS"]) as scp:
        original = scp._server.contexts[0]
        before = (original.abstract_syntax, list(original.transfer_syntax), original.context_id)
        clone = copy.deepcopy(original)
        assert (clone.abstract_syntax, list(clone.transfer_syntax), clone.context_id) == before
        clone.transfer_syntax = [IMPLICIT]
        clone.context_id = 99
        clone.scp_role = True
        assert (original.abstract_syntax, list(original.transfer_syntax), original.context_id) == before
        assert original.scp_role is None
