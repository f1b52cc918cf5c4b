"""C-FIND (PS3.4 C.4.1): query building for the Q/R models and a streaming query.

:func:`build_query` turns a level, a root and DCMTK-style ``KEY=VALUE`` keys into an
identifier with the unique, required and optional keys of that level (PS3.4 C.6.1.1 for
Patient Root, C.6.2.1 for Study Root) plus the related-count attributes (PS3.4 C.3.4),
so peers that support them return them. :func:`find` streams the matches.
"""

from __future__ import annotations

import enum
import logging
import re
import time
from typing import Iterable, Iterator, Mapping

from pydicom.datadict import dictionary_VR, keyword_for_tag, tag_for_keyword
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence as DicomSequence
from pydicom.tag import Tag
from pynetdicom import sop_class as sc

from viewer.config import DimseNode
from viewer.errors import Cancelled, NetError, UsageError
from viewer.cancel import CancelToken
from viewer.net.association import (CANCEL, FAILURE, PENDING, WARNING, Context, required_context,
                                    associate, cancel_watch, check_final, describe_status, release,
                                    status_category, status_of)

log = logging.getLogger(__name__)


class Level(str, enum.Enum):
    """Query/Retrieve Level (0008,0052), upper case as PS3.4 C.6 defines the values."""

    PATIENT = "PATIENT"
    STUDY = "STUDY"
    SERIES = "SERIES"
    IMAGE = "IMAGE"


class Root(str, enum.Enum):
    """Information model: Patient Root or Study Root (PS3.4 C.6.1/C.6.2)."""

    PATIENT = "patient"
    STUDY = "study"


FIND_MODEL = {Root.PATIENT: sc.PatientRootQueryRetrieveInformationModelFind,
              Root.STUDY: sc.StudyRootQueryRetrieveInformationModelFind}
MOVE_MODEL = {Root.PATIENT: sc.PatientRootQueryRetrieveInformationModelMove,
              Root.STUDY: sc.StudyRootQueryRetrieveInformationModelMove}
GET_MODEL = {Root.PATIENT: sc.PatientRootQueryRetrieveInformationModelGet,
             Root.STUDY: sc.StudyRootQueryRetrieveInformationModelGet}

#: Unique key of each level (PS3.4 C.6.1.1 / C.6.2.1).
UNIQUE_KEY = {Level.PATIENT: "PatientID", Level.STUDY: "StudyInstanceUID",
              Level.SERIES: "SeriesInstanceUID", Level.IMAGE: "SOPInstanceUID"}

_PATIENT_KEYS = ("PatientName", "PatientID", "PatientBirthDate", "PatientSex")
#: Return keys asked for by default at each level: required and optional keys plus the
#: related counts of PS3.4 C.3.4 (optional; dcmqrscp leaves them out, Orthanc answers).
DEFAULT_KEYS: dict[Level, tuple[str, ...]] = {
    Level.PATIENT: (*_PATIENT_KEYS, "NumberOfPatientRelatedStudies", "NumberOfPatientRelatedSeries",
                    "NumberOfPatientRelatedInstances"),
    Level.STUDY: ("StudyInstanceUID", "StudyDate", "StudyTime", "AccessionNumber", "StudyID",
                  "StudyDescription", "ReferringPhysicianName", "ModalitiesInStudy", "SOPClassesInStudy",
                  "NumberOfStudyRelatedSeries", "NumberOfStudyRelatedInstances"),
    Level.SERIES: ("SeriesInstanceUID", "Modality", "SeriesNumber", "SeriesDescription", "SeriesDate",
                   "BodyPartExamined", "NumberOfSeriesRelatedInstances"),
    Level.IMAGE: ("SOPInstanceUID", "SOPClassUID", "InstanceNumber", "Rows", "Columns", "NumberOfFrames"),
}
_ORDER = [Level.PATIENT, Level.STUDY, Level.SERIES, Level.IMAGE]

_TAG = re.compile(r"^\(?([0-9A-Fa-f]{4}),?([0-9A-Fa-f]{4})\)?$")
_ITEM = re.compile(r"^(.*?)(?:\[(\d+)\])?$")


def parse_level(value: str) -> Level:
    """A :class:`Level` from any case; :class:`UsageError` for an unknown one."""
    try:
        return Level(value.strip().upper())
    except ValueError:
        raise UsageError(f"unknown query level {value!r}: use PATIENT, STUDY, SERIES or IMAGE") from None


def parse_root(value: str) -> Root:
    try:
        return Root(value.strip().lower())
    except ValueError:
        raise UsageError(f"unknown query root {value!r}: use patient or study") from None


