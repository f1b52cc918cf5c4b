"""Multiplanar reconstruction in the reading session: reformatted planes as a frame source.

An :class:`MprSource` holds one :class:`viewer.dicom.volume_io.LoadedVolume` and hands out,
for the axial, coronal and sagittal views, a stack of :class:`FrameRef` values whose path
is ``mpr:KEY/PLANE/VERSION`` and whose frame index is the plane's number. The refs carry
each plane's position and orientation, so a :class:`viewer.session.ViewState` steps through
them like through slices, and the session's 3D cursor (:meth:`Session.set_cursor`) moves
the other views to the planes through the cursor: the crosshair is the 3D cursor. The frame
loader asks :func:`source_of` for the pixels (:meth:`MprSource.image`).

A *version* is one set of reconstruction settings (slab, mode, rotation of the crosshair
and its centre for oblique planes); changing a setting makes a new version, so frames of
the old settings are never taken for the new ones (caches are keyed by path and index).
No Qt here.
"""

from __future__ import annotations

import itertools
import math
import threading
from dataclasses import dataclass, replace
from typing import Sequence

import numpy as np
from pydicom.dataset import Dataset

from viewer.dicom.volume_io import LoadedVolume
from viewer.render.mpr import _PLANE_VECTORS, Plane, PlaneImage, SlabMode, plane_axes, reformat, rotated_plane
from viewer.session.frames import FrameRef

SCHEME = "mpr:"
PLANES = (Plane.AXIAL, Plane.CORONAL, Plane.SAGITTAL)
#: Attributes of the source header not copied into a plane's header (pixels, per-frame
#: geometry and overlays belong to the source slices, not to a reformatted plane).
_DROPPED = {0x7FE00010, 0x52009230, 0x52009229, 0x00280008, 0x00200032, 0x00200037, 0x00280030, 0x00201041,
            0x00280010, 0x00280011, 0x00180050, 0x00180088}


@dataclass(frozen=True)
class MprSettings:
    """One version's reconstruction settings.

    ``angle_deg``: rotation of the crosshair in the axial view (coronal and sagittal planes
    turned about the axial normal; 0: the standard planes). ``center``: the crosshair point
    the oblique planes pass through (patient mm). ``slab_mm``/``mode``: thick slabs.
    """

    angle_deg: float = 0.0
    center: tuple[float, float, float] = (0.0, 0.0, 0.0)
    slab_mm: float = 0.0
    mode: SlabMode = SlabMode.MIP

    def oblique(self, plane: Plane) -> bool:
        return plane is not Plane.AXIAL and abs(self.angle_deg) > 1e-6


_keys = itertools.count(1)
_SOURCES: dict[str, MprSource] = {}
_LOCK = threading.Lock()


def parse_path(path: str) -> tuple[str, Plane, int] | None:
    """``mpr:KEY/PLANE/VERSION`` -> (key, plane, version), or None for another path."""
    if not path.startswith(SCHEME):
        return None
    try:
        key, plane, version = path[len(SCHEME):].split("/")
        return key, Plane(plane), int(version)
    except ValueError:
        return None


def source_of(path: str) -> MprSource | None:
    """The registered source of an ``mpr:`` path (None when closed or not an MPR path)."""
    parsed = parse_path(path)
    if parsed is None:
        return None
    with _LOCK:
        return _SOURCES.get(parsed[0])


