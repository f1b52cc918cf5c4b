"""Listing a DICOMDIR (PS3.10 8, PS3.3 F) without opening the files it references.

The Directory Record Sequence is walked through its offsets (PS3.3 F.3.2.1): the root
records start at Offset of the First Directory Record of the Root Directory Entity,
each record links to its next sibling and to its first child. PATIENT > STUDY >
SERIES > leaf records (IMAGE, RT DOSE, SR DOCUMENT, PRESENTATION, ...) become
:class:`Instance` objects carrying the attributes of their ancestors.

Referenced File IDs are resolved case-insensitively and with ISO 9660 decorations
(``IMG00001.;1``) removed, as CD file systems often present them.
"""

from __future__ import annotations

import logging
import os
import struct
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

from viewer.cancel import CancelToken
from viewer.dicom._header_reader import Record
from viewer.dicom.geometry import pixel_spacing
from viewer.dicom.headers import SPACING_KEYWORDS, _text, build_instance, fields_from, instance_defaults
from viewer.dicom.media_paths import not_regular
from viewer.dicom.model import Instance
from viewer.errors import Cancelled, ReadError

log = logging.getLogger(__name__)

#: Record types above the instance level (PS3.3 F.5, Table F.4-1).
_LEVELS = ("PATIENT", "STUDY", "SERIES")


@dataclass
class DicomdirListing:
    """What a DICOMDIR lists.

    Attributes
    ----------
    path : Path
        The DICOMDIR file.
    instances : list of Instance
        One per leaf record whose file exists (``header_loaded`` False).
    missing : list of (path, message)
        Records whose referenced file is not on the medium.
    errors : list of (path, message)
        Records that could not be used (no file ID, no SOP Instance UID, ...).
    records : int
        Leaf records seen (instances + missing + errors).
    """

    path: Path
    instances: list[Instance] = field(default_factory=list)
    missing: list[tuple[str, str]] = field(default_factory=list)
    errors: list[tuple[str, str]] = field(default_factory=list)
    records: int = 0


def _values(record: Any) -> dict[str, Any]:
    """Keyword -> value of the elements present in a pydicom directory record."""
    out: dict[str, Any] = {}
    for elem in record:
        if not elem.keyword or elem.VR == "SQ":
            continue
        try:
            out[elem.keyword] = elem.value
        except Exception:  # noqa: BLE001 - one bad element must not lose the record
            log.debug("bad element %s in directory record", elem.tag)
    return out


def _iso9660(name: str) -> str:
    """Compare names as a CD shows them: case-folded, ``;1`` version and a bare trailing dot dropped."""
    name = name.split(";", 1)[0]
    if name.endswith("."):
        name = name[:-1]
    return name.upper()


class FileIdResolver:
    """Map Referenced File IDs (PS3.10 8.5: CS components) to existing paths, case-insensitively."""

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = os.fspath(root)
        self._real_root = os.path.realpath(self.root)
        self._dirs: dict[str, dict[str, str]] = {}
        self._inside_dirs: dict[str, bool] = {}

    def _inside(self, path: str) -> bool:
        """Whether ``path`` (an existing file found by :meth:`resolve`) really lies below the root."""
        parent = os.path.dirname(path)
        ok = self._inside_dirs.get(parent)
        if ok is None:  # one realpath per folder, not per file
            ok = self._inside_dirs[parent] = self._below_root(os.path.realpath(parent))
        return ok and (not os.path.islink(path) or self._below_root(os.path.realpath(path)))

    def _below_root(self, real: str) -> bool:
        return real == self._real_root or real.startswith(self._real_root.rstrip(os.sep) + os.sep)

    def _listing(self, folder: str) -> dict[str, str]:
        names = self._dirs.get(folder)
        if names is None:
            names = {}
            try:
                with os.scandir(folder) as it:
                    for entry in it:
                        names.setdefault(entry.name, entry.name)
                        names.setdefault(_iso9660(entry.name), entry.name)
            except OSError:
                pass
            self._dirs[folder] = names
        return names

    def resolve(self, components: list[str]) -> tuple[str, bool]:
        """The path of a file ID and whether it exists (the unresolved path when it does not)."""
        folder = self.root
        for k, comp in enumerate(components):
            names = self._listing(folder)
            actual = names.get(comp) or names.get(_iso9660(comp))
            if actual is None:
                return os.path.join(folder, *components[k:]), False
            folder = folder + os.sep + actual
        # A File ID names a file of the File-set (PS3.10 8.5): a symbolic link on the medium
        # may not lead outside it (untrusted input). ".." never matches: scandir does not list it.
        if not self._inside(folder):
            log.warning("DICOMDIR file ID %s leads outside the medium; ignored", "\\".join(components))
            return os.path.join(self.root, *components), False
        why = not_regular(folder)
        if why is not None:  # a FIFO would block open() for good
            log.warning("DICOMDIR file ID %s: %s", "\\".join(components), why)
            return folder, False
        return folder, True


