"""Use case "Send to PACS": collect files, optionally coerce patient identity, send them by
C-STORE or STOW-RS, and keep a resumable report of what was sent.

The report is JSON (one entry per instance, with its status). Given back as ``resume``, the
instances it lists as stored (success or warning) are not sent again, so an interrupted
import of a CD picks up where it stopped.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Iterator, Sequence

from viewer.errors import Cancelled, ReadError, ViewerError
from viewer.net import store_scu
from viewer.net.store_scu import Category, StoreItem, StoreResult, StoreTarget

log = logging.getLogger(__name__)

#: Type of Patient ID for the original identifier kept in Other Patient IDs Sequence.
_TYPE_OF_PATIENT_ID = "TEXT"


@dataclass(frozen=True)
class IdentityCoercion:
    """New identity for an outside study (PS3.3 C.2.2, C.7.1.1; IHE RAD "Import Reconciliation").

    The original Patient ID (and its issuer) is kept as an item of Other Patient IDs
    Sequence (0010,1002), the accession number in the new value's place.

    Attributes
    ----------
    patient_id : str, optional
        New Patient ID (0010,0020).
    issuer : str, optional
        New Issuer of Patient ID (0010,0021).
    accession : str, optional
        New Accession Number (0008,0050).
    patient_name : str, optional
        New Patient's Name (0010,0010), only when the hospital requires it.
    """

    patient_id: str | None = None
    issuer: str | None = None
    accession: str | None = None
    patient_name: str | None = None

    def __bool__(self) -> bool:
        return any((self.patient_id, self.issuer, self.accession, self.patient_name))

    def __call__(self, ds: object) -> object:
        """Apply to a freshly read data set (which the caller owns) and return it."""
        from pydicom.dataset import Dataset
        from pydicom.sequence import Sequence as Seq

        if self.patient_id is not None and str(ds.get("PatientID", "")) != self.patient_id:  # type: ignore[attr-defined]
            old = Dataset()
            old.PatientID = ds.get("PatientID", "")  # type: ignore[attr-defined]
            if "IssuerOfPatientID" in ds:  # type: ignore[operator]
                old.IssuerOfPatientID = ds.IssuerOfPatientID  # type: ignore[attr-defined]
            old.TypeOfPatientID = _TYPE_OF_PATIENT_ID
            others = list(ds.get("OtherPatientIDsSequence", []))  # type: ignore[attr-defined]
            if not any(o.get("PatientID") == old.PatientID for o in others):
                others.append(old)
            ds.OtherPatientIDsSequence = Seq(others)  # type: ignore[attr-defined]
            ds.PatientID = self.patient_id  # type: ignore[attr-defined]
            if self.issuer is None and "IssuerOfPatientID" in ds:  # type: ignore[operator]
                del ds.IssuerOfPatientID  # type: ignore[attr-defined]  # the old issuer no longer applies
        if self.issuer is not None:
            ds.IssuerOfPatientID = self.issuer  # type: ignore[attr-defined]
        if self.accession is not None:
            ds.AccessionNumber = self.accession  # type: ignore[attr-defined]
        if self.patient_name is not None:
            ds.PatientName = self.patient_name  # type: ignore[attr-defined]
        return ds


@dataclass
class SendReport:
    """What a send did: one result per instance, and the files that were not DICOM."""

    destination: str
    results: list[StoreResult] = field(default_factory=list)
    skipped: list[Path] = field(default_factory=list)
    already_sent: list[str] = field(default_factory=list)
    cancelled: bool = False
    error: str = ""

    def count(self, category: str) -> int:
        """Number of results of one :class:`~viewer.net.store_scu.Category`."""
        return sum(1 for r in self.results if r.category == category)

    @property
    def failed(self) -> list[StoreResult]:
        return [r for r in self.results if r.category == Category.FAILURE]

    def sent_uids(self) -> set[str]:
        """SOP Instance UIDs the destination stored (success or warning)."""
        return {r.item.sop_instance_uid for r in self.results if r.category != Category.FAILURE} | set(
            self.already_sent)

    def summary(self) -> str:
        """One line for the user."""
        text = (f"{self.count(Category.SUCCESS)} sent, {self.count(Category.WARNING)} with warnings, "
                f"{self.count(Category.FAILURE)} failed")
        if self.already_sent:
            text += f", {len(self.already_sent)} already sent"
        if self.skipped:
            text += f", {len(self.skipped)} non-DICOM file(s) skipped"
        if self.cancelled:
            text += " (cancelled)"
        return text + f" -> {self.destination}"

    def to_json(self) -> dict[str, object]:
        return {"destination": self.destination, "summary": self.summary(), "cancelled": self.cancelled,
                "error": self.error, "results": [r.to_json() for r in self.results],
                "already_sent": sorted(self.already_sent), "skipped": [str(p) for p in self.skipped]}

    def save(self, path: Path) -> None:
        """Write the report atomically (a crash mid-write keeps the previous one)."""
        tmp = path.with_name(f".{path.name}.tmp")
        tmp.write_text(json.dumps(self.to_json(), indent=1))
        os.replace(tmp, path)


def load_sent(report: Path) -> set[str]:
    """SOP Instance UIDs a previous report lists as stored.

    Raises
    ------
    ReadError
        The report is missing or not one of ours.
    """
    try:
        data = json.loads(report.read_text())
        uids = {r["sop_instance_uid"] for r in data["results"] if r["category"] != Category.FAILURE}
        return uids | set(data.get("already_sent", []))
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ReadError(f"cannot read send report {report}: {exc}", path=str(report)) from exc


def collect(paths: Iterable[Path]) -> tuple[list[StoreItem], list[Path]]:
    """DICOM files under ``paths`` (files or folders, e.g. a CD), and the non-DICOM ones.

    Raises
    ------
    ReadError
        A path does not exist.
    """
    paths = list(paths)
    for p in paths:
        if not p.exists():
            raise ReadError(f"no such file or directory: {p}", path=str(p))
    skipped: list[Path] = []
    items = list(store_scu.iter_items(paths, skipped))
    seen: set[str] = set()
    unique = []
    for item in items:  # a CD may hold a file twice (copies); send each instance once
        if item.sop_instance_uid not in seen:
            seen.add(item.sop_instance_uid)
            unique.append(item)
    return unique, skipped


def send(destination: StoreTarget | object, items: Sequence[StoreItem], *,
         skipped: Sequence[Path] = (), coerce: IdentityCoercion | None = None,
         resume: set[str] | None = None, report_path: Path | None = None,
         progress: Callable[[StoreResult, int, int], None] | None = None,
         cancel: threading.Event | None = None, associations: int = 1) -> SendReport:
    """Send ``items`` to a DIMSE node or a DICOMweb service and return the report.

    Parameters
    ----------
    destination : StoreTarget or DicomWebClient
        C-STORE target, or a :class:`viewer.net.dicomweb.DicomWebClient` (STOW-RS).
    items : sequence of StoreItem
    skipped : sequence of Path
        Non-DICOM files found while collecting, for the report.
    coerce : IdentityCoercion, optional
    resume : set of str, optional
        SOP Instance UIDs already sent (see :func:`load_sent`); they are not sent again.
    report_path : Path, optional
        Where to keep the report, rewritten after every instance (resumable).
    progress, cancel, associations
        As in :func:`viewer.net.store_scu.send` (``associations`` only for C-STORE).

    Returns
    -------
    SendReport
        Never raises: per-instance failures are results, a lost association or an HTTP
        failure ends the send and is recorded in ``error``, a cancel sets ``cancelled``.
    """
    from viewer.net.dicomweb import DicomWebClient

    resume = resume or set()
    todo = [i for i in items if i.sop_instance_uid not in resume]
    if isinstance(destination, DicomWebClient):
        name = destination.base
        stream: Iterator[StoreResult] = destination.store(todo, cancel=cancel, modify=coerce or None,
                                                          progress=progress)
    else:
        name = f"{destination.called_aet}@{destination.host}:{destination.port}"  # type: ignore[attr-defined]
        stream = store_scu.send(destination, todo, cancel=cancel, modify=coerce or None,  # type: ignore[arg-type]
                                progress=progress, associations=associations)
    report = SendReport(name, skipped=list(skipped),
                        already_sent=sorted(i.sop_instance_uid for i in items if i.sop_instance_uid in resume))
    last_save = time.monotonic()
    try:
        for result in stream:
            report.results.append(result)
            if report_path is not None and time.monotonic() - last_save > 1.0:
                report.save(report_path)
                last_save = time.monotonic()
    except Cancelled:
        report.cancelled = True
    except ViewerError as exc:  # a lost association or an HTTP failure ends the whole send
        report.error = str(exc)
        log.error("%s", exc)
    finally:
        if report_path is not None:
            report.save(report_path)
        log.info("%s", report.summary())
    return report
