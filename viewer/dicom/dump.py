"""The dump model: every element of a DICOM file as a tree of :class:`DumpNode`.

No Qt here. The GUI tag inspector, ``python -m viewer dump`` and the search all work on
the same nodes. Children of sequences are built lazily (the first time they are asked
for), so a 2,000-element dataset with deep sequences fills a tree quickly.

Layout of a node follows DCMTK ``dcmdump``: tag, VR, value length, VM, keyword, and a
value decoded with the dataset's Specific Character Set (PS3.5 6.1, pydicom decodes,
items inherit the charset of their parent dataset, PS3.5 6.1.2.5.5).
"""

from __future__ import annotations

import enum
import logging
import os
import re
from dataclasses import dataclass
from typing import Any, Iterator

from pydicom.datadict import dictionary_description, dictionary_has_tag, dictionary_is_retired, get_entry
from pydicom.dataelem import DataElement, RawDataElement
from pydicom.dataset import Dataset
from pydicom.errors import InvalidDicomError
from pydicom.sequence import Sequence
from pydicom.tag import Tag

from viewer.dicom.vr_check import check_element
from viewer.dicom.charset import check_charset, undeclared_non_ascii
from viewer.dicom.dump_values import CHARSET_VRS, PIXEL_DATA, SUMMARY_THRESHOLD, encoded_length, format_value
from viewer.errors import ReadError

log = logging.getLogger(__name__)

#: Values longer than this many bytes stay on disk when a file is read for a dump.
DEFER_SIZE = 64 * 1024
ITEM_TAG = 0xFFFEE000
UNDEFINED_LENGTH = 0xFFFFFFFF

#: Group names as in PS3.6 / the classic ACR-NEMA group meanings.
GROUP_NAMES: dict[int, str] = {
    0x0000: "Command", 0x0002: "File Meta", 0x0004: "Directory", 0x0008: "Identifying",
    0x0010: "Patient", 0x0012: "Clinical Trial", 0x0014: "NDE", 0x0018: "Acquisition",
    0x0020: "Relationship", 0x0022: "Ophthalmology", 0x0024: "Ophthalmology",
    0x0028: "Image Presentation", 0x0032: "Study", 0x0038: "Visit", 0x003A: "Waveform",
    0x0040: "Procedure", 0x0042: "Encapsulated Document", 0x0044: "Product",
    0x0046: "Lens", 0x0048: "Slide", 0x0050: "Device", 0x0054: "Nuclear Medicine",
    0x0060: "Histogram", 0x0062: "Segmentation", 0x0064: "Registration", 0x0066: "Surface",
    0x0068: "Implant", 0x0070: "Presentation State", 0x0072: "Hanging Protocol",
    0x0074: "Procedure Step", 0x0076: "Implant Template", 0x0078: "Implant Assembly",
    0x0080: "Surface Scan", 0x0088: "Storage", 0x0100: "Authorization", 0x0400: "Digital Signature",
    0x1000: "Code Table", 0x1010: "Zonal Map", 0x2000: "Film Session", 0x2010: "Film Box",
    0x2020: "Image Box", 0x2030: "Annotation", 0x2040: "Overlay Box", 0x2050: "Presentation LUT",
    0x2100: "Print Job", 0x2110: "Printer", 0x2120: "Queue", 0x2130: "Print Content",
    0x2200: "Media Creation", 0x3002: "RT Image", 0x3004: "RT Dose", 0x3006: "RT Structure Set",
    0x3008: "RT Treatment", 0x300A: "RT Plan", 0x300C: "RT Relationship", 0x300E: "RT Approval",
    0x4000: "Text", 0x4008: "Results", 0x4010: "Low-Energy Detectors", 0x4FFE: "MAC Parameters",
    0x5200: "Functional Groups", 0x5400: "Waveform Data", 0x5600: "Spectroscopy",
    0x7FE0: "Pixel Data", 0xFFFA: "Digital Signatures", 0xFFFC: "Data Set Trailing Padding",
    0xFFFE: "Item",
}


