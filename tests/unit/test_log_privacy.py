"""Logs at the default level name no patient.

The GUI writes INFO and above to its log file (viewer/app.py) and the CLI prints WARNING
and above, so every record at INFO or higher is captured while the viewer reads, dumps,
renders, exports, sends, receives and prints images of a patient whose name and IDs are
unique markers; no record (message, arguments or exception text) may contain one.
"""

from __future__ import annotations

import contextlib
import io
import logging
from pathlib import Path

import numpy as np
import pytest
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian, generate_uid

from tests.helpers.peers import free_port
from viewer.cli import main

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")

NAME, FAMILY, PID, OTHER_ID, ACCESSION, BIRTH = "Leakfamily^Leakgiven", "Leakfamily", "PIDLEAK4711", \
    "OTHERLEAK99", "ACCLEAK42", "19230405"
SECRETS = [FAMILY, "Leakgiven", PID, OTHER_ID, ACCESSION, BIRTH]


class _Capture(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def text(self) -> str:
        out = []
        for r in self.records:
            out.append(r.getMessage())
            if r.exc_info and r.exc_info[1] is not None:
                out.append(str(r.exc_info[1]))
        return "\n".join(out)


@pytest.fixture
def capture():
    handler = _Capture()
    root = logging.getLogger()
    old = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    yield handler
    root.removeHandler(handler)
    root.setLevel(old)


def _patient_file(folder: Path, n: int, series: str, study: str) -> Path:
    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.SOPClassUID = ds.file_meta.MediaStorageSOPClassUID = "1.2.840.10008.5.1.4.1.1.2"
    ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID = generate_uid()
    ds.StudyInstanceUID, ds.SeriesInstanceUID = study, series
    ds.PatientName, ds.PatientID, ds.PatientBirthDate = NAME, PID, BIRTH
    ds.OtherPatientIDs, ds.AccessionNumber = OTHER_ID, ACCESSION
    ds.Modality, ds.InstanceNumber = "CT", n
    ds.ImagePositionPatient, ds.ImageOrientationPatient = [0, 0, n], [1, 0, 0, 0, 1, 0]
    ds.PixelSpacing = [1, 1]
    ds.Rows = ds.Columns = 16
    ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 12, 11, 0
    ds.PixelData = (np.arange(256, dtype=np.uint16) * n).tobytes()
    path = folder / f"img{n}.dcm"
    ds.save_as(path, enforce_file_format=True)
    return path


@pytest.fixture
def patient(tmp_path: Path) -> Path:
    folder = tmp_path / "patient"
    folder.mkdir()
    study, series = generate_uid(), generate_uid()
    for n in range(1, 4):
        _patient_file(folder, n, series, study)
    damaged = (folder / "img1.dcm").read_bytes()
    (folder / "cut.dcm").write_bytes(damaged[:700])  # a damaged file: warnings are logged
    return folder


def _assert_clean(capture: _Capture) -> None:
    text = capture.text()
    assert capture.records, "nothing was logged: the check would be empty"
    leaked = [s for s in SECRETS if s in text]
    assert not leaked, f"patient identifiers in the log: {leaked}\n{text}"


def test_reading_dumping_rendering_exporting_log_no_patient(patient: Path, tmp_path: Path, capture) -> None:
    from viewer.dicom.scan import load_tree

    tree = load_tree(patient)
    assert len(list(tree.iter_series())) >= 1
    with contextlib.redirect_stdout(io.StringIO()) as out:
        main(["-v", "scan", str(patient)])
        main(["-v", "dump", str(patient / "img1.dcm")])
        main(["-v", "dump", str(patient / "cut.dcm")])
    assert FAMILY in out.getvalue()  # the output itself shows the patient: that is its job
    main(["-v", "render", str(patient / "img2.dcm"), "-o", str(tmp_path / "x.png")])
    main(["-v", "export", str(patient), "-o", str(tmp_path / "plain")])
    main(["-v", "export", str(patient), "-o", str(tmp_path / "anon"), "--anonymize"])
    _assert_clean(capture)


def test_sending_and_receiving_log_no_patient(patient: Path, tmp_path: Path, capture) -> None:
    from viewer.config import DimseNode, Timeouts
    from viewer.net.storage_scp import StorageSCP
    from viewer.dicom.local_store import LocalStore
    from viewer.tasks.send import send_paths

    scp = StorageSCP(LocalStore(tmp_path / "store"), "VIEWER", free_port(), allowed_calling=["SENDER"]).start()
    try:
        node = DimseNode("self", "VIEWER", "127.0.0.1", scp.port, timeouts=Timeouts.uniform(10))
        report = list(send_paths(node, sorted(patient.glob("img*.dcm")), calling_aet="SENDER"))
        assert len(scp.store.instances()) == 3, report
    finally:
        scp.stop()
    _assert_clean(capture)


def test_print_server_logs_no_patient(tmp_path: Path, capture) -> None:
    from viewer.film.output import make_sink
    from viewer.net.print_scp import PrintServer, load_profile

    print_films = pytest.importorskip("viewer.tasks.print_films")
    print_render = pytest.importorskip("viewer.tasks.print_render")
    print_run = pytest.importorskip("viewer.tasks.print_run")
    profile_mod = pytest.importorskip("viewer.film.profile")
    spec = pytest.importorskip("viewer.film.spec")
    folder = tmp_path / "p"
    folder.mkdir()
    image = _patient_file(folder, 1, generate_uid(), generate_uid())
    prof = load_profile("default")
    sink = make_sink(tmp_path / "prints", prof.min_density, prof.max_density, prof.annotation_formats, 30)
    srv = PrintServer(sink.print_job, prof, aet="VIEWERPRINT", host="127.0.0.1", port=free_port(), timeout=10)
    srv.start()
    try:
        client = profile_mod.permissive_profile("127.0.0.1", srv.port, "VIEWERPRINT")
        box = spec.FilmBoxSpec(display_format="STANDARD\\1,1", film_size="8INX10IN",
                               annotation_display_format_id="ANNOTATION")
        job, _ = print_films.build_job([print_render.ImageRef(str(image))], box,
                                       spec.FilmSessionSpec(label=f"{NAME} {PID}"), client, color=False, bits=8,
                                       annotations={1: f"{NAME} {PID}", 2: ACCESSION})
        report = print_run.run_print_job(job, client)
        assert report.ok
    finally:
        srv.stop()
    _assert_clean(capture)


def test_querying_logs_no_patient(capture) -> None:
    """C-FIND with the patient's name as a key, answered with the patient: INFO logs name no one."""
    from typing import Any, Iterator

    from pynetdicom.sop_class import StudyRootQueryRetrieveInformationModelFind as StudyFind

    from tests.helpers.net import c_find_peer
    from viewer.config import DimseNode, Timeouts
    from viewer.net.find import build_query, find

    def handler(event: Any) -> Iterator[Any]:
        ds = Dataset()
        ds.QueryRetrieveLevel, ds.PatientName, ds.PatientID = "STUDY", NAME, PID
        ds.AccessionNumber, ds.StudyInstanceUID = ACCESSION, generate_uid()
        yield 0xFF00, ds
        yield 0x0000, None

    with c_find_peer(handler, "FINDSCP") as port:
        node = DimseNode("q", "FINDSCP", "127.0.0.1", port, timeouts=Timeouts.uniform(10))
        query = build_query("STUDY", {"PatientName": FAMILY + "*", "PatientID": PID})
        got = list(find(node, "VIEWER", query, StudyFind))
        assert str(got[0].PatientName) == NAME
        with contextlib.redirect_stdout(io.StringIO()):
            main(["-v", "find", "127.0.0.1", str(port), "-aec", "FINDSCP", "-k", f"PatientName={FAMILY}*"])
    _assert_clean(capture)
