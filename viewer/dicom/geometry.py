"""Image geometry: pixel spacing and its source, orientation labels, slice spacing.

Pure functions on plain values (or on anything with the attributes of a pydicom
Dataset / :class:`viewer.dicom.model.Instance`); no Qt, no file access.
Patient coordinates are LPS: +x towards the patient's Left, +y Posterior, +z Head
(PS3.3 C.7.6.2.1.1).
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from enum import Enum
from typing import TYPE_CHECKING, Any, Mapping, NamedTuple, Sequence

if TYPE_CHECKING:
    from pydicom.dataset import Dataset

log = logging.getLogger(__name__)

Vector = tuple[float, float, float]


class PixelSpacing(NamedTuple):
    """Physical size of one pixel and the attribute it came from.

    Attributes
    ----------
    row_mm : float
        Distance between the centres of adjacent rows (vertical size), in mm.
    col_mm : float
        Distance between the centres of adjacent columns (horizontal size), in mm.
    source : str
        Which attribute was used, e.g. ``"Pixel Spacing"`` or
        ``"Imager Pixel Spacing (at detector)"``.
    """

    row_mm: float
    col_mm: float
    source: str


class SpacingSource(str, Enum):
    """Where a :class:`PixelSpacing` came from (PS3.3 10.7.1.3)."""

    PIXEL_SPACING = "Pixel Spacing"
    PIXEL_MEASURES = "Pixel Spacing (Pixel Measures functional group)"
    IMAGER_MAGNIFIED = "Imager Pixel Spacing (corrected by Estimated Radiographic Magnification Factor)"
    IMAGER = "Imager Pixel Spacing (at detector)"
    NOMINAL_SCANNED = "Nominal Scanned Pixel Spacing"


def _floats(value: Any, n: int) -> tuple[float, ...] | None:
    """``value`` as ``n`` finite floats, or None (missing, wrong count, not numbers)."""
    if value is None:
        return None
    try:
        seq = [value] if isinstance(value, (int, float, str)) else list(value)
        out = tuple(float(v) for v in seq)
    except (TypeError, ValueError):
        return None
    if len(out) != n or not all(math.isfinite(v) for v in out):
        return None
    return out


def _get(obj: Any, name: str) -> Any:
    try:
        return getattr(obj, name, None)
    except Exception:  # noqa: BLE001 - a malformed element must not break geometry
        return None


def _positive_pair(value: Any) -> tuple[float, float] | None:
    pair = _floats(value, 2)
    if pair is None or pair[0] <= 0 or pair[1] <= 0:
        return None
    return pair[0], pair[1]


def _functional_group_spacing(ds: Dataset | Mapping[str, Any]) -> tuple[float, float] | None:
    """Pixel Spacing from the Shared (else first Per-frame) Pixel Measures Sequence (PS3.3 C.7.6.16.2.1)."""
    for seq_name in ("SharedFunctionalGroupsSequence", "PerFrameFunctionalGroupsSequence"):
        groups = _get(ds, seq_name)
        if not groups:
            continue
        measures = _get(groups[0], "PixelMeasuresSequence")
        if measures:
            pair = _positive_pair(_get(measures[0], "PixelSpacing"))
            if pair:
                return pair
    return None


def pixel_spacing(obj: Dataset | Mapping[str, Any]) -> PixelSpacing | None:
    """Pixel size in mm and which attribute gave it, or None when no attribute does.

    Order of preference (PS3.3 10.7.1.3, C.8.11.4, C.8.6.2):
    Pixel Spacing (0028,0030), calibrated in the patient; the Pixel Measures functional
    group of enhanced images; Imager Pixel Spacing (0018,1164) divided by the Estimated
    Radiographic Magnification Factor (0018,1114) where present, else Imager Pixel
    Spacing as measured at the detector; Nominal Scanned Pixel Spacing (0018,2010) of
    secondary capture.

    Parameters
    ----------
    obj : pydicom.Dataset or Instance
        Anything with the DICOM keywords as attributes. An :class:`Instance` carries its
        spacing, computed when its header was read, in ``obj.pixel_spacing``.

    Returns
    -------
    PixelSpacing or None
    """
    carried = _get(obj, "pixel_spacing")
    if isinstance(carried, PixelSpacing) or (carried is None and hasattr(obj, "sop_instance_uid")):
        return carried
    pair = _positive_pair(_get(obj, "PixelSpacing"))
    if pair:
        return PixelSpacing(pair[0], pair[1], SpacingSource.PIXEL_SPACING.value)
    pair = _functional_group_spacing(obj)
    if pair:
        return PixelSpacing(pair[0], pair[1], SpacingSource.PIXEL_MEASURES.value)
    pair = _positive_pair(_get(obj, "ImagerPixelSpacing"))
    if pair:
        factor = _floats(_get(obj, "EstimatedRadiographicMagnificationFactor"), 1)
        if factor and factor[0] > 0:
            # PS3.3 C.8.11.7: spacing at the isocenter = imager spacing / ERMF.
            return PixelSpacing(pair[0] / factor[0], pair[1] / factor[0], SpacingSource.IMAGER_MAGNIFIED.value)
        return PixelSpacing(pair[0], pair[1], SpacingSource.IMAGER.value)
    pair = _positive_pair(_get(obj, "NominalScannedPixelSpacing"))
    if pair:
        return PixelSpacing(pair[0], pair[1], SpacingSource.NOMINAL_SCANNED.value)
    return None


def pixel_aspect_ratio(obj: Dataset | Mapping[str, Any]) -> float:
    """Height / width of one pixel: from the pixel spacing, else Pixel Aspect Ratio, else 1.

    Pixel Aspect Ratio (0028,0034) holds "vertical\\horizontal" (PS3.3 C.7.6.3.1.7) and is
    only used when no spacing is known.
    """
    spacing = pixel_spacing(obj)
    if spacing is not None:
        return spacing.row_mm / spacing.col_mm
    ratio = _get(obj, "pixel_aspect") if hasattr(obj, "sop_instance_uid") else _get(obj, "PixelAspectRatio")
    pair = _positive_pair(ratio)
    return pair[0] / pair[1] if pair else 1.0


# ---------------------------------------------------------------- orientation labels

#: Letters for the positive and negative direction of each LPS axis (PS3.3 C.7.6.1.1.1).
_AXIS_LETTERS = (("L", "R"), ("P", "A"), ("H", "F"))
#: A direction-cosine component below this does not add a letter: about 14.5 degrees,
#: so a slightly tilted axial image still reads "A"/"P" and not "AF".
OBLIQUE_THRESHOLD = 0.25


def direction_label(vector: Sequence[float], threshold: float = OBLIQUE_THRESHOLD) -> str:
    """Letters (L/R, A/P, H/F) of a patient-space direction, strongest component first."""
    parts = sorted(((abs(c), i, c) for i, c in enumerate(vector[:3])), reverse=True)
    letters = [_AXIS_LETTERS[i][0 if c > 0 else 1] for mag, i, c in parts if mag >= threshold]
    return "".join(letters)


def orientation_labels(image_orientation: Sequence[float] | None) -> tuple[str, str, str, str] | None:
    """Patient-orientation labels of the four image edges: ``(top, bottom, left, right)``.

    Image Orientation (Patient) (0020,0037) holds the row direction (towards increasing
    column index, i.e. the right edge) then the column direction (towards increasing row
    index, the bottom edge), PS3.3 C.7.6.2.1.1.

    Returns
    -------
    tuple of str or None
        None when the orientation is missing or malformed.
    """
    iop = _floats(image_orientation, 6)
    if iop is None:
        return None
    row, col = iop[:3], iop[3:]
    return direction_label(_neg(col)), direction_label(col), direction_label(_neg(row)), direction_label(row)


def _neg(v: Sequence[float]) -> tuple[float, ...]:
    return tuple(-c for c in v)


def slice_normal(image_orientation: Sequence[float]) -> Vector | None:
    """Unit normal (row x column) of an image plane, or None for a degenerate orientation."""
    iop = _floats(image_orientation, 6)
    if iop is None:
        return None
    r, c = iop[:3], iop[3:]
    n = (r[1] * c[2] - r[2] * c[1], r[2] * c[0] - r[0] * c[2], r[0] * c[1] - r[1] * c[0])
    length = math.sqrt(sum(v * v for v in n))
    if length < 1e-6:
        return None
    return (n[0] / length, n[1] / length, n[2] / length)


class PatientPosition(str, Enum):
    """Patient Position (0018,5100) defined terms, PS3.3 C.7.3.1.1.2."""

    HFP = "Head First-Prone"
    HFS = "Head First-Supine"
    HFDR = "Head First-Decubitus Right"
    HFDL = "Head First-Decubitus Left"
    FFDR = "Feet First-Decubitus Right"
    FFDL = "Feet First-Decubitus Left"
    FFP = "Feet First-Prone"
    FFS = "Feet First-Supine"
    LFP = "Left First-Prone"
    LFS = "Left First-Supine"
    RFP = "Right First-Prone"
    RFS = "Right First-Supine"
    AFRT = "Anterior First-Right"
    AFLT = "Anterior First-Left"
    PFRT = "Posterior First-Right"
    PFLT = "Posterior First-Left"
    SITTING = "Sitting"


def patient_position_text(code: str | None) -> str | None:
    """``"HFS"`` -> ``"Head First-Supine"``; unknown codes are returned as they are."""
    if not code:
        return None
    code = str(code).strip().upper()
    member = PatientPosition.__members__.get(code)
    return member.value if member else code


# ---------------------------------------------------------------- slice spacing


@dataclass(frozen=True)
class Gap:
    """A step between consecutive slices clearly larger than the usual spacing."""

    after_index: int  #: index (in sorted order) of the slice before the gap
    start_mm: float  #: position along the normal of the slice before the gap
    end_mm: float  #: position of the slice after it
    missing: int  #: estimated number of missing slices

    @property
    def size_mm(self) -> float:
        return self.end_mm - self.start_mm


@dataclass(frozen=True)
class SliceSpacing:
    """Spacing of a sorted stack computed from the slice positions (not Slice Thickness).

    Attributes
    ----------
    spacing_mm : float
        The usual (median) distance between consecutive slices.
    uniform : bool
        True when every step that is not a gap equals ``spacing_mm`` within the tolerance.
    gaps : tuple of Gap
        Steps at least 1.5 times the usual spacing.
    min_mm, max_mm : float
        Smallest and largest step.
    """

    spacing_mm: float
    uniform: bool
    gaps: tuple[Gap, ...]
    min_mm: float
    max_mm: float


def slice_spacing(distances: Sequence[float], tolerance_mm: float = 0.01,
                  relative_tolerance: float = 0.01) -> SliceSpacing | None:
    """Spacing, uniformity and gaps of slices at ``distances`` along their normal.

    Parameters
    ----------
    distances : sequence of float
        Position of each slice along the stack normal (``dot(IPP, normal)``), in mm, in
        sorted order. Duplicates (several images at one position) are ignored.
    tolerance_mm, relative_tolerance : float
        A step counts as equal to the usual spacing when it differs by less than
        ``max(tolerance_mm, relative_tolerance * spacing)``.

    Returns
    -------
    SliceSpacing or None
        None for fewer than two distinct positions.
    """
    pos = sorted(set(round(float(d), 4) for d in distances))
    if len(pos) < 2:
        return None
    steps = [b - a for a, b in zip(pos, pos[1:])]
    ordered = sorted(steps)
    half = len(ordered) // 2
    median = ordered[half] if len(ordered) % 2 else 0.5 * (ordered[half - 1] + ordered[half])
    tol = max(tolerance_mm, relative_tolerance * median)
    # Gaps are reported on their own; "uniform" describes the other steps.
    uniform = all(abs(s - median) <= tol for s in steps if s < 1.5 * median)
    gaps = tuple(
        Gap(i, pos[i], pos[i + 1], max(1, round(s / median) - 1))
        for i, s in enumerate(steps) if s >= 1.5 * median
    )
    return SliceSpacing(median, uniform, gaps, ordered[0], ordered[-1])


# --------------------------------------------------------------------------- patient <-> pixel
# PS3.3 C.7.6.2.1.1, equation C.7.6.2.1-1: the patient coordinates of the centre of the pixel
# in column i and row j are  P = S + Xx * dj?  -- with S the Image Position (Patient) (the
# centre of the first transmitted pixel), X the row direction (towards increasing column),
# Y the column direction (towards increasing row), Delta_i the column spacing (the second
# value of Pixel Spacing) and Delta_j the row spacing (the first value):
#     P = S + X * Delta_i * i + Y * Delta_j * j
# ``i``/``j`` may be fractional here (a point between pixel centres).


def pixel_to_patient(column: float, row: float, position: Sequence[float], orientation: Sequence[float],
                     spacing: Sequence[float]) -> Vector | None:
    """Patient coordinates (mm, LPS) of the point at (``column``, ``row``) pixel indices.

    Integer indices are pixel centres ((0, 0) is the centre of the first pixel, where
    Image Position (Patient) points). ``spacing`` is Pixel Spacing as stored: (row
    spacing, column spacing). None when the geometry is missing or malformed.
    """
    s, iop, ps = _floats(position, 3), _floats(orientation, 6), _floats(spacing, 2)
    if s is None or iop is None or ps is None:
        return None
    x, y = iop[:3], iop[3:]
    di, dj = ps[1], ps[0]
    return (s[0] + x[0] * di * column + y[0] * dj * row,
            s[1] + x[1] * di * column + y[1] * dj * row,
            s[2] + x[2] * di * column + y[2] * dj * row)


def patient_to_pixel(point: Sequence[float], position: Sequence[float], orientation: Sequence[float],
                     spacing: Sequence[float]) -> tuple[float, float, float] | None:
    """(column, row, distance) of a patient point: its projection onto the image plane in
    pixel indices (the inverse of :func:`pixel_to_patient`) and its signed distance from
    the plane along the normal (row x column), in mm. None for missing geometry."""
    p, s, iop, ps = _floats(point, 3), _floats(position, 3), _floats(orientation, 6), _floats(spacing, 2)
    if p is None or s is None or iop is None or ps is None or ps[0] <= 0 or ps[1] <= 0:
        return None
    n = slice_normal(iop)
    if n is None:
        return None
    d = (p[0] - s[0], p[1] - s[1], p[2] - s[2])
    x, y = iop[:3], iop[3:]
    # Row and column directions are orthonormal in valid files (PS3.3 C.7.6.2.1.1); the
    # dot products are then the coordinates along them.
    along_x = sum(a * b for a, b in zip(d, x))
    along_y = sum(a * b for a, b in zip(d, y))
    return along_x / ps[1], along_y / ps[0], sum(a * b for a, b in zip(d, n))


def location_along(position: Sequence[float], normal: Sequence[float]) -> float | None:
    """Where a plane through ``position`` lies along ``normal``: dot(position, normal), mm."""
    p, n = _floats(position, 3), _floats(normal, 3)
    if p is None or n is None:
        return None
    return p[0] * n[0] + p[1] * n[1] + p[2] * n[2]


def nearest_slice(point: Sequence[float],
                  planes: Sequence[tuple[Sequence[float] | None, Sequence[float] | None]]) -> int | None:
    """Index of the plane closest to a patient point; ``planes`` are (position, orientation).

    Distance is measured along each plane's own normal (the point's distance from the
    plane). Planes without geometry are skipped; ties go to the first. None when no
    plane has geometry.
    """
    p = _floats(point, 3)
    if p is None:
        return None
    best: tuple[float, int] | None = None
    for i, (position, orientation) in enumerate(planes):
        if position is None or orientation is None:
            continue
        s = _floats(position, 3)
        n = slice_normal(orientation)
        if s is None or n is None:
            continue
        dist = abs(sum((a - b) * c for a, b, c in zip(p, s, n)))
        if best is None or dist < best[0] - 1e-9:
            best = (dist, i)
    return None if best is None else best[1]
