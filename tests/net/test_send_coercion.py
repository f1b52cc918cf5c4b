"""Identity coercion for outside studies and the resumable report (no network). Oracle:
pydicom reading the coerced data set back from its encoded bytes."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from pydicom import dcmread

from viewer.errors import ReadError
from viewer.net.storage_scu import Category, StoreItem, StoreResult
from viewer.tasks.send import IdentityCoercion, SendReport, collect, load_sent


def _roundtrip(ds):
    buf = io.BytesIO()
    ds.save_as(buf, enforce_file_format=True)
    return dcmread(io.BytesIO(buf.getvalue()))


def test_new_patient_id_keeps_the_old_one(corpus: Path) -> None:
    ds = dcmread(corpus / "ct" / "CT_small.dcm")
    old_id = ds.PatientID
    before = list(ds.OtherPatientIDsSequence)  # CT_small already lists two other IDs
    ds.IssuerOfPatientID = "OUTSIDE-HOSP"
    c = IdentityCoercion(patient_id="MRN1", issuer="OURHOSP", accession="A1")
    got = _roundtrip(c(c(ds)))  # applying twice adds nothing twice
    assert (got.PatientID, got.IssuerOfPatientID, got.AccessionNumber) == ("MRN1", "OURHOSP", "A1")
    assert len(got.OtherPatientIDsSequence) == len(before) + 1
    assert list(got.OtherPatientIDsSequence)[: len(before)] == before
    item = got.OtherPatientIDsSequence[-1]
    assert (item.PatientID, item.IssuerOfPatientID, item.TypeOfPatientID) == (old_id, "OUTSIDE-HOSP", "TEXT")
    assert (got.pixel_array == dcmread(corpus / "ct" / "CT_small.dcm").pixel_array).all()


def test_issuer_of_old_id_is_dropped_without_a_new_one(corpus: Path) -> None:
    ds = dcmread(corpus / "ct" / "CT_small.dcm")
    ds.IssuerOfPatientID = "OUTSIDE"
    got = _roundtrip(IdentityCoercion(patient_id="MRN2")(ds))
    assert "IssuerOfPatientID" not in got
    assert got.OtherPatientIDsSequence[-1].IssuerOfPatientID == "OUTSIDE"
    assert not IdentityCoercion()  # nothing asked: falsy, not applied by the task


def test_report_resume_and_collect(corpus: Path, tmp_path: Path) -> None:
    (tmp_path / "cd").mkdir()
    for name in ("a.dcm", "b.dcm"):
        (tmp_path / "cd" / name).write_bytes((corpus / "ct" / "CT_small.dcm").read_bytes())
    (tmp_path / "cd" / "DICOMDIR").write_bytes((corpus / "dicomdir_media" / "DICOMDIR").read_bytes())
    (tmp_path / "cd" / "notes.txt").write_text("hello")
    items, skipped = collect([tmp_path / "cd"])
    assert len(items) == 1  # the same instance twice on a CD is sent once
    assert sorted(p.name for p in skipped) == ["DICOMDIR", "notes.txt"]
    ok = StoreResult(items[0], 0xB000, Category.WARNING, "status 0xB000")
    bad = StoreResult(StoreItem(Path("x"), "1.2", "9.9", "1.2.840.10008.1.2"), 0xA700, Category.FAILURE, "full")
    report = SendReport("X@h:1", [ok, bad])
    report.save(tmp_path / "r.json")
    assert load_sent(tmp_path / "r.json") == {items[0].sop_instance_uid}
    data = json.loads((tmp_path / "r.json").read_text())
    assert data["summary"] == report.summary() == "0 sent, 1 with warnings, 1 failed -> X@h:1"
    (tmp_path / "bad.json").write_text("{")
    with pytest.raises(ReadError, match="cannot read send report"):
        load_sent(tmp_path / "bad.json")
    with pytest.raises(ReadError, match="no such file"):
        collect([tmp_path / "missing"])
