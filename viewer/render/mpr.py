"""Multiplanar reconstruction: planes, oblique planes and thick slabs cut from a :class:`Volume`.

Pure numpy; the result is a :class:`PlaneImage`, a 2-D image of volume values with the
Image Plane attributes of the cut (so measurements, orientation labels and reference lines
work on it as on any slice).

Display conventions (radiological, as DICOM viewers show acquired planes): axial planes have
the patient's left on the right of the screen and posterior at the bottom; coronal: left on
the right, feet at the bottom; sagittal: posterior on the right, feet at the bottom.
"""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass

import numpy as np

from viewer.dicom.geometry import orientation_labels
from viewer.dicom.volume import Volume


class Plane(str, enum.Enum):
    """The three standard planes, by their normal in patient space (LPS)."""

    AXIAL = "axial"
    CORONAL = "coronal"
    SAGITTAL = "sagittal"


class SlabMode(str, enum.Enum):
    """How a thick slab is projected onto its plane."""

    MIP = "mip"  #: maximum intensity
    MINIP = "minip"  #: minimum intensity
    AVG = "avg"  #: mean


# (normal, right, down) in patient space for each plane, LPS.
_PLANE_VECTORS: dict[Plane, tuple[tuple[float, float, float], ...]] = {
    Plane.AXIAL: ((0, 0, 1), (1, 0, 0), (0, 1, 0)),
    Plane.CORONAL: ((0, 1, 0), (1, 0, 0), (0, 0, -1)),
    Plane.SAGITTAL: ((1, 0, 0), (0, 1, 0), (0, 0, -1)),
}


@dataclass(frozen=True)
class PlaneImage:
    """A reconstructed plane.

    Attributes
    ----------
    pixels : numpy.ndarray
        ``(rows, cols)`` volume values.
    position : numpy.ndarray
        Patient point (mm) of the centre of pixel (0, 0): like Image Position (Patient).
    row_direction, column_direction : numpy.ndarray
        Unit vectors towards increasing column and increasing row: like the two halves of
        Image Orientation (Patient).
    spacing : (float, float)
        Like Pixel Spacing: (distance between rows, distance between columns), mm.
    index : int
        Which plane along the normal axis (0-based), for axis-aligned planes; -1 for oblique.
    count : int
        How many planes there are along that axis (0 for oblique).
    """

    pixels: np.ndarray
    position: np.ndarray
    row_direction: np.ndarray
    column_direction: np.ndarray
    spacing: tuple[float, float]
    index: int = -1
    count: int = 0

    @property
    def orientation(self) -> tuple[float, ...]:
        """Image Orientation (Patient) of the plane."""
        return tuple(float(v) for v in np.concatenate([self.row_direction, self.column_direction]))

    @property
    def labels(self) -> tuple[str, str, str, str] | None:
        """Orientation letters of the (top, bottom, left, right) edges, e.g. ``("H", "F", "R", "L")``."""
        return orientation_labels(self.orientation)

    @property
    def aspect(self) -> float:
        """Height / width of one pixel (1.0 for square pixels)."""
        return self.spacing[0] / self.spacing[1]

    def pixel_to_patient(self, column: float, row: float) -> np.ndarray:
        """Patient point of a (fractional) pixel of the plane (PS3.3 C.7.6.2.1.1)."""
        return (self.position + self.row_direction * (column * self.spacing[1])
                + self.column_direction * (row * self.spacing[0]))


def _axis_for(volume: Volume, vector: tuple[float, float, float], exclude: set[int]) -> tuple[int, bool]:
    """The volume index axis most parallel to ``vector``, and whether it runs the other way."""
    v = np.asarray(vector, dtype=np.float64)
    dots = volume.directions @ v
    axis = max((a for a in range(3) if a not in exclude), key=lambda a: abs(float(dots[a])))
    return axis, bool(dots[axis] < 0)


def plane_axes(volume: Volume, plane: Plane) -> tuple[int, tuple[int, bool], tuple[int, bool]]:
    """Volume axes of ``plane``: the normal axis, then (axis, flipped) for rows and columns."""
    normal, right, down = _PLANE_VECTORS[Plane(plane)]
    n_axis, _ = _axis_for(volume, normal, set())
    col_axis, col_flip = _axis_for(volume, right, {n_axis})
    row_axis, row_flip = _axis_for(volume, down, {n_axis, col_axis})
    return n_axis, (row_axis, row_flip), (col_axis, col_flip)


def plane_count(volume: Volume, plane: Plane) -> int:
    """How many planes of this kind the volume has."""
    return volume.shape[plane_axes(volume, plane)[0]]


