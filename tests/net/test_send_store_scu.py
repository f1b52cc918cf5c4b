"""C-STORE SCU against in-process pynetdicom Storage SCPs (the oracle is what the SCP received,
compared with pydicom's own reading of the source files)."""

from __future__ import annotations

from pathlib import Path
from typing import Iterator

import pytest
from pydicom import dcmread
from pydicom.uid import (ExplicitVRLittleEndian, ImplicitVRLittleEndian, JPEG2000Lossless,
                         RLELossless, UID)
from pynetdicom import AE, evt
from pynetdicom.sop_class import CTImageStorage, MRImageStorage

from tests.helpers.peers import free_port
from viewer.cancel import CancelToken
from viewer.errors import Cancelled, NetError
from viewer.net import storage_scu
from viewer.net.storage_scu import Category, StoreTarget


class Scp:
    def __init__(self, port: int) -> None:
        self.port = port
        self.received: dict[str, object] = {}
        self.status_for: dict[str, int] = {}
        self.associations = 0
        self.callers: list[str] = []


def _start(contexts: list[tuple[str, list[str]]]) -> Iterator[Scp]:
    scp = Scp(free_port())
    ae = AE(ae_title="TESTSCP")
    for sop, ts in contexts:
        ae.add_supported_context(sop, ts)

    def on_store(event: evt.Event) -> int:
        ds = event.dataset
        ds.file_meta = event.file_meta
        scp.received[str(ds.SOPInstanceUID)] = ds
        return scp.status_for.get(str(ds.SOPInstanceUID), 0x0000)

    def on_conn(event: evt.Event) -> None:
        scp.associations += 1
        scp.callers.append(str(event.assoc.requestor.ae_title))

    server = ae.start_server(("127.0.0.1", scp.port), block=False,
                             evt_handlers=[(evt.EVT_C_STORE, on_store), (evt.EVT_ACCEPTED, on_conn)])
    try:
        yield scp
    finally:
        server.shutdown()


ALL_TS = [ExplicitVRLittleEndian, ImplicitVRLittleEndian, JPEG2000Lossless, RLELossless,
          "1.2.840.10008.1.2.4.70", "1.2.840.10008.1.2.4.80", "1.2.840.10008.1.2.4.50",
          "1.2.840.10008.1.2.2"]


@pytest.fixture
def ct_only_scp() -> Iterator[Scp]:
    """Accepts CT Image Storage in any syntax; MR Image Storage is rejected at association."""
    yield from _start([(CTImageStorage, ALL_TS)])


@pytest.fixture
def implicit_only_scp() -> Iterator[Scp]:
    """Accepts CT and MR only in Implicit VR Little Endian (the PS3.5 default)."""
    yield from _start([(CTImageStorage, [ImplicitVRLittleEndian]), (MRImageStorage, [ImplicitVRLittleEndian])])


def _target(scp: Scp) -> StoreTarget:
    return StoreTarget("127.0.0.1", scp.port, "TESTSCP", "SENDTEST", timeout=10)


def _items(*paths: Path) -> list[storage_scu.StoreItem]:
    return list(storage_scu.iter_items(list(paths)))


def test_rejected_sop_class_fails_only_its_instances(corpus: Path, ct_only_scp: Scp) -> None:
    items = _items(corpus / "series" / "ct_stack_40", corpus / "mr" / "MR_small.dcm", corpus / "ct" / "CT_small.dcm")
    results = list(storage_scu.send(_target(ct_only_scp), items))
    assert len(results) == len(items)
    failed = [r for r in results if r.category == Category.FAILURE]
    assert [r.item.sop_class_uid for r in failed] == [MRImageStorage]
    assert "MR Image Storage" in failed[0].message
    ok = [r for r in results if r.category == Category.SUCCESS]
    assert len(ok) == len(items) - 1
    # Data sets received equal the files as pydicom reads them.
    for r in ok:
        src = dcmread(r.item.path)
        got = ct_only_scp.received[r.item.sop_instance_uid]
        assert got == src
        assert r.sent_as == src.file_meta.TransferSyntaxUID


def test_compressed_is_decompressed_for_uncompressed_only_peer(corpus: Path, implicit_only_scp: Scp) -> None:
    paths = [corpus / "ts" / "MR_small_jp2klossless.dcm", corpus / "ts" / "MR_small_RLE.dcm",
             corpus / "ts" / "MR_small_bigendian.dcm", corpus / "ts" / "MR_small_implicit.dcm"]
    items = _items(*paths)
    results = list(storage_scu.send(_target(implicit_only_scp), items))
    assert [r.category for r in results] == [Category.SUCCESS] * 4, [r.message for r in results]
    for r in results:
        src = dcmread(r.item.path)
        got = implicit_only_scp.received[r.item.sop_instance_uid]
        assert not UID(got.file_meta.TransferSyntaxUID).is_compressed
        assert (got.pixel_array == src.pixel_array).all()  # oracle: pydicom's decoder