def group_name(group: int) -> str:
    """Name of a group: ``0x0010`` -> ``"Patient"``; repeating groups 50xx/60xx (PS3.5 7.6)."""
    if group & 1:
        return "Private"
    if 0x5000 <= group <= 0x501E:
        return "Curve"
    if 0x6000 <= group <= 0x601E:
        return "Overlay"
    if 0x7F00 <= group <= 0x7F1E:
        return "Variable Pixel Data"
    return GROUP_NAMES.get(group, "Unknown")


class NodeKind(enum.Enum):
    """What a :class:`DumpNode` stands for."""

    ELEMENT = "element"
    SEQUENCE = "sequence"
    ITEM = "item"


class DumpNode:
    """One line of the dump: an element, a sequence or a sequence item.

    Attributes
    ----------
    kind : NodeKind
    tag : int
        ``0xGGGGEEEE``; items use (FFFE,E000).
    vr : str
        Value Representation as read (``"na"`` for items, like dcmdump).
    vm : int
        Value Multiplicity (1 for a sequence, whose items are counted by ``item_count``).
    length : int or None
        Value length in bytes as stored; None for undefined length (PS3.5 7.1.1).
    keyword, name : str
        From pydicom's dictionary (or the private dictionary for known creators).
    value : str
        Display text of the value, decoded with the Specific Character Set; large
        binary values are summarised.
    depth : int
        Nesting level; 0 for top-level elements.
    is_meta : bool
        True for File Meta Information (group 0002, PS3.10 7.1).
    private_creator : str or None
        Private Creator of a private element (PS3.5 7.8.1).
    retired : bool
    problems : tuple of str
        Messages for values that break their VR's rules (PS3.5 6.2).
    parent : DumpNode or None
    row : int
        Position among the parent's children.
    """

    # Element nodes made by :func:`dataset_nodes` start as stubs holding only their tag and
    # place; the rest is filled from the data set the first time any of it is read
    # (``__getattr__``), so a tree shows 2,000 elements without converting them all.
    _lazy: tuple[Dataset, bool]  # (data set, charset declared) of a stub, until it is filled

    _LAZY_FIELDS = ("kind", "vr", "vm", "length", "keyword", "name", "value", "private_creator",
                    "retired", "problems", "_source", "_charset_declared")

    def __init__(self, kind: NodeKind, tag: int, vr: str, vm: int, length: int | None, keyword: str,
                 name: str, value: str, depth: int = 0, is_meta: bool = False,
                 private_creator: str | None = None, retired: bool = False, problems: tuple[str, ...] = (),
                 parent: DumpNode | None = None, row: int = 0, _source: Any = None,
                 _children: list[DumpNode] | None = None, _charset_declared: bool = False) -> None:
        self.kind = kind
        self.tag = tag
        self.vr = vr
        self.vm = vm
        self.length = length
        self.keyword = keyword
        self.name = name
        self.value = value
        self.depth = depth
        self.is_meta = is_meta
        self.private_creator = private_creator
        self.retired = retired
        self.problems = problems
        self.parent = parent
        self.row = row
        self._source = _source
        self._children = _children
        self._charset_declared = _charset_declared

    @classmethod
    def lazy(cls, ds: Dataset, tag: int, *, depth: int, parent: DumpNode | None, row: int, is_meta: bool,
             charset_declared: bool) -> DumpNode:
        """A node for element ``tag`` of ``ds`` whose value is decoded on first use."""
        node = cls.__new__(cls)
        node.tag = int(tag)
        node.depth = depth
        node.parent = parent
        node.row = row
        node.is_meta = is_meta
        node._children = None
        node._lazy = (ds, charset_declared)
        return node

    def __getattr__(self, attr: str) -> Any:
        # Only called for attributes not set yet, i.e. on a stub from :meth:`lazy`.
        if attr not in DumpNode._LAZY_FIELDS or "_lazy" not in self.__dict__:
            raise AttributeError(attr)
        lazy = self.__dict__.pop("_lazy")
        ds, declared = lazy
        try:
            full = element_node(ds, self.tag, depth=self.depth, is_meta=self.is_meta, charset_declared=declared)
        except Exception as exc:  # noqa: BLE001 - one bad element must not hide the rest
            log.warning("element %s could not be decoded: %s", Tag(self.tag), exc)
            full = DumpNode(NodeKind.ELEMENT, self.tag, "UN", 0, None, "", "", "(undecodable)",
                            problems=(f"cannot decode: {exc}",))
        for name in self._LAZY_FIELDS:
            setattr(self, name, getattr(full, name))
        return getattr(self, attr)

    def __repr__(self) -> str:
        return f"DumpNode({self.tag_text} {self.vr} {self.keyword} {self.value!r})"

    @property
    def tag_text(self) -> str:
        """``(gggg,eeee)`` in lower case hex, as dcmdump prints it."""
        return f"({self.tag >> 16:04x},{self.tag & 0xFFFF:04x})"

    @property
    def group(self) -> int:
        return self.tag >> 16

    @property
    def group_name(self) -> str:
        """Name of the element's group (``"Patient"`` for 0010), see :func:`group_name`."""
        return group_name(self.group)

    @property
    def is_private(self) -> bool:
        return bool(self.group & 1) and self.kind is not NodeKind.ITEM

    @property
    def is_empty(self) -> bool:
        """No value (zero length, or a sequence without items)."""
        if self.kind is NodeKind.SEQUENCE:
            return self.item_count == 0
        return self.kind is not NodeKind.ITEM and self.vm == 0

    @property
    def item_count(self) -> int:
        """Number of items of a sequence (0 for other nodes)."""
        return len(self._source) if self.kind is NodeKind.SEQUENCE and self._source is not None else 0

    @property
    def has_children(self) -> bool:
        if self._children is not None:
            return bool(self._children)
        lazy = self.__dict__.get("_lazy")
        if lazy is not None:
            return _raw_has_items(lazy[0], self.tag)  # without decoding the element
        if self.kind is NodeKind.SEQUENCE:
            return self.item_count > 0
        return self.kind is NodeKind.ITEM and self._source is not None and len(self._source) > 0

    @property
    def children(self) -> list[DumpNode]:
        """Child nodes (items of a sequence, elements of an item), built on first access."""
        if self._children is None:
            self._children = self._build_children()
        return self._children

    def _build_children(self) -> list[DumpNode]:
        if self.kind is NodeKind.SEQUENCE and isinstance(self._source, Sequence):
            return [_item_node(item, i, self) for i, item in enumerate(self._source)]
        if self.kind is NodeKind.ITEM and isinstance(self._source, Dataset):
            declared = self.parent._charset_declared if self.parent is not None else False
            return dataset_nodes(self._source, depth=self.depth + 1, parent=self, charset_declared=declared)
        return []

    @property
    def dataset(self) -> Dataset | None:
        """The item Dataset (items) or None."""
        return self._source if isinstance(self._source, Dataset) else None

    def path(self) -> tuple[int, ...]:
        """Tags and item indices from the root: ``(seq_tag, item_index, tag, ...)``."""
        parts: list[int] = []
        node: DumpNode | None = self
        while node is not None:
            parts.append(node.row if node.kind is NodeKind.ITEM else node.tag)
            node = node.parent
        return tuple(reversed(parts))