def _project(block: np.ndarray, axis: int, mode: SlabMode, dtype: np.dtype) -> np.ndarray:
    if mode is SlabMode.MIP:
        return np.asarray(block.max(axis=axis))
    if mode is SlabMode.MINIP:
        return np.asarray(block.min(axis=axis))
    mean = np.asarray(block.mean(axis=axis, dtype=np.float32))
    return np.rint(mean).astype(dtype) if np.dtype(dtype).kind in "iu" else mean.astype(dtype)


def reformat(volume: Volume, plane: Plane, index: int | None = None, slab_mm: float = 0.0,
             mode: SlabMode = SlabMode.MIP) -> PlaneImage:
    """One axis-aligned plane (or a thick slab centred on it) of ``volume``.

    Parameters
    ----------
    volume : Volume
        The voxels.
    plane : Plane
        Axial, coronal or sagittal: the volume axis closest to that plane's normal is cut.
    index : int, optional
        0-based plane along that axis; the middle one by default.
    slab_mm : float
        Slab thickness in mm (0: a single plane). Planes whose centres lie within half the
        thickness of the cut are projected with ``mode``.
    mode : SlabMode
        MIP, MinIP or average.

    Returns
    -------
    PlaneImage
        Rows and columns oriented as the display conventions of this module say.
    """
    n_axis, (r_axis, r_flip), (c_axis, c_flip) = plane_axes(volume, plane)
    count = volume.shape[n_axis]
    if index is None:
        index = (count - 1) // 2
    if not 0 <= index < count:
        raise IndexError(f"plane {index + 1} out of range: the volume has {count} {Plane(plane).value} planes")
    data = volume.data
    half = int(math.floor(slab_mm / (2.0 * float(volume.spacing[n_axis])) + 1e-9)) if slab_mm > 0 else 0
    lo, hi = max(0, index - half), min(count, index + half + 1)
    block = np.take(data, range(lo, hi), axis=n_axis) if hi - lo > 1 else np.take(data, [index], axis=n_axis)
    cut = _project(block, n_axis, SlabMode(mode), data.dtype) if hi - lo > 1 else np.squeeze(block, axis=n_axis)
    # ``cut`` keeps the other two axes in volume order; put rows first, then flip.
    remaining = [a for a in range(3) if a != n_axis]
    if remaining.index(r_axis) != 0:
        cut = cut.T
    if r_flip:
        cut = cut[::-1]
    if c_flip:
        cut = cut[:, ::-1]
    pixels = np.ascontiguousarray(cut)
    # Where pixel (0, 0) lies: the first voxel along each in-plane axis, or the last if flipped.
    corner = np.zeros(3)
    corner[n_axis] = index
    corner[r_axis] = volume.shape[r_axis] - 1 if r_flip else 0
    corner[c_axis] = volume.shape[c_axis] - 1 if c_flip else 0
    row_dir = volume.directions[c_axis] * (-1.0 if c_flip else 1.0)
    col_dir = volume.directions[r_axis] * (-1.0 if r_flip else 1.0)
    return PlaneImage(pixels, volume.index_to_patient(corner), row_dir, col_dir,
                      (float(volume.spacing[r_axis]), float(volume.spacing[c_axis])), index, count)


def rotated_plane(volume: Volume, plane: Plane, angle_deg: float, center: np.ndarray | None = None,
                  about: Plane = Plane.AXIAL, slab_mm: float = 0.0, mode: SlabMode = SlabMode.MIP) -> PlaneImage:
    """An oblique plane: ``plane`` rotated by ``angle_deg`` about the normal of ``about``.

    This is what rotating the crosshair in the ``about`` view does to the ``plane`` view
    (e.g. the coronal plane turned about the body axis). The plane passes through
    ``center`` (a patient point; the volume's centre by default).
    """
    normal, right, down = (np.asarray(v, dtype=np.float64) for v in _PLANE_VECTORS[Plane(plane)])
    axis = np.asarray(_PLANE_VECTORS[Plane(about)][0], dtype=np.float64)
    rot = _rotation(axis, math.radians(angle_deg))
    right, down = rot @ right, rot @ down
    if center is None:
        center = volume.index_to_patient(volume.center_index)
    return oblique(volume, np.asarray(center, dtype=np.float64), right, down, slab_mm=slab_mm, mode=mode)


def _rotation(axis: np.ndarray, angle: float) -> np.ndarray:
    """Rodrigues' rotation matrix about a unit ``axis``."""
    x, y, z = axis / np.linalg.norm(axis)
    c, s = math.cos(angle), math.sin(angle)
    k = np.array([[0, -z, y], [z, 0, -x], [-y, x, 0]])
    return np.asarray(np.eye(3) + s * k + (1 - c) * (k @ k), dtype=np.float64)