class MprSource:
    """The planes of one volume for the session's views (see the module docstring)."""

    def __init__(self, loaded: LoadedVolume, series_uid: str = "") -> None:
        self.loaded = loaded
        self.volume = loaded.volume
        self.series_uid = series_uid
        self.key = str(next(_keys))
        center = self.volume.index_to_patient(self.volume.center_index)
        self._versions: dict[int, MprSettings] = {0: MprSettings(center=_vec(center))}
        self.version = 0
        self._latest: dict[Plane, int] = {}  #: the version each view shows
        self._header = _plane_header_base(loaded.dataset, loaded.modality_values)
        self.frame_of_reference_uid = str(loaded.dataset.get("FrameOfReferenceUID", "") or "")
        self.study_instance_uid = str(loaded.dataset.get("StudyInstanceUID", "") or "")
        self.patient_id = str(loaded.dataset.get("PatientID", "") or "")
        with _LOCK:
            _SOURCES[self.key] = self

    def close(self) -> None:
        """Forget this source (its frames can no longer be loaded)."""
        with _LOCK:
            _SOURCES.pop(self.key, None)

    def shown(self, plane: Plane, version: int) -> None:
        """A view now shows ``plane`` at ``version``: older versions of it will not be shown again."""
        self._latest[Plane(plane)] = max(version, self._latest.get(Plane(plane), 0))

    @staticmethod
    def version_of(ref: FrameRef) -> int:
        parsed = parse_path(ref.path)
        return parsed[2] if parsed is not None else 0

    def superseded(self, ref: FrameRef) -> bool:
        """Whether ``ref`` is of a version older than the one its view shows (a frame asked
        for ahead of a rotation that has moved on since: not worth cutting)."""
        parsed = parse_path(ref.path)
        return parsed is not None and parsed[2] < self._latest.get(parsed[1], 0)

    @property
    def settings(self) -> MprSettings:
        return self._versions[self.version]

    @property
    def notes(self) -> tuple[str, ...]:
        """What the user should know about the volume (gaps, uneven spacing, duplicates)."""
        return self.volume.notes

    def update(self, **changes: object) -> MprSettings:
        """New settings (a new version) from the current ones with ``changes``."""
        settings = replace(self.settings, **changes)  # type: ignore[arg-type]
        self.version += 1
        self._versions[self.version] = settings
        return settings

    # ------------------------------------------------------------------ planes
    def _step(self) -> float:
        return float(min(self.volume.spacing))

    def _oblique_geometry(self, plane: Plane, settings: MprSettings) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(normal, right, down) of the rotated ``plane`` (the same rotation as rotated_plane)."""
        normal, right, down = (np.asarray(v, dtype=np.float64) for v in _PLANE_VECTORS[plane])
        axis = np.asarray(_PLANE_VECTORS[Plane.AXIAL][0], dtype=np.float64)
        rot = _rotation(axis, math.radians(settings.angle_deg))
        return rot @ normal, rot @ right, rot @ down

    def _oblique_range(self, normal: np.ndarray, settings: MprSettings) -> tuple[int, int]:
        """(count, index of the plane through the centre) of an oblique view."""
        vol = self.volume
        corners = vol.index_to_patient(np.array([[z, y, x] for z in (0, vol.shape[0] - 1)
                                                 for y in (0, vol.shape[1] - 1) for x in (0, vol.shape[2] - 1)],
                                                dtype=np.float64))
        along = (corners - np.asarray(settings.center)) @ normal
        step = self._step()
        below = int(math.floor(-float(along.min()) / step + 1e-9))
        above = int(math.floor(float(along.max()) / step + 1e-9))
        return below + above + 1, below

    def frames(self, plane: Plane, version: int | None = None) -> list[FrameRef]:
        """The stack of ``plane`` for a version (default: the current one)."""
        plane = Plane(plane)
        version = self.version if version is None else version
        settings = self._versions[version]
        path = f"{SCHEME}{self.key}/{plane.value}/{version}"
        common = dict(frame_of_reference_uid=self.frame_of_reference_uid or f"mpr:{self.key}",
                      study_instance_uid=self.study_instance_uid, patient_id=self.patient_id)
        vol = self.volume
        if settings.oblique(plane):
            normal, right, down = self._oblique_geometry(plane, settings)
            count, through = self._oblique_range(normal, settings)
            step = self._step()
            center = np.asarray(settings.center)
            orientation = tuple(float(v) for v in np.concatenate([right, down]))
            return [FrameRef(path, i, position=_vec(center + (i - through) * step * normal),
                             orientation=orientation, spacing=(step, step), **common)
                    for i in range(count)]
        n_axis, (r_axis, r_flip), (c_axis, c_flip) = plane_axes(vol, plane)
        row_dir = vol.directions[c_axis] * (-1.0 if c_flip else 1.0)
        col_dir = vol.directions[r_axis] * (-1.0 if r_flip else 1.0)
        orientation = tuple(float(v) for v in np.concatenate([row_dir, col_dir]))
        spacing = (float(vol.spacing[r_axis]), float(vol.spacing[c_axis]))
        refs = []
        for i in range(vol.shape[n_axis]):
            idx = vol.center_index.copy()
            idx[n_axis] = i
            refs.append(FrameRef(path, i, position=_vec(vol.index_to_patient(idx)), orientation=orientation,
                                 spacing=spacing, **common))
        return refs

    def index_through(self, plane: Plane, point: Sequence[float], version: int | None = None) -> int:
        """The index of the ``plane`` frame nearest a patient point."""
        from viewer.dicom.geometry import nearest_slice

        refs = self.frames(plane, version)
        index = nearest_slice(point, [(r.position, r.orientation) for r in refs])
        return 0 if index is None else index

    def image(self, ref: FrameRef) -> PlaneImage:
        """The pixels of a frame of this source (runs in a worker)."""
        parsed = parse_path(ref.path)
        if parsed is None or parsed[0] != self.key:
            raise KeyError(ref.path)
        _key, plane, version = parsed
        settings = self._versions[version]
        if settings.oblique(plane):
            center = np.asarray(ref.position, dtype=np.float64)
            return rotated_plane(self.volume, plane, settings.angle_deg, center=center, about=Plane.AXIAL,
                                 slab_mm=settings.slab_mm, mode=settings.mode)
        return reformat(self.volume, plane, ref.frame_index, slab_mm=settings.slab_mm, mode=settings.mode)

    def header(self, ref: FrameRef, image: PlaneImage) -> Dataset:
        """A header for a plane: the source's patient/study/series and window, the plane's
        geometry (Image Plane module, PS3.3 C.7.6.2) and a description saying what it is."""
        parsed = parse_path(ref.path)
        plane = parsed[1] if parsed is not None else Plane.AXIAL
        settings = self._versions[parsed[2]] if parsed is not None else self.settings
        ds = Dataset()
        ds.update(self._header)
        ds.Rows, ds.Columns = (int(v) for v in image.pixels.shape[:2])
        ds.ImagePositionPatient = [round(float(v), 6) for v in image.position]
        ds.ImageOrientationPatient = [round(float(v), 8) for v in image.orientation]
        ds.PixelSpacing = [round(float(v), 8) for v in image.spacing]
        what = plane.value + (f" oblique {settings.angle_deg:.0f}°" if settings.oblique(plane) else "")
        if settings.slab_mm > 0:
            what += f", {settings.slab_mm:g} mm {settings.mode.value.upper()} slab"
            ds.SliceThickness = f"{settings.slab_mm:g}"
        base = str(self._header.get("SeriesDescription", "") or "")
        ds.SeriesDescription = (f"MPR {what}" + (f" ({base})" if base else ""))[:64]  # LO: 64 characters
        ds.ImageType = ["DERIVED", "SECONDARY", "MPR"]
        return ds


def _plane_header_base(ds: Dataset, modality_values: bool) -> Dataset:
    out = Dataset()
    for elem in ds:
        tag = int(elem.tag)
        if tag in _DROPPED or 0x60000000 <= tag < 0x60FF0000 or elem.tag.is_private:
            continue
        out.add(elem)
    if modality_values:  # the voxels are modality values already (PS3.3 C.11.1)
        out.RescaleSlope, out.RescaleIntercept = "1", "0"
    return out


def _vec(v: Sequence[float] | np.ndarray) -> tuple[float, float, float]:
    return float(v[0]), float(v[1]), float(v[2])


def _rotation(axis: np.ndarray, angle: float) -> np.ndarray:
    """Rodrigues' rotation about a unit ``axis`` (as viewer.render.mpr rotates oblique planes)."""
    x, y, z = axis / np.linalg.norm(axis)
    c, s = math.cos(angle), math.sin(angle)
    k = np.array([[0, -z, y], [z, 0, -x], [-y, x, 0]])
    return np.asarray(np.eye(3) + s * k + (1 - c) * (k @ k), dtype=np.float64)
