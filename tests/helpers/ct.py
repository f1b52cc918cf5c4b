"""Small CT images built in memory (Explicit VR Little Endian, 16-bit MONOCHROME2)."""

from __future__ import annotations

import numpy as np
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian, generate_uid
from pynetdicom.sop_class import CTImageStorage


def ct_dataset(sop: str, study: str, series: str, *, size: int = 8, pixels: np.ndarray | None = None,
               patient_id: str = "ID1", patient_name: str = "", sop_class: str = CTImageStorage) -> Dataset:
    """A ``size`` x ``size`` CT image with the given UIDs; pixel values ``0, 1, 2, ...``
    unless ``pixels`` (any shape with ``size * size`` values, cast to uint16) says otherwise.
    ``sop_class`` may name another storage class (an MR, to test what a peer accepts)."""
    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.SOPClassUID = sop_class
    ds.SOPInstanceUID, ds.StudyInstanceUID, ds.SeriesInstanceUID = sop, study, series
    ds.Modality, ds.PatientID = "CT", patient_id
    if patient_name:
        ds.PatientName = patient_name
    ds.Rows = ds.Columns = size
    ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 16, 15, 0
    values = np.arange(size * size) if pixels is None else np.asarray(pixels).ravel()
    ds.PixelData = (values % 65536).astype("<u2").tobytes()
    return ds


def ct_image(n: int, tag: str) -> Dataset:
    """Instance ``n`` of a 64x64 CT series (~8 KB of pixel data); UIDs and PatientID from ``tag``."""
    return ct_dataset(generate_uid(entropy_srcs=[tag, str(n)]), generate_uid(entropy_srcs=[f"{tag}-study"]),
                      generate_uid(entropy_srcs=[f"{tag}-series"]), size=64,
                      pixels=np.arange(64 * 64) * (n + 1), patient_id=tag.upper().replace("-", "")[:16])