def oblique(volume: Volume, center: np.ndarray, right: np.ndarray, down: np.ndarray,
            spacing_mm: float | None = None, slab_mm: float = 0.0,
            mode: SlabMode = SlabMode.MIP) -> PlaneImage:
    """Any plane through ``center`` spanned by ``right`` and ``down`` (patient vectors).

    The plane is sampled with trilinear interpolation on square pixels of ``spacing_mm``
    (the finest voxel size by default), over the part of the plane the volume's box projects
    onto; points outside the volume are the volume's minimum. A slab samples parallel planes
    one ``spacing_mm`` apart within ``slab_mm`` and projects them with ``mode``.
    """
    right = np.asarray(right, dtype=np.float64)
    right = right / np.linalg.norm(right)
    down = np.asarray(down, dtype=np.float64)
    down = down - (down @ right) * right
    down = down / np.linalg.norm(down)
    center = np.asarray(center, dtype=np.float64)
    step = float(spacing_mm or min(volume.spacing))
    # The box's eight corners, projected onto the plane's axes, bound what can be inside;
    # the grid passes through ``center`` (the crosshair point is a pixel of the result).
    corners = volume.index_to_patient(np.array([[z, y, x] for z in (0, volume.shape[0] - 1)
                                                 for y in (0, volume.shape[1] - 1)
                                                 for x in (0, volume.shape[2] - 1)], dtype=np.float64))
    u = (corners - center) @ right
    v = (corners - center) @ down
    u0, v0 = step * math.floor(u.min() / step), step * math.floor(v.min() / step)
    cols = int(math.ceil((u.max() - u0) / step)) + 1
    rows = int(math.ceil((v.max() - v0) / step)) + 1
    normal = np.cross(right, down)
    n_planes = max(1, int(math.floor(slab_mm / step)) + 1) if slab_mm > 0 else 1
    shifts = (np.arange(n_planes) - (n_planes - 1) / 2.0) * step
    # Index-space steps of one pixel along right/down, and of one mm along the normal.
    d_right = (right @ volume.directions.T) * step / volume.spacing
    d_down = (down @ volume.directions.T) * step / volume.spacing
    d_norm = (normal @ volume.directions.T) / volume.spacing
    origin = center + right * u0 + down * v0
    base = volume.patient_to_index(origin)
    fill = float(volume.data.min()) if volume.data.size else 0.0
    planes = [_sample_plane(volume.data, base + d_norm * shift, d_down, d_right, rows, cols, fill)
              for shift in shifts]
    stack = np.stack(planes)
    pixels = stack[0] if n_planes == 1 else _project(stack, 0, SlabMode(mode), stack.dtype)
    dtype = volume.data.dtype
    if np.dtype(dtype).kind in "iu":
        pixels = np.rint(pixels).astype(dtype)
    return PlaneImage(np.ascontiguousarray(pixels), origin, right, down, (step, step))


def _sample_plane(data: np.ndarray, base: np.ndarray, d_down: np.ndarray, d_right: np.ndarray,
                  rows: int, cols: int, fill: float) -> np.ndarray:
    """Samples at ``base + r * d_down + c * d_right`` (continuous indices), float32 (rows, cols)."""
    eps = 1e-9
    for axis in range(3):
        others = [a for a in range(3) if a != axis]
        if all(abs(d_down[a]) < eps for a in others) and abs(d_right[axis]) < eps:
            return _separable(data, axis, base, d_down[axis], d_right, rows, cols, fill)
        if all(abs(d_right[a]) < eps for a in others) and abs(d_down[axis]) < eps:
            return np.ascontiguousarray(_separable(data, axis, base, d_right[axis], d_down, cols, rows, fill).T)
    r = np.arange(rows, dtype=np.float64)
    c = np.arange(cols, dtype=np.float64)
    idx = base[None, None, :] + r[:, None, None] * d_down[None, None, :] + c[None, :, None] * d_right[None, None, :]
    return _trilinear(data, idx, fill)


