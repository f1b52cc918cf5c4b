"""Files lacking UIDs, for the tests of images shown with generated identifiers."""

from __future__ import annotations

from pathlib import Path

import pydicom
from pydicom.data import get_testdata_file


def without_uids(out: Path, *keywords: str) -> Path:
    """pydicom's CT_small.dcm with the named UIDs (e.g. ``StudyInstanceUID``) empty, saved to ``out``."""
    ds = pydicom.dcmread(get_testdata_file("CT_small.dcm"))
    for kw in keywords:
        setattr(ds, kw, "")
    if "SOPInstanceUID" in keywords:
        ds.file_meta.MediaStorageSOPInstanceUID = ""
    ds.save_as(out)
    return out
