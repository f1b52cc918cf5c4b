"""Send a study to Orthanc by C-STORE and by STOW-RS, read every instance back through
Orthanc's REST API (``GET /instances/{id}/file``) and compare the data sets byte for byte."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import pytest
from pydicom import dcmread

from tests.helpers.orthanc import assert_stored_equal, orthanc_file
from tests.helpers.studies import make_study
from viewer.net.dicomweb import DicomWebClient, WebTarget
from viewer.net.storage_scu import Category, StoreTarget
from viewer.tasks import send as task

pytestmark = pytest.mark.peers


def test_c_store_study_reads_back_equal(orthanc, corpus: Path, tmp_path: Path) -> None:
    paths = make_study(corpus, tmp_path / "in", "CSTORE")
    items, skipped = task.collect([tmp_path / "in"])
    report = task.send(StoreTarget("127.0.0.1", orthanc.port, orthanc.aet, "SENDTEST", 20), items,
                       report_path=tmp_path / "report.json")
    assert not report.error and report.count(Category.SUCCESS) == len(paths), report.summary()
    assert_stored_equal(orthanc, paths)
    # The report on disk lists every instance as sent: a resumed send sends nothing.
    again = task.send(StoreTarget("127.0.0.1", orthanc.port, orthanc.aet, "SENDTEST", 20), items,
                      resume=task.load_sent(tmp_path / "report.json"))
    assert again.results == [] and len(again.already_sent) == len(paths)


def test_stow_rs_study_reads_back_equal(orthanc, corpus: Path, tmp_path: Path) -> None:
    paths = make_study(corpus, tmp_path / "in", "STOW")
    items, _ = task.collect([tmp_path / "in"])
    with DicomWebClient(WebTarget(orthanc.dicomweb)) as client:
        report = task.send(client, items)
    assert not report.error and report.count(Category.SUCCESS) == len(paths), report.summary()
    assert_stored_equal(orthanc, paths)


def test_identity_coercion_keeps_old_id(orthanc, corpus: Path, tmp_path: Path) -> None:
    paths = make_study(corpus, tmp_path / "in", "OUTSIDE", mr=[])
    items, _ = task.collect([tmp_path / "in"])
    coerce = task.IdentityCoercion(patient_id="SEND-HOSP1", accession="HACC1")
    report = task.send(StoreTarget("127.0.0.1", orthanc.port, orthanc.aet, "SENDTEST", 20), items, coerce=coerce)
    assert report.count(Category.SUCCESS) == len(paths)
    for p in paths:
        src = dcmread(p)
        got = dcmread(io.BytesIO(orthanc_file(orthanc, str(src.SOPInstanceUID))))
        assert got.PatientID == "SEND-HOSP1" and got.AccessionNumber == "HACC1"
        assert [o.PatientID for o in got.OtherPatientIDsSequence] == ["SEND-OUTSIDE"]
        assert (got.pixel_array == src.pixel_array).all()


def test_cli_send_json(orthanc, corpus: Path, tmp_path: Path, repo_root: Path) -> None:
    paths = make_study(corpus, tmp_path / "in", "CLI", mr=["mr/MR_small.dcm"])
    (tmp_path / "in" / "README.txt").write_text("not dicom")
    out = subprocess.run([sys.executable, "-m", "viewer", "send", "127.0.0.1", str(orthanc.port),
                          "--aec", orthanc.aet, str(tmp_path / "in"), "--json"],
                         capture_output=True, text=True, cwd=repo_root, timeout=120)
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert [r["category"] for r in data["results"]] == ["success"] * len(paths)
    assert data["skipped"] == [str(tmp_path / "in" / "README.txt")]
    assert_stored_equal(orthanc, paths)
    out = subprocess.run([sys.executable, "-m", "viewer", "send", orthanc.dicomweb, str(tmp_path / "in")],
                         capture_output=True, text=True, cwd=repo_root, timeout=120)
    assert out.returncode == 0, out.stderr
    assert f"{len(paths)} sent" in out.stdout


@pytest.mark.parametrize("kind", ["dimse", "web"])
def test_send_paths_to_configured_nodes(orthanc, corpus: Path, tmp_path: Path, kind: str) -> None:
    from viewer.config import DicomWebNode, DimseNode

    paths = make_study(corpus, tmp_path / "in", f"NODE{kind.upper()}", mr=["ts/MR_small_RLE.dcm"])
    node = (DimseNode("pacs", orthanc.aet, "127.0.0.1", orthanc.port) if kind == "dimse"
            else DicomWebNode("pacs-web", orthanc.dicomweb))
    steps = list(task.send_paths(node, [tmp_path / "in"], calling_aet="PANEL"))
    assert [s.done for s in steps[:-1]] == list(range(1, len(paths) + 1))
    report = steps[-1].report
    assert report is not None and not report.error
    assert report.count(Category.SUCCESS) == len(paths), report.summary()
    assert_stored_equal(orthanc, paths)


def test_cli_report_resume_and_coercion(orthanc, corpus: Path, tmp_path: Path, repo_root: Path) -> None:
    paths = make_study(corpus, tmp_path / "in", "CLIRES", mr=[])
    report = tmp_path / "report.json"
    base = [sys.executable, "-m", "viewer", "send", "127.0.0.1", str(orthanc.port), "--aec", orthanc.aet,
            str(tmp_path / "in"), "--report", str(report), "--patient-id", "SEND-CLIMRN"]
    out = subprocess.run(base, capture_output=True, text=True, cwd=repo_root, timeout=120)
    assert out.returncode == 0, out.stderr
    assert json.loads(report.read_text())["summary"].startswith(f"{len(paths)} sent")
    out = subprocess.run(base + ["--resume", str(report)], capture_output=True, text=True, cwd=repo_root,
                         timeout=120)
    assert out.returncode == 0, out.stderr
    assert f"0 sent, 0 with warnings, 0 failed, {len(paths)} already sent" in out.stdout
    got = dcmread(io.BytesIO(orthanc_file(orthanc, str(dcmread(paths[0]).SOPInstanceUID))))
    assert got.PatientID == "SEND-CLIMRN" and got.OtherPatientIDsSequence[0].PatientID == "SEND-CLIRES"


def test_cli_errors_are_one_line(tmp_path: Path, repo_root: Path, corpus: Path) -> None:
    from tests.helpers.peers import free_port

    cases = [
        (["send", "127.0.0.1", "notaport", str(corpus / "ct")], 2, "invalid port"),
        (["send", "127.0.0.1", "104", str(tmp_path / "missing")], 1, "no such file or directory"),
        (["send", "127.0.0.1", "104", str(tmp_path)], 2, "no DICOM files found"),
        (["send", "127.0.0.1", str(free_port()), str(corpus / "ct" / "CT_small.dcm"), "--timeout", "3"], 1,
         "Connection refused"),
        (["send", f"http://127.0.0.1:{free_port()}/dicom-web", str(corpus / "ct" / "CT_small.dcm")], 1,
         "cannot connect"),
    ]
    for argv, code, words in cases:
        out = subprocess.run([sys.executable, "-m", "viewer", *argv], capture_output=True, text=True,
                             cwd=repo_root, timeout=60)
        assert out.returncode == code, (argv, out.stderr)
        last = out.stderr.strip().splitlines()[-1]
        assert last.startswith("dicom-viewer: error:") and words in last, (argv, out.stderr)
        assert "Traceback" not in out.stderr