def test_warning_kept_apart_from_failure(corpus: Path, ct_only_scp: Scp) -> None:
    items = _items(corpus / "series" / "ct_stack_40")[:4]
    ct_only_scp.status_for[items[1].sop_instance_uid] = 0xB000  # coercion of data elements
    ct_only_scp.status_for[items[2].sop_instance_uid] = 0xA700  # out of resources
    results = list(storage_scu.send(_target(ct_only_scp), items))
    assert [r.category for r in results] == [Category.SUCCESS, Category.WARNING, Category.FAILURE,
                                             Category.SUCCESS]
    assert [r.status for r in results] == [0, 0xB000, 0xA700, 0]
    assert "0xB000" in results[1].message


def test_cancel_between_instances(corpus: Path, ct_only_scp: Scp) -> None:
    items = _items(corpus / "series" / "ct_stack_40")
    cancel = CancelToken()
    seen = []

    def progress(result: storage_scu.StoreResult, done: int, total: int) -> None:
        seen.append(done)
        if done == 3:
            cancel.cancel()

    with pytest.raises(Cancelled):
        list(storage_scu.send(_target(ct_only_scp), items, progress=progress, cancel=cancel))
    assert seen == [1, 2, 3]
    assert len(ct_only_scp.received) == 3


def test_no_peer_is_a_clear_net_error(corpus: Path) -> None:
    items = _items(corpus / "ct" / "CT_small.dcm")
    with pytest.raises(NetError, match="cannot connect to NOBODY@127.0.0.1:[0-9]+: Connection refused"):
        list(storage_scu.send(StoreTarget("127.0.0.1", free_port(), "NOBODY", timeout=3), items))


def test_plan_splits_over_128_contexts() -> None:
    items = [storage_scu.StoreItem(Path(f"/x/{i}"), f"1.2.3.{i}", f"1.2.4.{i}", ExplicitVRLittleEndian)
             for i in range(200)] + [storage_scu.StoreItem(Path("/y"), "1.2.3.0", "1.2.5", JPEG2000Lossless)]
    groups = storage_scu.plan(items)
    assert len(groups) == 2
    assert all(len(g.contexts) <= 128 for g in groups)
    assert sorted(i.sop_instance_uid for g in groups for i in g.items) == sorted(i.sop_instance_uid for i in items)
    # every instance's SOP class is proposed in its own group, compressed with a native fallback
    for g in groups:
        offered = {(sop, ts) for sop, tss in g.contexts for ts in tss}
        for i in g.items:
            assert (i.sop_class_uid, i.transfer_syntax_uid) in offered
            assert (i.sop_class_uid, ExplicitVRLittleEndian) in offered


def test_parallel_associations_send_everything_once(corpus: Path, ct_only_scp: Scp) -> None:
    items = _items(corpus / "series" / "ct_stack_40", corpus / "mr" / "MR_small.dcm")
    results = list(storage_scu.send(_target(ct_only_scp), items, associations=3))
    assert sorted(r.item.sop_instance_uid for r in results) == sorted(i.sop_instance_uid for i in items)
    assert ct_only_scp.associations == 3
    assert {r.item.sop_instance_uid for r in results if r.category == Category.SUCCESS} == set(ct_only_scp.received)
    assert [r.item.sop_class_uid for r in results if r.category == Category.FAILURE] == [MRImageStorage]


def test_parallel_cancel(corpus: Path, ct_only_scp: Scp) -> None:
    items = _items(corpus / "series" / "ct_stack_40")
    cancel = CancelToken()

    def progress(result: storage_scu.StoreResult, done: int, total: int) -> None:
        if done == 5:
            cancel.cancel()

    with pytest.raises(Cancelled):
        list(storage_scu.send(_target(ct_only_scp), items, progress=progress, cancel=cancel, associations=2))
    assert 5 <= len(ct_only_scp.received) < len(items)


def test_configured_node_and_calling_aet(corpus: Path, ct_only_scp: Scp) -> None:
    from viewer.config import DimseNode, Timeouts

    node = DimseNode("test", "TESTSCP", "127.0.0.1", ct_only_scp.port, timeouts=Timeouts.uniform(10))
    items = _items(corpus / "ct" / "CT_small.dcm")
    results = list(storage_scu.send(node, items, calling_aet="PANELAE"))
    assert [r.category for r in results] == [Category.SUCCESS]
    assert list(ct_only_scp.received) == [items[0].sop_instance_uid]
    assert ct_only_scp.callers == ["PANELAE"]


