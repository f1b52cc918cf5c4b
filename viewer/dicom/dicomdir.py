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
import threading
from collections import ChainMap
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

from viewer.dicom.headers import instance_from_dataset
from viewer.dicom.model import Instance
from viewer.errors import Cancelled, ReadError

log = logging.getLogger(__name__)

#: Record types above the instance level (PS3.3 F.5, Table F.4-1).
_LEVELS = ("PATIENT", "STUDY", "SERIES")
#: Directory record tags (PS3.3 F.3.2.2).
_NEXT = 0x00041400
_IN_USE = 0x00041410
_LOWER = 0x00041420
_TYPE = 0x00041430


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


class _Record(ChainMap):
    """A leaf record seen through its ancestors: ``get``/attribute lookups fall back upwards."""

    def __getattr__(self, name: str) -> Any:
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None


def _values(record: Any) -> dict[str, Any]:
    """Keyword -> value of the elements present in ``record`` (directory tags excluded)."""
    out: dict[str, Any] = {}
    for elem in record:
        if elem.tag.group == 0x0004 or not elem.keyword:
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

    def __init__(self, root: Path) -> None:
        self.root = root
        self._dirs: dict[Path, dict[str, str]] = {}

    def _listing(self, folder: Path) -> dict[str, str]:
        names = self._dirs.get(folder)
        if names is None:
            names = {}
            try:
                for entry in os.scandir(folder):
                    names.setdefault(entry.name, entry.name)
                    names.setdefault(_iso9660(entry.name), entry.name)
            except OSError:
                pass
            self._dirs[folder] = names
        return names

    def resolve(self, components: list[str]) -> tuple[Path, bool]:
        """The path of a file ID and whether it exists (the unresolved path when it does not)."""
        folder = self.root
        for k, comp in enumerate(components):
            names = self._listing(folder)
            actual = names.get(comp) or names.get(_iso9660(comp))
            if actual is None:
                return folder.joinpath(*components[k:]), False
            folder = folder / actual
        return folder, folder.is_file() if not components else True


def _file_id(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        # A single value may still carry backslashes if written as one string.
        parts = value.replace("/", "\\").split("\\")
    else:
        parts = [str(v) for v in value]
    return [p.strip() for p in parts if p.strip()]


def _walk_offsets(ds: Any) -> Iterator[tuple[list[Any], Any]] | None:
    """Yield (ancestors, leaf record) following the record offsets; None when they are broken."""
    records = ds.DirectoryRecordSequence
    by_offset = {}
    for rec in records:
        tell = getattr(rec, "seq_item_tell", None)
        if tell is None:
            return None
        by_offset[tell] = rec
    first = ds.get("OffsetOfTheFirstDirectoryRecordOfTheRootDirectoryEntity")
    if first not in by_offset:
        return None

    def walk(offset: int, ancestors: list[Any], seen: set[int]) -> Iterator[tuple[list[Any], Any]]:
        while offset and offset in by_offset and offset not in seen:
            seen.add(offset)
            rec = by_offset[offset]
            lower = rec.get(_LOWER)
            if rec.get(_IN_USE) is None or rec[_IN_USE].value != 0:  # 0x0000: inactive record
                rtype = str(rec[_TYPE].value).strip() if _TYPE in rec else ""
                if rtype in _LEVELS:
                    if lower is not None and lower.value:
                        yield from walk(int(lower.value), ancestors + [rec], seen)
                else:
                    yield ancestors, rec
            nxt = rec.get(_NEXT)
            offset = int(nxt.value) if nxt is not None and nxt.value else 0

    return walk(int(first), [], set())


def _walk_sequence(ds: Any) -> Iterator[tuple[list[Any], Any]]:
    """Fallback: records in sequence order, nesting by record type (offsets unusable)."""
    stack: dict[str, Any] = {}
    for rec in ds.DirectoryRecordSequence:
        if _IN_USE in rec and rec[_IN_USE].value == 0:
            continue
        rtype = str(rec[_TYPE].value).strip() if _TYPE in rec else ""
        if rtype in _LEVELS:
            level = _LEVELS.index(rtype)
            stack = {k: v for k, v in stack.items() if _LEVELS.index(k) < level}
            stack[rtype] = rec
        else:
            yield [stack[k] for k in _LEVELS if k in stack], rec


def read_dicomdir(path: str | os.PathLike[str], cancel: threading.Event | None = None) -> DicomdirListing:
    """List the instances a DICOMDIR references; only the DICOMDIR itself is read.

    Parameters
    ----------
    path : path-like
        The DICOMDIR file; referenced files are resolved relative to its folder.
    cancel : threading.Event, optional
        Checked between records; when set, :class:`viewer.errors.Cancelled` is raised.

    Raises
    ------
    ReadError
        The file is not a readable DICOMDIR.
    """
    import pydicom

    path = Path(path)
    try:
        ds = pydicom.dcmread(path, force=True)
        records = ds.DirectoryRecordSequence
    except AttributeError:
        raise ReadError("not a DICOMDIR: no Directory Record Sequence", path=str(path)) from None
    except Exception as exc:  # noqa: BLE001 - corrupt file: one clear message
        raise ReadError(f"unreadable DICOMDIR: {type(exc).__name__}: {exc}", path=str(path)) from exc
    listing = DicomdirListing(path)
    walker = _walk_offsets(ds)
    if walker is None:
        log.warning("%s: record offsets do not match, reading records in sequence order", path)
        walker = _walk_sequence(ds)
    resolver = FileIdResolver(path.parent)
    cache: dict[int, dict[str, Any]] = {}
    for n, (ancestors, rec) in enumerate(walker):
        if cancel is not None and n % 256 == 0 and cancel.is_set():
            raise Cancelled("scan cancelled")
        listing.records += 1
        components = _file_id(rec.get("ReferencedFileID"))
        label = str(path.parent.joinpath(*components)) if components else f"{path} (record {n})"
        if not components:
            listing.errors.append((label, "directory record without Referenced File ID"))
            continue
        file_path, exists = resolver.resolve(components)
        if not exists:
            listing.missing.append((str(file_path), "referenced file missing (listed in DICOMDIR)"))
            continue
        chain = _Record(_values(rec), *[cache.setdefault(id(a), _values(a)) for a in reversed(ancestors)])
        chain.setdefault("SOPInstanceUID", rec.get("ReferencedSOPInstanceUIDInFile", ""))
        chain.setdefault("SOPClassUID", rec.get("ReferencedSOPClassUIDInFile", ""))
        try:
            inst = instance_from_dataset(chain, str(file_path), str(rec.get("ReferencedTransferSyntaxUIDInFile", "")))
        except ReadError as exc:
            listing.errors.append((str(file_path), f"DICOMDIR record: {exc}"))
            continue
        inst.header_loaded = False
        inst.source = "dicomdir"
        listing.instances.append(inst)
    if listing.missing:
        log.warning("%s: %d of %d referenced files are missing", path, len(listing.missing), listing.records)
    return listing


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
