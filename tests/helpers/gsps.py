"""An image and a Grayscale Softcopy Presentation State on it, built with pydicom (PS3.3 A.33.1).

The image is an asymmetric ramp (value = 20 * column + 7 * row, rescale -1024), so every
turn and flip of it differs. The presentation state carries a window, a spatial
transformation, optionally a shutter and a displayed area, and graphic annotations of
every simple type (C.10.5.1.2: POLYLINE, CIRCLE, ELLIPSE, INTERPOLATED, POINT) in PIXEL
units, a POLYLINE in DISPLAY units, a text object at a visible anchor point (PIXEL) and one
in a DISPLAY bounding box, on two layers: ``LINES`` (Recommended Display Grayscale Value
white) and ``TEXT`` (CIELab green only).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.sequence import Sequence
from pydicom.uid import ExplicitVRLittleEndian, generate_uid

from tests.helpers.ct import ct_dataset
from viewer.dicom.pstate import GSPS_SOP_CLASS

ROWS, COLS = 48, 64
#: the window of the presentation state: the ramp stays below white everywhere
WINDOW = (300.0, 2000.0)
GREEN_LAB = (57_000, 10_000, 50_000)  # a green (L* 87), given only as CIELab

#: PIXEL graphics, (column, row), as written
POLYLINE = [(6.0, 6.0), (40.0, 10.0), (30.0, 36.0)]
CIRCLE = [(46.0, 30.0), (54.0, 30.0)]
ELLIPSE = [(8.0, 40.0), (24.0, 40.0), (16.0, 37.0), (16.0, 43.0)]
INTERPOLATED = [(50.0, 4.0), (58.0, 10.0), (54.0, 18.0)]
POINT = (20.0, 22.0)
#: DISPLAY graphic, fractions of the displayed area
DISPLAY_LINE = [(0.1, 0.9), (0.5, 0.9)]
ANCHOR = (12.0, 28.0)
TEXT_BOX = ((0.6, 0.05), (0.95, 0.2))


def image(folder: Path, name: str = "ct.dcm") -> tuple[Path, Dataset]:
    """The ramp image written into ``folder``."""
    study, series = generate_uid(), generate_uid()
    yy, xx = np.mgrid[0:ROWS, 0:COLS]
    ds = ct_dataset(generate_uid(), study, series, pixels=20 * xx + 7 * yy)
    ds.Rows, ds.Columns = ROWS, COLS
    ds.PixelData = (20 * xx + 7 * yy).astype("<u2").tobytes()
    ds.RescaleIntercept, ds.RescaleSlope, ds.RescaleType = -1024, 1, "HU"
    ds.WindowCenter, ds.WindowWidth = 40, 400
    ds.PatientName, ds.StudyDate, ds.SeriesNumber, ds.InstanceNumber = "Gsps^Print", "20260101", 1, 1
    ds.ImagePositionPatient, ds.ImageOrientationPatient = [0, 0, 0], [1, 0, 0, 0, 1, 0]
    ds.PixelSpacing = [0.5, 0.5]
    path = folder / name
    ds.save_as(path, enforce_file_format=True)
    return path, ds


def _graphic(kind: str, points: list[tuple[float, float]], units: str = "PIXEL") -> Dataset:
    g = Dataset()
    g.GraphicAnnotationUnits, g.GraphicDimensions, g.NumberOfGraphicPoints = units, 2, len(points)
    g.GraphicData = [float(v) for p in points for v in p]
    g.GraphicType, g.GraphicFilled = kind, "N"
    return g


def gsps_header(img: Dataset, label: str, description: str) -> tuple[Dataset, Dataset]:
    """The start of a GSPS on the CT image ``img`` (PS3.3 A.33.1): file meta, patient, study,
    its own series, Presentation State Identification (``label``, ``description``), the
    Presentation State Relationship to ``img`` and the Modality LUT of the image (rescale
    -1024, HU). Returns the presentation state and its Referenced Image item for ``img``."""
    ref = Dataset()
    ref.ReferencedSOPClassUID, ref.ReferencedSOPInstanceUID = img.SOPClassUID, img.SOPInstanceUID
    ps = Dataset()
    ps.file_meta = FileMetaDataset()
    ps.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ps.file_meta.MediaStorageSOPClassUID = GSPS_SOP_CLASS
    ps.SOPClassUID, ps.SOPInstanceUID = GSPS_SOP_CLASS, generate_uid()
    ps.file_meta.MediaStorageSOPInstanceUID = ps.SOPInstanceUID
    ps.StudyInstanceUID, ps.SeriesInstanceUID = img.StudyInstanceUID, generate_uid()
    ps.PatientName, ps.PatientID = img.PatientName, img.PatientID
    ps.Modality, ps.SeriesNumber, ps.InstanceNumber = "PR", 99, 1
    ps.ContentLabel, ps.ContentDescription = label, description
    ps.PresentationCreationDate, ps.PresentationCreationTime = "20260103", "120000"
    series = Dataset()
    series.SeriesInstanceUID = img.SeriesInstanceUID
    series.ReferencedImageSequence = Sequence([ref])
    ps.ReferencedSeriesSequence = Sequence([series])
    ps.RescaleSlope, ps.RescaleIntercept, ps.RescaleType = 1, -1024, "HU"
    return ps, ref


def gsps(img: Dataset, path: Path, *, rotation: int = 0, flip: bool = False, annotations: bool = True,
         texts: bool = True, shutter: bool = False, area: tuple[tuple[int, int], tuple[int, int]] | None = None,
         graphic_groups: bool = False, voi_lut: bool = False, inverse: bool = False) -> Dataset:
    """A GSPS on ``img`` written to ``path`` (see the module notes); returns it."""
    ps, ref = gsps_header(img, "FILM", "annotated for the film")
    voi = Dataset()
    if voi_lut:  # PS3.3 C.11.2.1.1: a curve over HU -1024..1023, 12 bits out
        lut = Dataset()
        lut.LUTDescriptor = [2048, -1024 & 0xFFFF, 12]
        lut.LUTData = (np.sqrt(np.arange(2048) / 2047.0) * 4095).astype("<u2").tobytes()
        lut["LUTData"].VR = "OW"
        voi.VOILUTSequence = Sequence([lut])
    else:
        voi.WindowCenter, voi.WindowWidth = WINDOW
    ps.SoftcopyVOILUTSequence = Sequence([voi])
    ps.PresentationLUTShape = "INVERSE" if inverse else "IDENTITY"
    ps.ImageRotation, ps.ImageHorizontalFlip = rotation, "Y" if flip else "N"
    if shutter:
        ps.ShutterShape = "RECTANGULAR"
        ps.ShutterLeftVerticalEdge, ps.ShutterRightVerticalEdge = 3, 60
        ps.ShutterUpperHorizontalEdge, ps.ShutterLowerHorizontalEdge = 2, 45
        ps.ShutterPresentationValue = 0xFFFF
    lines_layer, text_layer = Dataset(), Dataset()
    lines_layer.GraphicLayer, lines_layer.GraphicLayerOrder = "LINES", 1
    lines_layer.GraphicLayerRecommendedDisplayGrayscaleValue = 0xFFFF
    text_layer.GraphicLayer, text_layer.GraphicLayerOrder = "TEXT", 2
    text_layer.GraphicLayerRecommendedDisplayCIELabValue = list(GREEN_LAB)
    ps.GraphicLayerSequence = Sequence([lines_layer, text_layer])
    items = []
    if annotations:
        lines = Dataset()
        lines.GraphicLayer = "LINES"
        lines.ReferencedImageSequence = Sequence([ref])
        objects = [_graphic("POLYLINE", POLYLINE), _graphic("CIRCLE", CIRCLE), _graphic("ELLIPSE", ELLIPSE),
                   _graphic("INTERPOLATED", INTERPOLATED), _graphic("POINT", [POINT]),
                   _graphic("POLYLINE", DISPLAY_LINE, "DISPLAY")]
        lines.GraphicObjectSequence = Sequence(objects)
        items.append(lines)
        if graphic_groups:
            # PS3.3 C.10.11: a flat list of groups; C.10.5.1.3.1: a compound graphic comes with its
            # simple rendering, linked by the Compound Graphic Instance ID.
            group = Dataset()
            group.GraphicGroupID, group.GraphicGroupLabel = 7, "OUTLINE"
            group.GraphicGroupDescription = "the polyline and the circle"
            ps.GraphicGroupSequence = Sequence([group])
            for g in objects[:2]:
                g.GraphicGroupID = 7
            compound = Dataset()
            compound.CompoundGraphicInstanceID, compound.CompoundGraphicUnits = 1, "PIXEL"
            compound.GraphicDimensions, compound.NumberOfGraphicPoints = 2, 2
            compound.GraphicData = [6.0, 6.0, 40.0, 10.0]
            compound.CompoundGraphicType, compound.GraphicGroupID = "ARROW", 7
            lines.CompoundGraphicSequence = Sequence([compound])
            objects[0].CompoundGraphicInstanceID = 1
    if annotations and texts:
        anchor = Dataset()
        anchor.UnformattedTextValue = "ANCHOR"
        anchor.AnchorPointAnnotationUnits, anchor.AnchorPoint, anchor.AnchorPointVisibility = "PIXEL", list(ANCHOR), "Y"
        box = Dataset()
        box.UnformattedTextValue = "BOX"
        box.BoundingBoxAnnotationUnits = "DISPLAY"
        box.BoundingBoxTopLeftHandCorner, box.BoundingBoxBottomRightHandCorner = list(TEXT_BOX[0]), list(TEXT_BOX[1])
        box.BoundingBoxTextHorizontalJustification = "LEFT"
        notes = Dataset()
        notes.GraphicLayer = "TEXT"
        notes.ReferencedImageSequence = Sequence([ref])
        notes.TextObjectSequence = Sequence([anchor, box])
        items.append(notes)
    if items:
        ps.GraphicAnnotationSequence = Sequence(items)
    if area is None:  # the Displayed Area module is mandatory (PS3.3 A.33.1-1): the whole image
        area = ((1, 1), (int(img.Columns), int(img.Rows)))
    if area:
        item = Dataset()
        item.ReferencedImageSequence = Sequence([ref])
        item.DisplayedAreaTopLeftHandCorner, item.DisplayedAreaBottomRightHandCorner = list(area[0]), list(area[1])
        item.PresentationSizeMode, item.PresentationPixelAspectRatio = "SCALE TO FIT", [1, 1]
        ps.DisplayedAreaSelectionSequence = Sequence([item])
    ps.save_as(path, enforce_file_format=True)
    return ps


def screen_view(image_path: Path, img: Dataset, gsps_path: Path, viewport: tuple[float, float] = (640.0, 480.0)):
    """The view state of a viewport showing ``image_path`` with the GSPS applied, as
    ``viewer.ui.pstate_ui`` leaves it: the view fields set from the GSPS and the GSPS itself
    in ``presentation`` (read from its file, as the GUI reads it)."""
    from viewer.session import FrameRef, ViewState
    from viewer.tasks.pstate import apply_to_view, load_pstate

    state = ViewState()
    state.set_frames([FrameRef(str(image_path), 0, sop_instance_uid=str(img.SOPInstanceUID))], 0)
    ps = load_pstate(gsps_path)
    apply_to_view(state, ps, viewport, img)
    state.presentation = ps
    return state


def screen_render(image_path: Path, gsps_path: Path, annotations: bool = True):
    """The image as ``viewer.render.pstate.present`` shows it through the GSPS (the headless
    rendering the viewport's pipeline and graphics are tested against)."""
    from viewer.dicom.frames import open_frames
    from viewer.render import params_from_dataset
    from viewer.render.pstate import present
    from viewer.tasks.pstate import load_pstate

    src = open_frames(str(image_path))
    ds = src.dataset
    return present(src.frame(0), params_from_dataset(ds), load_pstate(gsps_path), str(ds.SOPInstanceUID), 1,
                   annotations=annotations)
