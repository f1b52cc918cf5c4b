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
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Iterable, Iterator, Sequence, Union

from viewer.cancel import CancelToken
from viewer.dicom.media_paths import not_regular, walk_files
from viewer.errors import Cancelled, ReadError, ViewerError
from viewer.net import storage_scu
from viewer.net.storage_scu import Category, StoreItem, StoreResult, StoreTarget

if TYPE_CHECKING:
    from pydicom.dataset import Dataset

    from viewer.config import DicomWebNode, DimseNode
    from viewer.net.dicomweb import DicomWebClient

#: Where a send goes: a C-STORE peer or a DICOMweb service (STOW-RS).
Destination = Union["StoreTarget", "DimseNode", "DicomWebClient", "DicomWebNode"]

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

    def __call__(self, ds: Dataset) -> Dataset:
        """Apply to a freshly read data set (which the caller owns) and return it."""
        from pydicom.dataset import Dataset
        from pydicom.sequence import Sequence as Seq

        if self.patient_id is not None and str(ds.get("PatientID", "")) != self.patient_id:
            old = Dataset()
            old.PatientID = ds.get("PatientID", "")
            if "IssuerOfPatientID" in ds:
                old.IssuerOfPatientID = ds.IssuerOfPatientID
            old.TypeOfPatientID = _TYPE_OF_PATIENT_ID
            others = list(ds.get("OtherPatientIDsSequence", []))
            if not any(o.get("PatientID") == old.PatientID for o in others):
                others.append(old)
            ds.OtherPatientIDsSequence = Seq(others)
            ds.PatientID = self.patient_id
            if self.issuer is None and "IssuerOfPatientID" in ds:
                del ds.IssuerOfPatientID  # the old issuer no longer applies
        if self.issuer is not None:
            ds.IssuerOfPatientID = self.issuer
        if self.accession is not None:
            ds.AccessionNumber = self.accession
        if self.patient_name is not None:
            ds.PatientName = self.patient_name
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
        """Number of results of one :class:`~viewer.net.storage_scu.Category`."""
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
    files: list[Path] = []
    for p in paths:
        # Only regular files, and in folders only those really inside them: a FIFO would
        # block open() for good, a link leading out of the folder would send what the
        # user never chose (the DICOMDIR containment rule, PS3.10 8.5).
        found = walk_files(p) if p.is_dir() else [(p, not_regular(p))]
        for f, why in found:
            if why is None:
                files.append(f)
            else:
                log.warning("%s: %s", f, why)
                skipped.append(f)
    items = list(storage_scu.iter_items(files, skipped))
    seen: set[str] = set()
    unique = []
    for item in items:  # a CD may hold a file twice (copies); send each instance once
        if item.sop_instance_uid not in seen:
            seen.add(item.sop_instance_uid)
            unique.append(item)
    return unique, skipped


@dataclass
class SendStep:
    """One step of a send, for a progress display.

    Attributes
    ----------
    done, total : int
        Instances handled so far, and in all (without those already sent).
    result : StoreResult or None
        The instance just handled; None on the final step.
    report : SendReport or None
        Set on the final step only.
    """

    done: int
    total: int
    result: StoreResult | None = None
    report: SendReport | None = None

    @property
    def final(self) -> bool:
        return self.report is not None


def _destination(destination: Destination, calling_aet: str
                 ) -> tuple[str, Callable[..., Iterator[StoreResult]], DicomWebClient | None]:
    """(name, sender, client to close) for a StoreTarget, DimseNode, DicomWebClient or DicomWebNode."""
    from viewer.config import DicomWebNode
    from viewer.net.dicomweb import DicomWebClient, WebTarget

    owned = None
    if isinstance(destination, DicomWebNode):
        destination = owned = DicomWebClient(WebTarget.from_node(destination))
    if isinstance(destination, DicomWebClient):
        client = destination

        def stow(todo: Sequence[StoreItem], *, cancel: CancelToken | None = None,
                 modify: Callable[[Dataset], Dataset] | None = None, associations: int = 1) -> Iterator[StoreResult]:
            return client.store(todo, cancel=cancel, modify=modify)

        return client.base, stow, owned
    if isinstance(destination, StoreTarget):
        name = f"{destination.called_aet}@{destination.host}:{destination.port}"
    else:
        name = f"{destination.ae_title}@{destination.host}:{destination.port}"
    node = destination

    def cstore(todo: Sequence[StoreItem], *, cancel: CancelToken | None = None,
               modify: Callable[[Dataset], Dataset] | None = None, associations: int = 1) -> Iterator[StoreResult]:
        return storage_scu.send(node, todo, calling_aet=calling_aet, cancel=cancel, modify=modify,
                              associations=associations)

    return name, cstore, owned


