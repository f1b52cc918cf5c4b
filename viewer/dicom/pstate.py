"""Grayscale Softcopy Presentation State (PS3.3 A.33.1) read into plain values.

A presentation state says how other images are to be shown: the grayscale pipeline
(Modality LUT C.11.1, Softcopy VOI LUT C.11.8, Presentation LUT C.11.6), the Displayed Area
(C.10.4), the Spatial Transformation (C.10.6), shutters (Display Shutter C.7.6.11, Bitmap
Display Shutter C.7.6.15), overlay activation (C.11.7) and the annotations drawn over the
image (Graphic Annotation C.10.5, Graphic Layer C.10.7). Each item that applies to some of
the referenced images only names them in its own Referenced Image Sequence; without one, it
applies to every image the presentation state references (C.10.5.1, C.11.8, C.10.4).

No rendering here (``viewer.render.pstate`` applies it), no Qt.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np
from pydicom.dataset import Dataset

from viewer.dicom.lut_item import read_lut_entries
from viewer.errors import DecodeError

log = logging.getLogger(__name__)

#: Grayscale Softcopy Presentation State Storage (PS3.4 B.5)
GSPS_SOP_CLASS = "1.2.840.10008.5.1.4.1.1.11.1"

Point = tuple[float, float]


@dataclass(frozen=True)
class ImageRef:
    """One referenced image; ``frames`` are 1-based, empty for every frame (C.10.5.1)."""

    sop_class_uid: str
    sop_instance_uid: str
    frames: tuple[int, ...] = ()

    def covers(self, sop_instance_uid: str, frame: int) -> bool:
        """Whether this reference names ``sop_instance_uid`` frame ``frame`` (1-based)."""
        return self.sop_instance_uid == sop_instance_uid and (not self.frames or frame in self.frames)


def _applies(refs: Sequence[ImageRef], sop_instance_uid: str, frame: int) -> bool:
    """An item without references applies to every referenced image."""
    return not refs or any(r.covers(sop_instance_uid, frame) for r in refs)


@dataclass(frozen=True)
class SeriesRef:
    series_instance_uid: str
    images: tuple[ImageRef, ...]


@dataclass(frozen=True)
class Lut:
    """A LUT Sequence item: LUT Descriptor values and the entries (PS3.3 C.11.1.1)."""

    first_mapped: int
    bits: int
    data: bytes = field(repr=False)  # little-endian uint16 entries
    explanation: str = ""

    def table(self) -> np.ndarray:
        return np.frombuffer(self.data, dtype="<u2")


@dataclass(frozen=True)
class ModalityLut:
    """Modality LUT module of the presentation state (C.11.1): a rescale or a LUT."""

    slope: float = 1.0
    intercept: float = 0.0
    rescale_type: str = ""
    lut: Lut | None = None


@dataclass(frozen=True)
class SoftcopyVoi:
    """One Softcopy VOI LUT Sequence item (C.11.8): a window or a VOI LUT, for some images."""

    refs: tuple[ImageRef, ...]
    center: float | None = None
    width: float | None = None
    function: str = "LINEAR"
    explanation: str = ""
    lut: Lut | None = None


@dataclass(frozen=True)
class DisplayedArea:
    """One Displayed Area Selection Sequence item (C.10.4).

    ``tlhc``/``brhc`` are (column, row), 1-based pixels of the image before the spatial
    transformation; ``tlhc`` is the pixel shown top left after it.
    """

    refs: tuple[ImageRef, ...]
    tlhc: tuple[int, int]
    brhc: tuple[int, int]
    size_mode: str = "SCALE TO FIT"  # SCALE TO FIT, TRUE SIZE, MAGNIFY
    pixel_spacing: tuple[float, float] | None = None  # (row, column) mm
    aspect_ratio: tuple[int, int] | None = None  # (row, column)
    magnification: float | None = None

    @property
    def row_to_column(self) -> float:
        """Displayed height of a pixel over its width (1 for square pixels)."""
        if self.pixel_spacing and self.pixel_spacing[1] > 0:
            return self.pixel_spacing[0] / self.pixel_spacing[1]
        if self.aspect_ratio and self.aspect_ratio[1] > 0:
            return self.aspect_ratio[0] / self.aspect_ratio[1]
        return 1.0


@dataclass(frozen=True)
class GeometricShutter:
    """Display Shutter module (C.7.6.11): 1-based (row, column) pixel geometry."""

    rectangle: tuple[int, int, int, int] | None = None  # left, right, upper, lower
    circle: tuple[tuple[float, float], float] | None = None  # (row, column), radius
    polygon: tuple[tuple[float, float], ...] | None = None  # (row, column) vertices


@dataclass(frozen=True)
class Shutters:
    """The shutters of the presentation state and the value outside them."""

    geometric: GeometricShutter | None = None
    bitmap_group: int | None = None  # Shutter Overlay Group (0018,1623), an overlay of the pstate
    bitmap: np.ndarray | None = field(default=None, repr=False, compare=False)  # True: shuttered
    bitmap_origin: tuple[int, int] = (1, 1)  # 1-based (row, column) of the overlay's first bit
    presentation_value: int = 0  # Shutter Presentation Value (0018,1622), a P-value
    cielab: tuple[int, int, int] | None = None  # Shutter Presentation Color CIELab Value (0018,1624)


@dataclass(frozen=True)
class Overlay:
    """An overlay plane to show (C.9.2 with C.11.7 activation).

    ``bits`` is None when the plane is in the image (the pstate only activates it).
    """

    group: int
    layer: str
    origin: tuple[int, int] = (1, 1)  # 1-based (row, column)
    bits: np.ndarray | None = field(default=None, repr=False, compare=False)
    label: str = ""


@dataclass(frozen=True)
class GraphicLayer:
    """Graphic Layer Sequence item (C.10.7)."""

    name: str
    order: int
    gray: int | None = None  # Recommended Display Grayscale Value, 0..65535
    cielab: tuple[int, int, int] | None = None  # Recommended Display CIELab Value
    description: str = ""


@dataclass(frozen=True)
class TextObject:
    """Text Object Sequence item (C.10.5): a box and/or an anchor point, (column, row)."""

    text: str
    box_units: str = "PIXEL"  # PIXEL or DISPLAY
    tlhc: Point | None = None
    brhc: Point | None = None
    justification: str = "LEFT"
    anchor_units: str = "PIXEL"
    anchor: Point | None = None
    anchor_visible: bool = False
    group: int | None = None  # Graphic Group ID (C.10.5.1.3)


@dataclass(frozen=True)
class GraphicObject:
    """Graphic Object Sequence item (C.10.5): POINT, POLYLINE, INTERPOLATED, CIRCLE, ELLIPSE.

    Points are (column, row): PIXEL units count from the top left corner of the top left
    pixel (0, 0) to (Columns, Rows) (C.10.5.1.1); DISPLAY units from 0 to 1 over the
    displayed area.
    """

    type: str
    points: tuple[Point, ...]
    units: str = "PIXEL"
    filled: bool = False
    group: int | None = None  # Graphic Group ID (C.10.5.1.3)


@dataclass(frozen=True)
class Annotation:
    """Graphic Annotation Sequence item: text and graphics on one layer for some images."""

    layer: str
    refs: tuple[ImageRef, ...]
    texts: tuple[TextObject, ...] = ()
    graphics: tuple[GraphicObject, ...] = ()


@dataclass(frozen=True, eq=False)
class PresentationState:
    """A Grayscale Softcopy Presentation State, read by :func:`read_pstate`.

    Compared and hashed by identity (it can key a view's render cache)."""

    sop_instance_uid: str
    study_instance_uid: str
    series_instance_uid: str
    label: str
    description: str
    creator: str
    created: str  # Presentation Creation Date + Time, YYYYMMDDHHMMSS (sorts by age)
    series: tuple[SeriesRef, ...]
    modality_lut: ModalityLut | None
    voi: tuple[SoftcopyVoi, ...]
    plut_shape: str | None  # IDENTITY or INVERSE, None when a Presentation LUT Sequence is used
    plut: Lut | None
    areas: tuple[DisplayedArea, ...]
    rotation: int  # clockwise degrees, 0/90/180/270 (C.10.6)
    flip: bool  # Image Horizontal Flip
    shutters: Shutters
    overlays: tuple[Overlay, ...]
    layers: tuple[GraphicLayer, ...]
    annotations: tuple[Annotation, ...]
    groups: dict[int, str] = field(default_factory=dict)  # Graphic Group ID -> Graphic Group Label
    path: str = ""  # the file it was read from ("" when not read from a file): print and export read it again

    # ---------------------------------------------------------------- which image
    @property
    def images(self) -> tuple[ImageRef, ...]:
        return tuple(i for s in self.series for i in s.images)

    def references(self, sop_instance_uid: str, frame: int = 1) -> bool:
        """Whether the presentation state applies to this image frame (1-based)."""
        return any(r.covers(sop_instance_uid, frame) for r in self.images)

    def voi_for(self, sop_instance_uid: str, frame: int = 1) -> SoftcopyVoi | None:
        return next((v for v in self.voi if _applies(v.refs, sop_instance_uid, frame)), None)

    def area_for(self, sop_instance_uid: str, frame: int = 1) -> DisplayedArea | None:
        return next((a for a in self.areas if _applies(a.refs, sop_instance_uid, frame)), None)

    def annotations_for(self, sop_instance_uid: str, frame: int = 1) -> list[Annotation]:
        """The annotations on this image, ordered by their layer's Graphic Layer Order."""
        order = {layer.name: layer.order for layer in self.layers}
        found = [a for a in self.annotations if _applies(a.refs, sop_instance_uid, frame)]
        return sorted(found, key=lambda a: order.get(a.layer, 1 << 30))

    def layer(self, name: str) -> GraphicLayer | None:
        return next((layer for layer in self.layers if layer.name == name), None)


# ---------------------------------------------------------------------- parsing
def _str(ds: Dataset, keyword: str) -> str:
    value = ds.get(keyword, None)
    return "" if value is None else str(value).strip()


def _floats(value: object) -> list[float]:
    if value is None or value == "":
        return []
    seq: Iterable[object] = value if isinstance(value, Iterable) and not isinstance(value, (str, bytes)) else [value]
    out: list[float] = []
    for v in seq:
        try:
            out.append(float(v))  # type: ignore[arg-type]
        except (TypeError, ValueError):
            log.debug("ignoring bad number %r", v)
    return out


def _items(ds: Dataset, keyword: str) -> list[Dataset]:
    value = ds.get(keyword, None)
    if not value or isinstance(value, (str, bytes)):
        return []
    return [item for item in value if isinstance(item, Dataset)]


def _image_refs(holder: Dataset) -> tuple[ImageRef, ...]:
    out = []
    for item in _items(holder, "ReferencedImageSequence"):
        frames = tuple(int(f) for f in _floats(item.get("ReferencedFrameNumber", None)))
        out.append(ImageRef(_str(item, "ReferencedSOPClassUID"), _str(item, "ReferencedSOPInstanceUID"), frames))
    return tuple(out)


def read_lut(item: Dataset, signed_input: bool = False) -> Lut:
    """A LUT Sequence item (C.11.1.1): 0 entries mean 65536; 8-bit data may be packed in OW."""
    entries = read_lut_entries(item, signed_input)
    if len(entries.table) == 0:
        raise DecodeError("LUT Data (0028,3006) is empty")
    return Lut(entries.first_mapped, entries.bits, entries.data, _str(item, "LUTExplanation"))


def _modality(ds: Dataset) -> ModalityLut | None:
    seq = _items(ds, "ModalityLUTSequence")
    if seq:
        return ModalityLut(lut=read_lut(seq[0]), rescale_type=_str(seq[0], "ModalityLUTType"))
    if "RescaleSlope" in ds or "RescaleIntercept" in ds:
        slope = (_floats(ds.get("RescaleSlope", None)) or [1.0])[0] or 1.0
        return ModalityLut(slope, (_floats(ds.get("RescaleIntercept", None)) or [0.0])[0],
                           _str(ds, "RescaleType"))
    return None


def _voi(ds: Dataset, signed_input: bool) -> tuple[SoftcopyVoi, ...]:
    out = []
    for item in _items(ds, "SoftcopyVOILUTSequence"):
        refs = _image_refs(item)
        luts = _items(item, "VOILUTSequence")
        if luts:
            try:
                out.append(SoftcopyVoi(refs, lut=read_lut(luts[0], signed_input)))
            except DecodeError as exc:
                log.warning("presentation state VOI LUT ignored: %s", exc)
            continue
        centers, widths = _floats(item.get("WindowCenter", None)), _floats(item.get("WindowWidth", None))
        if centers and widths and widths[0] > 0:
            expl = item.get("WindowCenterWidthExplanation", "")
            expl = str(expl[0] if isinstance(expl, Sequence) and not isinstance(expl, str) and expl else expl or "")
            out.append(SoftcopyVoi(refs, centers[0], widths[0],
                                   _str(item, "VOILUTFunction").upper() or "LINEAR", expl.strip()))
        else:
            log.warning("presentation state VOI item without a usable window or VOI LUT ignored")
    return tuple(out)


def _pair(value: object) -> tuple[float, float] | None:
    v = _floats(value)
    return (v[0], v[1]) if len(v) >= 2 else None


def _areas(ds: Dataset) -> tuple[DisplayedArea, ...]:
    out = []
    for item in _items(ds, "DisplayedAreaSelectionSequence"):
        tl, br = _pair(item.get("DisplayedAreaTopLeftHandCorner", None)), \
            _pair(item.get("DisplayedAreaBottomRightHandCorner", None))
        if tl is None or br is None:
            log.warning("displayed area without both corners ignored")
            continue
        spacing = _pair(item.get("PresentationPixelSpacing", None))
        aspect = _pair(item.get("PresentationPixelAspectRatio", None))
        mag = _floats(item.get("PresentationPixelMagnificationRatio", None))
        out.append(DisplayedArea(_image_refs(item), (int(tl[0]), int(tl[1])), (int(br[0]), int(br[1])),
                                 _str(item, "PresentationSizeMode").upper() or "SCALE TO FIT",
                                 spacing if spacing and min(spacing) > 0 else None,
                                 (int(aspect[0]), int(aspect[1])) if aspect and min(aspect) > 0 else None,
                                 mag[0] if mag and mag[0] > 0 else None))
    return tuple(out)


def _shutters(ds: Dataset) -> Shutters:
    shapes = ds.get("ShutterShape", None)
    names = set() if not shapes else {str(s).strip().upper() for s in
                                       ([shapes] if isinstance(shapes, str) else shapes)}
    geometric = None
    rect = circle = polygon = None
    if "RECTANGULAR" in names:
        edges = [_floats(ds.get(k, None)) for k in ("ShutterLeftVerticalEdge", "ShutterRightVerticalEdge",
                                                    "ShutterUpperHorizontalEdge", "ShutterLowerHorizontalEdge")]
        if all(edges):
            rect = (int(edges[0][0]), int(edges[1][0]), int(edges[2][0]), int(edges[3][0]))
    if "CIRCULAR" in names:
        centre = _pair(ds.get("CenterOfCircularShutter", None))
        radius = _floats(ds.get("RadiusOfCircularShutter", None))
        if centre is not None and radius:
            circle = (centre, radius[0])
    if "POLYGONAL" in names:
        v = _floats(ds.get("VerticesOfThePolygonalShutter", None))
        if len(v) >= 6 and len(v) % 2 == 0:
            polygon = tuple((v[i], v[i + 1]) for i in range(0, len(v), 2))
    if rect or circle or polygon:
        geometric = GeometricShutter(rect, circle, polygon)
    bitmap = None
    if "BITMAP" in names:
        group = ds.get("ShutterOverlayGroup", None)
        try:
            bitmap = int(group) if group is not None else None
        except (TypeError, ValueError):
            bitmap = None
    bits, origin = None, (1, 1)
    if bitmap is not None:
        bits = overlay_bits(ds, bitmap)
        at = _floats(ds[bitmap, 0x0050].value) if (bitmap, 0x0050) in ds else []
        origin = (int(at[0]), int(at[1])) if len(at) >= 2 else (1, 1)
        if bits is None:
            log.warning("bitmap shutter: overlay group %04X has no Overlay Data; not applied", bitmap)
            bitmap = None
    value = _floats(ds.get("ShutterPresentationValue", None))
    lab = _floats(ds.get("ShutterPresentationColorCIELabValue", None))
    return Shutters(geometric=geometric, bitmap_group=bitmap, bitmap=bits, bitmap_origin=origin,
                    presentation_value=int(value[0]) if value else 0,
                    cielab=(int(lab[0]), int(lab[1]), int(lab[2])) if len(lab) >= 3 else None)


def overlay_bits(ds: Dataset, group: int) -> np.ndarray | None:
    """The first frame of overlay ``group`` of ``ds`` as a boolean (rows, cols) array."""
    try:
        rows, cols = int(ds[group, 0x0010].value), int(ds[group, 0x0011].value)
        data = ds[group, 0x3000].value
    except (KeyError, TypeError, ValueError):
        return None
    if not isinstance(data, (bytes, bytearray)):
        return None
    count = rows * cols
    bits = np.unpackbits(np.frombuffer(bytes(data[: -(-count // 8)]), np.uint8), bitorder="little")
    if len(bits) < count:
        bits = np.concatenate([bits, np.zeros(count - len(bits), np.uint8)])
    return bits[:count].reshape(rows, cols).astype(bool)


def _overlays(ds: Dataset, bitmap_group: int | None) -> tuple[Overlay, ...]:
    out = []
    for g in range(0x6000, 0x6020, 2):
        if (g, 0x1001) not in ds:  # Overlay Activation Layer (C.11.7): shown only when activated
            continue
        layer = str(ds[g, 0x1001].value or "").strip()
        bits = overlay_bits(ds, g) if (g, 0x3000) in ds else None
        origin = _floats(ds[g, 0x0050].value) if (g, 0x0050) in ds else []
        label = str(ds[g, 0x1500].value or "") if (g, 0x1500) in ds else ""
        out.append(Overlay(g, layer, (int(origin[0]), int(origin[1])) if len(origin) >= 2 else (1, 1), bits, label))
    return tuple(o for o in out if o.group != bitmap_group)


def _layers(ds: Dataset) -> tuple[GraphicLayer, ...]:
    out = []
    for i, item in enumerate(_items(ds, "GraphicLayerSequence")):
        gray = _floats(item.get("GraphicLayerRecommendedDisplayGrayscaleValue", None))
        lab = _floats(item.get("GraphicLayerRecommendedDisplayCIELabValue", None))
        order = _floats(item.get("GraphicLayerOrder", None))
        out.append(GraphicLayer(_str(item, "GraphicLayer"), int(order[0]) if order else i,
                                int(gray[0]) if gray else None,
                                (int(lab[0]), int(lab[1]), int(lab[2])) if len(lab) >= 3 else None,
                                _str(item, "GraphicLayerDescription")))
    return tuple(sorted(out, key=lambda layer: layer.order))


def _points(value: object) -> tuple[Point, ...]:
    v = _floats(value)
    return tuple((v[i], v[i + 1]) for i in range(0, len(v) - 1, 2))


def _group(item: Dataset) -> int | None:
    value = _floats(item.get("GraphicGroupID", None))
    return int(value[0]) if value else None


def _groups(ds: Dataset) -> dict[int, str]:
    out = {}
    for item in _items(ds, "GraphicGroupSequence"):
        gid = _group(item)
        if gid is not None:
            out[gid] = _str(item, "GraphicGroupLabel")
    return out


def _annotations(ds: Dataset) -> tuple[Annotation, ...]:
    out = []
    for item in _items(ds, "GraphicAnnotationSequence"):
        texts = []
        for t in _items(item, "TextObjectSequence"):
            tl, br = _pair(t.get("BoundingBoxTopLeftHandCorner", None)), \
                _pair(t.get("BoundingBoxBottomRightHandCorner", None))
            anchor = _pair(t.get("AnchorPoint", None))
            if (tl is None or br is None) and anchor is None:
                log.warning("text object without a bounding box or anchor point ignored")
                continue
            texts.append(TextObject(_str(t, "UnformattedTextValue"),
                                    _str(t, "BoundingBoxAnnotationUnits").upper() or "PIXEL",
                                    tl if br is not None else None, br if tl is not None else None,
                                    _str(t, "BoundingBoxTextHorizontalJustification").upper() or "LEFT",
                                    _str(t, "AnchorPointAnnotationUnits").upper() or "PIXEL", anchor,
                                    _str(t, "AnchorPointVisibility").upper() == "Y", _group(t)))
        graphics = []
        for g in _items(item, "GraphicObjectSequence"):
            points = _points(g.get("GraphicData", None))
            kind = _str(g, "GraphicType").upper()
            need = {"POINT": 1, "POLYLINE": 2, "INTERPOLATED": 2, "CIRCLE": 2, "ELLIPSE": 4}.get(kind)
            if need is None or len(points) < need:
                log.warning("graphic object %s with %d point(s) ignored", kind or "(no type)", len(points))
                continue
            graphics.append(GraphicObject(kind, points, _str(g, "GraphicAnnotationUnits").upper() or "PIXEL",
                                          _str(g, "GraphicFilled").upper() == "Y", _group(g)))
        out.append(Annotation(_str(item, "GraphicLayer"), _image_refs(item), tuple(texts), tuple(graphics)))
    return tuple(out)


def is_presentation_state(ds: Dataset) -> bool:
    return _str(ds, "SOPClassUID") == GSPS_SOP_CLASS


def read_pstate(ds: Dataset, signed_image: bool = False) -> PresentationState:
    """Read a Grayscale Softcopy Presentation State.

    Parameters
    ----------
    ds : pydicom.dataset.Dataset
        The presentation state (read with its overlay data).
    signed_image : bool
        Whether the referenced images are signed: a VOI LUT's first mapped value is then
        read as signed when there is no Modality LUT Sequence (C.11.2.1.1).

    Raises
    ------
    DecodeError
        When ``ds`` is not a GSPS or references no image.
    """
    sop_class = _str(ds, "SOPClassUID")
    if sop_class != GSPS_SOP_CLASS:
        raise DecodeError(f"not a Grayscale Softcopy Presentation State (SOP Class {sop_class or 'missing'})")
    series = tuple(SeriesRef(_str(item, "SeriesInstanceUID"), _image_refs(item))
                   for item in _items(ds, "ReferencedSeriesSequence"))
    if not any(s.images for s in series):
        raise DecodeError("the presentation state references no image (Referenced Series Sequence)")
    modality = _modality(ds)
    shape = _str(ds, "PresentationLUTShape").upper() or None
    plut = None
    plut_items = _items(ds, "PresentationLUTSequence")
    if plut_items:
        try:
            plut, shape = read_lut(plut_items[0]), None
        except DecodeError as exc:
            log.warning("Presentation LUT Sequence ignored: %s", exc)
    signed_voi = signed_image and (modality is None or modality.lut is None)
    if modality is not None and modality.lut is None and modality.intercept < 0:
        signed_voi = True
    rotation = int((_floats(ds.get("ImageRotation", None)) or [0])[0]) % 360
    if rotation % 90:
        log.warning("Image Rotation %d is not a multiple of 90: ignored", rotation)
        rotation = 0
    shutters = _shutters(ds)
    return PresentationState(
        sop_instance_uid=_str(ds, "SOPInstanceUID"), study_instance_uid=_str(ds, "StudyInstanceUID"),
        series_instance_uid=_str(ds, "SeriesInstanceUID"), label=_str(ds, "ContentLabel"),
        description=_str(ds, "ContentDescription"), creator=_str(ds, "ContentCreatorName"),
        created=(_str(ds, "PresentationCreationDate") + _str(ds, "PresentationCreationTime").split(".")[0]
                 .ljust(6, "0")),
        series=series, modality_lut=modality, voi=_voi(ds, signed_voi), plut_shape=shape, plut=plut,
        areas=_areas(ds), rotation=rotation, flip=_str(ds, "ImageHorizontalFlip").upper() == "Y",
        shutters=shutters, overlays=_overlays(ds, shutters.bitmap_group), layers=_layers(ds),
        annotations=_annotations(ds), groups=_groups(ds))
