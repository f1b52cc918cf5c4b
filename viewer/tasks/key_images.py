"""Key images: flagged frames of a view saved as a Key Object Selection document, and the
frames a KO document names found among the open instances (its "virtual series")."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from pydicom.dataset import Dataset

from viewer.dicom.frames import read_dataset
from viewer.dicom.ko import TITLES, KeyObjectSelection, Referenced, build_key_objects, read_key_objects
from viewer.dicom.pstate import GSPS_SOP_CLASS, PresentationState
from viewer.session.frames import FrameRef
from viewer.tasks.pstate import write_beside

log = logging.getLogger(__name__)


@dataclass
class SavedKeyImages:
    path: Path
    dataset: Dataset


def title_for(code: str) -> tuple[str, str]:
    """The CID 7010 (code, meaning) for a code value; ValueError for others."""
    for value, meaning in TITLES:
        if value == code:
            return value, meaning
    raise ValueError(f"{code} is not a Key Object Selection Document Title (CID 7010)")


def save_key_images(frames: Sequence[FrameRef], *, title: tuple[str, str] = TITLES[0], description: str = "",
                    pstate: PresentationState | None = None, folder: Path | None = None,
                    store_root: Path | None = None) -> SavedKeyImages:
    """Write a KO document naming ``frames`` (in this order) beside the first one's file (or
    into ``folder`` / the local store, as presentation states are). ``pstate`` is referenced
    for the images it applies to.

    Raises
    ------
    ValueError
        Without frames, or frames of more than one study.
    OSError
        When no folder can be written.
    """
    if not frames:
        raise ValueError("no key images flagged")
    headers: dict[str, Dataset] = {}
    refs: list[Referenced] = []
    for f in frames:
        if f.path not in headers:
            headers[f.path] = read_dataset(f.path)
        h = headers[f.path]
        multi = int(h.get("NumberOfFrames", 1) or 1) > 1
        refs.append(Referenced(str(h.SOPClassUID), str(h.SOPInstanceUID), str(h.SeriesInstanceUID),
                               f.frame_index + 1 if multi else 0))
    studies = {str(h.get("StudyInstanceUID", "")) for h in headers.values()}
    if len(studies) > 1:
        raise ValueError("key images of one study at a time")
    first = headers[frames[0].path]
    ps_ref = None
    ps_for: set[str] | None = None
    if pstate is not None:
        ps_ref = Referenced(GSPS_SOP_CLASS, pstate.sop_instance_uid, pstate.series_instance_uid)
        ps_for = {r.sop_instance_uid for r in refs if pstate.references(r.sop_instance_uid, max(1, r.frame))}
        if not ps_for:
            ps_ref, ps_for = None, None
    ds = build_key_objects(first, refs, title=title, description=description, pstate=ps_ref, pstate_for=ps_for)
    path = write_beside(ds, Path(frames[0].path), folder=folder, store_root=store_root, prefix="KO")
    log.info("key object selection saved: %s (%d images)", path, len(refs))
    return SavedKeyImages(path, ds)


def load_key_objects(path: str) -> KeyObjectSelection:
    return read_key_objects(read_dataset(path, defer=False))


def key_frames(documents: Iterable[KeyObjectSelection],
               frames_of_instance: Callable[[str], list[FrameRef]]) -> list[FrameRef]:
    """The frames the documents name, in their order, each once; ``frames_of_instance``
    gives the frames of an open instance by SOP Instance UID ([] when it is not open)."""
    out: list[FrameRef] = []
    seen: set[FrameRef] = set()
    for doc in documents:
        for image in doc.images:
            frames = frames_of_instance(image.sop_instance_uid)
            if image.frames:
                frames = [f for f in frames if f.frame_index + 1 in image.frames]
            for f in frames:
                if f not in seen:
                    seen.add(f)
                    out.append(f)
    return out
