"""Key Object Selection documents: ours read by DCMTK ``dsrdump``, highdicom's read by ours.

``dsrdump`` must read our document without complaint and print its title, description and
every referenced instance (image, frame, presentation state); a KO written by highdicom's
:class:`KeyObjectSelectionDocument` (a writer we did not write) must read back with its
title, description and referenced images.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
import pytest
from pydicom import dcmread
from pydicom.uid import generate_uid

from tests.helpers.ct import ct_dataset
from tests.helpers.peers import require_program
from viewer.dicom.ko import KO_SOP_CLASS, TITLES, Referenced, build_key_objects, read_key_objects
from viewer.dicom.pstate import GSPS_SOP_CLASS


def _images(n: int = 3):
    study, series = generate_uid(), generate_uid()
    out = []
    for i in range(n):
        ds = ct_dataset(generate_uid(), study, series, size=8, pixels=np.arange(64) * (i + 1))
        ds.PatientName, ds.StudyDate, ds.StudyTime, ds.InstanceNumber = "Key^Images", "20260101", "101010", i + 1
        ds.AccessionNumber, ds.ReferringPhysicianName, ds.StudyID, ds.SeriesNumber = "A1", "", "S1", 1
        ds.PatientBirthDate, ds.PatientSex = "19700101", "O"
        out.append(ds)
    return out


def _refs(images) -> list[Referenced]:
    return [Referenced(str(d.SOPClassUID), str(d.SOPInstanceUID), str(d.SeriesInstanceUID)) for d in images]


def test_dsrdump_reads_our_key_object_selection(tmp_path: Path) -> None:
    require_program("dsrdump", "dcmtk")
    images = _images()
    pstate = Referenced(GSPS_SOP_CLASS, generate_uid(), generate_uid())
    refs = _refs(images[:2]) + [Referenced(str(images[2].SOPClassUID), str(images[2].SOPInstanceUID),
                                           str(images[2].SeriesInstanceUID), frame=1)]
    ds = build_key_objects(images[0], refs, title=("113004", "For Teaching"), description="Läsion im Oberlappen",
                           pstate=pstate)
    path = tmp_path / "ko.dcm"
    ds.save_as(path, enforce_file_format=True)
    run = subprocess.run(["dsrdump", "+Pu", "+Pl", "+Pc", "+Pt", str(path)], capture_output=True, text=True)
    out = run.stdout + run.stderr
    assert run.returncode == 0, out
    # two notes dsrdump 3.6.7 always prints for such documents are not about ours
    known = ("W: The VR checker does not support this Specific Character Set: ISO_IR 192",
             "W: Check for template constraints not yet supported")
    problems = [line for line in out.splitlines() if line[:2] in ("W:", "E:", "F:") and line not in known]
    assert not problems, out
    assert "Key Object Selection Document" in out
    assert "For Teaching" in out and "Läsion im Oberlappen" in out
    for d in images:
        assert str(d.SOPInstanceUID) in out
    assert pstate.sop_instance_uid in out
    # our reader gives back what we wrote
    back = read_key_objects(dcmread(path))
    assert back.title == ("113004", "DCM", "For Teaching")
    assert back.description == "Läsion im Oberlappen"
    assert [i.sop_instance_uid for i in back.images] == [r.sop_instance_uid for r in refs]
    assert back.images[2].frames == (1,) and back.images[0].frames == ()
    assert all(i.pstate_uid == pstate.sop_instance_uid for i in back.images)
    assert all(i.series_instance_uid == str(images[0].SeriesInstanceUID) for i in back.images)


def test_we_read_highdicoms_key_object_selection() -> None:
    hd = pytest.importorskip("highdicom")
    from highdicom.ko import KeyObjectSelection, KeyObjectSelectionDocument
    from pydicom.sr.coding import Code

    images = _images()
    content = KeyObjectSelection(document_title=Code("113000", "DCM", "Of Interest"), referenced_objects=images[1:],
                                 description="two slices")
    doc = KeyObjectSelectionDocument(evidence=images, content=content, series_instance_uid=hd.UID(),
                                     series_number=10, sop_instance_uid=hd.UID(), instance_number=1,
                                     manufacturer="test")
    assert doc.SOPClassUID == KO_SOP_CLASS
    back = read_key_objects(doc)
    assert back.title == ("113000", "DCM", "Of Interest")
    assert back.description == "two slices"
    assert [i.sop_instance_uid for i in back.images] == [str(d.SOPInstanceUID) for d in images[1:]]
    assert all(i.series_instance_uid == str(images[0].SeriesInstanceUID) for i in back.images)


def test_titles_are_cid_7010_codes() -> None:
    assert TITLES[0] == ("113000", "Of Interest")
    assert len({code for code, _ in TITLES}) == len(TITLES)