def _keyword(part: str) -> str:
    """Keyword for ``PatientName``, ``0010,0010`` or ``(0010,0010)``."""
    m = _TAG.match(part.strip())
    if m:
        tag = Tag(int(m.group(1), 16), int(m.group(2), 16))
        kw = keyword_for_tag(tag)
        if not kw:
            raise UsageError(f"unknown tag {part!r} (private and unknown tags are not supported in keys)")
        return kw
    if tag_for_keyword(part.strip()) is None:
        raise UsageError(f"unknown attribute {part!r}: use a DICOM keyword (PatientName) or a tag (0010,0010)")
    return part.strip()


def set_key(ds: Dataset, path: str, value: str) -> None:
    """Set one DCMTK-style key in ``ds``: ``PatientName``, ``0010,0010``, or a path into a
    sequence item such as ``ScheduledProcedureStepSequence[0].Modality``.

    An empty value asks for the attribute as a return key (universal matching, PS3.4 C.2.2.2.3).
    """
    parts = path.split(".") if not _TAG.match(path.strip()) else [path]
    # A tag path "0040,0100[0].0008,0060" splits on "." only between parts, which works
    # because neither keywords nor tags contain dots.
    target = ds
    for i, raw in enumerate(parts):
        m = _ITEM.match(raw)
        name, index = (m.group(1), m.group(2)) if m else (raw, None)
        kw = _keyword(name)
        last = i == len(parts) - 1
        vr = dictionary_VR(kw)
        if vr == "SQ":
            seq = target.get(kw)
            if seq is None:
                seq = DicomSequence([])
                setattr(target, kw, seq)
                seq = target[kw].value
            if last:
                if value:
                    raise UsageError(f"{kw} is a sequence: give a key inside it, e.g. {kw}[0].Keyword=VALUE")
                continue
            idx = int(index or 0)
            while len(seq) <= idx:
                seq.append(Dataset())
            target = seq[idx]
            continue
        if not last:
            raise UsageError(f"{kw} is not a sequence in {path!r}")
        _set_value(target, kw, vr, value)


def _set_value(ds: Dataset, kw: str, vr: str, value: str) -> None:
    if value == "":
        setattr(ds, kw, None if vr in ("US", "UL", "SS", "SL", "FL", "FD") else "")
        return
    if vr in ("US", "UL", "SS", "SL"):
        try:
            setattr(ds, kw, int(value))
        except ValueError:
            raise UsageError(f"{kw} needs an integer, not {value!r}") from None
        return
    if "\\" in value and vr not in ("LO", "LT", "ST", "UT", "PN"):
        setattr(ds, kw, value.split("\\"))  # multiple values: list matching (PS3.4 C.2.2.2.2)
        return
    setattr(ds, kw, value)


def parse_keys(items: Iterable[str]) -> list[tuple[str, str]]:
    """``["PatientID=PAT*", "StudyDate"]`` -> ``[("PatientID", "PAT*"), ("StudyDate", "")]``."""
    out = []
    for item in items:
        key, _, value = item.partition("=")
        if not key.strip():
            raise UsageError(f"bad key {item!r}: use KEY=VALUE or KEY")
        out.append((key.strip(), value))
    return out


