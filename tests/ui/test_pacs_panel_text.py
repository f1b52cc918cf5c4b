"""Result cells of the PACS panel: names whole, multi-values joined with backslashes."""

from __future__ import annotations

import pytest
from pydicom.dataset import Dataset

pytestmark = pytest.mark.gui


def test_person_name_is_not_split_into_characters() -> None:
    from viewer.ui.pacs_panel import _text

    ds = Dataset()
    ds.PatientName = "SAMPLE^PATIENT"
    ds.ModalitiesInStudy = ["CT", "MR"]
    ds.StudyDate = "20240101"
    assert _text(ds, "PatientName") == "SAMPLE^PATIENT"
    assert _text(ds, "ModalitiesInStudy") == "CT\\MR"
    assert _text(ds, "StudyDate") == "20240101"
    assert _text(ds, "AccessionNumber") == ""
