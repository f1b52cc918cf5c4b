#!/usr/bin/env python
"""Benchmark of sending and retrieving a study, against Orthanc, as instances per second.

Usage::

    python bench/send.py [--n 300] [--size 512] [--repeat 2] [--keep DIR]

Generates ``--n`` CT instances (``--size``² 16-bit, uncompressed, one study) in a temporary
folder, starts Orthanc (with its DICOMweb plugin) on free ports, and times, in the same run:

* C-STORE by DCMTK ``storescu`` (the reference) and by ours (:mod:`viewer.net.storage_scu`),
  on one association as storescu and on 4 in parallel;
* STOW-RS by ours (:mod:`viewer.net.dicomweb`);
* C-GET by ours (:mod:`viewer.net.get`, falls back to pynetdicom when missing) and
  WADO-RS by ours, of the whole study into an empty folder.

The study is deleted from Orthanc before each send. Each figure is the best of ``--repeat``
runs. Target: our C-STORE at least as fast as storescu (ratio >= 1.0).
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable

import numpy as np
import requests
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import UID, ExplicitVRLittleEndian, generate_uid

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # the repository root: ``viewer`` and the tests' ``tests.helpers.peers``

from tests.helpers import peers  # noqa: E402  (the test suite's peer launcher)
from viewer.net import storage_scu  # noqa: E402
from viewer.net.dicomweb import DicomWebClient, WebTarget  # noqa: E402

CT = UID("1.2.840.10008.5.1.4.1.1.2")


def make_study(out: Path, n: int, size: int) -> list[Path]:
    """``n`` CT slices of one series, PatientID BENCH-SEND."""
    study, series, frame = generate_uid(), generate_uid(), generate_uid()
    yy, xx = np.mgrid[:size, :size]
    base = ((xx + yy) % 2048).astype(np.uint16)
    paths = []
    for i in range(n):
        ds = Dataset()
        ds.SOPClassUID = CT
        ds.SOPInstanceUID = generate_uid()
        ds.StudyInstanceUID, ds.SeriesInstanceUID, ds.FrameOfReferenceUID = study, series, frame
        ds.PatientName, ds.PatientID, ds.PatientBirthDate, ds.PatientSex = "BENCH^SEND", "BENCH-SEND", "19700101", "O"
        ds.StudyDate, ds.StudyTime, ds.StudyID, ds.AccessionNumber = "20240101", "120000", "1", "BSEND1"
        ds.Modality, ds.SeriesNumber, ds.InstanceNumber = "CT", 1, i + 1
        ds.ImagePositionPatient, ds.ImageOrientationPatient = [0, 0, float(i)], [1, 0, 0, 0, 1, 0]
        ds.PixelSpacing, ds.SliceThickness = [0.7, 0.7], 1.0
        ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
        ds.Rows = ds.Columns = size
        ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 12, 11, 0
        ds.RescaleIntercept, ds.RescaleSlope = -1024, 1
        ds.PixelData = ((base + i) % 4096).astype(np.uint16).tobytes()
        ds.file_meta = FileMetaDataset()
        ds.file_meta.MediaStorageSOPClassUID = CT
        ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
        ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
        path = out / f"IM{i:04d}.dcm"
        ds.save_as(path, enforce_file_format=True)
        paths.append(path)
    return paths


def clear(orthanc: peers.Orthanc) -> None:
    orthanc.reset()


def count(orthanc: peers.Orthanc) -> int:
    return int(requests.get(f"{orthanc.url}/statistics", timeout=30).json()["CountInstances"])


def best(label: str, n: int, runs: int, setup: Callable[[], None], work: Callable[[], int]) -> float:
    rates = []
    for _ in range(runs):
        setup()
        t0 = time.perf_counter()
        done = work()
        dt = time.perf_counter() - t0
        if done != n:
            raise SystemExit(f"{label}: {done} of {n} instances")
        rates.append(n / dt)
    rate = max(rates)
    print(f"{label:34s} {rate:8.1f} instances/s  (best of {runs})", flush=True)
    return rate


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=300)
    ap.add_argument("--size", type=int, default=512)
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--keep", metavar="DIR", help="keep generated files and peer state here")
    a = ap.parse_args()

    work = Path(a.keep) if a.keep else Path(tempfile.mkdtemp(prefix="bench-send-"))
    work.mkdir(parents=True, exist_ok=True)
    src = work / "study"
    src.mkdir(exist_ok=True)
    paths = make_study(src, a.n, a.size)
    mb = sum(p.stat().st_size for p in paths) / 1e6
    print(f"{a.n} instances, {a.size}x{a.size} 16-bit, {mb:.0f} MB", flush=True)
    orthanc = peers.start_orthanc(work, peers.free_port())
    try:
        items = [item for item in map(storage_scu.read_item, paths) if item is not None]
        target = storage_scu.StoreTarget("127.0.0.1", orthanc.port, orthanc.aet, "BENCH", 60)
        storescu = shutil.which("storescu")

        def run_storescu() -> int:
            assert storescu is not None  # only run when DCMTK is installed
            subprocess.run([storescu, "-aet", "BENCH", "-aec", orthanc.aet, "127.0.0.1", str(orthanc.port),
                            *map(str, paths)], check=True, capture_output=True)
            return count(orthanc)

        def run_ours(associations: int = 1) -> int:
            return sum(r.category == "success" for r in storage_scu.send(target, items, associations=associations))

        web = DicomWebClient(WebTarget(orthanc.dicomweb, timeout=120))

        def run_stow() -> int:
            return sum(r.category == "success" for r in web.store(items))

        ref = best("C-STORE DCMTK storescu", a.n, a.repeat, lambda: clear(orthanc), run_storescu) if storescu else 0.0
        ours = best("C-STORE ours (storage_scu)", a.n, a.repeat, lambda: clear(orthanc), run_ours)
        ours4 = best("C-STORE ours, 4 associations", a.n, a.repeat, lambda: clear(orthanc), lambda: run_ours(4))
        best("STOW-RS ours", a.n, a.repeat, lambda: clear(orthanc), run_stow)

        # Retrieval: the study is in Orthanc now (from the STOW run).
        import pydicom

        study_uid = str(pydicom.dcmread(paths[0], stop_before_pixels=True).StudyInstanceUID)
        dest = work / "retrieved"

        def empty_dest() -> None:
            shutil.rmtree(dest, ignore_errors=True)

        def run_wado() -> int:
            return len(web.retrieve(dest, study_uid))

        def run_cget() -> int:
            from viewer.config import DimseNode
            from viewer.net.get import get
            from viewer.dicom.local_store import LocalStore
            from pynetdicom.sop_class import StudyRootQueryRetrieveInformationModelGet

            q = Dataset()
            q.QueryRetrieveLevel = "STUDY"
            q.StudyInstanceUID = study_uid
            node = DimseNode("bench", orthanc.aet, "127.0.0.1", orthanc.port)
            for _ in get(node, "BENCH", q, StudyRootQueryRetrieveInformationModelGet, LocalStore(dest),
                         sop_classes=[CT]):
                pass
            return len(list(dest.rglob("*.dcm")))

        cget = best("C-GET ours (viewer.net.get)", a.n, a.repeat, empty_dest, run_cget)
        wado = best("WADO-RS ours", a.n, a.repeat, empty_dest, run_wado)
        if ref:
            print(f"ratio C-STORE ours / storescu: {ours / ref:.2f} (target >= 1.0); "
                  f"with 4 associations {ours4 / ref:.2f}")
        print(f"ratio WADO-RS / C-GET:          {wado / cget:.2f}")
    finally:
        orthanc.stop()
        if not a.keep:
            shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
