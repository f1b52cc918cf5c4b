"""Modality Worklist C-FIND (PS3.4 K): scheduled procedure steps and their requested procedures.

The query carries the Scheduled Procedure Step Sequence (0040,0100) with one item holding
the step's matching keys (PS3.4 K.6.1.2.2: modality, station AE, start date/time...),
and the return keys of the requested procedure, imaging service request, visit and patient.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Iterator

from pydicom.dataset import Dataset
from pynetdicom.sop_class import ModalityWorklistInformationFind

from viewer.config import DimseNode
from viewer.dicom.model import format_person_name_groups
from viewer.cancel import CancelToken
from viewer.net.find import find, set_key

log = logging.getLogger(__name__)

MWL_MODEL = ModalityWorklistInformationFind

#: Return keys inside the Scheduled Procedure Step item (PS3.4 K.6.1.2.2, Table K.6-1).
SPS_KEYS = ("ScheduledStationAETitle", "ScheduledProcedureStepStartDate", "ScheduledProcedureStepStartTime",
            "Modality", "ScheduledPerformingPhysicianName", "ScheduledProcedureStepDescription",
            "ScheduledStationName", "ScheduledProcedureStepLocation", "ScheduledProcedureStepID",
            "ScheduledProcedureStepStatus")
#: Return keys at the top level: requested procedure, service request, patient.
TOP_KEYS = ("RequestedProcedureID", "RequestedProcedureDescription", "RequestedProcedurePriority",
            "StudyInstanceUID", "AccessionNumber", "ReferringPhysicianName", "RequestingPhysician",
            "PatientName", "PatientID", "PatientBirthDate", "PatientSex", "AdmissionID")


@dataclass
class WorklistFilter:
    """The usual worklist matching keys; empty means "any" (universal matching)."""

    modality: str = ""
    station_aet: str = ""
    #: A date or a range, ``20240115``, ``20240101-20240131`` (PS3.4 C.2.2.2.5).
    date: str = ""
    patient_name: str = ""
    patient_id: str = ""
    accession: str = ""
    #: Extra ``(key, value)`` pairs, DCMTK-style paths allowed (see :func:`set_key`).
    extra: list[tuple[str, str]] = field(default_factory=list)


def build_worklist_query(flt: WorklistFilter | None = None) -> Dataset:
    """The MWL identifier for ``flt`` with every default return key."""
    flt = flt or WorklistFilter()
    ds = Dataset()
    for kw in TOP_KEYS:
        set_key(ds, kw, "")
    sps_path = "ScheduledProcedureStepSequence[0]."
    for kw in SPS_KEYS:
        set_key(ds, sps_path + kw, "")
    for path, value in ((sps_path + "Modality", flt.modality), (sps_path + "ScheduledStationAETitle", flt.station_aet),
                        (sps_path + "ScheduledProcedureStepStartDate", flt.date), ("PatientName", flt.patient_name),
                        ("PatientID", flt.patient_id), ("AccessionNumber", flt.accession), *flt.extra):
        if value:
            set_key(ds, path, value)
    return ds


def worklist(node: DimseNode, calling_aet: str, query: Dataset,
             token: CancelToken | None = None) -> Iterator[Dataset]:
    """Stream the worklist items matching ``query`` (see :func:`viewer.net.find.find`)."""
    return find(node, calling_aet, query, MWL_MODEL, token=token)


@dataclass
class RequestedProcedure:
    """A requested procedure and its scheduled steps (the parent/child shown in the panel)."""

    key: str
    item: Dataset
    steps: list[Dataset] = field(default_factory=list)

    @property
    def label(self) -> str:
        """``Family, Given (ID) acc A: procedure``, the name as the viewer shows names (every
        component group, PS3.5 6.2.1.1); parts the SCP left empty are left out."""
        d = self.item
        raw = str(d.get("PatientName", "") or "")
        text = f"{format_person_name_groups(raw) or raw} ({d.get('PatientID', '') or ''})"
        if d.get("AccessionNumber"):
            text += f" acc {d.AccessionNumber}"
        procedure = f"{d.get('RequestedProcedureID', '') or ''} {d.get('RequestedProcedureDescription', '') or ''}"
        return f"{text}: {procedure.strip()}" if procedure.strip() else text


def group_by_procedure(items: list[Dataset]) -> list[RequestedProcedure]:
    """Group worklist responses by requested procedure (Study Instance UID, else
    Accession Number + Requested Procedure ID); each response is one step (PS3.4 K.6.1.1)."""
    groups: dict[str, RequestedProcedure] = {}
    for ds in items:
        key = str(ds.get("StudyInstanceUID", "") or "") or \
            f"{ds.get('AccessionNumber', '')}/{ds.get('RequestedProcedureID', '')}"
        group = groups.setdefault(key, RequestedProcedure(key, ds))
        group.steps.extend(ds.get("ScheduledProcedureStepSequence", []) or [Dataset()])
    return list(groups.values())