def build_query(level: Level | str, keys: Mapping[str, str] | Iterable[tuple[str, str]] | Iterable[str] = (),
                root: Root | str = Root.STUDY, defaults: bool = True) -> Dataset:
    """A C-FIND identifier for ``level`` in ``root``.

    Parameters
    ----------
    level
        PATIENT, STUDY, SERIES or IMAGE (any case; sent upper case).
    keys
        Matching and return keys: a mapping, ``(key, value)`` pairs or ``"KEY=VALUE"``
        strings. Keys are keywords, ``gggg,eeee`` tags or sequence paths (see :func:`set_key`).
        Wildcards ``*``/``?`` and date ranges ``20240101-20241231`` pass through to the peer
        (PS3.4 C.2.2.2.4, C.2.2.2.5).
    root
        ``study`` or ``patient``; PATIENT level exists only in Patient Root (PS3.4 C.6.2).
    defaults
        Also ask for the default return keys of the level and of the levels above it
        (study root asks for the patient attributes at STUDY level and below).

    Raises
    ------
    UsageError
        Unknown level, root or attribute, or PATIENT level in Study Root.
    """
    level = parse_level(level) if isinstance(level, str) else level
    root = parse_root(root) if isinstance(root, str) else root
    if root is Root.STUDY and level is Level.PATIENT:
        raise UsageError("PATIENT level is only in the Patient Root model (PS3.4 C.6.2); use --root patient")
    ds = Dataset()
    ds.QueryRetrieveLevel = level.value
    if defaults:
        # Unique keys of the levels above (PS3.4 C.4.1.2.1.4), then the keys of this level;
        # Study Root's STUDY level also holds the patient attributes (PS3.4 C.6.2.1.1).
        first = 0 if root is Root.PATIENT else 1
        for lv in _ORDER[first:_ORDER.index(level)]:
            set_key(ds, UNIQUE_KEY[lv], "")
        for kw in DEFAULT_KEYS[level]:
            set_key(ds, kw, "")
        if root is Root.STUDY and level is Level.STUDY:
            for kw in _PATIENT_KEYS:
                set_key(ds, kw, "")
    if isinstance(keys, Mapping):
        pairs: Iterable[tuple[str, str]] = keys.items()
    else:
        items = list(keys)
        if items and isinstance(items[0], str):
            pairs = parse_keys(i for i in items if isinstance(i, str))
        else:
            pairs = [(k, v) for k, v in items]
    for key, value in pairs:
        m = _ITEM.match(key.split(".")[0])
        if m is not None and _keyword(m.group(1)) == "QueryRetrieveLevel":
            ds.QueryRetrieveLevel = parse_level(value).value
            continue
        set_key(ds, key, value)
    _warn_missing_parents(ds, root)
    return ds


def _warn_missing_parents(ds: Dataset, root: Root) -> None:
    """PS3.4 C.4.1.2.1.4: in a hierarchical query the unique keys of the levels above must
    hold a single value. Peers with relational support (Orthanc) answer anyway; warn."""
    level = Level(ds.QueryRetrieveLevel)
    first = Level.PATIENT if root is Root.PATIENT else Level.STUDY
    for lv in _ORDER[_ORDER.index(first):_ORDER.index(level)]:
        if not str(ds.get(UNIQUE_KEY[lv], "") or ""):
            log.info("%s query without a value for %s: hierarchical peers may refuse it (PS3.4 C.4.1.2.1.4)",
                     level.value, UNIQUE_KEY[lv])


def find(node: DimseNode, calling_aet: str, query: Dataset, model: str,
         token: CancelToken | None = None) -> Iterator[Dataset]:
    """Send one C-FIND and yield each matching identifier as it arrives.

    Cancelling ``token`` sends C-CANCEL (PS3.7 9.1.2.1.2) and ends with :class:`Cancelled`;
    closing the iterator early does the same without raising. Warnings (e.g. 0xFF01 optional
    keys not supported) are logged.

    Raises
    ------
    NetError
        The association fails, the model is not accepted, the peer answers with a failure
        status (kept in ``status``), aborts, or does not answer within the DIMSE timeout.
    Cancelled
        ``token`` was cancelled.
    """
    assoc = associate(node, calling_aet, [Context(model)], token=token)
    final = None
    finished = False
    try:
        cx = required_context(assoc, node, model)
        msg_id = 1
        with cancel_watch(assoc, token, lambda: assoc.send_c_cancel(msg_id, cx.context_id)) as done:
            warned = False
            last, waited = time.monotonic(), 0.0
            for rsp, identifier in assoc.send_c_find(query, model, msg_id=msg_id):
                waited, last = time.monotonic() - last, time.monotonic()
                status = status_of(rsp)
                if status is not None and status_category(status) == PENDING:
                    if status == 0xFF01 and not warned:
                        warned = True
                        log.warning("%s does not support some optional keys (0xFF01)", node.ae_title)
                    if identifier is not None and not (token is not None and token.cancelled):
                        yield identifier
                        last = time.monotonic()  # the consumer's time is not the peer's
                    continue
                final = rsp
                break
            done.set()
        finished = True
    finally:
        if not finished and assoc.is_established:
            assoc.abort()  # the consumer stopped early: end the query at once
        release(assoc)
    if token is not None and token.cancelled:
        raise Cancelled("C-FIND cancelled")
    status = check_final("C-FIND", final, assoc, node, waited=waited)
    category = status_category(status)
    if category == CANCEL:
        raise Cancelled("C-FIND cancelled by the peer")
    if category == WARNING:
        log.warning("C-FIND %s: %s", node.ae_title, describe_status(status))
    elif category == FAILURE or category not in ("Success",):
        comment = final.get("ErrorComment", "") if final is not None else ""
        raise NetError(f"C-FIND {node.ae_title}: {describe_status(status)}" + (f": {comment}" if comment else ""),
                       status=status, category=category)
