"""Export studies of the library as a DICOM file set ready to burn (PS3.10, PS3.11).

The folder written follows the General Purpose CD-R Interchange profile (STD-GEN-CD,
PS3.11 Annex D): a DICOMDIR (Media Storage Directory, PS3.10 8.6) at the root, every
instance in Explicit VR Little Endian (compressed and implicit VR instances are decoded
and rewritten; PS3.11 D.3.1), File IDs of at most eight components of at most eight
characters from ``A-Z 0-9 _`` (PS3.10 8.2, 8.5). pydicom's :class:`~pydicom.fileset.FileSet`
names the files ``PTxxxxxx/STxxxxxx/SExxxxxx/IMxxxxxx`` and writes the directory records,
the same layout DCMTK's ``dcmmkdir`` reads and updates.

Optionally the copies are de-identified (:mod:`viewer.dicom.anonymize`, PS3.15 E.1), and
the viewer's one-folder bundle (``packaging/build-frozen.sh``) is added in ``VIEWER/`` with
an ``AUTORUN.INF`` and a ``README.TXT`` so the receiving doctor can open the disc without
installing anything. Files on the source media are only read.
"""

from __future__ import annotations

import logging
import os
import shutil
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Iterator, Sequence

from viewer.errors import Cancelled, UsageError, ViewerError
from viewer.library.db import Library

if TYPE_CHECKING:
    from pydicom.dataset import Dataset
    from pydicom.fileset import FileSet

    from viewer.cancel import CancelToken

log = logging.getLogger(__name__)

EXPLICIT_VR_LITTLE_ENDIAN = "1.2.840.10008.1.2.1"
IMPLICIT_VR_LITTLE_ENDIAN = "1.2.840.10008.1.2"
#: Folder of the viewer bundle on the disc (not a DICOM File ID; outside the DICOMDIR).
VIEWER_FOLDER = "VIEWER"


@dataclass
class CdOptions:
    """How to export: de-identified or not, with the viewer or not, the File-set ID."""

    anonymize: bool = False
    key_file: Path | None = None
    patient_name: str = "ANONYMOUS"
    with_viewer: bool = False
    bundle: Path | None = None
    label: str = "DICOM_CD"


@dataclass
class CdReport:
    """What was written: instance files, (source, reason) failures, notes for the user."""

    written: list[Path] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    studies: set[str] = field(default_factory=set)


def _file_set() -> "FileSet":
    """A pydicom FileSet whose ``add`` skips its search for a duplicate instance.

    ``FileSet.add`` looks through every instance already staged for the same SOP Instance
    UID, each look going up the directory records: quadratic, minutes for a CD of a few
    thousand images. The library's instances are unique by SOP Instance UID (so are
    de-identified ones: the keyed UID map is one-to-one), so while adding, the staged
    instances are not offered to that search.
    """
    from pydicom.fileset import FileInstance, FileSet

    class _UniqueFileSet(FileSet):
        adding = False

        def __iter__(self) -> Iterator[FileInstance]:
            return iter(()) if self.adding else super().__iter__()

    return _UniqueFileSet()


def default_bundle() -> Path | None:
    """The viewer's one-folder bundle: the running frozen app, ``$DICOM_VIEWER_BUNDLE``, or
    ``dist/dicom-viewer`` of the source tree (``packaging/build-frozen.sh``)."""
    if getattr(sys, "frozen", False):
        return Path(sys.executable).parent
    env = os.environ.get("DICOM_VIEWER_BUNDLE")
    if env:
        return Path(env)
    candidate = Path(__file__).resolve().parents[2] / "dist" / "dicom-viewer"
    return candidate if candidate.is_dir() else None


def file_set_id(label: str) -> str:
    """A File-set ID (CS, at most 16 characters of ``A-Z 0-9 _ space``, PS3.5 6.2)."""
    text = "".join(c if c.isascii() and (c.isalnum() or c in "_ ") else "_" for c in label.upper())
    return text[:16].strip() or "DICOM_CD"


def _conform(ds: "Dataset") -> "Dataset":
    """Re-encode ``ds`` in Explicit VR Little Endian (STD-GEN-CD allows only that, PS3.11 D.3.1)."""
    ts = str(ds.file_meta.get("TransferSyntaxUID", "")) if hasattr(ds, "file_meta") else ""
    if ts == EXPLICIT_VR_LITTLE_ENDIAN:
        return ds
    from pydicom.uid import UID

    uid = UID(ts) if ts else UID(IMPLICIT_VR_LITTLE_ENDIAN)
    if uid.is_compressed:
        # Decoded into Explicit VR Little Endian. A change of transfer syntax is the same SOP
        # instance (PS3.5 10), so the UID stays and the disc's references still hold.
        ds.decompress(generate_instance_uid=False)
        return ds
    if not uid.is_little_endian:
        raise ViewerError(f"transfer syntax {ts} (big endian) cannot be written for CD-R")
    ds.file_meta.TransferSyntaxUID = UID(EXPLICIT_VR_LITTLE_ENDIAN)
    return ds


#: Type 1 keys of the PATIENT, STUDY, SERIES and IMAGE directory records (PS3.3 F.5.1-F.5.4)
#: and the value written when the instance has none (a de-identified study has no date).
_RECORD_KEYS = (("PatientID", "UNKNOWN"), ("StudyDate", "19000101"), ("StudyTime", "000000"), ("StudyID", "1"),
                ("Modality", "OT"), ("SeriesNumber", 1))


