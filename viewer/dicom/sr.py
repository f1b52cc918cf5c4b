"""Structured reports: the SR content tree as plain values (PS3.3 C.17.3, C.18).

:func:`read_report` turns an SR Document (Basic Text, Enhanced, Comprehensive, Comprehensive
3D, Key Object Selection and the other SR storage classes) into a :class:`Report`: the
document header and a tree of :class:`ContentItem`, each with its relationship to its
parent, value type, concept name and value as display-ready text, plus the image
references that a viewer turns into links. No Qt; formatting lives in
:mod:`viewer.dicom.sr_report`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from pydicom.dataset import Dataset
from pydicom.sequence import Sequence as DicomSequence
from pydicom.uid import UID

from viewer.dicom.model import format_person_name

#: Deepest content tree read; deeper nesting is cut with a note (a hostile file must not
#: exhaust the stack).
MAX_DEPTH = 64


@dataclass(frozen=True)
class Code:
    """A coded entry (PS3.3 8.8): value, coding scheme designator and meaning."""

    value: str
    scheme: str
    meaning: str

    def __str__(self) -> str:
        return f"{self.meaning} ({self.value}, {self.scheme})" if self.value else self.meaning


@dataclass(frozen=True)
class ImageRef:
    """A referenced SOP instance (IMAGE / COMPOSITE / WAVEFORM items, PS3.3 C.18.3-C.18.5)."""

    sop_class_uid: str
    sop_instance_uid: str
    frames: tuple[int, ...] = ()
    presentation_state_uid: str = ""

    @property
    def sop_class_name(self) -> str:
        name = UID(self.sop_class_uid).name if self.sop_class_uid else ""
        return name if name and name != self.sop_class_uid else self.sop_class_uid


@dataclass
class ContentItem:
    """One node of the content tree.

    Attributes
    ----------
    relationship : str
        Relationship Type to the parent (``CONTAINS``, ``HAS PROPERTIES``, ...); empty at the root.
    value_type : str
        ``CONTAINER``, ``TEXT``, ``CODE``, ``NUM``, ``DATE``, ``TIME``, ``DATETIME``,
        ``PNAME``, ``UIDREF``, ``IMAGE``, ``COMPOSITE``, ``WAVEFORM``, ``SCOORD``,
        ``SCOORD3D``, ``TCOORD``, or ``BY-REFERENCE``.
    concept : Code or None
        Concept Name Code Sequence.
    text : str
        The value as text (empty for containers).
    code : Code or None
        Concept Code of a CODE item.
    number : str, unit : Code or None
        Numeric Value as written, and its unit (NUM items, PS3.3 C.18.1).
    references : list of ImageRef
        Referenced instances (IMAGE, COMPOSITE, WAVEFORM; the source of SCOORDs).
    children : list of ContentItem
    """

    relationship: str
    value_type: str
    concept: Code | None = None
    text: str = ""
    code: Code | None = None
    number: str = ""
    unit: Code | None = None
    graphic_type: str = ""
    graphic_data: tuple[float, ...] = ()
    references: list[ImageRef] = field(default_factory=list)
    children: list[ContentItem] = field(default_factory=list)
    continuity: str = ""

    @property
    def name(self) -> str:
        return self.concept.meaning if self.concept else ""


@dataclass
class Report:
    """An SR document: what the header says and its content tree."""

    title: Code | None
    sop_class_name: str
    patient_name: str = ""
    patient_id: str = ""
    patient_sex: str = ""
    patient_birth_date: str = ""
    referring_physician: str = ""
    study_description: str = ""
    study_id: str = ""
    study_date: str = ""
    series_description: str = ""
    series_number: str = ""
    manufacturer: str = ""
    completion_flag: str = ""
    verification_flag: str = ""
    preliminary_flag: str = ""
    content_date: str = ""
    content_time: str = ""
    observers: list[str] = field(default_factory=list)
    root: ContentItem | None = None
    notes: list[str] = field(default_factory=list)

    def references(self) -> list[ImageRef]:
        """Every referenced instance in document order (for "open the referenced image")."""
        out: list[ImageRef] = []

        def walk(item: ContentItem) -> None:
            out.extend(item.references)
            for child in item.children:
                walk(child)

        if self.root is not None:
            walk(self.root)
        return out


def is_structured_report(ds: Dataset) -> bool:
    """True for a data set with an SR Document Content module (a Value Type at the top)."""
    return "ValueType" in ds and "ContentSequence" in ds or str(ds.get("Modality", "")) == "SR"


def _text(ds: Dataset, keyword: str) -> str:
    value = ds.get(keyword)
    if value is None:
        return ""
    if isinstance(value, (list, tuple)) or type(value).__name__ == "MultiValue":
        return "\\".join(str(v) for v in value)
    return str(value).strip()


def _code(seq: object) -> Code | None:
    if not isinstance(seq, DicomSequence) or not seq:
        return None
    item = seq[0]
    value = _text(item, "CodeValue") or _text(item, "LongCodeValue") or _text(item, "URNCodeValue")
    return Code(value, _text(item, "CodingSchemeDesignator"), _text(item, "CodeMeaning"))


def format_pn(value: object) -> str:
    """A person name with every component group (alphabetic = ideographic = phonetic, PS3.5 6.2.1.1)."""
    text = "" if value is None else str(value)
    groups = [format_person_name(g) for g in text.split("=") if g.strip("^ ")]
    return " = ".join(groups)


def _refs(ds: Dataset) -> list[ImageRef]:
    out = []
    for ref in ds.get("ReferencedSOPSequence") or []:
        frames: tuple[int, ...] = ()
        raw = ref.get("ReferencedFrameNumber")
        if raw is not None:
            try:
                frames = tuple(int(v) for v in (raw if isinstance(raw, (list, tuple)) or
                                                type(raw).__name__ == "MultiValue" else [raw]))
            except (TypeError, ValueError):
                frames = ()
        pstate = ""
        for ps in ref.get("ReferencedSOPSequence") or []:  # PS3.3 C.18.4: a presentation state
            pstate = _text(ps, "ReferencedSOPInstanceUID")
        out.append(ImageRef(_text(ref, "ReferencedSOPClassUID"), _text(ref, "ReferencedSOPInstanceUID"),
                            frames, pstate))
    return out


def _value(item: ContentItem, ds: Dataset) -> None:
    vt = item.value_type
    if vt == "TEXT":
        item.text = _text(ds, "TextValue")
    elif vt == "CODE":
        item.code = _code(ds.get("ConceptCodeSequence"))
        item.text = str(item.code) if item.code else ""
    elif vt == "NUM":
        measured = ds.get("MeasuredValueSequence") or []
        if measured:
            mv = measured[0]
            item.number = _text(mv, "NumericValue")
            item.unit = _code(mv.get("MeasurementUnitsCodeSequence"))
            unit = item.unit.value if item.unit else ""
            item.text = f"{item.number} {unit}".strip()
        else:
            qualifier = _code(ds.get("NumericValueQualifierCodeSequence"))
            item.text = f"(no value: {qualifier.meaning})" if qualifier else "(no value)"
    elif vt == "DATE":
        item.text = _iso_date(_text(ds, "Date"))
    elif vt == "TIME":
        item.text = _iso_time(_text(ds, "Time"))
    elif vt == "DATETIME":
        raw = _text(ds, "DateTime")
        item.text = f"{_iso_date(raw[:8])} {_iso_time(raw[8:])}".strip()
    elif vt == "PNAME":
        item.text = format_pn(ds.get("PersonName"))
    elif vt == "UIDREF":
        item.text = _text(ds, "UID")
    elif vt in ("IMAGE", "COMPOSITE", "WAVEFORM"):
        item.references = _refs(ds)
        item.text = ", ".join(f"{r.sop_class_name} {r.sop_instance_uid}" for r in item.references)
    elif vt in ("SCOORD", "SCOORD3D"):
        item.graphic_type = _text(ds, "GraphicType")
        try:
            item.graphic_data = tuple(float(v) for v in ds.get("GraphicData") or [])
        except (TypeError, ValueError):
            item.graphic_data = ()
        dim = 3 if vt == "SCOORD3D" else 2
        pts = [item.graphic_data[i:i + dim] for i in range(0, len(item.graphic_data) - dim + 1, dim)]
        coords = ", ".join("/".join(f"{v:g}" for v in p) for p in pts)
        frame = _text(ds, "ReferencedFrameOfReferenceUID")
        item.text = f"{item.graphic_type} {coords}" + (f" (frame of reference {frame})" if frame else "")
    elif vt == "TCOORD":
        item.text = _text(ds, "TemporalRangeType")
    elif vt == "CONTAINER":
        item.continuity = _text(ds, "ContinuityOfContent")


def _iso_date(da: str) -> str:
    return f"{da[:4]}-{da[4:6]}-{da[6:8]}" if len(da) >= 8 and da[:8].isdigit() else da


def _iso_time(tm: str) -> str:
    tm = tm.replace(":", "")
    if len(tm) >= 6:
        return f"{tm[:2]}:{tm[2:4]}:{tm[4:6]}"
    if len(tm) >= 4:
        return f"{tm[:2]}:{tm[2:4]}"
    return tm


def _item(ds: Dataset, relationship: str, depth: int, notes: list[str]) -> ContentItem:
    if "ReferencedContentItemIdentifier" in ds and "ValueType" not in ds:
        ident = ".".join(str(v) for v in ds.ReferencedContentItemIdentifier)
        return ContentItem(relationship, "BY-REFERENCE", text=f"see item {ident}")
    item = ContentItem(relationship, _text(ds, "ValueType") or "CONTAINER",
                       _code(ds.get("ConceptNameCodeSequence")))
    _value(item, ds)
    children = ds.get("ContentSequence") or []
    if depth >= MAX_DEPTH and children:
        notes.append(f"content nested deeper than {MAX_DEPTH} levels was not shown")
        return item
    for child in children:
        item.children.append(_item(child, _text(child, "RelationshipType"), depth + 1, notes))
    return item


def read_report(ds: Dataset) -> Report:
    """The header and content tree of an SR document.

    Parameters
    ----------
    ds : Dataset
        An SR document (PS3.3 A.35). Missing attributes give empty strings, not errors.

    Returns
    -------
    Report
    """
    sop_class = _text(ds, "SOPClassUID")
    name = UID(sop_class).name if sop_class else "SR Document"
    notes: list[str] = []
    report = Report(
        title=_code(ds.get("ConceptNameCodeSequence")),
        sop_class_name=name.replace(" Storage", "") if name else "SR Document",
        patient_name=format_pn(ds.get("PatientName")),
        patient_id=_text(ds, "PatientID"),
        patient_sex=_text(ds, "PatientSex"),
        patient_birth_date=_iso_date(_text(ds, "PatientBirthDate")),
        referring_physician=format_pn(ds.get("ReferringPhysicianName")),
        study_description=_text(ds, "StudyDescription"),
        study_id=_text(ds, "StudyID"),
        study_date=_iso_date(_text(ds, "StudyDate")),
        series_description=_text(ds, "SeriesDescription"),
        series_number=_text(ds, "SeriesNumber"),
        manufacturer=_text(ds, "Manufacturer"),
        completion_flag=_text(ds, "CompletionFlag"),
        verification_flag=_text(ds, "VerificationFlag"),
        preliminary_flag=_text(ds, "PreliminaryFlag"),
        content_date=_iso_date(_text(ds, "ContentDate")),
        content_time=_iso_time(_text(ds, "ContentTime")),
        notes=notes,
    )
    for verifier in ds.get("VerifyingObserverSequence") or []:
        report.observers.append(f"verified by {format_pn(verifier.get('VerifyingObserverName'))} "
                                f"({_text(verifier, 'VerifyingOrganization')}, "
                                f"{_iso_date(_text(verifier, 'VerificationDateTime')[:8])})")
    report.root = _item(ds, "", 0, notes)
    return report
