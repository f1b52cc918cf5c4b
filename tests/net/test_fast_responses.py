"""C-GET responses followed by viewer.net.fastpath.responses (no Dataset per pending response)
against pynetdicom's own generator as the oracle: the same progress, the same final status
and Failed SOP Instance UID List (PS3.4 C.4.3.1.3.1)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Iterator

import pytest
from pydicom.uid import ExplicitVRLittleEndian, generate_uid
from pynetdicom import AE, evt
from pynetdicom.sop_class import CTImageStorage, MRImageStorage, StudyRootQueryRetrieveInformationModelGet

from tests.helpers.peers import free_port
from tests.helpers.ct import ct_image
from viewer.config import DimseNode, Timeouts
from viewer.config import FASTPATH_ENV
from viewer.net.fastpath import responses as _fast_responses
from viewer.net.get import get
from viewer.net.progress import retrieve_identifier
from viewer.dicom.local_store import LocalStore

GET = StudyRootQueryRetrieveInformationModelGet
IMAGES = [ct_image(n, "fast-responses") for n in range(4)]
MR = ct_image(9, "fast-responses")
MR.SOPClassUID = MRImageStorage  # not proposed by our C-GET: its sub-operation fails
MR.SOPInstanceUID = generate_uid(entropy_srcs=["fast-responses-mr"])


@pytest.fixture
def peer() -> Iterator[int]:
    """A pynetdicom C-GET SCP sending IMAGES and MR (which fails: warning 0xB000)."""
    def handler(event: Any) -> Iterator[Any]:
        yield len(IMAGES) + 1
        for ds in [*IMAGES[:2], MR, *IMAGES[2:]]:
            yield 0xFF00, ds

    ae = AE(ae_title="PEER")
    ae.add_supported_context(GET)
    for sop in (CTImageStorage, MRImageStorage):
        ae.add_supported_context(sop, ExplicitVRLittleEndian, scu_role=True, scp_role=True)
    port = free_port()
    server = ae.start_server(("127.0.0.1", port), block=False, evt_handlers=[(evt.EVT_C_GET, handler)])
    yield port
    server.shutdown()


def _progress(port: int, root: Path) -> list[tuple[Any, ...]]:
    node = DimseNode("peer", "PEER", "127.0.0.1", port, timeouts=Timeouts(5, 5, 10, 10))
    ident = retrieve_identifier("STUDY", {"StudyInstanceUID": str(IMAGES[0].StudyInstanceUID)})
    return [(p.status, p.remaining, p.completed, p.failed, p.warning, p.final, tuple(p.failed_uids),
             len(p.files))
            for p in get(node, "VIEWER", ident, GET, LocalStore(root), sop_classes=[CTImageStorage])]


@pytest.mark.fastpath
def test_progress_matches_pynetdicom_generator(peer: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    used: list[int] = []
    real = _fast_responses.responses

    def spy(*args: Any) -> Any:
        used.append(1)
        return real(*args)

    monkeypatch.setattr(_fast_responses, "responses", spy)
    fast = _progress(peer, tmp_path / "fast")
    assert used == [1]
    monkeypatch.setenv(FASTPATH_ENV, "0")  # the switch: pynetdicom's own generator
    shipped = _progress(peer, tmp_path / "shipped")
    assert used == [1]  # pynetdicom's own generator this time
    # Which step reports a file depends on thread timing; the counts and statuses do not.
    assert [p[:7] for p in fast] == [p[:7] for p in shipped]
    assert sum(p[7] for p in shipped) == len(IMAGES)
    final = fast[-1]
    assert final[0] == 0xB000 and final[5]  # warning: one sub-operation failed (PS3.4 C.4.3.1.4)
    assert final[3] == 1 and final[2] == len(IMAGES)
    assert final[6] == (str(MR.SOPInstanceUID),)  # Failed SOP Instance UID List from the identifier
    assert sum(p[7] for p in fast) == len(IMAGES)  # every stored file reported once
    assert all(p[0] == 0xFF00 for p in fast[:-1]) and len(fast) >= 2


def test_pending_status_reads_like_a_dataset() -> None:
    pending = _fast_responses.PendingStatus(Status=0xFF00, NumberOfRemainingSuboperations=3)
    assert "Status" in pending and pending.Status == 0xFF00
    assert pending.get("NumberOfCompletedSuboperations") is None
    with pytest.raises(AttributeError):
        _ = pending.ErrorComment


def test_a_started_or_foreign_generator_is_left_alone() -> None:
    def foreign() -> Iterator[Any]:
        yield 1

    gen = foreign()
    assert _fast_responses.wrap(object(), gen, None) is gen  # type: ignore[arg-type]
