"""Export use cases: a series as MetaImage with its patient geometry, a view as PNG.

Blocking and cancellable (docs/architecture.md, Threads): the GUI runs them in a worker.
No Qt here.
"""

from __future__ import annotations

import logging
import math
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np
from pydicom.dataset import Dataset

from viewer.cancel import CancelToken
from viewer.dicom.metaimage import VolumeGeometry, write_metaimage
from viewer.errors import Cancelled, ViewerError

log = logging.getLogger(__name__)

Progress = Callable[[int, int], None]


class ExportError(ViewerError):
    """An export that cannot be done as asked (the message says why)."""


def _floats(value: Any, n: int) -> tuple[float, ...] | None:
    try:
        out = tuple(float(v) for v in value)
    except (TypeError, ValueError):
        return None
    return out if len(out) == n and all(math.isfinite(v) for v in out) else None


def _group_item(ds: Dataset, index: int, seq: str, attr: str) -> Any:
    """``attr`` from functional group ``seq``: per-frame first, then shared (PS3.3 C.7.6.16)."""
    for groups_name, i in (("PerFrameFunctionalGroupsSequence", index), ("SharedFunctionalGroupsSequence", 0)):
        groups = ds.get(groups_name)
        if groups is not None and len(groups) > i:
            items = groups[i].get(seq)
            if items and attr in items[0]:
                return items[0].get(attr)
    return None


def frame_plane(ds: Dataset, index: int) -> tuple[tuple[float, ...] | None, tuple[float, ...] | None,
                                                 tuple[float, float] | None]:
    """Image Position, Image Orientation (Patient) and Pixel Spacing of frame ``index``.

    Enhanced images carry them in the Plane Position / Plane Orientation / Pixel Measures
    functional groups (PS3.3 C.7.6.16.2.1-3); classic images at the top level (C.7.6.2).
    """
    ipp = _floats(ds.get("ImagePositionPatient"), 3) or _floats(
        _group_item(ds, index, "PlanePositionSequence", "ImagePositionPatient"), 3)
    iop = _floats(ds.get("ImageOrientationPatient"), 6) or _floats(
        _group_item(ds, index, "PlaneOrientationSequence", "ImageOrientationPatient"), 6)
    ps = _floats(ds.get("PixelSpacing"), 2) or _floats(_group_item(ds, index, "PixelMeasuresSequence",
                                                                    "PixelSpacing"), 2)
    return ipp, iop, (ps[0], ps[1]) if ps else None


def volume_geometry(planes: Sequence[tuple[Any, Any, Any]], slice_thickness: float | None = None,
                    tolerance: float = 0.01) -> tuple[VolumeGeometry, list[int]]:
    """Geometry of a stack from per-slice (IPP, IOP, PixelSpacing), and the slice order.

    Slices are ordered along the normal (row x column cosines, PS3.3 C.7.6.2.1.1); the z
    axis is that normal and the z spacing the distance between consecutive positions.

    Raises
    ------
    ExportError
        Without position/orientation/spacing, with mixed orientations, with two slices at
        one position, or with uneven spacing (a gap): a MetaImage is a regular grid.
    """
    if not planes:
        raise ExportError("nothing to export: the series has no frames")
    ipps, iops, spacings = zip(*planes)
    if any(p is None for p in ipps) or any(o is None for o in iops) or any(s is None for s in spacings):
        raise ExportError("the series lacks Image Position/Orientation (Patient) or Pixel Spacing: "
                          "no patient geometry to write")
    iop = np.asarray(iops[0], float)
    if any(np.abs(np.asarray(o, float) - iop).max() > 1e-4 for o in iops):
        raise ExportError("the series mixes image orientations; export one stack at a time")
    row, col = iop[:3] / np.linalg.norm(iop[:3]), iop[3:] / np.linalg.norm(iop[3:])
    normal = np.cross(row, col)
    normal /= np.linalg.norm(normal)
    dist = np.array([float(np.dot(np.asarray(p, float), normal)) for p in ipps])
    order = [int(i) for i in np.argsort(dist, kind="stable")]
    d = dist[order]
    if len(d) > 1:
        steps = np.diff(d)
        if steps.min() < 1e-3:
            raise ExportError("two images share one slice position (several stacks in one series?); "
                              "a MetaImage needs one image per position")
        step = float(np.median(steps))
        bad = np.abs(steps - step) > max(tolerance, 0.01 * step)
        if bad.any():
            k = int(np.argmax(bad))
            raise ExportError(f"slices are not evenly spaced (step {steps[k]:.3g} mm after slice {k + 1}, "
                              f"usually {step:.3g} mm): a MetaImage needs a regular grid")
    else:
        step = float(slice_thickness) if slice_thickness and slice_thickness > 0 else 1.0
    ps = spacings[order[0]]
    ox, oy, oz = (float(v) for v in ipps[order[0]])  # three values: frame_plane checked
    geometry = VolumeGeometry(origin=(ox, oy, oz), spacing=(float(ps[1]), float(ps[0]), step),
                              direction=(tuple(row.tolist()), tuple(col.tolist()), tuple(normal.tolist())))
    return geometry, order