def _raw_has_items(ds: Dataset, tag: int) -> bool:
    """Whether element ``tag`` of ``ds`` is a sequence with items, judged from its raw form."""
    raw = ds.get_item(tag, keep_deferred=True)
    if isinstance(raw, RawDataElement):
        if raw.length == UNDEFINED_LENGTH:
            # Undefined length: a sequence, or UN read as one (PS3.5 6.2.2 note, CP-246);
            # Pixel Data with undefined length is encapsulated, not a sequence.
            return tag != PIXEL_DATA
        return (raw.VR or _dict_vr(tag)) == "SQ" and raw.length > 0
    return raw is not None and raw.VR == "SQ" and bool(raw.value)


def _item_node(item: Dataset, index: int, parent: DumpNode) -> DumpNode:
    return DumpNode(NodeKind.ITEM, ITEM_TAG, "na", 1, None, "Item", f"Item #{index + 1}",
                    f"{len(item)} element{'s' if len(item) != 1 else ''}", depth=parent.depth + 1,
                    parent=parent, row=index, _source=item)


def _raw_length(raw: DataElement | RawDataElement) -> int | None:
    if isinstance(raw, RawDataElement):
        return None if raw.length == UNDEFINED_LENGTH else raw.length
    return None


def element_node(ds: Dataset, tag: int, *, depth: int = 0, parent: DumpNode | None = None,
                 row: int = 0, is_meta: bool = False, charset_declared: bool | None = None) -> DumpNode:
    """Build the node of element ``tag`` of ``ds`` (children of a sequence stay lazy).

    ``charset_declared`` says whether this data set or an enclosing one has a Specific
    Character Set (items inherit it, PS3.5 6.1.2.5.5); None looks at ``ds`` only.
    """
    if charset_declared is None:
        charset_declared = 0x00080005 in ds
    raw = ds.get_item(tag, keep_deferred=True)
    deferred = isinstance(raw, RawDataElement) and raw.value is None and raw.length not in (0, None)
    length = _raw_length(raw) if isinstance(raw, RawDataElement) else None
    if deferred:
        # Left on disk by ``defer_size``: summarise without reading (never inline megabytes).
        vr = raw.VR or _dict_vr(tag)
        elem = None
        value, vm = f"({length} bytes, not loaded)" if length is not None else "(undefined length)", 1
    else:
        elem = ds[tag]
        vr = elem.VR
        vm = elem.VM
        if isinstance(raw, RawDataElement):
            length = _raw_length(raw)
            if raw.length == UNDEFINED_LENGTH:
                length = None
        else:
            length = encoded_length(elem)
        value = format_value(elem, length, raw.value if isinstance(raw, RawDataElement) and vr == "PN" else None)
    t = Tag(tag)
    creator = None
    keyword = name = ""
    retired = False
    if t.is_private:
        if t.is_private_creator:
            keyword, name = "PrivateCreator", "Private Creator"
        else:
            creator = elem.private_creator if elem is not None else None
            known = elem is not None and creator and elem.name not in ("Private tag data", "")
            name = elem.name.strip("[]") if known and elem is not None else "Unknown Tag & Data"
            keyword = _camel(name) if known else "UnknownTagAndData"
    elif dictionary_has_tag(t):
        keyword = elem.keyword if elem is not None else ""
        name = dictionary_description(t)
        retired = dictionary_is_retired(t)
        if not keyword:
            from pydicom.datadict import keyword_for_tag

            keyword = keyword_for_tag(t)
    else:
        # Repeating groups (50xx curves, 60xx overlays, PS3.5 7.6) resolve through pydicom's
        # mask dictionary; anything else is unknown.
        try:
            _vr, _vm, name, is_retired, keyword = get_entry(t)
            retired = is_retired == "Retired"
        except KeyError:
            keyword, name, retired = "UnknownTagAndData", "Unknown Tag & Data", False
    if t.element == 0x0000 and keyword in ("", "UnknownTagAndData"):
        # Group lengths (gggg,0000) are retired except in groups 0000 and 0002 (PS3.5 7.2).
        keyword, name, creator = "GenericGroupLength", "Generic Group Length", None
    kind = NodeKind.SEQUENCE if vr == "SQ" else NodeKind.ELEMENT
    problems: tuple[str, ...] = ()
    if elem is not None and kind is NodeKind.ELEMENT:
        problems = check_element(elem)
        if tag == 0x00080005:
            problems += tuple(check_charset(elem.value))
        elif vr in CHARSET_VRS and isinstance(raw, RawDataElement):
            msg = undeclared_non_ascii(raw.value, charset_declared)
            if msg:
                problems += (msg,)
        if tag == PIXEL_DATA and length is None and vr != "OB":
            # PS3.5 A.4: encapsulated Pixel Data is OB (DCMTK silently shows OB).
            problems += (f"encapsulated Pixel Data has VR {vr}, must be OB (PS3.5 A.4)",)
    if kind is NodeKind.SEQUENCE:
        n = len(elem.value) if elem is not None else 0
        vm = 1  # the VM of SQ is always 1 (PS3.5 7.5); the items are counted in the value
        value = f"{n} item{'s' if n != 1 else ''}"
    return DumpNode(kind, int(tag), vr or "UN", vm, length, keyword, name, value, depth=depth,
                    is_meta=is_meta, private_creator=creator, retired=retired, problems=problems,
                    parent=parent, row=row,
                    _source=elem.value if kind is NodeKind.SEQUENCE and elem is not None else None,
                    _charset_declared=charset_declared)


