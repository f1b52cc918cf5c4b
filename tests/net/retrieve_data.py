"""Shared by the fast receive path tests (test_retrieve_speed_path, test_stream_store): small
CT images to send, and the switch that turns every fast path off (pynetdicom as oracle)."""

from __future__ import annotations

import numpy as np
import pytest
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian, generate_uid
from pynetdicom.sop_class import CTImageStorage

from viewer.net import _fast_dul, _fast_rsp, _serve_inline
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
