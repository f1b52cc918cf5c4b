"""Search and filter over dump nodes (no Qt; the tag inspector and ``dump --search`` use it).

A query matches a node when it is

* a tag in any common form -- ``0008,0060``, ``(0008,0060)``, ``00080060``, ``0008 0060``,
  ``0x00080060`` -- and the node has that tag;
* a substring of the keyword or name, case-insensitive (``modalit`` finds Modality and
  ModalitiesInStudy);
* a substring of the value text, case-insensitive.

A filtered tree keeps every matching node plus its ancestors, so nested matches stay
reachable.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from viewer.dicom.dump import DumpNode, NodeKind, iter_nodes

_TAG = re.compile(r"\(?\s*(?:0x)?([0-9a-fA-F]{4})\s*[,| ]?\s*([0-9a-fA-F]{4})\s*\)?\Z")


def parse_tag(text: str) -> int | None:
    """``"(0008,0060)"`` / ``"0008,0060"`` / ``"00080060"`` -> ``0x00080060``; None otherwise."""
    m = _TAG.match(text.strip())
    if not m:
        return None
    return int(m.group(1) + m.group(2), 16)


@dataclass(frozen=True)
class Query:
    """A parsed search: free text plus the filters of the inspector.

    Attributes
    ----------
    text : str
        What the user typed (empty matches everything).
    hide_private : bool
        Drop private elements (odd groups, PS3.5 7.8) and their contents.
    hide_empty : bool
        Drop elements with no value.
    """

    text: str = ""
    hide_private: bool = False
    hide_empty: bool = False

    @property
    def is_trivial(self) -> bool:
        return not self.text.strip() and not self.hide_private and not self.hide_empty


def node_matches(node: DumpNode, text: str, tag: int | None = None) -> bool:
    """Whether ``node`` matches the search text (see module docstring)."""
    if tag is not None and node.tag == tag:
        return True
    if not text:
        return True
    needle = text.casefold()
    if node.kind is NodeKind.ITEM:
        return False
    return (needle in node.keyword.casefold() or needle in node.name.casefold()
            or needle in node.value.casefold() or needle in node.tag_text)


def _passes(node: DumpNode, query: Query) -> bool:
    if query.hide_private and node.is_private:
        return False
    return not (query.hide_empty and node.is_empty)


def visible_nodes(roots: list[DumpNode], query: Query) -> set[int] | None:
    """``id()`` of every node to show for ``query``; None when everything is shown.

    A node is shown when it passes the filters and it, or a descendant, matches the text.
    Children of a matching sequence or item stay visible so the match can be opened.
    """
    if query.is_trivial:
        return None
    text = query.text.strip()
    tag = parse_tag(text) if text else None
    keep: set[int] = set()

    def walk(node: DumpNode, inherited: bool) -> bool:
        if not _passes(node, query):
            return False
        hit = inherited or node_matches(node, text, tag)
        below = False
        if node.has_children:
            for child in node.children:
                below = walk(child, hit and node.kind is not NodeKind.ELEMENT and bool(text)) or below
        if hit or below:
            keep.add(id(node))
            return True
        return False

    for root in roots:
        walk(root, False)
    return keep


def search(roots: list[DumpNode], text: str) -> list[DumpNode]:
    """Every node (at any depth) whose own tag, keyword, name or value matches ``text``."""
    tag = parse_tag(text)
    return [n for n in iter_nodes(roots) if n.kind is not NodeKind.ITEM and node_matches(n, text.strip(), tag)
            and (tag is None or n.tag == tag)]
