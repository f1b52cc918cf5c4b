"""Write a Grayscale Softcopy Presentation State (PS3.3 A.33.1) from plain values.

What a user did to images (window, inversion, rotation and flip, the shown part, the
measurements and text notes) becomes: a Softcopy VOI LUT item (C.11.8), the Presentation LUT
Shape (C.11.6), the Spatial Transformation (C.10.6), one Displayed Area Selection item per
image (C.10.4) and Graphic Annotation items (C.10.5) on two graphic layers (C.10.7). Each
measurement is a graphic object plus its label as a text object, both carrying the same
Graphic Group ID (C.10.5.1.3) whose Graphic Group Label says what kind of measurement it
was, so that this viewer can read it back as the measurement it was.

No Qt, no session types: ``viewer.tasks.pstate`` turns a view into these values.
"""

from __future__ import annotations

import datetime as _dt
import math
from collections.abc import Sequence
from dataclasses import dataclass, field

from pydicom.dataset import Dataset
from pydicom.sequence import Sequence as DicomSequence
from pydicom.uid import UID, generate_uid

from viewer.dicom.file_meta import explicit_le_meta
from viewer.dicom.pstate import GSPS_SOP_CLASS

Point = tuple[float, float]

#: layer names (CS, at most 16 characters) and their recommended colours
MEASUREMENT_LAYER = "MEASUREMENTS"
NOTE_LAYER = "NOTES"
#: DICOM CIELab of sRGB (255, 220, 0) and (0, 255, 255) (yellow, cyan); grayscale white
LAYER_COLOURS = {MEASUREMENT_LAYER: (58860, 30875, 51640), NOTE_LAYER: (59113, 12320, 27400)}


@dataclass(frozen=True)
class Mark:
    """One measurement or note on an image, in PIXEL units (column, row; (0, 0) is the top
    left corner of the top left pixel).

    ``kind``: ``distance`` (2 points), ``angle`` (3), ``rect`` (2 corners), ``ellipse``
    (2 corners of its box), ``polyline``, ``point``, ``arrow`` (2 points: tail, tip) or
    ``text`` (1 point: the anchor).
    """

    kind: str
    points: tuple[Point, ...]
    text: str = ""


@dataclass(frozen=True)
class ImageMarks:
    """An image the presentation state applies to, with its marks."""

    sop_class_uid: str
    sop_instance_uid: str
    series_instance_uid: str
    rows: int
    columns: int
    frame: int = 0  # 1-based frame of a multi-frame image; 0 for a single-frame image
    marks: tuple[Mark, ...] = ()
    pixel_spacing: tuple[float, float] | None = None  # (row, column) mm
    #: displayed area: (TLHC, BRHC) as 1-based (column, row) pixels, None for the whole image
    area: tuple[tuple[int, int], tuple[int, int]] | None = None


@dataclass(frozen=True)
class PresentationContent:
    """What the presentation state says, for every image it references."""

    images: tuple[ImageMarks, ...]
    window: tuple[float, float] | None = None  # (center, width) in modality units
    window_explanation: str = ""
    invert: bool = False
    rotation: int = 0  # clockwise, applied before the flip (C.10.6)
    flip: bool = False
    magnification: float | None = None  # screen pixels per image pixel (MAGNIFY); None: SCALE TO FIT
    rescale: tuple[float, float, str] | None = None  # (slope, intercept, type) of the images
    label: str = "VIEWER"
    description: str = ""
    creator: str = ""
    created: _dt.datetime | None = None
    extra_header: dict[str, object] = field(default_factory=dict)


_PATIENT_STUDY = ("PatientName", "PatientID", "PatientBirthDate", "PatientSex", "IssuerOfPatientID",
                  "StudyInstanceUID", "StudyDate", "StudyTime", "ReferringPhysicianName", "StudyID",
                  "AccessionNumber", "StudyDescription")


def content_label(text: str) -> str:
    """Content Label (CS, PS3.3 C.10.9): upper case letters, digits, space and '_', 16 at most."""
    cleaned = "".join(c if c.isascii() and (c.isalnum() or c in " _") else "_" for c in text.upper())
    return cleaned.strip()[:16] or "UNNAMED"


def _ref_item(img: ImageMarks) -> Dataset:
    item = Dataset()
    item.ReferencedSOPClassUID = img.sop_class_uid
    item.ReferencedSOPInstanceUID = img.sop_instance_uid
    if img.frame:
        item.ReferencedFrameNumber = img.frame
    return item


def _graphic(kind: str, points: Sequence[Point], group: int, filled: bool = False) -> Dataset:
    g = Dataset()
    g.GraphicAnnotationUnits = "PIXEL"
    g.GraphicDimensions = 2
    g.NumberOfGraphicPoints = len(points)
    g.GraphicData = [float(v) for p in points for v in p]
    g.GraphicType = kind
    g.GraphicFilled = "Y" if filled else "N"
    g.GraphicGroupID = group
    return g


def _text(text: str, anchor: Point, group: int) -> Dataset:
    t = Dataset()
    t.AnchorPointAnnotationUnits = "PIXEL"
    t.UnformattedTextValue = text
    t.AnchorPoint = [float(anchor[0]), float(anchor[1])]
    t.AnchorPointVisibility = "N"
    t.GraphicGroupID = group
    return t