def _modality(frame: np.ndarray, ds: Dataset, index: int) -> np.ndarray:
    """Stored values -> modality values (Rescale Slope/Intercept or Modality LUT, PS3.3 C.11.1)."""
    from viewer.render import modality_values, params_from_dataset

    return np.asarray(modality_values(frame, params_from_dataset(ds, frame_index=index)))


def export_series_metaimage(frames: Sequence[tuple[str, int]], out: str | Path,
                            cancel: CancelToken | None = None,
                            progress: Progress | None = None) -> Path:
    """Write the frames of one stack as a MetaImage in modality units (HU for CT).

    Parameters
    ----------
    frames : sequence of (path, frame_index)
        The stack, in any order; it is sorted along its normal.
    out : str or Path
        The ``.mhd`` file to write (a ``.raw`` is written beside it).
    cancel : viewer.cancel.CancelToken, optional
        Checked between slices; raises :class:`Cancelled` when set.
    progress : callable(done, total), optional

    Returns
    -------
    Path
        The header written.
    """
    from viewer.dicom.frames import FrameSource, open_frames

    sources: dict[str, FrameSource] = {}
    planes: list[tuple[tuple[float, ...] | None, tuple[float, ...] | None, tuple[float, float] | None]] = []
    thickness: float | None = None
    for path, index in frames:
        src = sources.get(path) or sources.setdefault(path, open_frames(path))
        if src.samples != 1:
            raise ExportError("colour images cannot be exported as a MetaImage volume of modality values")
        planes.append(frame_plane(src.dataset, index))
        if not thickness:  # a Slice Thickness that is not a number is left out
            thickness = (_floats([src.dataset.get("SliceThickness", 0) or 0], 1) or (None,))[0]
    geometry, order = volume_geometry(planes, thickness)
    first = sources[frames[order[0]][0]]
    volume = None
    integral = True
    slices = []
    for n, k in enumerate(order):
        if cancel is not None and cancel.cancelled:
            raise Cancelled("export cancelled")
        path, index = frames[k]
        src = sources[path]
        if (src.rows, src.columns) != (first.rows, first.columns):
            raise ExportError("the series mixes image sizes; export one stack at a time")
        values = _modality(src.frame(index), src.dataset, index)
        integral = integral and np.issubdtype(values.dtype, np.integer) or (
            integral and bool(np.all(np.mod(values, 1) == 0)))
        slices.append(values)
        if progress:
            progress(n + 1, len(order))
    volume = np.stack(slices)
    if integral and volume.min() >= -32768 and volume.max() <= 32767:
        volume = volume.astype(np.int16)
    else:
        volume = volume.astype(np.float32)
    header, _raw = write_metaimage(out, volume, geometry)
    return header


def save_png(image: np.ndarray, path: str | Path) -> Path:
    """Save a rendered display array (``(rows, cols)`` or ``(rows, cols, 3)`` uint8) as PNG."""
    from PIL import Image

    arr = np.ascontiguousarray(image)
    if arr.dtype != np.uint8:
        raise ExportError(f"PNG export expects 8-bit display values, got {arr.dtype}")
    p = Path(path)
    if p.suffix.lower() != ".png":
        p = p.with_name(p.name + ".png")
    try:
        Image.fromarray(arr).save(p, format="PNG")
    except OSError as exc:
        raise ExportError(f"cannot write {p}: {exc}") from None
    return p
