"""The PACS query form's fields -> C-FIND keys: dates as shown (2003-05-05, ranges, today, last 7 days)."""

from __future__ import annotations

import datetime as dt

import pytest
from pydicom.dataset import Dataset

from viewer.tasks.query_form import QueryForm, person_name_key, query_keys

TODAY = dt.date(2026, 12, 6)


@pytest.mark.parametrize("typed, sent", [
    ("2003-05-05", "20030505"),
    ("2003-05-01..2003-05-31", "20030501-20030531"),
    ("today", "20261206"),
    ("last 7 days", "20261130-20261206"),
    ("20030501-", "20030501-"),
])
def test_date_as_shown_becomes_a_da_range(typed: str, sent: str) -> None:
    keys = query_keys(QueryForm(date=typed), TODAY)
    assert keys == {"StudyDate": sent}
    # pydicom accepts it as a DA value (a single date) or a range of two (PS3.4 C.2.2.2.5.1).
    ds = Dataset()
    ds.StudyDate = sent
    assert str(ds.StudyDate) == sent


def test_bad_date_is_a_message() -> None:
    with pytest.raises(ValueError, match="not a date"):
        query_keys(QueryForm(date="05/05/03"), TODAY)


@pytest.mark.parametrize("typed, pn", [("Smith, John", "Smith^John"), ("SMITH^J*", "SMITH^J*"), ("DOE*", "DOE*"),
                                       ("  van  Dijk,  Anna ", "van Dijk^Anna"), ("Smith,", "Smith")])
def test_names_as_displayed(typed: str, pn: str) -> None:
    assert person_name_key(typed) == pn


def test_levels_keep_their_keys() -> None:
    form = QueryForm(level="PATIENT", patient_name="Doe, J*", patient_id="P1", accession="A", date="today",
                     modality="ct", study_uid="1.2")
    assert query_keys(form, TODAY) == {"PatientName": "Doe^J*", "PatientID": "P1"}
    assert query_keys(QueryForm(**{**form.__dict__, "level": "STUDY"}), TODAY) == {
        "PatientName": "Doe^J*", "PatientID": "P1", "AccessionNumber": "A", "StudyDate": "20261206",
        "ModalitiesInStudy": "CT", "StudyInstanceUID": "1.2"}
    assert query_keys(QueryForm(**{**form.__dict__, "level": "SERIES"}), TODAY) == {
        "StudyInstanceUID": "1.2", "Modality": "CT"}
    assert query_keys(QueryForm(**{**form.__dict__, "level": "IMAGE"}), TODAY) == {"StudyInstanceUID": "1.2"}
