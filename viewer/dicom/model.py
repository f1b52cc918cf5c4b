"""The study model: Patient > Study > Series > Instance, keyed by UIDs (PS3.3 C.7, PS3.4 C.6).

The tree grows one :class:`Instance` at a time (:meth:`StudyTree.add`), so a scan can
stream into it. Duplicate SOP Instance UIDs are merged. Series order their instances
along the slice normal and split into sub-stacks (:mod:`viewer.dicom.series_order`).
No Qt, no file access here.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field, fields
from typing import TYPE_CHECKING, Iterator

from viewer.dicom.geometry import PixelSpacing, SliceSpacing

if TYPE_CHECKING:
    from viewer.dicom.series_order import Stack

log = logging.getLogger(__name__)


def format_person_name(value: object) -> str:
    """A PN value for display: ``Family^Given^Middle^Prefix^Suffix`` -> ``"Family, Given Middle"``.

    Uses the alphabetic component group, else the ideographic, else the phonetic one
    (groups are separated by ``=``, PS3.5 6.2.1.1). Prefix and suffix are kept around
    the given names (``"Smith, Dr John, Jr"``) only when present.
    """
    text = "" if value is None else str(value)
    group = next((g for g in text.split("=") if g.strip("^ ")), "")
    parts = [p.strip() for p in group.split("^")] + [""] * 5
    family, given, middle, prefix, suffix = parts[:5]
    first = " ".join(p for p in (prefix, given, middle) if p)
    out = ", ".join(p for p in (family, first) if p)
    return f"{out}, {suffix}" if suffix and out else out or suffix


def format_person_name_groups(value: object) -> str:
    """A PN value with every component group: alphabetic, ideographic and phonetic
    (separated by ``=``, PS3.5 6.2.1.1), each as :func:`format_person_name` writes it,
    joined by ``" = "``: ``"Yamada, Tarou = 山田, 太郎 = やまだ, たろう"``."""
    text = "" if value is None else str(value)
    groups = [format_person_name(g) for g in text.split("=")[:3]]
    return " = ".join(g for g in groups if g)


def format_date(value: str | None) -> str:
    """DA ``YYYYMMDD`` -> ``YYYY-MM-DD``; anything else is returned as it is (PS3.5 6.2).

    The ACR-NEMA form ``YYYY.MM.DD`` (still found on old media) is accepted too.
    """
    text = (value or "").strip()
    if len(text) == 10 and text[4] == text[7] == "." and text.replace(".", "").isdigit():
        text = text.replace(".", "")
    if len(text) == 8 and text.isdigit():
        return f"{text[:4]}-{text[4:6]}-{text[6:]}"
    return text


def format_time(value: str | None) -> str:
    """TM ``HHMMSS.FFFFFF`` -> ``HH:MM:SS`` (fractions dropped; shorter values kept)."""
    text = (value or "").strip().split(".")[0].replace(":", "")
    if len(text) >= 4 and text.isdigit():
        return ":".join(text[i:i + 2] for i in range(0, min(len(text), 6), 2))
    return text


@dataclass
class Instance:
    """One SOP instance (a file, or a DICOMDIR record pointing to one).

    Built by :func:`viewer.dicom.headers.read_instance` from a file header, or by
    :mod:`viewer.dicom.dicomdir` from a directory record (``header_loaded`` False: the
    geometry fields are then None until the file's header is read).
    """

    path: str | None
    sop_instance_uid: str
    sop_class_uid: str = ""
    study_instance_uid: str = ""
    series_instance_uid: str = ""
    patient_id: str = ""
    issuer_of_patient_id: str = ""
    patient_name: str = ""
    patient_birth_date: str = ""
    patient_sex: str = ""
    study_date: str = ""
    study_time: str = ""
    study_description: str = ""
    study_id: str = ""
    accession_number: str = ""
    modality: str = ""
    series_number: int | None = None
    series_description: str = ""
    instance_number: int | None = None
    acquisition_number: int | None = None
    content_time: str = ""
    number_of_frames: int = 1
    rows: int | None = None
    columns: int | None = None
    image_position: tuple[float, float, float] | None = None
    image_orientation: tuple[float, float, float, float, float, float] | None = None
    pixel_spacing: PixelSpacing | None = None
    pixel_aspect: tuple[float, float] | None = None
    slice_thickness: float | None = None
    slice_location: float | None = None
    patient_position: str = ""
    frame_of_reference_uid: str = ""
    body_part_examined: str = ""
    view_position: str = ""  #: View Position (0018,5101), e.g. CC, MLO, PA, LAT
    laterality: str = ""  #: Image Laterality (0020,0062), else the series' Laterality (0020,0060)
    transfer_syntax_uid: str = ""
    image_type: tuple[str, ...] = ()
    echo_number: int | None = None
    temporal_position: int | None = None
    header_loaded: bool = True
    #: Names of the UIDs the file lacked ("SOP Instance", "Series Instance", "Study Instance")
    #: and that the model generated (stable: derived from the path) so it can be shown.
    generated_uids: tuple[str, ...] = ()
    source: str = "file"  #: "file", "dicomdir" or "zip"

    @property
    def patient_key(self) -> tuple[str, str]:
        """Patients are told apart by ID and name together (IDs repeat across issuers)."""
        return (self.patient_id, self.patient_name)

    @property
    def uid_note(self) -> str:
        """What the user is told when UIDs were generated ("" when the file had them all),
        e.g. "Study Instance UID missing: a stable identifier was generated"."""
        if not self.generated_uids:
            return ""
        names = ", ".join(f"{name} UID" for name in self.generated_uids)
        generated = "a stable identifier was" if len(self.generated_uids) == 1 else "stable identifiers were"
        return f"{names} missing: {generated} generated"


@dataclass(eq=False)
class Series:
    """A series: instances sharing a Series Instance UID, sorted in anatomical order."""

    series_instance_uid: str
    modality: str = ""
    series_number: int | None = None
    series_description: str = ""
    study: "Study | None" = field(default=None, repr=False)
    _instances: list[Instance] = field(default_factory=list, repr=False)
    _sorted: list["Stack"] | None = field(default=None, repr=False)

    def _add(self, inst: Instance) -> None:
        self._instances.append(inst)
        self._sorted = None
        self._learn(inst)

    def _learn(self, inst: Instance) -> None:
        """Take the series attributes still unknown from ``inst`` (a DICOMDIR record may lack
        them, PS3.3 F.5; its file's header has them)."""
        if not self.modality and inst.modality:
            self.modality = inst.modality
        if self.series_number is None and inst.series_number is not None:
            self.series_number = inst.series_number
        if not self.series_description and inst.series_description:
            self.series_description = inst.series_description

    def _invalidate(self) -> None:
        self._sorted = None

    @property
    def uid_notes(self) -> list[tuple[str, str]]:
        """``(path, note)`` of the images shown with generated UIDs (:attr:`Instance.uid_note`)."""
        return [(str(i.path or ""), i.uid_note) for i in self._instances if i.generated_uids]

    @property
    def uid_note(self) -> str:
        """The distinct notes of :attr:`uid_notes`, one a line ("" when every image had its UIDs)."""
        return "\n".join(dict.fromkeys(note for _, note in self.uid_notes))

    @property
    def stacks(self) -> list["Stack"]:
        """Sub-stacks (one per orientation/size/stack), each sorted along its normal."""
        if self._sorted is None:
            from viewer.dicom.series_order import split_stacks

            self._sorted = split_stacks(self._instances)
        return self._sorted

    @property
    def instances(self) -> list[Instance]:
        """All instances in display order: stack after stack, each in anatomical order."""
        return [inst for stack in self.stacks for inst in stack.instances]

    @property
    def instance_count(self) -> int:
        return len(self._instances)

    @property
    def frame_count(self) -> int:
        return sum(max(1, i.number_of_frames) for i in self._instances)

    @property
    def spacing(self) -> SliceSpacing | None:
        """Slice spacing of the largest stack, from slice positions (not Slice Thickness)."""
        stacks = self.stacks
        return max(stacks, key=len).spacing if stacks else None

    @property
    def pixel_spacing(self) -> PixelSpacing | None:
        """Pixel spacing of the first instance that has one."""
        return next((i.pixel_spacing for i in self._instances if i.pixel_spacing), None)

    @property
    def headers_loaded(self) -> bool:
        """False while some instance is known only from a DICOMDIR record."""
        return all(i.header_loaded for i in self._instances)


@dataclass(eq=False)
class Study:
    """A study: series sharing a Study Instance UID."""

    study_instance_uid: str
    study_date: str = ""
    study_time: str = ""
    study_description: str = ""
    study_id: str = ""
    accession_number: str = ""
    patient: "Patient | None" = field(default=None, repr=False)
    _series: dict[str, Series] = field(default_factory=dict, repr=False)

    @property
    def series(self) -> list[Series]:
        """Series ordered by Series Number, then description, then UID."""
        big = 1 << 31
        return sorted(self._series.values(),
                      key=lambda s: (s.series_number if s.series_number is not None else big,
                                     s.series_description, s.series_instance_uid))

    @property
    def modalities(self) -> list[str]:
        return sorted({s.modality for s in self._series.values() if s.modality})

    @property
    def instance_count(self) -> int:
        return sum(s.instance_count for s in self._series.values())


@dataclass(eq=False)
class Patient:
    """A patient: studies sharing Patient ID and Patient's Name."""

    patient_id: str
    patient_name: str
    birth_date: str = ""
    sex: str = ""
    _studies: dict[str, Study] = field(default_factory=dict, repr=False)

    @property
    def display_name(self) -> str:
        """``Family, Given Middle`` (see :func:`format_person_name`)."""
        return format_person_name(self.patient_name)

    @property
    def studies(self) -> list[Study]:
        """Studies, newest first (by Study Date and Time)."""
        return sorted(self._studies.values(), key=lambda s: (s.study_date, s.study_time), reverse=True)


class StudyTree:
    """All patients found by a scan; grows incrementally with :meth:`add`.

    Attributes
    ----------
    errors : list of (path, message)
        Files that could not be read, with the reason.
    duplicates : int
        Instances dropped because their SOP Instance UID was already present.
    """

    def __init__(self) -> None:
        self._patients: dict[tuple[str, str], Patient] = {}
        self._studies: dict[str, Study] = {}
        self._series: dict[str, Series] = {}
        self._instances: dict[str, Instance] = {}
        self._where: dict[str, Series] = {}
        self.errors: list[tuple[str, str]] = []
        self.duplicates = 0
        self.missing = 0  #: files a DICOMDIR lists that are not on the medium

    # ------------------------------------------------------------ building
    def add(self, inst: Instance) -> Instance:
        """Insert ``inst``; return the instance kept in the tree.

        A second instance with a known SOP Instance UID is merged: a full header
        replaces a DICOMDIR-only record (the fields are updated in place, so views
        holding the old object see the new values); otherwise the first one wins.
        """
        known = self._instances.get(inst.sop_instance_uid)
        if known is not None:
            if inst.header_loaded and not known.header_loaded:
                for f in fields(Instance):
                    setattr(known, f.name, getattr(inst, f.name))
                holder = self._where[known.sop_instance_uid]
                holder._invalidate()
                holder._learn(known)  # the description the DICOMDIR did not list, now known
                study = holder.study
                if study is not None and not study.study_description and known.study_description:
                    study.study_description = known.study_description
            else:
                self.duplicates += 1
                log.debug("duplicate SOP Instance UID %s (%s)", inst.sop_instance_uid, inst.path)
            return known
        series = self._series.get(inst.series_instance_uid)
        if series is None:
            study = self._study_for(inst)
            series = Series(inst.series_instance_uid, study=study)
            study._series[inst.series_instance_uid] = series
            self._series[inst.series_instance_uid] = series
        series._add(inst)
        self._instances[inst.sop_instance_uid] = inst
        self._where[inst.sop_instance_uid] = series
        return inst

    def _study_for(self, inst: Instance) -> Study:
        study = self._studies.get(inst.study_instance_uid)
        if study is not None:
            return study
        patient = self._patients.get(inst.patient_key)
        if patient is None:
            patient = Patient(inst.patient_id, inst.patient_name, inst.patient_birth_date, inst.patient_sex)
            self._patients[inst.patient_key] = patient
        study = Study(inst.study_instance_uid, inst.study_date, inst.study_time, inst.study_description,
                      inst.study_id, inst.accession_number, patient=patient)
        patient._studies[inst.study_instance_uid] = study
        self._studies[inst.study_instance_uid] = study
        return study

    def add_error(self, path: str, message: str) -> None:
        """Record a file that could not be used."""
        self.errors.append((str(path), message))

    # ------------------------------------------------------------ reading
    @property
    def patients(self) -> list[Patient]:
        """Patients sorted by formatted name, then ID."""
        return sorted(self._patients.values(), key=lambda p: (p.display_name.lower(), p.patient_id))

    def series_by_uid(self, uid: str) -> Series | None:
        return self._series.get(uid)

    def study_by_uid(self, uid: str) -> Study | None:
        return self._studies.get(uid)

    def instance_by_uid(self, uid: str) -> Instance | None:
        return self._instances.get(uid)

    def series_of(self, inst: Instance) -> Series | None:
        """The series holding ``inst`` (by its SOP Instance UID)."""
        return self._where.get(inst.sop_instance_uid)

    def iter_series(self) -> Iterator[Series]:
        for patient in self.patients:
            for study in patient.studies:
                yield from study.series

    def __len__(self) -> int:
        return len(self._instances)
