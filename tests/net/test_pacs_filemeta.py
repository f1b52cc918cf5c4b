"""The fast C-STORE receive path against pydicom/pynetdicom as oracles: the File Meta
header equals pynetdicom's own encoding byte for byte, and the UIDs equal pydicom's reading,
for every transfer syntax the storage SCP accepts uncompressed."""

from __future__ import annotations

import zlib
from io import BytesIO

import pytest
from pydicom import dcmread
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.filewriter import write_dataset
from pydicom.sequence import Sequence
from pydicom.uid import (DeflatedExplicitVRLittleEndian, ExplicitVRBigEndian, ExplicitVRLittleEndian,
                         ImplicitVRLittleEndian)
from pynetdicom import PYNETDICOM_IMPLEMENTATION_UID, PYNETDICOM_IMPLEMENTATION_VERSION
from pynetdicom.dsutils import encode_file_meta

from viewer.net._filemeta import file_header, study_series_uids


@pytest.mark.parametrize("sop_class, sop", [("1.2.840.10008.5.1.4.1.1.2", "1.2.3.4"),
                                            ("1.2.840.10008.5.1.4.1.1.4", "1.2.3.45")])
@pytest.mark.parametrize("ts", [ImplicitVRLittleEndian, ExplicitVRLittleEndian, ExplicitVRBigEndian])
def test_file_header_equals_pynetdicom(sop_class: str, sop: str, ts: str) -> None:
    meta = FileMetaDataset()
    meta.FileMetaInformationGroupLength = 0
    meta.FileMetaInformationVersion = b"\x00\x01"
    meta.MediaStorageSOPClassUID = sop_class
    meta.MediaStorageSOPInstanceUID = sop
    meta.TransferSyntaxUID = ts
    meta.ImplementationClassUID = PYNETDICOM_IMPLEMENTATION_UID
    meta.ImplementationVersionName = PYNETDICOM_IMPLEMENTATION_VERSION
    expected = b"\x00" * 128 + b"DICM" + encode_file_meta(meta)
    assert file_header(sop_class, sop, ts, PYNETDICOM_IMPLEMENTATION_UID, PYNETDICOM_IMPLEMENTATION_VERSION) \
        == expected


def _encoded(ts: str) -> bytes:
    ds = Dataset()
    ds.SOPClassUID, ds.SOPInstanceUID = "1.2.840.10008.5.1.4.1.1.2", "1.2.3"
    item = Dataset()
    item.ReferencedSOPInstanceUID = "9.9.9"
    ds.ReferencedImageSequence = Sequence([item])  # a sequence before group 0020
    ds.StudyInstanceUID, ds.SeriesInstanceUID = "1.2.840.1234.5", "1.2.840.1234.5.6"
    ds.InstanceNumber = 1
    ds.BitsAllocated = 16
    ds.PixelData = b"\x00\x01" * 8
    implicit = ts == ImplicitVRLittleEndian
    little = ts != ExplicitVRBigEndian
    from pydicom.filebase import DicomBytesIO

    out = DicomBytesIO()
    out.is_little_endian, out.is_implicit_VR = little, implicit
    write_dataset(out, ds)
    raw = out.getvalue()
    if ts == DeflatedExplicitVRLittleEndian:
        c = zlib.compressobj(wbits=-zlib.MAX_WBITS)
        raw = c.compress(raw) + c.flush()
    return raw


@pytest.mark.parametrize("ts", [ImplicitVRLittleEndian, ExplicitVRLittleEndian, ExplicitVRBigEndian,
                                DeflatedExplicitVRLittleEndian])
def test_uids_equal_pydicom(ts: str) -> None:
    raw = _encoded(ts)
    whole = dcmread(BytesIO(file_header("1.2.840.10008.5.1.4.1.1.2", "1.2.3", ts, "1.2.3.4") + raw))
    assert study_series_uids(raw, ts) == (whole.StudyInstanceUID, whole.SeriesInstanceUID)