def _camel(name: str) -> str:
    """``"Full fidelity"`` -> ``"FullFidelity"`` (a keyword for a private dictionary name)."""
    return "".join(w[:1].upper() + w[1:] for w in re.split(r"[^0-9A-Za-z]+", name) if w)


def _dict_vr(tag: int) -> str:
    from pydicom.datadict import dictionary_VR

    try:
        return dictionary_VR(tag)
    except KeyError:
        return "UN"


def dataset_nodes(ds: Dataset, *, depth: int = 0, parent: DumpNode | None = None,
                  is_meta: bool = False, charset_declared: bool = False) -> list[DumpNode]:
    """Nodes of every element of ``ds`` in tag order (sequence contents built lazily)."""
    declared = charset_declared or 0x00080005 in ds
    return [DumpNode.lazy(ds, tag, depth=depth, parent=parent, row=row, is_meta=is_meta,
                          charset_declared=declared) for row, tag in enumerate(ds.keys())]


def dump_dataset(ds: Dataset, *, include_meta: bool = True) -> list[DumpNode]:
    """Top-level nodes of ``ds``: its File Meta (if any and wanted) followed by the data set."""
    nodes: list[DumpNode] = []
    meta = getattr(ds, "file_meta", None)
    if include_meta and meta is not None and len(meta):
        nodes.extend(dataset_nodes(meta, is_meta=True))
    body = dataset_nodes(ds)
    for i, n in enumerate(body, start=len(nodes)):
        n.row = i
    return nodes + body


