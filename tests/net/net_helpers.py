"""Helpers shared by the network tests: small CT images, a pynetdicom C-GET peer, a C-STORE
sender and C-GET runner, waiting for a server to drop a connection, and the switch that
turns every fast path off (pynetdicom as the oracle)."""

from __future__ import annotations

import socket
import time
from contextlib import contextmanager
from typing import Any, Iterator

import numpy as np
import pytest
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian, generate_uid
from pynetdicom import AE, evt
from pynetdicom.sop_class import CTImageStorage, StudyRootQueryRetrieveInformationModelGet, Verification

from peers import free_port

from viewer.config import DimseNode, Timeouts
from viewer.net import _fast_dul, _fast_rsp, _serve_inline
from viewer.net.get import get
from viewer.net.progress import RetrieveProgress, retrieve_identifier
from viewer.net.store import LocalStore


def ct_image(n: int, tag: str) -> Dataset:
    """A 64x64 CT image, explicit VR little endian, ~8 KB of pixel data; UIDs from ``tag``."""
    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.SOPClassUID = CTImageStorage
    ds.SOPInstanceUID = generate_uid(entropy_srcs=[tag, str(n)])
    ds.StudyInstanceUID = generate_uid(entropy_srcs=[f"{tag}-study"])
    ds.SeriesInstanceUID = generate_uid(entropy_srcs=[f"{tag}-series"])
    ds.PatientID, ds.Modality = tag.upper().replace("-", "")[:16], "CT"
    ds.Rows = ds.Columns = 64
    ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 16, 15, 0
    ds.PixelData = (np.arange(64 * 64, dtype="<u2") * (n + 1)).tobytes()
    return ds


def pynetdicom_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """Turn off every fast path: pynetdicom as shipped is the oracle."""
    for module in (_fast_dul, _fast_rsp, _serve_inline):
        monkeypatch.setattr(module, "install", lambda *a, **k: False)


def stored_files(store: LocalStore) -> dict[str, bytes]:
    """File name -> bytes of every instance in ``store``."""
    return {p.name: p.read_bytes() for p in store.instances()}


@contextmanager
def c_get_peer(data: list[Dataset]) -> Iterator[int]:
    """A pynetdicom Q/R SCP answering any C-GET with ``data`` (CT, explicit VR LE); yields its port."""
    def handler(event: Any) -> Iterator[Any]:
        yield len(data)
        for ds in data:
            yield 0xFF00, ds

    ae = AE(ae_title="PEER")
    ae.add_supported_context(StudyRootQueryRetrieveInformationModelGet)
    ae.add_supported_context(CTImageStorage, ExplicitVRLittleEndian, scu_role=True, scp_role=True)
    port = free_port()
    server = ae.start_server(("127.0.0.1", port), block=False, evt_handlers=[(evt.EVT_C_GET, handler)])
    try:
        yield port
    finally:
        server.shutdown()


def store_all(port: int, data: list[Dataset], ts: str = ExplicitVRLittleEndian, calling: str = "PACS",
              timeout: float = 5) -> list[int] | None:
    """Send ``data`` to ``port`` (AE VIEWER) with pynetdicom's C-STORE SCU on one
    association, on a context with transfer syntax ``ts`` (Verification proposed too); the
    response statuses, or None if the association was not accepted."""
    ae = AE(ae_title=calling)
    ae.add_requested_context(CTImageStorage, ts)
    ae.add_requested_context(Verification)
    ae.acse_timeout = ae.dimse_timeout = ae.network_timeout = timeout
    assoc = ae.associate("127.0.0.1", port, ae_title="VIEWER")
    if not assoc.is_established:
        return None
    try:
        return [int(assoc.send_c_store(ds).Status) for ds in data]
    finally:
        assoc.release()


def wait_closed(sock: socket.socket, limit: float) -> float:
    """Read ``sock`` until the peer closes it (or ``limit`` s pass); the seconds waited."""
    started = time.monotonic()
    sock.settimeout(limit)
    try:
        while sock.recv(1024):
            pass
    except (ConnectionResetError, socket.timeout):
        pass
    return time.monotonic() - started


def run_get(port: int, store: LocalStore, data: list[Dataset]) -> list[RetrieveProgress]:
    """C-GET the study of ``data`` from the peer on ``port`` (AE PEER) into ``store``."""
    node = DimseNode("peer", "PEER", "127.0.0.1", port, timeouts=Timeouts(5, 5, 10, 10))
    ident = retrieve_identifier("STUDY", {"StudyInstanceUID": str(data[0].StudyInstanceUID)})
    return list(get(node, "VIEWER", ident, StudyRootQueryRetrieveInformationModelGet, store,
                    sop_classes=[CTImageStorage]))