def _separable(data: np.ndarray, axis: int, base: np.ndarray, step_axis: float, d_line: np.ndarray,
               n_lines: int, n_along: int, fill: float) -> np.ndarray:
    """A plane containing volume ``axis``: bilinear along a line in the other two axes (the same
    for every position along ``axis``), then linear along ``axis``. ``(n_lines, n_along)``."""
    o1, o2 = (a for a in range(3) if a != axis)
    moved = np.moveaxis(data, axis, 0)  # (n_axis, n_o1, n_o2), a view
    n_axis, n1, n2 = moved.shape
    j = np.arange(n_along, dtype=np.float64)
    p1 = base[o1] + j * d_line[o1]
    p2 = base[o2] + j * d_line[o2]
    ok_line = (p1 >= -1e-6) & (p1 <= n1 - 1 + 1e-6) & (p2 >= -1e-6) & (p2 <= n2 - 1 + 1e-6)
    q1, q2 = np.clip(p1, 0, n1 - 1), np.clip(p2, 0, n2 - 1)
    i1 = np.minimum(np.floor(q1).astype(np.intp), max(n1 - 2, 0))
    i2 = np.minimum(np.floor(q2).astype(np.intp), max(n2 - 2, 0))
    f1 = (q1 - i1).astype(np.float32)
    f2 = (q2 - i2).astype(np.float32)
    k = np.arange(n_lines, dtype=np.float64)
    pa = base[axis] + k * step_axis
    ok_axis = (pa >= -1e-6) & (pa <= n_axis - 1 + 1e-6)
    qa = np.clip(pa, 0, n_axis - 1)
    ia = np.minimum(np.floor(qa).astype(np.intp), max(n_axis - 2, 0))
    fa = (qa - ia).astype(np.float32)[:, None]
    out = np.full((n_lines, n_along), fill, dtype=np.float32)
    if not ok_axis.any() or not ok_line.any():
        return out
    lo = int(ia[ok_axis].min())
    hi = int(min(ia[ok_axis].max() + 1, n_axis - 1))
    sub = moved[lo:hi + 1]  # a view: only the planes along ``axis`` that rows touch
    j1, j2 = i1[ok_line], i2[ok_line]
    g1, g2 = f1[ok_line], f2[ok_line]
    h1 = np.minimum(j1 + 1, n1 - 1)
    h2 = np.minimum(j2 + 1, n2 - 1)
    line = (sub[:, j1, j2] * ((1 - g1) * (1 - g2)) + sub[:, j1, h2] * ((1 - g1) * g2)
            + sub[:, h1, j2] * (g1 * (1 - g2)) + sub[:, h1, h2] * (g1 * g2))  # (planes, n_ok)
    pos = ia[ok_axis] - lo
    nxt = np.minimum(ia[ok_axis] + 1, n_axis - 1) - lo
    rows = line[pos] * (1 - fa[ok_axis]) + line[nxt] * fa[ok_axis]
    out[np.ix_(ok_axis, ok_line)] = rows
    return out


def _trilinear(data: np.ndarray, idx: np.ndarray, fill: float) -> np.ndarray:
    """Trilinear samples of ``data`` at continuous ``(..., 3)`` indices; outside: ``fill``."""
    shape = np.asarray(data.shape)
    out_shape = idx.shape[:-1]
    pts = idx.reshape(-1, 3)
    inside = np.all((pts >= -1e-6) & (pts <= shape - 1 + 1e-6), axis=1)
    result = np.full(pts.shape[0], fill, dtype=np.float32)
    p = np.clip(pts[inside], 0, shape - 1)
    base = np.minimum(np.floor(p).astype(np.intp), shape - 2).clip(0)
    frac = (p - base).astype(np.float32)
    flat = data.reshape(-1)
    sy, sx = data.shape[1] * data.shape[2], data.shape[2]
    i0 = base[:, 0] * sy + base[:, 1] * sx + base[:, 2]
    acc = np.zeros(len(p), dtype=np.float32)
    for dz in (0, 1):
        wz = frac[:, 0] if dz else 1 - frac[:, 0]
        for dy in (0, 1):
            wy = frac[:, 1] if dy else 1 - frac[:, 1]
            for dx in (0, 1):
                wx = frac[:, 2] if dx else 1 - frac[:, 2]
                acc += flat[i0 + (dz * sy + dy * sx + dx)].astype(np.float32) * (wz * wy * wx)
    result[inside] = acc
    return result.reshape(out_shape)


def square_pixels(image: PlaneImage) -> PlaneImage:
    """Resample the rows of ``image`` so its pixels are square (for PNG output).

    Rows are stretched (linear interpolation) to the column spacing; a reformatted plane
    of 5 mm slices and 0.7 mm pixels thus shows anatomy at its true aspect.
    """
    row_mm, col_mm = image.spacing
    if abs(row_mm - col_mm) <= 1e-6 * col_mm:
        return image
    rows = image.pixels.shape[0]
    height = (rows - 1) * row_mm
    new_rows = int(round(height / col_mm)) + 1
    pos = np.linspace(0.0, rows - 1, new_rows)
    lo = np.minimum(np.floor(pos).astype(np.intp), max(rows - 2, 0))
    t = (pos - lo).astype(np.float32)[:, None]
    src = image.pixels.astype(np.float32)
    hi = np.minimum(lo + 1, rows - 1)
    mixed = src[lo] * (1 - t) + src[hi] * t
    dtype = image.pixels.dtype
    out = np.rint(mixed).astype(dtype) if np.dtype(dtype).kind in "iu" else mixed.astype(dtype)
    new_row_mm = height / (new_rows - 1) if new_rows > 1 else col_mm
    return PlaneImage(np.ascontiguousarray(out), image.position, image.row_direction,
                      image.column_direction, (new_row_mm, col_mm), image.index, image.count)
