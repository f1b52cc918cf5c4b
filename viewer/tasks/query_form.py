"""The PACS panel's query form as C-FIND matching keys: dates as the viewer shows them.

The form shows dates as ``2003-05-05``; a PACS wants DA values (``20030505``, ranges
``20030501-20030531``, PS3.4 C.2.2.2.5.1), and a typed ``2003-05-05`` sent as it is finds
nothing without saying why. :func:`query_keys` turns the form's fields into the keys of a
C-FIND identifier (or QIDO-RS query): the date through
:func:`viewer.dicom.daterange.parse_date_range` (ISO dates, ranges, ``today``,
``last 7 days``), a name typed as the viewer displays it (``Smith, John``) into a PN value
(``Smith^John``). Pure functions; "today" is a parameter.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from viewer.dicom.daterange import parse_date_range


@dataclass(frozen=True)
class QueryForm:
    """What the user typed; empty fields are not sent."""

    level: str = "STUDY"
    patient_name: str = ""
    patient_id: str = ""
    accession: str = ""
    date: str = ""
    modality: str = ""
    study_uid: str = ""


def person_name_key(typed: str) -> str:
    """A name as typed -> a PN matching value (PS3.5 6.2, PS3.4 C.2.2.2.4 wildcards kept).

    ``Smith, John`` (the viewer's display form) -> ``Smith^John``; ``SMITH^J*`` is kept.
    """
    text = " ".join(typed.split())
    if "^" in text or "," not in text:
        return text
    family, _, given = text.partition(",")
    return f"{family.strip()}^{given.strip()}".rstrip("^")


def query_keys(form: QueryForm, today: dt.date | None = None) -> dict[str, str]:
    """Matching keys for ``form`` at its level (only the fields that level has).

    Raises
    ------
    ValueError
        The date is not one :func:`~viewer.dicom.daterange.parse_date_range` understands;
        the message says what is accepted.
    """
    date = parse_date_range(form.date, today).dicom() if form.date.strip() else ""
    keys = {"PatientName": person_name_key(form.patient_name), "PatientID": form.patient_id.strip(),
            "AccessionNumber": form.accession.strip(), "StudyDate": date,
            "ModalitiesInStudy": form.modality.strip().upper(), "StudyInstanceUID": form.study_uid.strip()}
    level = form.level.upper()
    if level == "PATIENT":
        keys = {k: v for k, v in keys.items() if k in ("PatientName", "PatientID")}
    elif level == "SERIES":
        keys = {"StudyInstanceUID": keys["StudyInstanceUID"], "Modality": keys["ModalitiesInStudy"]}
    elif level == "IMAGE":
        keys = {"StudyInstanceUID": keys["StudyInstanceUID"]}
    return {k: v for k, v in keys.items() if v}