def arrow_head(tail: Point, tip: Point) -> tuple[Point, Point]:
    """The two barb ends of an arrow's head at ``tip``: 30° either side of the shaft, a
    quarter of its length long (at most 12 pixels)."""
    dx, dy = tail[0] - tip[0], tail[1] - tip[1]
    length = math.hypot(dx, dy)
    if length == 0:
        return tip, tip
    size = min(12.0, length / 4.0)
    ux, uy = dx / length * size, dy / length * size
    c, s = math.cos(math.radians(30)), math.sin(math.radians(30))
    return ((tip[0] + ux * c - uy * s, tip[1] + ux * s + uy * c),
            (tip[0] + ux * c + uy * s, tip[1] - ux * s + uy * c))


def _shape(mark: Mark) -> tuple[str, list[Point]] | None:
    """The graphic object of a mark: (Graphic Type, points)."""
    pts = list(mark.points)
    if mark.kind in ("distance", "angle", "polyline") and len(pts) >= 2:
        return "POLYLINE", pts
    if mark.kind == "arrow" and len(pts) == 2:
        # GSPS has no arrow type (C.10.5): the shaft, then each barb from the tip, as one
        # polyline, so that any viewer draws the arrow; its first two points are tail and tip.
        tail, tip = pts
        barb1, barb2 = arrow_head(tail, tip)
        return "POLYLINE", [tail, tip, barb1, tip, barb2]
    if mark.kind == "rect" and len(pts) == 2:
        (x0, y0), (x1, y1) = pts
        return "POLYLINE", [(x0, y0), (x1, y0), (x1, y1), (x0, y1), (x0, y0)]
    if mark.kind == "ellipse" and len(pts) == 2:
        (x0, y0), (x1, y1) = pts
        cx, cy, rx, ry = (x0 + x1) / 2, (y0 + y1) / 2, abs(x1 - x0) / 2, abs(y1 - y0) / 2
        # axis end points in the order of the corners given, so that they can be read back
        horizontal = [(x0, cy), (x1, cy)]
        vertical = [(cx, y0), (cx, y1)]
        return "ELLIPSE", horizontal + vertical if rx >= ry else vertical + horizontal
    if mark.kind == "point" and pts:
        return "POINT", pts[:1]
    return None


def _annotation(img: ImageMarks, group_ids: list[tuple[int, str]]) -> list[Dataset]:
    """Graphic Annotation Sequence items of one image (one per layer used)."""
    measures, notes = Dataset(), Dataset()
    measures.GraphicLayer, notes.GraphicLayer = MEASUREMENT_LAYER, NOTE_LAYER
    m_graphics: list[Dataset] = []
    m_texts: list[Dataset] = []
    n_texts: list[Dataset] = []
    for mark in img.marks:
        group = len(group_ids) + 1
        group_ids.append((group, mark.kind))
        if mark.kind == "text":
            if mark.points and mark.text:
                n_texts.append(_text(mark.text, mark.points[0], group))
            continue
        shape = _shape(mark)
        if shape is None:
            group_ids.pop()
            continue
        m_graphics.append(_graphic(shape[0], shape[1], group))
        if mark.text:
            m_texts.append(_text(mark.text, mark.points[-1], group))
    out = []
    for item, graphics, texts in ((measures, m_graphics, m_texts), (notes, [], n_texts)):
        if not graphics and not texts:
            continue
        item.ReferencedImageSequence = DicomSequence([_ref_item(img)])
        if graphics:
            item.GraphicObjectSequence = DicomSequence(graphics)
        if texts:
            item.TextObjectSequence = DicomSequence(texts)
        out.append(item)
    return out


def _area_item(img: ImageMarks, content: PresentationContent) -> Dataset:
    item = Dataset()
    item.ReferencedImageSequence = DicomSequence([_ref_item(img)])
    tlhc, brhc = img.area or _whole(img, content.rotation, content.flip)
    item.DisplayedAreaTopLeftHandCorner = list(tlhc)
    item.DisplayedAreaBottomRightHandCorner = list(brhc)
    if content.magnification is not None:
        item.PresentationSizeMode = "MAGNIFY"
        item.PresentationPixelMagnificationRatio = float(f"{content.magnification:.10g}")
    else:
        item.PresentationSizeMode = "SCALE TO FIT"
    if img.pixel_spacing is not None:
        item.PresentationPixelSpacing = [float(v) for v in img.pixel_spacing]
    else:
        item.PresentationPixelAspectRatio = [1, 1]
    return item


def _whole(img: ImageMarks, rotation: int, flip: bool) -> tuple[tuple[int, int], tuple[int, int]]:
    """The whole image: its corner pixels, TLHC being the one shown top left (C.10.4)."""
    # the image corner that ends up top left after rotating, then flipping
    c, r = img.columns, img.rows
    top_left = {0: (1, 1), 90: (1, r), 180: (c, r), 270: (c, 1)}[rotation % 360]
    top_right = {0: (c, 1), 90: (1, 1), 180: (1, r), 270: (c, r)}[rotation % 360]
    first = top_right if flip else top_left
    return first, (c + 1 - first[0], r + 1 - first[1])


