"""Text lines of a dump, in the spirit of DCMTK ``dcmdump`` (no Qt).

Two line styles:

* :func:`text_line` -- ``(gggg,eeee) VR Keyword [value] # length, VM`` (``python -m viewer dump``);
* :func:`dcmdump_line` -- dcmdump's own order, ``(gggg,eeee) VR [value]  # length, VM Keyword``
  (the inspector's "copy as dcmdump line").

Text VRs are bracketed, numbers are not, empty values read ``(no value available)``.
"""

from __future__ import annotations

from typing import Iterable, Iterator

from viewer.dicom.dump import DumpNode, NodeKind, iter_nodes
from viewer.dicom.dump_values import NUMBER_VRS

INDENT = "  "


def _length_text(node: DumpNode) -> str:
    return "u/l" if node.length is None and node.kind is not NodeKind.ELEMENT else (
        "?" if node.length is None else str(node.length))


def value_text(node: DumpNode) -> str:
    """The value as dcmdump would show it: ``[text]``, bare numbers, or a note in parentheses."""
    if node.kind is NodeKind.SEQUENCE:
        return f"(Sequence #={node.item_count})"
    if node.kind is NodeKind.ITEM:
        return f"(Item #={len(node.dataset) if node.dataset is not None else 0})"
    if node.is_empty or node.value == "":
        return "(no value available)"
    if node.value.startswith("(") and node.vr not in ("AT",):
        return node.value
    if node.vr in NUMBER_VRS or node.vr in ("AT", "OB", "OW", "OF", "OD", "OL", "OV", "UN"):
        return node.value
    return f"[{node.value}]"


def _flags(node: DumpNode) -> str:
    notes = []
    if node.retired:
        notes.append("RETIRED")
    if node.private_creator:
        notes.append(f"creator {node.private_creator!r}")
    notes.extend(f"INVALID: {p}" for p in node.problems)
    return ("  ! " + "; ".join(notes)) if notes else ""


def _vm_text(node: DumpNode) -> str:
    # dcmdump counts a sequence and an item as one value (PS3.5 7.5).
    return "1" if node.kind is not NodeKind.ELEMENT else str(node.vm)


def text_line(node: DumpNode) -> str:
    """``(gggg,eeee) VR Keyword [value] # length, VM`` indented by nesting depth."""
    keyword = node.keyword or node.name or "UnknownTagAndData"
    return (f"{INDENT * node.depth}{node.tag_text} {node.vr} {keyword} {value_text(node)}"
            f" # {_length_text(node)}, {_vm_text(node)}{_flags(node)}")


def dcmdump_line(node: DumpNode) -> str:
    """One line as DCMTK dcmdump prints it: value padded to column 40, then ``# len, VM Keyword``."""
    head = f"{node.tag_text} {node.vr} {value_text(node)}"
    keyword = node.keyword or "Item" if node.kind is NodeKind.ITEM else node.keyword or "UnknownTagAndData"
    return f"{INDENT * node.depth}{head:<51} # {_length_text(node):>3}, {_vm_text(node)} {keyword}"


def dump_lines(nodes: Iterable[DumpNode], *, header: bool = True) -> Iterator[str]:
    """Every line of the dump of ``nodes`` (and their descendants), with section headers."""
    section = None
    for node in iter_nodes(list(nodes)):
        if header and node.depth == 0:
            now = "# File Meta Information (PS3.10 7.1)" if node.is_meta else "# Data Set"
            if now != section:
                section = now
                yield now
        yield text_line(node)
