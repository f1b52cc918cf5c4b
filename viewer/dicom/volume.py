"""A stack of parallel slices as one volume on a regular grid, for multiplanar reconstruction.

Pure numpy on plain values; no Qt, no file access (:mod:`viewer.dicom.volume_io` reads a
series into :class:`SliceInput` values). Patient coordinates are LPS (PS3.3 C.7.6.2.1.1).

The volume's index axes are ``(z, y, x)``: ``z`` counts slices in order along the slice
normal (row direction x column direction), ``y`` counts rows, ``x`` columns. Slices are placed
by their Image Position (Patient), never by Instance Number or Slice Location. Where the
positions are unevenly spaced or slices are missing, the volume is resampled onto a regular
grid by linear interpolation between the two neighbouring slices, and each gap is reported
(:attr:`Volume.gaps`) rather than hidden.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Sequence

import numpy as np

from viewer.dicom.geometry import Gap, slice_spacing
from viewer.errors import ViewerError

#: Largest angle (degrees) between the slice normal and the line through the slice positions
#: that is still read as "no gantry tilt" (rounding in Image Position is far below this).
TILT_TOLERANCE_DEG = 0.5
#: Orientation cosines that differ by less than this are the same orientation.
ORIENTATION_TOLERANCE = 1e-3


class VolumeError(ViewerError):
    """The slices cannot form one volume (mixed orientations, gantry tilt, too few slices)."""


@dataclass(frozen=True)
class SliceInput:
    """One slice: its pixels and the Image Plane attributes that place it (PS3.3 C.7.6.2).

    Attributes
    ----------
    pixels : numpy.ndarray
        ``(rows, cols)`` values (stored values, or modality values when slices rescale differently).
    position : sequence of 3 float
        Image Position (Patient): the centre of the first pixel, mm.
    orientation : sequence of 6 float
        Image Orientation (Patient): row direction cosines, then column direction cosines.
    spacing : (float, float)
        Pixel Spacing as stored: (row spacing, column spacing), mm.
    """

    pixels: np.ndarray
    position: Sequence[float]
    orientation: Sequence[float]
    spacing: tuple[float, float]


@dataclass(frozen=True)
class Volume:
    """Voxels on a regular grid and the affine that places them in patient space.

    Attributes
    ----------
    data : numpy.ndarray
        ``(z, y, x)`` voxels, C-contiguous, in the dtype of the slices.
    origin : numpy.ndarray
        Patient position (mm) of the centre of voxel ``(0, 0, 0)``.
    directions : numpy.ndarray
        ``3 x 3``; row ``a`` is the unit vector of index axis ``a`` in patient space
        (``z``: slice normal, ``y``: column direction, ``x``: row direction).
    spacing : numpy.ndarray
        Voxel size along ``(z, y, x)``, mm.
    gaps : tuple of Gap
        Steps between source slices at least 1.5 times the usual spacing (interpolated across).
    resampled : bool
        True when any plane of the grid was interpolated between two source slices.
    notes : tuple of str
        Human-readable remarks for the user (gaps, uneven spacing, duplicates dropped).
    """

    data: np.ndarray
    origin: np.ndarray
    directions: np.ndarray
    spacing: np.ndarray
    gaps: tuple[Gap, ...] = ()
    resampled: bool = False
    notes: tuple[str, ...] = field(default=())

    @property
    def shape(self) -> tuple[int, int, int]:
        z, y, x = self.data.shape
        return int(z), int(y), int(x)

    def index_to_patient(self, index: np.ndarray | Sequence[float]) -> np.ndarray:
        """Patient coordinates of continuous ``(..., 3)`` indices ``(z, y, x)``."""
        idx = np.asarray(index, dtype=np.float64)
        return np.asarray(self.origin + (idx * self.spacing) @ self.directions, dtype=np.float64)

    def patient_to_index(self, point: np.ndarray | Sequence[float]) -> np.ndarray:
        """Continuous ``(z, y, x)`` indices of ``(..., 3)`` patient points (inverse of the above)."""
        p = np.asarray(point, dtype=np.float64) - self.origin
        # The directions are orthonormal, so the inverse of the rotation is its transpose.
        return np.asarray((p @ self.directions.T) / self.spacing, dtype=np.float64)

    @property
    def center_index(self) -> np.ndarray:
        return (np.asarray(self.shape, dtype=np.float64) - 1.0) / 2.0


def _unit(v: np.ndarray) -> np.ndarray:
    n = float(np.linalg.norm(v))
    if n < 1e-6:
        raise VolumeError("Image Orientation (Patient) has a zero direction")
    return v / n


def _check_same(slices: Sequence[SliceInput]) -> tuple[np.ndarray, np.ndarray, tuple[float, float]]:
    first = slices[0]
    iop = np.asarray(first.orientation, dtype=np.float64)
    if iop.shape != (6,):
        raise VolumeError("a slice has no Image Orientation (Patient)")
    shape = first.pixels.shape
    for i, s in enumerate(slices[1:], 2):
        if s.pixels.shape != shape:
            raise VolumeError(f"slice {i} is {s.pixels.shape[1]}x{s.pixels.shape[0]}, the first "
                              f"{shape[1]}x{shape[0]}: MPR needs one image size")
        other = np.asarray(s.orientation, dtype=np.float64)
        if other.shape != (6,) or np.max(np.abs(other - iop)) > ORIENTATION_TOLERANCE:
            raise VolumeError("the series has more than one Image Orientation (Patient): MPR needs "
                              "a stack of parallel slices")
        if max(abs(a - b) for a, b in zip(s.spacing, first.spacing)) > 1e-4:
            raise VolumeError(f"slice {i} has Pixel Spacing {s.spacing}, the first {first.spacing}")
    row = _unit(iop[:3])
    col = _unit(iop[3:])
    if abs(float(row @ col)) > 1e-3:
        raise VolumeError("Image Orientation (Patient) is not orthogonal")
    if len(shape) != 2:
        raise VolumeError("MPR needs grayscale slices")
    return row, col, first.spacing


def build_volume(slices: Sequence[SliceInput]) -> Volume:
    """Sort ``slices`` along their normal and place them on a regular grid.

    Parameters
    ----------
    slices : sequence of SliceInput
        At least two parallel slices of one size and pixel spacing, in any order.

    Returns
    -------
    Volume
        With ``spacing[0]`` the median step between positions; uneven steps and gaps are
        interpolated across (``resampled``) and listed in ``gaps`` and ``notes``.

    Raises
    ------
    VolumeError
        Fewer than two slices, mixed sizes or orientations, or a gantry tilt (slices shifted
        within their plane from one to the next): such stacks are refused with the reason.
    """
    if len(slices) < 2:
        raise VolumeError("MPR needs at least two slices")
    row, col, (row_mm, col_mm) = _check_same(slices)
    normal = _unit(np.cross(row, col))
    positions = np.asarray([s.position for s in slices], dtype=np.float64)
    if positions.shape != (len(slices), 3) or not np.all(np.isfinite(positions)):
        raise VolumeError("a slice has no Image Position (Patient)")
    along = positions @ normal
    order = np.argsort(along, kind="stable")
    notes: list[str] = []
    keep = [int(order[0])]
    for k in order[1:]:
        if along[k] - along[keep[-1]] < 1e-3:
            continue  # a second image at one position (another echo or phase): first wins
        keep.append(int(k))
    if len(keep) < len(slices):
        notes.append(f"{len(slices) - len(keep)} image(s) at a position already taken were left out")
    if len(keep) < 2:
        raise VolumeError("all slices are at one position: nothing to reconstruct")
    d = along[keep]
    pos = positions[keep]
    # Gantry tilt (PS3.3 C.7.6.2.1.1 lets positions move within the plane): the in-plane
    # drift of the positions per mm along the normal.
    delta = pos - pos[0]
    inplane = delta - np.outer(delta @ normal, normal)
    drift = np.linalg.norm(inplane, axis=1)
    height = np.abs(d - d[0])
    tilt = max((math.degrees(math.atan2(float(a), float(b))) for a, b in zip(drift[1:], height[1:])), default=0.0)
    if tilt > TILT_TOLERANCE_DEG:
        raise VolumeError(f"gantry tilt of {tilt:.1f} degrees (each slice is shifted within its plane): "
                          "MPR of tilted stacks is not supported")
    spacing = slice_spacing(d.tolist())
    if spacing is None or spacing.spacing_mm <= 0:
        raise VolumeError("cannot determine the slice spacing")
    step = spacing.spacing_mm
    pixels = [slices[k].pixels for k in keep]
    dtype = np.result_type(*(p.dtype for p in pixels[:1]))
    if spacing.uniform and not spacing.gaps:
        data = np.ascontiguousarray(np.stack(pixels).astype(dtype, copy=False))
        resampled = False
        step = float(d[-1] - d[0]) / (len(d) - 1)  # the mean step: exact for a uniform stack
    else:
        data, step = _resample(pixels, d, step, dtype)
        resampled = True
        if not spacing.uniform:
            notes.append(f"uneven slice spacing ({spacing.min_mm:g} to {spacing.max_mm:g} mm): "
                         f"resampled to {step:g} mm")
    for gap in spacing.gaps:
        notes.append(f"gap of {gap.size_mm:g} mm between {gap.start_mm:g} and {gap.end_mm:g} mm "
                     f"(about {gap.missing} slice(s) missing): interpolated across")
    return Volume(data=data, origin=pos[0].copy(), directions=np.stack([normal, col, row]),
                  spacing=np.asarray([step, row_mm, col_mm], dtype=np.float64),
                  gaps=spacing.gaps, resampled=resampled, notes=tuple(notes))


def _resample(pixels: Sequence[np.ndarray], d: np.ndarray, step: float,
              dtype: np.dtype) -> tuple[np.ndarray, float]:
    """Linear interpolation of slices at positions ``d`` onto ``d[0] + j * step``."""
    n = int(round(float(d[-1] - d[0]) / step)) + 1
    step = float(d[-1] - d[0]) / (n - 1)  # the grid ends exactly on the last slice
    grid = d[0] + step * np.arange(n)
    lower = np.clip(np.searchsorted(d, grid, side="right") - 1, 0, len(d) - 2)
    t = np.clip((grid - d[lower]) / (d[lower + 1] - d[lower]), 0.0, 1.0)
    out = np.empty((n,) + pixels[0].shape, dtype=dtype)
    integer = np.dtype(dtype).kind in "iu"
    for j in range(n):
        k, w = int(lower[j]), float(t[j])
        if w < 1e-6:
            out[j] = pixels[k]
        elif w > 1 - 1e-6:
            out[j] = pixels[k + 1]
        else:
            mixed = (1.0 - w) * pixels[k].astype(np.float32) + w * pixels[k + 1].astype(np.float32)
            out[j] = np.rint(mixed) if integer else mixed
    return out, step