def iter_nodes(nodes: list[DumpNode]) -> Iterator[DumpNode]:
    """Depth-first walk over ``nodes`` and all their descendants (builds lazy children)."""
    stack = list(reversed(nodes))
    while stack:
        node = stack.pop()
        yield node
        if node.has_children:
            stack.extend(reversed(node.children))


@dataclass
class DumpResult:
    """A file read for dumping.

    Attributes
    ----------
    dataset : Dataset
    nodes : list of DumpNode
        Top-level nodes (File Meta first).
    stopped : str or None
        Where and why reading stopped early on a damaged file; None when complete.
    """

    dataset: Dataset
    nodes: list[DumpNode]
    stopped: str | None = None


def read_dataset(path: str | os.PathLike[str], *, defer_size: int | None = DEFER_SIZE,
                 stop_before_pixels: bool = False) -> tuple[Dataset, str | None]:
    """Read ``path`` for a dump, tolerating truncated files.

    Returns
    -------
    (Dataset, str or None)
        The dataset and, for a damaged file, a sentence saying where reading stopped.

    Raises
    ------
    ReadError
        The file is missing, empty, or not DICOM at all.
    """
    path = os.fspath(path)
    try:
        size = os.path.getsize(path)
    except OSError as exc:
        raise ReadError(f"{path}: cannot open: {exc.strerror or exc}", path=path) from exc
    if size == 0:
        raise ReadError(f"{path}: empty file, not DICOM", path=path)
    from viewer.dicom.bounded_io import BudgetExceeded, InflateLimit, dcmread_bounded

    try:
        # Bounded: a deflate bomb is refused, not inflated; gigabytes of empty elements
        # end after a budget of reads.
        ds = dcmread_bounded(path, defer_size=defer_size, stop_before_pixels=stop_before_pixels)
        has_prefix = True
    except (BudgetExceeded, InflateLimit) as exc:
        raise ReadError(f"{path}: refused: {exc}", path=path) from None
    except InvalidDicomError:
        has_prefix = False
        try:
            # A raw data set without preamble/File Meta (PS3.10 7.1 is optional for media
            # written by old software); DCMTK reads these too.
            ds = dcmread_bounded(path, force=True, defer_size=defer_size, stop_before_pixels=stop_before_pixels)
        except (BudgetExceeded, InflateLimit) as exc:
            raise ReadError(f"{path}: refused: {exc}", path=path) from None
        except Exception as exc:
            raise ReadError(f"{path}: not a DICOM file ({exc})", path=path) from exc
    except Exception as exc:  # pydicom raises many types on damaged files
        raise ReadError(f"{path}: cannot parse: {exc}", path=path) from exc
    stopped = _truncation(ds, size)
    if len(ds) == 0 and not len(getattr(ds, "file_meta", []) or []):
        raise ReadError(f"{path}: no data elements found{' after the DICM prefix' if has_prefix else ''}: "
                        "not a DICOM file", path=path)
    first = next(iter(ds.keys()), None)
    if not has_prefix and (first is None or stopped is not None and _first_is_bogus(ds, size)):
        raise ReadError(f"{path}: not a DICOM file (no DICM prefix and no valid data element)", path=path)
    if has_prefix and len(ds) and _first_is_bogus(ds, size) and len(ds) == 1:
        raise ReadError(f"{path}: not a DICOM data set after the DICM prefix ({stopped})", path=path)
    return ds, stopped


