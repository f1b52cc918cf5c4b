"""Key Object Selection documents (PS3.3 A.35.4, template TID 2010): read and write.

A KO document names the key images of a study: its root container's concept name is the
document title (CID 7010, e.g. "Of Interest" (113000, DCM)), an optional TEXT item "Key
Object Description" (113012, DCM) says why, and each IMAGE item references an image (and
frames, and optionally the presentation state to show it with, PS3.3 C.18.4). The
Current Requested Procedure Evidence Sequence lists every instance referenced, by study
and series (C.17.2.3).

No Qt. The GUI shows a KO series as a "Key images" entry whose images are the referenced
frames (``viewer.ui.key_images``).
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Sequence
from dataclasses import dataclass

from pydicom.dataset import Dataset
from pydicom.sequence import Sequence as DicomSequence
from pydicom.uid import UID, generate_uid

from viewer.dicom.file_meta import explicit_le_meta
from viewer.errors import DecodeError

#: Key Object Selection Document Storage (PS3.4 B.5)
KO_SOP_CLASS = "1.2.840.10008.5.1.4.1.1.88.59"

#: CID 7010 Key Object Selection Document Title (PS3.16), (code value, meaning); scheme DCM
TITLES: tuple[tuple[str, str], ...] = (
    ("113000", "Of Interest"),
    ("113001", "Rejected for Quality Reasons"),
    ("113002", "For Referring Provider"),
    ("113003", "For Surgery"),
    ("113004", "For Teaching"),
    ("113005", "For Conference"),
    ("113006", "For Therapy"),
    ("113007", "For Patient"),
    ("113008", "For Peer Review"),
    ("113009", "For Research"),
    ("113010", "Quality Issue"),
    ("113013", "Best In Set"),
    ("113018", "For Printing"),
    ("113020", "For Report Attachment"),
)
DESCRIPTION_CODE = ("113012", "DCM", "Key Object Description")


@dataclass(frozen=True)
class KeyImage:
    """One referenced instance; ``frames`` 1-based (empty: every frame)."""

    sop_class_uid: str
    sop_instance_uid: str
    frames: tuple[int, ...] = ()
    series_instance_uid: str = ""  # from the evidence sequence, when listed there
    pstate_uid: str = ""  # the presentation state to show it with, when given


@dataclass(frozen=True)
class KeyObjectSelection:
    sop_instance_uid: str
    study_instance_uid: str
    title: tuple[str, str, str]  # (code value, scheme, meaning)
    description: str
    images: tuple[KeyImage, ...]
    created: str  # Content Date + Time


def _str(ds: Dataset, keyword: str) -> str:
    value = ds.get(keyword, None)
    return "" if value is None else str(value).strip()


def _items(ds: Dataset, keyword: str) -> list[Dataset]:
    value = ds.get(keyword, None)
    if not value or isinstance(value, (str, bytes)):
        return []
    return [item for item in value if isinstance(item, Dataset)]


def _code(ds: Dataset) -> tuple[str, str, str]:
    items = _items(ds, "ConceptNameCodeSequence")
    if not items:
        return "", "", ""
    c = items[0]
    return _str(c, "CodeValue") or _str(c, "LongCodeValue"), _str(c, "CodingSchemeDesignator"), _str(c, "CodeMeaning")


def is_key_object_selection(ds: Dataset) -> bool:
    return _str(ds, "SOPClassUID") == KO_SOP_CLASS


def read_key_objects(ds: Dataset) -> KeyObjectSelection:
    """Read a Key Object Selection document.

    Raises
    ------
    DecodeError
        When ``ds`` is not one.
    """
    if not is_key_object_selection(ds):
        raise DecodeError(f"not a Key Object Selection document (SOP Class {_str(ds, 'SOPClassUID') or 'missing'})")
    series_of: dict[str, str] = {}
    for study in _items(ds, "CurrentRequestedProcedureEvidenceSequence"):
        for series in _items(study, "ReferencedSeriesSequence"):
            for ref in _items(series, "ReferencedSOPSequence"):
                series_of[_str(ref, "ReferencedSOPInstanceUID")] = _str(series, "SeriesInstanceUID")
    images: list[KeyImage] = []
    description = ""
    for item in _items(ds, "ContentSequence"):
        kind = _str(item, "ValueType").upper()
        if kind == "TEXT" and _code(item)[0] == DESCRIPTION_CODE[0]:
            description = _str(item, "TextValue")
        elif kind in ("IMAGE", "COMPOSITE"):
            refs = _items(item, "ReferencedSOPSequence")
            if not refs:
                continue
            ref = refs[0]
            frames = ref.get("ReferencedFrameNumber", None)
            frame_list: list[int] = []
            if frames is not None:
                try:
                    frame_list = [int(f) for f in (frames if isinstance(frames, Sequence) and not isinstance(
                        frames, str) else [frames])]
                except (TypeError, ValueError):
                    frame_list = []
            nested = _items(ref, "ReferencedSOPSequence")
            uid = _str(ref, "ReferencedSOPInstanceUID")
            images.append(KeyImage(_str(ref, "ReferencedSOPClassUID"), uid, tuple(frame_list), series_of.get(uid, ""),
                                   _str(nested[0], "ReferencedSOPInstanceUID") if nested else ""))
    return KeyObjectSelection(_str(ds, "SOPInstanceUID"), _str(ds, "StudyInstanceUID"), _code(ds), description,
                              tuple(images), _str(ds, "ContentDate") + _str(ds, "ContentTime").split(".")[0])


@dataclass(frozen=True)
class Referenced:
    """An instance to reference: an image (``frame`` 1-based, 0 for none) or a presentation state."""

    sop_class_uid: str
    sop_instance_uid: str
    series_instance_uid: str
    frame: int = 0


_PATIENT_STUDY = ("PatientName", "PatientID", "PatientBirthDate", "PatientSex", "IssuerOfPatientID",
                  "StudyInstanceUID", "StudyDate", "StudyTime", "ReferringPhysicianName", "StudyID",
                  "AccessionNumber", "StudyDescription")


def _code_item(value: str, scheme: str, meaning: str) -> Dataset:
    c = Dataset()
    c.CodeValue, c.CodingSchemeDesignator, c.CodeMeaning = value, scheme, meaning
    return c


def build_key_objects(header: Dataset, images: Sequence[Referenced], *, title: tuple[str, str] = TITLES[0],
                      description: str = "", pstate: Referenced | None = None,
                      pstate_for: set[str] | None = None, series_number: int = 9001,
                      created: _dt.datetime | None = None) -> Dataset:
    """A Key Object Selection document (with File Meta Information) on ``images``.

    ``title`` is a (code value, meaning) of CID 7010; ``pstate`` a presentation state to show
    the images with, named for the images whose SOP Instance UIDs are in ``pstate_for``
    (default: all; it must reference them, C.18.4); ``header`` gives the Patient and Study.
    """
    if not images:
        raise ValueError("a key object selection references at least one image")
    now = created or _dt.datetime.now()
    ds = Dataset()
    if not description.isascii():
        ds.SpecificCharacterSet = "ISO_IR 192"
    ds.SOPClassUID = UID(KO_SOP_CLASS)
    ds.SOPInstanceUID = generate_uid()
    ds.InstanceCreationDate, ds.InstanceCreationTime = now.strftime("%Y%m%d"), now.strftime("%H%M%S")
    for kw in _PATIENT_STUDY:
        value = header.get(kw, None)
        setattr(ds, kw, value if value is not None else "")
    # Key Object Document Series (C.17.6.1)
    ds.Modality = "KO"
    ds.SeriesInstanceUID = generate_uid()
    ds.SeriesNumber = series_number
    ds.SeriesDescription = title[1]
    ds.ReferencedPerformedProcedureStepSequence = DicomSequence([])
    ds.Manufacturer = "dicom-viewer"
    # Key Object Document (C.17.6.2)
    ds.InstanceNumber = 1
    ds.ContentDate, ds.ContentTime = ds.InstanceCreationDate, ds.InstanceCreationTime
    evidence = Dataset()
    evidence.StudyInstanceUID = header.StudyInstanceUID
    by_series: dict[str, list[Referenced]] = {}
    seen: set[str] = set()
    for ref in list(images) + ([pstate] if pstate is not None else []):
        if ref.sop_instance_uid not in seen:
            seen.add(ref.sop_instance_uid)
            by_series.setdefault(ref.series_instance_uid, []).append(ref)
    series_items = []
    for uid, refs in by_series.items():
        s = Dataset()
        s.SeriesInstanceUID = uid
        sops = []
        for ref in refs:
            item = Dataset()
            item.ReferencedSOPClassUID, item.ReferencedSOPInstanceUID = ref.sop_class_uid, ref.sop_instance_uid
            sops.append(item)
        s.ReferencedSOPSequence = DicomSequence(sops)
        series_items.append(s)
    evidence.ReferencedSeriesSequence = DicomSequence(series_items)
    ds.CurrentRequestedProcedureEvidenceSequence = DicomSequence([evidence])
    # SR Document Content (C.17.3), TID 2010
    ds.ValueType = "CONTAINER"
    ds.ConceptNameCodeSequence = DicomSequence([_code_item(title[0], "DCM", title[1])])
    ds.ContinuityOfContent = "SEPARATE"
    template = Dataset()
    template.MappingResource, template.TemplateIdentifier = "DCMR", "2010"
    ds.ContentTemplateSequence = DicomSequence([template])
    content = []
    if description:
        text = Dataset()
        text.RelationshipType, text.ValueType = "CONTAINS", "TEXT"
        text.ConceptNameCodeSequence = DicomSequence([_code_item(*DESCRIPTION_CODE)])
        text.TextValue = description[:1024]
        content.append(text)
    for ref in images:
        item = Dataset()
        item.RelationshipType, item.ValueType = "CONTAINS", "IMAGE"
        sop = Dataset()
        sop.ReferencedSOPClassUID, sop.ReferencedSOPInstanceUID = ref.sop_class_uid, ref.sop_instance_uid
        if ref.frame:
            sop.ReferencedFrameNumber = ref.frame
        if pstate is not None and (pstate_for is None or ref.sop_instance_uid in pstate_for):
            ps = Dataset()
            ps.ReferencedSOPClassUID, ps.ReferencedSOPInstanceUID = pstate.sop_class_uid, pstate.sop_instance_uid
            sop.ReferencedSOPSequence = DicomSequence([ps])
        item.ReferencedSOPSequence = DicomSequence([sop])
        content.append(item)
    ds.ContentSequence = DicomSequence(content)
    ds.file_meta = explicit_le_meta(ds)
    return ds
