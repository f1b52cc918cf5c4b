"""The start of every generated file: a data set with its file meta information (PS3.10 7.1)."""

from __future__ import annotations

from pydicom.dataset import FileDataset, FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian, generate_uid


def new_instance(sop_class: str, transfer_syntax: str = ExplicitVRLittleEndian) -> FileDataset:
    """An empty instance of ``sop_class`` with a fresh SOP Instance UID, the same UIDs in its
    file meta (Media Storage SOP Class/Instance UID) and ``transfer_syntax``; the caller adds
    the rest and saves it (``save_as(path, enforce_file_format=True)``)."""
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = sop_class
    meta.MediaStorageSOPInstanceUID = generate_uid()
    meta.TransferSyntaxUID = transfer_syntax
    ds = FileDataset(None, {}, file_meta=meta, preamble=b"\0" * 128)
    ds.SOPClassUID, ds.SOPInstanceUID = sop_class, meta.MediaStorageSOPInstanceUID
    return ds
