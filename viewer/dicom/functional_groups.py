"""Shared and Per-frame Functional Groups of enhanced multi-frame objects (PS3.3 C.7.6.16).

For a frame index, :func:`frame_groups` lists the functional group sequences that apply
to that frame: those of the Shared Functional Groups Sequence (5200,9229) and those of
item ``frame`` of the Per-frame Functional Groups Sequence (5200,9230). The standard does
not allow one group in both (PS3.3 C.7.6.16.1); if a file does it anyway the per-frame
one wins. :func:`diffusion_info` reads the MR Diffusion Sequence (PS3.3 C.8.13.5.9) of a
frame. No Qt.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from pydicom.datadict import dictionary_VR, keyword_for_tag
from pydicom.dataset import Dataset

from viewer.dicom.dump import DumpNode, element_node

log = logging.getLogger(__name__)

SHARED = 0x52009229
PER_FRAME = 0x52009230


@dataclass(frozen=True)
class FrameGroup:
    """One functional group sequence that applies to a frame.

    Attributes
    ----------
    tag : int
        Tag of the group sequence, e.g. (0018,9117) MR Diffusion Sequence.
    keyword : str
    shared : bool
        True when it comes from the Shared Functional Groups Sequence.
    container : Dataset
        The item (shared, or the frame's per-frame item) that holds the sequence.
    """

    tag: int
    keyword: str
    shared: bool
    container: Dataset


@dataclass(frozen=True)
class DiffusionInfo:
    """MR diffusion parameters of one frame (PS3.3 C.8.13.5.9).

    Attributes
    ----------
    b_value : float or None
        Diffusion b-value in s/mm2 (0018,9087).
    directionality : str or None
        DIRECTIONAL, BMATRIX, ISOTROPIC or NONE (0018,9075).
    gradient : tuple of float or None
        Diffusion Gradient Orientation (0018,9089), for DIRECTIONAL.
    """

    b_value: float | None
    directionality: str | None
    gradient: tuple[float, float, float] | None

    def __str__(self) -> str:
        parts = []
        if self.b_value is not None:
            parts.append(f"b = {self.b_value:g} s/mm\u00b2")
        if self.directionality:
            parts.append(self.directionality)
        if self.gradient is not None:
            parts.append("gradient (" + ", ".join(f"{g:g}" for g in self.gradient) + ")")
        return ", ".join(parts) or "no diffusion parameters"


def number_of_frames(ds: Dataset) -> int:
    """Number of Frames (0028,0008), 1 when absent or invalid."""
    try:
        return max(1, int(ds.get("NumberOfFrames", 1) or 1))
    except (TypeError, ValueError):
        return 1


def has_functional_groups(ds: Dataset) -> bool:
    return SHARED in ds or PER_FRAME in ds


def _item(ds: Dataset, tag: int, index: int) -> Dataset | None:
    if tag not in ds:
        return None
    seq = ds[tag].value or []
    return seq[index] if 0 <= index < len(seq) else None


def _sequence_tags(item: Dataset) -> list[int]:
    """Tags of the sequences in ``item``, read from the raw elements (nothing is decoded,
    so the dump still sees the lengths as stored)."""
    tags = []
    for tag in item.keys():
        elem = item.get_item(tag, keep_deferred=True)
        vr = getattr(elem, "VR", None)
        if vr is None:  # implicit VR: the dictionary knows the group sequences
            try:
                vr = dictionary_VR(tag)
            except KeyError:
                vr = None
        if vr == "SQ":
            tags.append(int(tag))
    return tags


def frame_groups(ds: Dataset, frame_index: int) -> list[FrameGroup]:
    """Functional group sequences that apply to ``frame_index`` (0-based), shared first."""
    groups: dict[int, FrameGroup] = {}
    shared = _item(ds, SHARED, 0)
    if shared is not None:
        for tag in _sequence_tags(shared):
            groups[tag] = FrameGroup(tag, keyword_for_tag(tag), True, shared)
    per = _item(ds, PER_FRAME, frame_index)
    if per is None and PER_FRAME in ds:
        log.warning("frame %d has no Per-frame Functional Groups item (%d items)", frame_index,
                    len(ds[PER_FRAME].value or []))
    if per is not None:
        for tag in _sequence_tags(per):
            if tag in groups:
                log.info("%s is both shared and per-frame (PS3.3 C.7.6.16.1); using per-frame",
                         keyword_for_tag(tag))
            groups[tag] = FrameGroup(tag, keyword_for_tag(tag), False, per)
    return sorted(groups.values(), key=lambda g: (not g.shared, g.tag))


def frame_attribute(ds: Dataset, frame_index: int, group_tag: int, keyword: str) -> object | None:
    """Value of ``keyword`` in the first item of functional group ``group_tag`` for a frame."""
    for g in frame_groups(ds, frame_index):
        if g.tag == group_tag:
            seq = g.container[group_tag].value or []
            if seq and keyword in seq[0]:
                value: object = seq[0][keyword].value
                return value
    return None


def diffusion_info(ds: Dataset, frame_index: int) -> DiffusionInfo | None:
    """Diffusion b-value, directionality and gradient of a frame, or None without them."""
    for g in frame_groups(ds, frame_index):
        if g.keyword != "MRDiffusionSequence":
            continue
        seq = g.container[g.tag].value or []
        if not seq:
            return None
        item = seq[0]
        b = item.get("DiffusionBValue")
        direction = item.get("DiffusionDirectionality")
        gradient = None
        grad_seq = item.get("DiffusionGradientDirectionSequence") or []
        if grad_seq and "DiffusionGradientOrientation" in grad_seq[0]:
            vals = grad_seq[0].DiffusionGradientOrientation
            try:
                gradient = tuple(float(v) for v in vals)[:3]
            except (TypeError, ValueError):
                gradient = None
        return DiffusionInfo(float(b) if b is not None else None, str(direction) if direction else None,
                             gradient if gradient and len(gradient) == 3 else None)
    return None


def frame_nodes(ds: Dataset, frame_index: int) -> list[DumpNode]:
    """Dump nodes of the functional groups of one frame; ``value`` says shared or per-frame."""
    nodes = []
    for row, g in enumerate(frame_groups(ds, frame_index)):
        node = element_node(g.container, g.tag, row=row)
        node.value = f"{node.value} ({'shared' if g.shared else f'frame {frame_index + 1}'})"
        nodes.append(node)
    return nodes