def _first_is_bogus(ds: Dataset, size: int) -> bool:
    tag = next(iter(ds.keys()))
    raw = ds.get_item(tag, keep_deferred=True)
    if isinstance(raw, RawDataElement):
        if raw.length != UNDEFINED_LENGTH and raw.value_tell is not None and raw.value_tell + raw.length > size:
            return True
        return not dictionary_has_tag(tag) and not Tag(tag).is_private
    return False


def _truncation(ds: Dataset, size: int) -> str | None:
    """Say where a top-level element runs past the end of the file (PS3.5 7.1: its length)."""
    if _is_deflated(ds):
        return None  # offsets are in the inflated stream; zlib reports truncation itself
    for tag in ds.keys():
        raw = ds.get_item(tag, keep_deferred=True)
        if not isinstance(raw, RawDataElement) or raw.length == UNDEFINED_LENGTH or raw.value_tell is None:
            continue
        end = raw.value_tell + raw.length
        if end > size:
            return (f"reading stopped at byte {raw.value_tell}: element {Tag(tag)} declares "
                    f"{raw.length} bytes but only {size - raw.value_tell} remain in the file")
    last = list(ds.keys())[-1] if len(ds) else None
    if last is not None:
        raw = ds.get_item(last, keep_deferred=True)
        if isinstance(raw, RawDataElement) and raw.length != UNDEFINED_LENGTH and raw.value_tell is not None:
            end = raw.value_tell + raw.length
            if 0 < size - end < 8:
                # Fewer bytes than an element header (PS3.5 7.1.2): pydicom drops them silently.
                return (f"reading stopped at byte {end}: {size - end} bytes after {Tag(last)} "
                        "are not a complete data element")
    return None


def _is_deflated(ds: Dataset) -> bool:
    # Offsets of a deflated data set (1.2.840.10008.1.2.1.99) are not file offsets.
    meta = getattr(ds, "file_meta", None)
    return meta is not None and str(meta.get("TransferSyntaxUID", "")) == "1.2.840.10008.1.2.1.99"


def dump_file(path: str | os.PathLike[str], *, include_meta: bool = True,
              defer_size: int | None = DEFER_SIZE, stop_before_pixels: bool = False) -> DumpResult:
    """Read ``path`` and build its dump (see :func:`read_dataset` for errors)."""
    ds, stopped = read_dataset(path, defer_size=defer_size, stop_before_pixels=stop_before_pixels)
    return DumpResult(ds, dump_dataset(ds, include_meta=include_meta), stopped)


__all__ = ["DumpNode", "DumpResult", "NodeKind", "GROUP_NAMES", "SUMMARY_THRESHOLD", "dataset_nodes",
           "dump_dataset", "dump_file", "element_node", "group_name", "iter_nodes", "read_dataset"]
