"""Reading back what Orthanc holds: a stored file through its REST API, a plain C-FIND."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import requests
from pydicom import dcmread
from pydicom.dataset import Dataset
from pydicom.filereader import _read_file_meta_info, read_preamble
from pynetdicom import AE
from pynetdicom.sop_class import StudyRootQueryRetrieveInformationModelFind

from viewer.net.fastpath.response_guard import guard


def dataset_bytes(data: bytes) -> bytes:
    """The encoded data set of a PS3.10 file: everything after the File Meta Information."""
    fp = io.BytesIO(data)
    read_preamble(fp, False)
    _read_file_meta_info(fp)
    return fp.read()


def orthanc_file(orthanc: Any, sop_uid: str) -> bytes:
    """The file Orthanc stored for SOP Instance UID ``sop_uid`` (``GET /instances/{id}/file``)."""
    found = requests.post(f"{orthanc.url}/tools/lookup", data=sop_uid, timeout=10).json()
    ids = [f["ID"] for f in found if f["Type"] == "Instance"]
    assert len(ids) == 1, f"{sop_uid} not in Orthanc"
    rsp = requests.get(f"{orthanc.url}/instances/{ids[0]}/file", timeout=30)
    rsp.raise_for_status()
    return rsp.content


def assert_stored_equal(orthanc: Any, paths: list[Path]) -> None:
    """Every file in ``paths`` is in Orthanc with the same data set, byte for byte."""
    for p in paths:
        sop = str(dcmread(p, stop_before_pixels=True).SOPInstanceUID)
        got = orthanc_file(orthanc, sop)
        assert dataset_bytes(got) == dataset_bytes(p.read_bytes()), p


def c_find(orthanc: Any, level: str, keys: dict[str, str]) -> list[Dataset]:
    """A Study Root C-FIND to Orthanc with pynetdicom (the oracle of our own queries)."""
    ae = AE(ae_title="WEBTEST")
    ae.add_requested_context(StudyRootQueryRetrieveInformationModelFind)
    assoc = ae.associate("127.0.0.1", orthanc.port, ae_title=orthanc.aet)
    assert assoc.is_established
    guard(assoc)  # pynetdicom's reactor must not take the responses (viewer.net.fastpath.response_guard)
    q = Dataset()
    q.QueryRetrieveLevel = level
    for k, v in keys.items():
        setattr(q, k, v)
    out = [ident for status, ident in assoc.send_c_find(q, StudyRootQueryRetrieveInformationModelFind)
           if status and status.Status in (0xFF00, 0xFF01) and ident is not None]
    assoc.release()
    return out