def send_iter(destination: Destination, items: Sequence[StoreItem], *,
              skipped: Sequence[Path] = (), coerce: IdentityCoercion | None = None,
              resume: set[str] | None = None, report_path: Path | None = None,
              cancel: CancelToken | None = None, associations: int = 1,
              calling_aet: str = "VIEWER") -> Iterator[SendStep]:
    """As :func:`send`, as a stream of :class:`SendStep` (for GUI workers); the last step
    carries the report. Never raises for a failed send: see :func:`send`."""
    resume = resume or set()
    todo = [i for i in items if i.sop_instance_uid not in resume]
    name, sender, owned = _destination(destination, calling_aet)
    report = SendReport(name, skipped=list(skipped),
                        already_sent=sorted(i.sop_instance_uid for i in items if i.sop_instance_uid in resume))
    last_save = time.monotonic()
    try:
        for result in sender(todo, cancel=cancel, modify=coerce or None, associations=associations):
            report.results.append(result)
            if report_path is not None and time.monotonic() - last_save > 1.0:
                report.save(report_path)
                last_save = time.monotonic()
            yield SendStep(len(report.results), len(todo), result)
    except Cancelled:
        report.cancelled = True
    except ViewerError as exc:  # a lost association or an HTTP failure ends the whole send
        report.error = str(exc)  # the caller shows it (CLI: one line; panel: the status)
        log.info("send stopped: %s", exc)
    finally:
        if report_path is not None:
            report.save(report_path)
        if owned is not None:
            owned.close()
        log.info("%s", report.summary())
    yield SendStep(len(report.results), len(todo), None, report)


def send(destination: Destination, items: Sequence[StoreItem], *,
         skipped: Sequence[Path] = (), coerce: IdentityCoercion | None = None,
         resume: set[str] | None = None, report_path: Path | None = None,
         progress: Callable[[StoreResult, int, int], None] | None = None,
         cancel: CancelToken | None = None, associations: int = 1, calling_aet: str = "VIEWER") -> SendReport:
    """Send ``items`` to a DIMSE node or a DICOMweb service and return the report.

    Parameters
    ----------
    destination : StoreTarget, DimseNode, DicomWebClient or DicomWebNode
        C-STORE target (a configured ``DimseNode`` with ``calling_aet``), or a DICOMweb
        service (STOW-RS).
    items : sequence of StoreItem
    skipped : sequence of Path
        Non-DICOM files found while collecting, for the report.
    coerce : IdentityCoercion, optional
    resume : set of str, optional
        SOP Instance UIDs already sent (see :func:`load_sent`); they are not sent again.
    report_path : Path, optional
        Where to keep the report, rewritten at most every second and at the end (resumable).
    progress : callable, optional
        ``progress(result, done, total)`` after each instance.
    cancel : viewer.cancel.CancelToken, optional
    associations : int
        Parallel C-STORE associations (see :func:`viewer.net.storage_scu.send`).
    calling_aet : str
        Our AE title towards a ``DimseNode``.

    Returns
    -------
    SendReport
        Never raises: per-instance failures are results, a lost association or an HTTP
        failure ends the send and is recorded in ``error``, a cancel sets ``cancelled``.
    """
    report = None
    for step in send_iter(destination, items, skipped=skipped, coerce=coerce, resume=resume,
                          report_path=report_path, cancel=cancel, associations=associations,
                          calling_aet=calling_aet):
        if step.result is not None and progress is not None:
            progress(step.result, step.done, step.total)
        report = step.report or report
    assert report is not None
    return report


def send_paths(destination: Destination, paths: Sequence[Path], *, token: CancelToken | None = None,
               calling_aet: str = "VIEWER", coerce: IdentityCoercion | None = None,
               associations: int = 1) -> Iterator[SendStep]:
    """Worker body for the GUI: collect ``paths`` (files, folders, a CD) and send them.

    Raises
    ------
    ReadError
        A path is missing; UsageError when no DICOM file is found.
    """
    from viewer.errors import UsageError

    items, skipped = collect(paths)
    if not items:
        raise UsageError("no DICOM files found in " + ", ".join(str(p) for p in paths))
    yield from send_iter(destination, items, skipped=skipped, coerce=coerce, cancel=token,
                         calling_aet=calling_aet, associations=associations)