def test_peer_abort_ends_send_and_resume_sends_the_rest(corpus: Path, tmp_path: Path) -> None:
    from viewer.tasks import send as task

    items = _items(corpus / "series" / "ct_stack_40")[:6]
    state = {"n": 0, "abort_at": 3}
    received: list[str] = []
    ae = AE(ae_title="ABORTSCP")
    ae.add_supported_context(CTImageStorage, ALL_TS)

    def on_store(event: evt.Event) -> int:
        state["n"] += 1
        if state["n"] == state["abort_at"]:
            event.assoc.abort()
            return 0xA700
        received.append(str(event.dataset.SOPInstanceUID))
        return 0

    port = free_port()
    server = ae.start_server(("127.0.0.1", port), block=False, evt_handlers=[(evt.EVT_C_STORE, on_store)])
    try:
        target = StoreTarget("127.0.0.1", port, "ABORTSCP", "SENDTEST", timeout=5)
        report = task.send(target, items, report_path=tmp_path / "r.json")
        assert report.error  # the send stopped with a clear message
        assert "lost" in report.error or "no response" in report.error or "abort" in report.error.lower()
        assert received == [i.sop_instance_uid for i in items[:2]]
        state["abort_at"] = 0
        again = task.send(target, items, resume=task.load_sent(tmp_path / "r.json"))
        assert not again.error and len(again.already_sent) == 2
        assert sorted(received) == sorted(i.sop_instance_uid for i in items)
    finally:
        server.shutdown()


def test_bare_dataset_and_broken_files(corpus: Path, ct_only_scp: Scp) -> None:
    skipped: list[Path] = []
    items = list(storage_scu.iter_items([corpus / "nometa", corpus / "broken"], skipped))
    # non-DICOM and unparseable files are skipped, not sent (oracle: the corpus MANIFEST says
    # which files pydicom reads only with force=True)
    assert {p.name for p in skipped} >= {"not_dicom.txt", "not_dicom.png", "zero_bytes.dcm", "garbage_random.dcm"}
    results = {r.item.path.name: r for r in storage_scu.send(_target(ct_only_scp), items)}
    bare = results["ct_raw_implicit_no_meta.dcm"]
    assert bare.category == Category.SUCCESS, bare.message
    src = dcmread(corpus / "nometa" / "ct_raw_implicit_no_meta.dcm", force=True)
    assert ct_only_scp.received[bare.item.sop_instance_uid] == src
    # broken files fail alone, with a message; the rest of the folder still goes
    for name, r in results.items():
        if name != "ct_raw_implicit_no_meta.dcm" and r.category == Category.FAILURE:
            assert r.message


def test_more_sop_classes_than_contexts_use_several_associations(tmp_path: Path) -> None:
    from pydicom.dataset import Dataset, FileMetaDataset
    from pydicom.uid import generate_uid
    from pynetdicom import AllStoragePresentationContexts

    classes = [str(cx.abstract_syntax) for cx in AllStoragePresentationContexts][:140]
    paths = []
    for i, sop in enumerate(classes):  # one tiny instance per storage SOP class
        ds = Dataset()
        ds.SOPClassUID, ds.SOPInstanceUID = sop, generate_uid()
        ds.PatientID = "SEND-MANY"
        ds.file_meta = FileMetaDataset()
        ds.file_meta.MediaStorageSOPClassUID, ds.file_meta.MediaStorageSOPInstanceUID = sop, ds.SOPInstanceUID
        ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
        paths.append(tmp_path / f"{i:03d}.dcm")
        ds.save_as(paths[-1], enforce_file_format=True)
    gen = _start([(sop, [ExplicitVRLittleEndian, ImplicitVRLittleEndian]) for sop in classes])
    scp = next(gen)
    try:
        results = list(storage_scu.send(_target(scp), _items(tmp_path)))
        assert [r.category for r in results] == [Category.SUCCESS] * len(classes), \
            [r.message for r in results if r.message][:3]
        assert scp.associations == 2  # 140 contexts do not fit in one (PS3.8 9.3.2.2: 128)
        assert sorted(scp.received) == sorted(r.item.sop_instance_uid for r in results)
    finally:
        gen.close()


def test_deflated_is_inflated_for_a_peer_without_deflate(corpus: Path) -> None:
    src = dcmread(corpus / "ts" / "image_dfl.dcm")
    gen = _start([(str(src.SOPClassUID), [ImplicitVRLittleEndian])])
    scp = next(gen)
    try:
        results = list(storage_scu.send(_target(scp), _items(corpus / "ts" / "image_dfl.dcm")))
        assert [r.category for r in results] == [Category.SUCCESS], results[0].message
        got = scp.received[str(src.SOPInstanceUID)]
        assert got.file_meta.TransferSyntaxUID == ImplicitVRLittleEndian
        # oracle: pydicom's own inflate of the file; values only, as Implicit VR carries no
        # VR and the receiver infers OW/OB for Pixel Data by itself (PS3.5 A.1 c)
        assert set(got.keys()) == set(src.keys())
        assert all(got[t].value == src[t].value for t in src.keys())
    finally:
        gen.close()