def _file_id(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        # A single value may still carry backslashes if written as one string.
        parts = value.replace("/", "\\").split("\\")
    else:
        parts = [str(v) for v in value]
    return [p.strip() for p in parts if p.strip()]


_Records = dict[int, Record]
_Walk = Iterator[tuple[list[Record], Record]]


def _walk_offsets(root: int, records: _Records) -> _Walk | None:
    """Yield (ancestors, leaf record) following the record offsets; None when they are broken."""
    if root not in records:
        return None

    def walk(offset: int, ancestors: list[Record], seen: set[int]) -> _Walk:
        while offset and offset in records and offset not in seen:
            seen.add(offset)
            rec = records[offset]
            if rec.in_use != 0:  # 0x0000: an inactive record (PS3.3 F.3.2.2)
                if rec.rtype in _LEVELS:
                    if rec.lower:
                        yield from walk(rec.lower, ancestors + [rec], seen)
                else:
                    yield ancestors, rec
            offset = rec.next

    return walk(root, [], set())


def _walk_sequence(records: _Records, order: list[int]) -> _Walk:
    """Fallback: records in sequence order, nesting by record type (offsets unusable)."""
    stack: dict[str, Record] = {}
    for offset in order:
        rec = records[offset]
        if rec.in_use == 0:
            continue
        if rec.rtype in _LEVELS:
            level = _LEVELS.index(rec.rtype)
            stack = {k: v for k, v in stack.items() if _LEVELS.index(k) < level}
            stack[rec.rtype] = rec
        else:
            yield [stack[k] for k in _LEVELS if k in stack], rec


def _parse_with_pydicom(path: Path) -> tuple[int, _Records, list[int]]:
    """The reference parser (pydicom); used when the fast reader declines the file."""
    import pydicom

    try:
        ds = pydicom.dcmread(path, force=True)
        sequence = ds.DirectoryRecordSequence
    except AttributeError:
        raise ReadError("not a DICOMDIR: no Directory Record Sequence", path=str(path)) from None
    except Exception as exc:  # corrupt file: one clear message
        raise ReadError(f"unreadable DICOMDIR: {type(exc).__name__}: {exc}", path=str(path)) from exc
    records: _Records = {}
    order: list[int] = []
    try:
        for n, item in enumerate(sequence):
            key = getattr(item, "seq_item_tell", None)
            key = -1 - n if key is None else int(key)
            values = _values(item)
            links = [values.pop(k, None) for k in ("OffsetOfTheNextDirectoryRecord",
                                                   "OffsetOfReferencedLowerLevelDirectoryEntity",
                                                   "RecordInUseFlag", "DirectoryRecordType")]
            records[key] = Record(int(links[0] or 0), int(links[1] or 0),
                                  None if links[2] is None else int(links[2]), str(links[3] or "").strip(),
                                  values=values)
            order.append(key)
        root = ds.get("OffsetOfTheFirstDirectoryRecordOfTheRootDirectoryEntity")
        return int(root or 0), records, order
    except Exception as exc:  # pydicom converts lazily: damage shows up here
        raise ReadError(f"unreadable DICOMDIR: {type(exc).__name__}: {exc}", path=str(path)) from exc


def parse_records(path: Path, fast: bool = True) -> tuple[int, _Records, list[int]]:
    """(root offset, {offset: record values}, offsets in sequence order) of a DICOMDIR."""
    if fast:
        from viewer.dicom._header_reader import Unsupported, parse_dicomdir

        try:
            return parse_dicomdir(path.read_bytes())
        except OSError as exc:
            raise ReadError(f"cannot read DICOMDIR: {exc.strerror or exc}", path=str(path)) from exc
        except (Unsupported, struct.error, IndexError, ValueError) as exc:
            log.debug("%s: fast reader declined (%s), using pydicom", path, exc)
    return _parse_with_pydicom(path)


@dataclass(slots=True)
class DicomdirItem:
    """One result of :func:`iter_dicomdir`.

    ``kind`` is ``"records"`` (first item; ``count`` = leaf records to expect),
    ``"instance"``, ``"missing"`` (referenced file not on the medium) or ``"error"``.
    """

    kind: str
    instance: Instance | None = None
    path: str = ""
    message: str = ""
    count: int = 0


def iter_dicomdir(path: str | os.PathLike[str], cancel: CancelToken | None = None,
                  fast: bool = True) -> Iterator[DicomdirItem]:
    """Stream the instances a DICOMDIR references; only the DICOMDIR itself is read.

    Parameters
    ----------
    path : path-like
        The DICOMDIR file; referenced files are resolved relative to its folder.
    cancel : viewer.cancel.CancelToken, optional
        Checked between records; when set, :class:`viewer.errors.Cancelled` is raised.
    fast : bool
        Use the built-in record reader (pydicom is the fallback and the test oracle).

    Raises
    ------
    ReadError
        The file is not a readable DICOMDIR (raised before anything is yielded).
    """
    path = Path(path)
    root, records, order = parse_records(path, fast)
    leaves = sum(1 for r in records.values() if r.in_use != 0 and r.rtype not in _LEVELS)
    walker = _walk_offsets(root, records)
    walked = list(walker) if walker is not None else []
    if len(walked) < leaves:
        # Broken offsets (a damaged or hand-edited DICOMDIR): the sequence order, which
        # writers follow in practice, may reach more records.
        in_order = list(_walk_sequence(records, order))
        if len(in_order) > len(walked):
            log.warning("%s: record offsets reach %d of %d records, reading them in sequence order",
                        path, len(walked), leaves)
            walked = in_order
    yield DicomdirItem("records", count=len(walked))
    resolver = FileIdResolver(path.parent)
    # Keyed by the closest ancestor record: a record always has the same ancestors.
    parents: dict[int, tuple[dict[str, Any], dict[str, Any], bool]] = {}
    spacing_keys = frozenset(SPACING_KEYWORDS)
    for n, (ancestors, rec) in enumerate(walked):
        if cancel is not None and n % 256 == 0 and cancel.cancelled:
            raise Cancelled("scan cancelled")
        rec_values = rec.values
        components = _file_id(rec_values.get("ReferencedFileID"))
        if not components:
            yield DicomdirItem("error", path=f"{path} (record {n})",
                               message="directory record without Referenced File ID")
            continue
        file_path, exists = resolver.resolve(components)
        if not exists:
            yield DicomdirItem("missing", path=file_path, message="referenced file missing (listed in DICOMDIR)")
            continue
        key = id(ancestors[-1]) if ancestors else 0
        cached = parents.get(key)
        if cached is None:
            merged: dict[str, Any] = {}
            for a in ancestors:  # patient, then study, then series: lower levels win
                merged.update(a.values)
            cached = parents[key] = (merged, instance_defaults(fields_from(merged)),
                                     not spacing_keys.isdisjoint(merged))
        merged_values, base, parent_spacing = cached
        fields = fields_from(rec_values)
        spacing = None
        if parent_spacing or not spacing_keys.isdisjoint(rec_values):
            values = _Values(merged_values)
            values.update(rec_values)
            spacing = pixel_spacing(values)
        if not fields.get("sop_instance_uid"):
            fields["sop_instance_uid"] = _text(rec_values.get("ReferencedSOPInstanceUIDInFile") or "")
        if not fields.get("sop_class_uid") and not base["sop_class_uid"]:
            fields["sop_class_uid"] = _text(rec_values.get("ReferencedSOPClassUIDInFile") or "")
        try:
            inst = build_instance(fields, file_path, _text(rec_values.get("ReferencedTransferSyntaxUIDInFile") or ""),
                                  spacing, base=base)
        except ReadError as exc:
            yield DicomdirItem("error", path=file_path, message=f"DICOMDIR record: {exc}")
            continue
        inst.header_loaded = False
        inst.source = "dicomdir"
        yield DicomdirItem("instance", instance=inst)


def read_dicomdir(path: str | os.PathLike[str], cancel: CancelToken | None = None,
                  fast: bool = True) -> DicomdirListing:
    """All of :func:`iter_dicomdir` at once, as a :class:`DicomdirListing`."""
    listing = DicomdirListing(Path(path))
    for item in iter_dicomdir(path, cancel, fast):
        if item.kind == "instance" and item.instance is not None:
            listing.instances.append(item.instance)
        elif item.kind == "missing":
            listing.missing.append((item.path, item.message))
        elif item.kind == "error":
            listing.errors.append((item.path, item.message))
        if item.kind != "records":
            listing.records += 1
    if listing.missing:
        log.warning("%s: %d of %d referenced files are missing", path, len(listing.missing), listing.records)
    return listing


class _Values(dict[str, Any]):
    """Record values with attribute access (for :func:`pixel_spacing`)."""

    def __getattr__(self, name: str) -> Any:
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None


def find_dicomdir(folder: str | os.PathLike[str]) -> Path | None:
    """The DICOMDIR at the root of ``folder`` (any case, ISO 9660 decorations allowed), or None."""
    try:
        with os.scandir(folder) as it:
            for entry in it:
                if _iso9660(entry.name) == "DICOMDIR" and entry.is_file():
                    return Path(entry.path)
    except OSError:
        return None
    return None
