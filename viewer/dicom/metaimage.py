"""MetaImage (``.mhd`` + ``.raw``) writer with DICOM patient geometry, as ITK reads it.

The header follows MetaIO as ITK's ``MetaImageIO`` parses it:

* ``DimSize = cols rows slices`` and the raw data in C order ``(slices, rows, cols)``,
  so x is the column index (fastest), y the row index and z the slice index.
* ``ElementSpacing = col_mm row_mm slice_mm``: Pixel Spacing (0028,0030) holds the
  *row* spacing first (the vertical size), then the column spacing (PS3.3 10.7.1.3).
* ``Offset`` is the Image Position (Patient) of the first voxel of the first slice, in
  LPS mm (PS3.3 C.7.6.2.1.1).
* ``TransformMatrix`` lists the direction of axis 0, then axis 1, then axis 2, each as
  three LPS components (ITK sets ``direction[:, i]`` from the i-th triple): the row
  direction cosines, the column direction cosines, then the slice normal.
* ``AnatomicalOrientation`` gives, per axis, the side the axis comes *from*: ITK calls
  an image whose axes point to L, P and S "RAI", which DICOM calls LPS.

No Qt, no DICOM reading here: callers pass the volume and the geometry.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np

log = logging.getLogger(__name__)

_ELEMENT_TYPES = {
    np.dtype(np.int8): "MET_CHAR", np.dtype(np.uint8): "MET_UCHAR",
    np.dtype(np.int16): "MET_SHORT", np.dtype(np.uint16): "MET_USHORT",
    np.dtype(np.int32): "MET_INT", np.dtype(np.uint32): "MET_UINT",
    np.dtype(np.float32): "MET_FLOAT", np.dtype(np.float64): "MET_DOUBLE",
}

#: For an axis pointing towards +x (L), +y (P), +z (H = S) the "from" side is R, A, I.
_FROM_LETTERS = (("R", "L"), ("A", "P"), ("I", "S"))


@dataclass(frozen=True)
class VolumeGeometry:
    """Where a ``(slices, rows, cols)`` volume sits in patient space (LPS, mm).

    Attributes
    ----------
    origin : tuple of float
        Position of voxel (0, 0, 0), i.e. Image Position (Patient) of the first slice.
    spacing : tuple of float
        ``(col_mm, row_mm, slice_mm)``, in the x, y, z order of MetaImage.
    direction : tuple of tuple of float
        Unit directions of the x (column index), y (row index) and z (slice) axes.
    """

    origin: tuple[float, float, float]
    spacing: tuple[float, float, float]
    direction: tuple[tuple[float, float, float], tuple[float, float, float], tuple[float, float, float]]


def anatomical_orientation(direction: Sequence[Sequence[float]]) -> str:
    """ITK's three-letter orientation code: per axis, the side its dominant direction comes from.

    >>> anatomical_orientation(((1, 0, 0), (0, 1, 0), (0, 0, 1)))
    'RAI'
    """
    letters = []
    for axis in direction:
        comps = [float(c) for c in axis]
        i = int(np.argmax(np.abs(comps)))
        letters.append(_FROM_LETTERS[i][0 if comps[i] > 0 else 1])
    return "".join(letters)


def _fmt(values: Sequence[float]) -> str:
    return " ".join(f"{float(v):.10g}" for v in values)


def write_metaimage(path: str | Path, volume: np.ndarray, geometry: VolumeGeometry) -> tuple[Path, Path]:
    """Write ``volume`` as ``path`` (``.mhd`` header) plus a ``.raw`` file beside it.

    Parameters
    ----------
    path : str or Path
        The header file; ``.mhd`` is appended when missing. The data file has the same
        stem with ``.raw``.
    volume : numpy.ndarray
        ``(slices, rows, cols)`` (or ``(rows, cols)`` for one slice); an integer or float
        type MetaImage knows.
    geometry : VolumeGeometry

    Returns
    -------
    (Path, Path)
        The header and data files written.
    """
    header = Path(path)
    if header.suffix.lower() != ".mhd":
        header = header.with_name(header.name + ".mhd")
    raw = header.with_suffix(".raw")
    vol = np.asarray(volume)
    if vol.ndim == 2:
        vol = vol[np.newaxis]
    if vol.ndim != 3:
        raise ValueError(f"volume must be (slices, rows, cols), got shape {vol.shape}")
    dtype = vol.dtype.newbyteorder("<") if vol.dtype.byteorder == ">" else vol.dtype
    element = _ELEMENT_TYPES.get(np.dtype(dtype.name))
    if element is None:
        raise ValueError(f"MetaImage has no element type for {vol.dtype}")
    slices, rows, cols = vol.shape
    lines = [
        "ObjectType = Image",
        "NDims = 3",
        "BinaryData = True",
        "BinaryDataByteOrderMSB = False",
        "CompressedData = False",
        f"TransformMatrix = {_fmt([c for axis in geometry.direction for c in axis])}",
        f"Offset = {_fmt(geometry.origin)}",
        "CenterOfRotation = 0 0 0",
        f"AnatomicalOrientation = {anatomical_orientation(geometry.direction)}",
        f"ElementSpacing = {_fmt(geometry.spacing)}",
        f"DimSize = {cols} {rows} {slices}",
        f"ElementType = {element}",
        f"ElementDataFile = {raw.name}",  # must be the last line (MetaIO)
    ]
    header.parent.mkdir(parents=True, exist_ok=True)
    np.ascontiguousarray(vol, dtype=np.dtype(dtype.name).newbyteorder("<")).tofile(raw)
    header.write_text("\n".join(lines) + "\n", encoding="ascii")
    log.info("wrote %s (%dx%dx%d %s)", header, cols, rows, slices, element)
    return header, raw


def read_header(path: str | Path) -> dict[str, str]:
    """The ``key = value`` pairs of an ``.mhd`` header (for checks and round trips)."""
    out: dict[str, str] = {}
    for line in Path(path).read_text(encoding="ascii").splitlines():
        if "=" in line:
            key, value = line.split("=", 1)
            out[key.strip()] = value.strip()
    return out
