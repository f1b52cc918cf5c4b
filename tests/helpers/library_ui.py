"""Studies written with pydicom for the library GUI tests, and a main window over a library of its own."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Iterator

import numpy as np
import pytest
from pydicom.dataset import FileDataset, FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian, generate_uid
from PySide6.QtCore import QSettings

CT = "1.2.840.10008.5.1.4.1.1.2"


def _uid(*parts: object) -> str:
    return str(generate_uid(entropy_srcs=["library-gui", *map(str, parts)]))


def write_study(out: Path, name: str, pid: str, birth: str, date: str, key: str, modality: str = "CT",
                series: int = 1, images: int = 4, description: str = "") -> Path:
    """One study of ``series`` x ``images`` 64x64 slices (positions 5 mm apart) in ``out/key``."""
    folder = out / key
    for s in range(1, series + 1):
        for i in range(1, images + 1):
            meta = FileMetaDataset()
            meta.MediaStorageSOPClassUID = CT
            meta.MediaStorageSOPInstanceUID = _uid(key, s, i)
            meta.TransferSyntaxUID = ExplicitVRLittleEndian
            ds = FileDataset(None, {}, file_meta=meta, preamble=b"\0" * 128)
            ds.SpecificCharacterSet = "ISO_IR 192"  # UTF-8: every PN component group
            ds.SOPClassUID, ds.SOPInstanceUID = CT, meta.MediaStorageSOPInstanceUID
            ds.PatientName, ds.PatientID, ds.PatientBirthDate, ds.PatientSex = name, pid, birth, "O"
            ds.StudyInstanceUID, ds.SeriesInstanceUID = _uid(key, "study"), _uid(key, "series", s)
            ds.StudyID, ds.AccessionNumber = "1", f"ACC-{key}"[:16]
            ds.StudyDate, ds.StudyTime = date, "101500"
            ds.StudyDescription = description or f"{modality} {key}"
            ds.SeriesDescription = f"{modality} series {s}"
            ds.Modality, ds.SeriesNumber, ds.InstanceNumber = modality, s, i
            ds.FrameOfReferenceUID = _uid(key, "for")
            ds.ImagePositionPatient = [0.0, 0.0, 5.0 * i]
            ds.ImageOrientationPatient = [1.0, 0.0, 0.0, 0.0, 1.0, 0.0]
            ds.PixelSpacing, ds.SliceThickness = [0.5, 0.5], 5.0
            ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
            ds.Rows = ds.Columns = 64
            ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 12, 11, 0
            y, x = np.mgrid[0:64, 0:64]
            ds.PixelData = (((x * 64 + y) * (i + s)) % 4096).astype("<u2").tobytes()
            path = folder / f"series{s}" / f"{i}.dcm"
            path.parent.mkdir(parents=True, exist_ok=True)
            ds.save_as(path, enforce_file_format=True)
    return folder


@pytest.fixture
def lib_window(qtbot: Any, tmp_path: Path) -> Iterator[Any]:
    """The main window over a library of its own (a new database and local store)."""
    from viewer.tasks.library_feed import LibraryService
    from viewer.ui.main_window import MainWindow
    from viewer.ui.workers import Pools

    library = LibraryService(tmp_path / "library.sqlite", store_root=tmp_path / "store")
    w = MainWindow(settings=QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat), pools=Pools(),
                   library=library)
    w.quiet_errors = True
    w.resize(1200, 780)
    qtbot.addWidget(w)
    w.show()
    yield w
    w.shutdown()