def build_pstate(content: PresentationContent, header: Dataset, *, series_instance_uid: str | None = None,
                 sop_instance_uid: str | None = None, series_number: int = 9000,
                 instance_number: int = 1) -> Dataset:
    """The GSPS data set (with File Meta Information) for ``content``.

    Parameters
    ----------
    content : PresentationContent
    header : pydicom.dataset.Dataset
        One referenced image: its Patient and General Study attributes are copied.
    series_instance_uid, sop_instance_uid : str, optional
        New UIDs when not given.
    """
    if not content.images:
        raise ValueError("a presentation state must reference at least one image")
    now = content.created or _dt.datetime.now()
    ds = Dataset()
    texts = [m.text for img in content.images for m in img.marks] + [content.description, content.creator]
    if any(not t.isascii() for t in texts):
        ds.SpecificCharacterSet = "ISO_IR 192"
    ds.SOPClassUID = UID(GSPS_SOP_CLASS)
    ds.SOPInstanceUID = UID(sop_instance_uid or generate_uid())
    ds.InstanceCreationDate, ds.InstanceCreationTime = now.strftime("%Y%m%d"), now.strftime("%H%M%S")
    for kw in _PATIENT_STUDY:
        value = header.get(kw, None)
        setattr(ds, kw, value if value is not None else "")
    ds.Modality = "PR"
    ds.SeriesInstanceUID = UID(series_instance_uid or generate_uid())
    ds.SeriesNumber = series_number
    ds.Manufacturer = "dicom-viewer"
    # Presentation State Identification (C.11.10)
    ds.InstanceNumber = instance_number
    ds.ContentLabel = content_label(content.label)
    ds.ContentDescription = content.description[:64]
    ds.PresentationCreationDate, ds.PresentationCreationTime = ds.InstanceCreationDate, ds.InstanceCreationTime
    ds.ContentCreatorName = content.creator
    # Presentation State Relationship (C.11.11)
    series: dict[str, list[ImageMarks]] = {}
    for img in content.images:
        series.setdefault(img.series_instance_uid, []).append(img)
    items = []
    for uid, imgs in series.items():
        item = Dataset()
        item.SeriesInstanceUID = uid
        item.ReferencedImageSequence = DicomSequence([_ref_item(i) for i in imgs])
        items.append(item)
    ds.ReferencedSeriesSequence = DicomSequence(items)
    # Displayed Area (C.10.4) and Spatial Transformation (C.10.6)
    ds.DisplayedAreaSelectionSequence = DicomSequence([_area_item(i, content) for i in content.images])
    ds.ImageRotation = content.rotation % 360
    ds.ImageHorizontalFlip = "Y" if content.flip else "N"
    # Graphic Annotation (C.10.5), Graphic Group (C.10.5.1.3) and Graphic Layer (C.10.7)
    groups: list[tuple[int, str]] = []
    annotations = [a for img in content.images for a in _annotation(img, groups)]
    if annotations:
        ds.GraphicAnnotationSequence = DicomSequence(annotations)
        used = sorted({str(a.GraphicLayer) for a in annotations}, key=[MEASUREMENT_LAYER, NOTE_LAYER].index)
        layers = []
        for order, name in enumerate(used, start=1):
            layer = Dataset()
            layer.GraphicLayer, layer.GraphicLayerOrder = name, order
            layer.GraphicLayerRecommendedDisplayGrayscaleValue = 65535
            layer.GraphicLayerRecommendedDisplayCIELabValue = list(LAYER_COLOURS[name])
            layer.GraphicLayerDescription = "measurements" if name == MEASUREMENT_LAYER else "text notes"
            layers.append(layer)
        ds.GraphicLayerSequence = DicomSequence(layers)
        group_items = []
        for gid, kind in groups:
            g = Dataset()
            g.GraphicGroupID, g.GraphicGroupLabel = gid, kind
            group_items.append(g)
        ds.GraphicGroupSequence = DicomSequence(group_items)
    # Modality LUT (C.11.1): required when the images have a rescale
    if content.rescale is not None:
        slope, intercept, rtype = content.rescale
        ds.RescaleIntercept, ds.RescaleSlope = f"{intercept:.10g}", f"{slope:.10g}"
        ds.RescaleType = rtype or "US"
    # Softcopy VOI LUT (C.11.8): one window for every referenced image
    if content.window is not None:
        voi = Dataset()
        voi.WindowCenter, voi.WindowWidth = f"{content.window[0]:.10g}"[:16], f"{content.window[1]:.10g}"[:16]
        if content.window_explanation:
            voi.WindowCenterWidthExplanation = content.window_explanation[:64]
        ds.SoftcopyVOILUTSequence = DicomSequence([voi])
    # Softcopy Presentation LUT (C.11.6)
    ds.PresentationLUTShape = "INVERSE" if content.invert else "IDENTITY"
    for kw, value in content.extra_header.items():
        setattr(ds, kw, value)
    ds.file_meta = explicit_le_meta(ds)
    return ds
