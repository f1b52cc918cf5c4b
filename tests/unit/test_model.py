"""The study model: PN formatting, merging duplicates, anatomical order and sub-stacks.

Oracles: pydicom's PersonName components and the headers pydicom reads from the corpus
(positions, instance numbers); synthetic instances for the splitting rules.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pydicom
import pytest
from pydicom.valuerep import PersonName

from viewer.dicom.headers import read_instance
from viewer.dicom.model import Instance, StudyTree, format_date, format_person_name, format_time


@pytest.mark.parametrize("pn", [
    "Family^Given^Middle^Dr^Jr",
    "Family^Given",
    "Family",
    "^Given",
    "Yamada^Tarou=山田^太郎=やまだ^たろう",
    "=山田^太郎",
])
def test_format_person_name_against_pydicom_components(pn: str) -> None:
    name = PersonName(pn)
    groups = [name.components[i] if i < len(name.components) else "" for i in range(3)]
    # The first non-empty group is shown; parse it with pydicom again for its components.
    shown = PersonName(next(g for g in groups if g))
    given = " ".join(p for p in (shown.name_prefix, shown.given_name, shown.middle_name) if p)
    expected = ", ".join(p for p in (shown.family_name, given) if p)
    if shown.name_suffix:
        expected += f", {shown.name_suffix}"
    assert format_person_name(pn) == expected


def test_format_person_name_examples() -> None:
    assert format_person_name("Family^Given^Middle") == "Family, Given Middle"
    assert format_person_name("") == ""
    assert format_person_name(None) == ""


def test_format_date_time() -> None:
    assert format_date("20240102") == "2024-01-02"
    assert format_date("2024") == "2024"
    assert format_date("1994.11.05") == "1994-11-05"  # ACR-NEMA style, seen in old files
    assert format_time("101500.123") == "10:15:00"
    assert format_time("1015") == "10:15"


def _inst(uid: str, **kw) -> Instance:
    base = dict(path=f"/x/{uid}", sop_instance_uid=uid, study_instance_uid="1.2.3", series_instance_uid="1.2.3.4",
                patient_id="P1", patient_name="DOE^JOHN", modality="CT", series_number=1)
    base.update(kw)
    return Instance(**base)


def test_tree_merges_duplicates_and_replaces_dicomdir_records() -> None:
    tree = StudyTree()
    record = _inst("1", header_loaded=False, source="dicomdir", instance_number=1)
    kept = tree.add(record)
    assert tree.add(_inst("1", instance_number=99, header_loaded=False)) is kept
    assert tree.duplicates == 1 and kept.instance_number == 1
    # A full header replaces the DICOMDIR record in place.
    header = _inst("1", instance_number=1, rows=64, columns=64, image_position=(0.0, 0.0, 5.0),
                   image_orientation=(1.0, 0.0, 0.0, 0.0, 1.0, 0.0))
    assert tree.add(header) is kept and kept.header_loaded and kept.rows == 64
    tree.add(_inst("2", instance_number=2))
    [patient] = tree.patients
    [study] = patient.studies
    [series] = study.series
    assert patient.display_name == "DOE, JOHN"
    assert series.instance_count == 2 and len(tree) == 2
    assert tree.series_of(kept) is series


def test_ct_stack_sorted_in_anatomical_order(corpus: Path) -> None:
    files = sorted((corpus / "series/ct_stack_40").glob("*.dcm"))
    tree = StudyTree()
    for f in files:
        tree.add(read_instance(f))
    [series] = list(tree.iter_series())
    assert series.instance_count == len(files)
    # Oracle: z from pydicom, file names are shuffled relative to it.
    z_by_path = {str(f): float(pydicom.dcmread(f, stop_before_pixels=True).ImagePositionPatient[2]) for f in files}
    order = [z_by_path[i.path] for i in series.instances]
    assert order == sorted(z_by_path.values())
    assert [str(f) for f in files] != [i.path for i in series.instances]
    numbers = [i.instance_number for i in series.instances]
    assert numbers == sorted(numbers)
    [stack] = series.stacks
    spacing = series.spacing
    steps = np.diff(sorted(z_by_path.values()))
    assert spacing.spacing_mm == pytest.approx(float(np.median(steps)))
    assert [(g.start_mm, g.end_mm) for g in spacing.gaps] == [(pytest.approx(-65.0), pytest.approx(-60.0))]


def test_reverse_numbering_keeps_reading_direction() -> None:
    iop = (1.0, 0.0, 0.0, 0.0, 1.0, 0.0)
    tree = StudyTree()
    for k in range(5):  # numbered head to feet: instance 1 has the highest z
        tree.add(_inst(str(k), instance_number=k + 1, image_position=(0.0, 0.0, 100.0 - 5 * k),
                       image_orientation=iop, rows=8, columns=8))
    [series] = list(tree.iter_series())
    assert [i.instance_number for i in series.instances] == [1, 2, 3, 4, 5]
    assert series.spacing.spacing_mm == pytest.approx(5.0)


def test_split_by_orientation_size_and_repeated_positions() -> None:
    axial = (1.0, 0.0, 0.0, 0.0, 1.0, 0.0)
    sagittal = (0.0, 1.0, 0.0, 0.0, 0.0, -1.0)
    tree = StudyTree()
    n = 0
    for acq in (1, 2):  # two acquisitions over the same positions: two stacks
        for k in range(4):
            n += 1
            tree.add(_inst(f"a{n}", instance_number=n, acquisition_number=acq, image_position=(0.0, 0.0, 3.0 * k),
                           image_orientation=axial, rows=8, columns=8))
    for k in range(3):  # a sagittal localiser in the same series
        n += 1
        tree.add(_inst(f"s{n}", instance_number=n, image_position=(2.0 * k, 0.0, 0.0),
                       image_orientation=sagittal, rows=8, columns=8))
    n += 1
    tree.add(_inst(f"b{n}", instance_number=n, image_position=(0.0, 0.0, 0.0), image_orientation=axial,
                   rows=16, columns=16))  # another size
    n += 1
    tree.add(_inst(f"n{n}", instance_number=n))  # no geometry at all
    [series] = list(tree.iter_series())
    sizes = sorted(len(s) for s in series.stacks)
    assert sizes == [1, 1, 3, 4, 4]
    assert series.instance_count == n == sum(sizes)
    for stack in series.stacks:
        if stack.distances:
            assert stack.distances == sorted(stack.distances) or stack.distances == sorted(stack.distances)[::-1]


def test_repeated_positions_without_distinguishing_numbers() -> None:
    axial = (1.0, 0.0, 0.0, 0.0, 1.0, 0.0)
    tree = StudyTree()
    for k in range(8):  # two passes over 4 positions, same acquisition number
        tree.add(_inst(f"r{k}", instance_number=k + 1, acquisition_number=1,
                       image_position=(0.0, 0.0, 2.0 * (k % 4)), image_orientation=axial, rows=8, columns=8))
    [series] = list(tree.iter_series())
    assert [[i.instance_number for i in s.instances] for s in series.stacks] == [[1, 2, 3, 4], [5, 6, 7, 8]]
    assert all(s.spacing.spacing_mm == pytest.approx(2.0) for s in series.stacks)
    # Uneven repeats stay in one stack, ordered by position then Instance Number.
    tree.add(_inst("extra", instance_number=9, acquisition_number=1, image_position=(0.0, 0.0, 0.0),
                   image_orientation=axial, rows=8, columns=8))
    [stack] = series.stacks
    assert [i.instance_number for i in stack.instances][:3] == [1, 5, 9]


def test_fallback_order_without_geometry() -> None:
    tree = StudyTree()
    tree.add(_inst("3", instance_number=None, acquisition_number=1))
    tree.add(_inst("2", instance_number=2))
    tree.add(_inst("1", instance_number=1, content_time="120001"))
    tree.add(_inst("0", instance_number=1, content_time="120000"))
    [series] = list(tree.iter_series())
    assert [i.sop_instance_uid for i in series.instances] == ["0", "1", "2", "3"]


def test_studies_and_series_ordering() -> None:
    tree = StudyTree()
    tree.add(_inst("1", study_instance_uid="S1", study_date="20200101", series_instance_uid="A", series_number=2))
    tree.add(_inst("2", study_instance_uid="S1", study_date="20200101", series_instance_uid="B", series_number=1))
    tree.add(_inst("3", study_instance_uid="S2", study_date="20230101", series_instance_uid="C", series_number=None))
    [patient] = tree.patients
    assert [s.study_instance_uid for s in patient.studies] == ["S2", "S1"]
    assert [s.series_instance_uid for s in patient.studies[1].series] == ["B", "A"]


def test_different_patients_same_id_are_kept_apart() -> None:
    tree = StudyTree()
    tree.add(_inst("1", study_instance_uid="S1", series_instance_uid="X1", patient_name="A^A"))
    tree.add(replace(_inst("2", study_instance_uid="S2", series_instance_uid="X2", patient_name="B^B")))
    assert [p.display_name for p in tree.patients] == ["A, A", "B, B"]
