"""Read a series (single-frame slices or one multi-frame image) into a :class:`Volume`.

The stack chosen is the largest one of parallel slices in the series (as the viewer shows
it). Slices keep their stored values when every slice has the same Modality LUT (Rescale
Slope/Intercept, PS3.3 C.11.1); otherwise each is converted to modality values so that
interpolation mixes like with like.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np
from pydicom.dataset import Dataset

from viewer.cancel import CancelToken
from viewer.dicom.frames import FrameSource, open_frames
from viewer.dicom.model import Instance, Series, StudyTree
from viewer.dicom.volume import SliceInput, Volume, VolumeError, build_volume

log = logging.getLogger(__name__)

# Plane Position (Patient) and Plane Orientation (Patient) functional groups (PS3.3 C.7.6.16.2.3/4).
_PLANE_POSITION = 0x00209113
_PLANE_ORIENTATION = 0x00209116
_PIXEL_MEASURES = 0x00289110


@dataclass(frozen=True)
class LoadedVolume:
    """A volume and what rendering it needs.

    Attributes
    ----------
    volume : Volume
        The voxels on a regular grid.
    dataset : Dataset
        Header of the middle source slice (for window, photometric, bits).
    modality_values : bool
        True when the voxels are modality values (the slices' rescales differed), so the
        renderer must not apply a rescale again.
    series : Series or None
        Where the slices came from.
    """

    volume: Volume
    dataset: Dataset
    modality_values: bool
    series: Series | None = None


def choose_series(tree: StudyTree) -> Series:
    """The series with the largest stack of slices that have geometry (CT/MR first)."""
    best: tuple[tuple[int, int], Series] | None = None
    for series in tree.iter_series():
        stacks = [s for s in series.stacks if s.normal is not None]
        if not stacks:
            continue
        size = max(len(s) for s in stacks)
        if size == 1:
            only = max(stacks, key=len).instances[0]
            size = only.number_of_frames if only.number_of_frames > 1 else 1
        key = (1 if series.modality in ("CT", "MR", "PT", "NM") else 0, size)
        if best is None or key > best[0]:
            best = (key, series)
    if best is None:
        raise VolumeError("no series with Image Position/Orientation (Patient): nothing to reconstruct")
    return best[1]


def _rescale(ds: Dataset) -> tuple[float, float]:
    try:
        return float(ds.get("RescaleSlope", 1) or 1), float(ds.get("RescaleIntercept", 0) or 0)
    except (TypeError, ValueError):
        return 1.0, 0.0


def _floats(value: object, n: int) -> tuple[float, ...] | None:
    try:
        out = tuple(float(v) for v in value)  # type: ignore[attr-defined]
    except (TypeError, ValueError):
        return None
    return out if len(out) == n else None


def _spacing(ds: Dataset, src: FrameSource, index: int) -> tuple[float, float] | None:
    value = ds.get("PixelSpacing")
    if value is None and src.num_frames > 1:
        from viewer.dicom.functional_groups import frame_attribute

        value = frame_attribute(ds, index, _PIXEL_MEASURES, "PixelSpacing")
    pair = _floats(value, 2)
    return (pair[0], pair[1]) if pair else None


def _multiframe_slices(src: FrameSource) -> list[tuple[SliceInput, tuple[float, float]]]:
    """Every frame of an enhanced multi-frame image, placed by its functional groups."""
    from viewer.dicom.functional_groups import frame_attribute

    ds = src.dataset
    out = []
    for i in range(src.num_frames):
        pos = _floats(frame_attribute(ds, i, _PLANE_POSITION, "ImagePositionPatient"), 3)
        iop = _floats(frame_attribute(ds, i, _PLANE_ORIENTATION, "ImageOrientationPatient"), 6)
        spacing = _spacing(ds, src, i)
        if pos is None or iop is None or spacing is None:
            raise VolumeError(f"frame {i + 1} has no plane position, orientation or pixel spacing")
        out.append((SliceInput(src.frame(i), pos, iop, spacing), _rescale(ds)))
    return out


def _single_frame_slices(instances: Sequence[Instance], cancel: CancelToken | None = None,
                         progress: Callable[[int, int], object] | None = None,
                         ) -> tuple[list[tuple[SliceInput, tuple[float, float]]], Dataset]:
    out = []
    datasets = []
    for n, inst in enumerate(instances):
        if cancel is not None:
            cancel.raise_if_cancelled()
        if progress is not None:
            progress(n, len(instances))
        if inst.path is None:
            continue
        src = open_frames(inst.path)
        ds = src.dataset
        pos = _floats(ds.get("ImagePositionPatient"), 3)
        iop = _floats(ds.get("ImageOrientationPatient"), 6)
        spacing = _spacing(ds, src, 0)
        if pos is None or iop is None or spacing is None:
            log.info("MPR: %s has no Image Position/Orientation or Pixel Spacing: left out", inst.path)
            continue
        out.append((SliceInput(src.frame(0), pos, iop, spacing), _rescale(ds)))
        datasets.append(ds)
    if not datasets:
        raise VolumeError("no slice with Image Position/Orientation (Patient) and Pixel Spacing")
    return out, datasets[len(datasets) // 2]


def load_volume(path: str | os.PathLike[str] | Sequence[str | os.PathLike[str]],
                series_uid: str | None = None) -> LoadedVolume:
    """Scan ``path`` (a series folder, files, a DICOMDIR) and build the volume of one series.

    Parameters
    ----------
    path : path or sequence of paths
        What to scan.
    series_uid : str, optional
        The series to use; by default the largest CT/MR stack.

    Raises
    ------
    VolumeError
        No usable series, or slices that cannot form a volume (with the reason).
    """
    from viewer.dicom.scan import load_tree

    tree = load_tree(path if isinstance(path, (str, os.PathLike)) else list(path))
    if series_uid:
        series = tree.series_by_uid(series_uid)
        if series is None:
            raise VolumeError(f"no series {series_uid} under {path}")
    else:
        series = choose_series(tree)
    return volume_of_series(series)


def volume_of_series(series: Series, cancel: CancelToken | None = None,
                     progress: Callable[[int, int], object] | None = None) -> LoadedVolume:
    """The volume of the largest stack of ``series`` (see :func:`load_volume`).

    ``progress(done, total)`` is called before each slice is read; ``cancel`` is checked
    there too (:class:`viewer.cancel.Cancelled` ends the reading).
    """
    stacks = [s for s in series.stacks if s.normal is not None] or series.stacks
    stack = max(stacks, key=len)
    if len(stack) == 1 and stack.instances[0].path and stack.instances[0].number_of_frames > 1:
        src = open_frames(stack.instances[0].path)
        items = _multiframe_slices(src)
        ds = src.dataset
    else:
        items, ds = _single_frame_slices(stack.instances, cancel, progress)
    rescales = {r for _, r in items}
    slices = [s for s, _ in items]
    modality = len(rescales) > 1
    if modality:
        # PS3.3 C.11.1: modality value = stored * slope + intercept, per slice.
        slices = [SliceInput((s.pixels.astype(np.float32) * slope + intercept).astype(np.float32),
                             s.position, s.orientation, s.spacing)
                  for s, (slope, intercept) in items]
    volume = build_volume(slices)
    for note in volume.notes:
        log.warning("MPR: %s", note)
    return LoadedVolume(volume, ds, modality, series)