def _fill_record_keys(ds: "Dataset", numbers: dict[str, int]) -> list[str]:
    """Give ``ds`` the Type 1 values its directory records need; returns the keywords filled.

    As ``dcmmkdir --invent`` does, but written into the instance too, so the DICOMDIR and
    the file agree. Instance Number counts up within the series.
    """
    filled = []
    for keyword, value in _RECORD_KEYS:
        if ds.get(keyword) in (None, ""):
            setattr(ds, keyword, value)
            filled.append(keyword)
    series = str(ds.get("SeriesInstanceUID", ""))
    numbers[series] = numbers.get(series, 0) + 1
    if ds.get("InstanceNumber") in (None, ""):
        ds.InstanceNumber = numbers[series]
        filled.append("InstanceNumber")
    return filled


def export_cd(library: Library, study_uids: Sequence[str], out: Path, opts: CdOptions | None = None,
              cancel: "CancelToken | None" = None) -> CdReport:
    """Write ``study_uids`` of ``library`` as a file set in ``out`` (new or empty folder).

    Raises
    ------
    UsageError
        ``out`` is not empty, a study is unknown, or nothing can be exported.
    Cancelled
        ``cancel`` was set (the partial folder is removed).
    """
    from pydicom import dcmread

    opts = opts or CdOptions()
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise UsageError(f"{out}: the export folder must be new or empty")
    for uid in study_uids:
        if not library.has_study(uid):
            raise UsageError(f"no study {uid} in the library")
    anon = None
    if opts.anonymize:
        from viewer.dicom.anonymize import Options

        anon = (Options(opts.key_file.read_bytes(), opts.patient_name) if opts.key_file
                else Options.random(opts.patient_name))
    report = CdReport()
    fs = _file_set()
    fs.ID = file_set_id(opts.label)
    added = 0
    numbers: dict[str, int] = {}
    invented: set[str] = set()
    for path, study, _series, _sop, online in library.instance_files(list(study_uids)):
        if cancel is not None and cancel.cancelled:
            raise Cancelled("export cancelled")
        if not online or not os.path.exists(path):
            report.failed.append((path, "offline: the file is not there (insert the medium it came from)"))
            continue
        try:
            if anon is not None:
                from viewer.dicom.anonymize import anonymize_file

                ds = anonymize_file(path, anon)
            else:
                ds = dcmread(path)
            invented.update(_fill_record_keys(ds, numbers))
            fs.adding = True  # type: ignore[attr-defined]
            try:
                fs.add(_conform(ds))
            finally:
                fs.adding = False  # type: ignore[attr-defined]
            added += 1
            report.studies.add(study)
        except Exception as exc:  # noqa: BLE001 - one bad file must not stop the disc
            report.failed.append((path, f"{type(exc).__name__}: {exc}"))
            log.error("cannot export %s: %s", path, exc)
    if not added:
        raise UsageError("nothing to export: " + (report.failed[0][1] if report.failed else "no instances"))
    if invented:
        report.notes.append("written because the directory records require them (PS3.3 F.5): "
                            + ", ".join(sorted(invented)))
    out.mkdir(parents=True, exist_ok=True)
    try:
        fs.write(out)
    except Exception:
        shutil.rmtree(out, ignore_errors=True)
        raise
    report.written = sorted(Path(out, *inst.FileID.split("\\")) for inst in fs)
    _write_readme(out, opts, report)
    if opts.with_viewer:
        bundle = opts.bundle or default_bundle()
        if bundle is None or not bundle.is_dir():
            report.notes.append("no viewer bundle found: build it with packaging/build-frozen.sh (or give --bundle); "
                                "the disc holds the images only")
        else:
            shutil.copytree(bundle, out / VIEWER_FOLDER, symlinks=True)
            _write_autorun(out, bundle)
    log.info("exported %d instance(s) of %d study(ies) to %s", added, len(report.studies), out)
    return report


def _executable(bundle: Path) -> str:
    for name in ("dicom-viewer.exe", "dicom-viewer"):
        if (bundle / name).exists():
            return name
    return "dicom-viewer"


def _write_autorun(out: Path, bundle: Path) -> None:
    exe = _executable(bundle)
    # AUTORUN.INF is read by Windows only; "open" starts the viewer on the disc's DICOMDIR.
    (out / "AUTORUN.INF").write_text(
        f"[autorun]\r\nopen={VIEWER_FOLDER}\\{exe} DICOMDIR\r\nlabel=DICOM images\r\n", encoding="ascii")


def _write_readme(out: Path, opts: CdOptions, report: CdReport) -> None:
    lines = [
        "DICOM images",
        "",
        "This disc holds medical images in DICOM format (PS3.10 file set, General Purpose CD-R",
        "profile). Any DICOM viewer can open it: open the file DICOMDIR at the top of the disc.",
    ]
    if opts.with_viewer:
        lines += ["", f"A viewer is included in the folder {VIEWER_FOLDER}: run {VIEWER_FOLDER}/dicom-viewer DICOMDIR",
                  "(it needs no installation; it was built for the operating system it was made on)."]
    if opts.anonymize:
        lines += ["", "The images were de-identified (PS3.15 E.1 basic profile): names and IDs are removed."]
    lines += ["", f"{len(report.written)} images, {len(report.studies)} study(ies)."]
    (out / "README.TXT").write_text("\r\n".join(lines) + "\r\n", encoding="ascii")
