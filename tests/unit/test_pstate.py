"""Presentation states: what ``dcmp2pgm`` does not render, against hand-computed pixels.

Displayed area (C.10.4), geometric shutters (C.7.6.11), graphic annotations (C.10.5) with
layer colours (C.10.7), overlay activation (C.11.7), and the reader's handling of
references and damaged items. The images are small ramps whose every level is known.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence
from pydicom.uid import ExplicitVRLittleEndian, generate_uid

from tests.helpers.ct import ct_dataset
from tests.helpers.overlays import add_overlay
from viewer.cli import main
from viewer.dicom.pstate import GSPS_SOP_CLASS, read_pstate
from viewer.errors import DecodeError
from viewer.render import params_from_dataset
from viewer.render.pstate import Geometry, cielab_to_rgb, geometry, present, rgb_to_cielab

ROWS, COLS = 20, 30


def _image() -> Dataset:
    ds = ct_dataset(generate_uid(), generate_uid(), generate_uid(), size=8)
    ds.Rows, ds.Columns = ROWS, COLS
    # value = 10 * column + 300 * row: window 0..8999 identity-like below
    yy, xx = np.mgrid[0:ROWS, 0:COLS]
    ds.PixelData = (10 * xx + 300 * yy).astype("<u2").tobytes()
    return ds


def _ref(image: Dataset) -> Sequence:
    item = Dataset()
    item.ReferencedSOPClassUID = image.SOPClassUID
    item.ReferencedSOPInstanceUID = image.SOPInstanceUID
    return Sequence([item])


def _gsps(image: Dataset, **attrs: object) -> Dataset:
    """A minimal GSPS on ``image`` with window (4500, 9000), LINEAR_EXACT: level = value * 255 / 9000."""
    ps = Dataset()
    ps.file_meta = Dataset()
    ps.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ps.SOPClassUID, ps.SOPInstanceUID = GSPS_SOP_CLASS, generate_uid()
    ps.StudyInstanceUID, ps.SeriesInstanceUID = image.StudyInstanceUID, generate_uid()
    ps.Modality, ps.ContentLabel = "PR", "TEST"
    ps.PresentationCreationDate, ps.PresentationCreationTime = "20260102", "101500"
    series = Dataset()
    series.SeriesInstanceUID = image.SeriesInstanceUID
    series.ReferencedImageSequence = _ref(image)
    ps.ReferencedSeriesSequence = Sequence([series])
    ps.RescaleSlope, ps.RescaleIntercept, ps.RescaleType = 1, 0, "US"
    voi = Dataset()
    voi.WindowCenter, voi.WindowWidth, voi.VOILUTFunction = 4500, 9000, "LINEAR_EXACT"
    ps.SoftcopyVOILUTSequence = Sequence([voi])
    ps.PresentationLUTShape = "IDENTITY"
    for k, v in attrs.items():
        setattr(ps, k, v)
    return ps


def _present(image: Dataset, ps: Dataset, **kw: object) -> np.ndarray:
    from viewer.dicom.frames import open_frames

    src = open_frames(image)
    return present(src.frame(0), params_from_dataset(image), read_pstate(ps), image.SOPInstanceUID, 1,
                   **kw)  # type: ignore[arg-type]


def _area(image: Dataset, tlhc: tuple[int, int], brhc: tuple[int, int], **attrs: object) -> Sequence:
    item = Dataset()
    item.ReferencedImageSequence = _ref(image)
    item.DisplayedAreaTopLeftHandCorner = list(tlhc)
    item.DisplayedAreaBottomRightHandCorner = list(brhc)
    item.PresentationSizeMode = "SCALE TO FIT"
    item.PresentationPixelAspectRatio = [1, 1]
    for k, v in attrs.items():
        setattr(item, k, v)
    return Sequence([item])


def test_window_levels_by_hand() -> None:
    image = _image()
    got = _present(image, _gsps(image))
    # LINEAR_EXACT (C.11.2.1.3.2): y = (x - c) / w + 0.5, levels floor(255 y + 0.5)
    yy, xx = np.mgrid[0:ROWS, 0:COLS]
    want = np.floor(np.clip(((10 * xx + 300 * yy) - 4500) / 9000 + 0.5, 0, 1) * 255 + 0.5)
    assert np.array_equal(got, want.astype(np.uint8))


def test_displayed_area_crops_inclusive_corners() -> None:
    image = _image()
    ps = _gsps(image, DisplayedAreaSelectionSequence=_area(image, (5, 3), (14, 10)))
    got = _present(image, ps)
    full = _present(image, _gsps(image))
    # columns 5..14 and rows 3..10, 1-based inclusive
    assert got.shape == (8, 10)
    assert np.array_equal(got, full[2:10, 4:14])


def test_displayed_area_beyond_the_image_is_black() -> None:
    image = _image()
    ps = _gsps(image, DisplayedAreaSelectionSequence=_area(image, (-1, -1), (COLS, ROWS)))
    got = _present(image, ps)
    full = _present(image, _gsps(image))
    assert got.shape == (ROWS + 2, COLS + 2)
    assert (got[:2, :] == 0).all() and (got[:, :2] == 0).all()
    assert np.array_equal(got[2:, 2:], full)


def test_displayed_area_corner_after_rotation() -> None:
    """TLHC names the pixel shown top left after the transform (C.10.4): with 180 degrees it
    is the bottom right pixel of the image."""
    image = _image()
    ps = _gsps(image, ImageRotation=180, ImageHorizontalFlip="N",
               DisplayedAreaSelectionSequence=_area(image, (14, 10), (5, 3)))
    got = _present(image, ps)
    full = _present(image, _gsps(image))
    assert got.shape == (8, 10)
    assert got[0, 0] == full[9, 13]  # column 14, row 10
    assert np.array_equal(got, full[2:10, 4:14][::-1, ::-1])


def test_magnify_and_aspect() -> None:
    image = _image()
    area = _area(image, (1, 1), (COLS, ROWS), PresentationSizeMode="MAGNIFY",
                 PresentationPixelMagnificationRatio=2.0)
    got = _present(image, _gsps(image, DisplayedAreaSelectionSequence=area))
    full = _present(image, _gsps(image))
    assert got.shape == (2 * ROWS, 2 * COLS)
    assert np.array_equal(got[::2, ::2], full) and np.array_equal(got[1::2, 1::2], full)
    area = _area(image, (1, 1), (COLS, ROWS))
    del area[0].PresentationPixelAspectRatio
    area[0].PresentationPixelSpacing = [1.0, 0.5]  # rows twice as tall as columns are wide
    got = _present(image, _gsps(image, DisplayedAreaSelectionSequence=area))
    assert got.shape == (2 * ROWS, COLS)
    assert np.array_equal(got[::2], full)


def test_rectangular_circular_polygonal_shutters() -> None:
    image = _image()
    full = _present(image, _gsps(image))
    ps = _gsps(image, ShutterShape="RECTANGULAR", ShutterLeftVerticalEdge=4, ShutterRightVerticalEdge=10,
               ShutterUpperHorizontalEdge=2, ShutterLowerHorizontalEdge=5, ShutterPresentationValue=65535)
    got = _present(image, ps)
    inside = np.zeros((ROWS, COLS), bool)
    inside[1:5, 3:10] = True  # rows 2..5, columns 4..10, 1-based inclusive
    assert np.array_equal(got[inside], full[inside]) and (got[~inside] == 255).all()

    ps = _gsps(image, ShutterShape="CIRCULAR", CenterOfCircularShutter=[10, 15], RadiusOfCircularShutter=5)
    got = _present(image, ps)
    r, c = np.mgrid[1:ROWS + 1, 1:COLS + 1]
    inside = (r - 10) ** 2 + (c - 15) ** 2 <= 25
    assert np.array_equal(got[inside], full[inside]) and (got[~inside] == 0).all()

    # a triangle (row, column): (2, 2), (2, 20), (12, 2); pixel centres inside by hand
    ps = _gsps(image, ShutterShape="POLYGONAL", VerticesOfThePolygonalShutter=[2, 2, 2, 20, 12, 2])
    got = _present(image, ps)
    assert got[2, 2] == full[2, 2]  # row 3, column 3
    assert got[0, 0] == 0 and got[15, 25] == 0  # row 1 (above), far corner
    # row 5: the edge is at column 20 - 18 * 3/10 = 14.6 (1-based): column 14 in, 15 out
    assert got[4, 13] == full[4, 13] and got[4, 14] == 0


def test_shutter_cielab_colour() -> None:
    image = _image()
    lab = rgb_to_cielab((255, 0, 0))
    ps = _gsps(image, ShutterShape="RECTANGULAR", ShutterLeftVerticalEdge=1, ShutterRightVerticalEdge=15,
               ShutterUpperHorizontalEdge=1, ShutterLowerHorizontalEdge=ROWS,
               ShutterPresentationColorCIELabValue=list(lab))
    got = _present(image, ps)
    assert got.shape == (ROWS, COLS, 3)
    assert tuple(got[0, 20]) == cielab_to_rgb(lab)
    assert abs(int(got[0, 20][0]) - 255) <= 1 and got[0, 20][1] <= 1


def _annotation(image: Dataset, layer: str, graphics: list[Dataset] = (), texts: list[Dataset] = ()) -> Dataset:
    item = Dataset()
    item.GraphicLayer = layer
    item.ReferencedImageSequence = _ref(image)
    if graphics:
        item.GraphicObjectSequence = Sequence(list(graphics))
    if texts:
        item.TextObjectSequence = Sequence(list(texts))
    return item


def _graphic(kind: str, points: list[float], units: str = "PIXEL", filled: bool = False) -> Dataset:
    g = Dataset()
    g.GraphicAnnotationUnits, g.GraphicDimensions, g.NumberOfGraphicPoints = units, 2, len(points) // 2
    g.GraphicData, g.GraphicType, g.GraphicFilled = points, kind, "Y" if filled else "N"
    return g


def _layer(name: str, order: int, gray: int | None = None, lab: tuple[int, int, int] | None = None) -> Dataset:
    item = Dataset()
    item.GraphicLayer, item.GraphicLayerOrder = name, order
    if gray is not None:
        item.GraphicLayerRecommendedDisplayGrayscaleValue = gray
    if lab is not None:
        item.GraphicLayerRecommendedDisplayCIELabValue = list(lab)
    return item


def test_polyline_in_pixel_units_lands_on_pixel_centres() -> None:
    """A horizontal line through row 5's pixel centres (y = 5.5) from column 3 to 12 (x = 3.5 .. 12.5)."""
    image = _image()
    red = rgb_to_cielab((255, 0, 0))
    ps = _gsps(image, GraphicLayerSequence=Sequence([_layer("L1", 1, lab=red)]),
               GraphicAnnotationSequence=Sequence([_annotation(image, "L1", [
                   _graphic("POLYLINE", [3.5, 5.5, 12.5, 5.5])])]))
    got = _present(image, ps)
    color = np.array(cielab_to_rgb(red))
    hit = np.all(got == color, axis=2)
    assert hit[5, 3:13].all()  # 0-based row 5, columns 3..12
    assert hit.sum() == 10


def test_polyline_follows_rotation_and_flip() -> None:
    image = _image()
    ann = _annotation(image, "L1", [_graphic("POLYLINE", [3.5, 5.5, 12.5, 5.5])])
    layers = Sequence([_layer("L1", 1, gray=65535)])
    base = _gsps(image, GraphicLayerSequence=layers, GraphicAnnotationSequence=Sequence([ann]))
    ps = _gsps(image, ImageRotation=90, ImageHorizontalFlip="Y", GraphicLayerSequence=layers,
               GraphicAnnotationSequence=Sequence([ann]))
    plain = _present(image, base)
    got = _present(image, ps)
    # rotate 90 clockwise, then flip horizontally: a transpose
    want = np.rot90(plain, -1)[:, ::-1]
    assert got.shape == want.shape
    assert np.array_equal(got, want)


def test_display_units_and_circle_and_point() -> None:
    image = _image()
    white = _layer("L1", 1, gray=65535)
    ann = _annotation(image, "L1", [_graphic("POLYLINE", [0.0, 0.5, 1.0, 0.5], units="DISPLAY"),
                                    _graphic("CIRCLE", [15.0, 10.0, 20.0, 10.0]),
                                    _graphic("POINT", [5.5, 15.5])])
    ps = _gsps(image, GraphicLayerSequence=Sequence([white]), GraphicAnnotationSequence=Sequence([ann]),
               WindowCenter=None)
    ps.SoftcopyVOILUTSequence[0].WindowCenter = 100000  # all black: only graphics are white
    ps.SoftcopyVOILUTSequence[0].WindowWidth = 10
    got = _present(image, ps)
    white_px = got[:, :, 0] == 255
    assert white_px[10, :].all()  # y = 0.5 of 20 rows, across the whole width
    # the circle: radius 5 around (15, 10): its leftmost and rightmost points are drawn
    assert white_px[10, 20] and white_px[5, 15] and white_px[15, 15]
    assert not white_px[7:9, 13:17].any()  # inside stays black
    assert white_px[15, 5]  # the point


def test_text_box_and_layer_order() -> None:
    image = _image()
    text = Dataset()
    text.UnformattedTextValue = "ABC"
    text.BoundingBoxAnnotationUnits = "PIXEL"
    text.BoundingBoxTopLeftHandCorner = [2.0, 2.0]
    text.BoundingBoxBottomRightHandCorner = [28.0, 12.0]
    text.BoundingBoxTextHorizontalJustification = "LEFT"
    gray = _layer("TEXT", 2, gray=65535)
    ps = _gsps(image, GraphicLayerSequence=Sequence([gray]),
               GraphicAnnotationSequence=Sequence([_annotation(image, "TEXT", texts=[text])]))
    ps.SoftcopyVOILUTSequence[0].WindowCenter = 100000
    ps.SoftcopyVOILUTSequence[0].WindowWidth = 10
    got = _present(image, ps)
    lit = np.argwhere(got[:, :, 0] > 128)
    assert len(lit) > 10
    # the text starts at the box's top left corner and stays out of the region above/left of it
    assert lit[:, 0].min() >= 2 and lit[:, 1].min() >= 2
    plain = _present(image, ps, annotations=False)
    assert (plain == 0).all()


def test_annotations_for_other_images_and_layer_order() -> None:
    image, other = _image(), _image()
    ps = _gsps(image, GraphicLayerSequence=Sequence([_layer("B", 2), _layer("A", 1)]),
               GraphicAnnotationSequence=Sequence([_annotation(image, "B", [_graphic("POINT", [1, 1])]),
                                                   _annotation(other, "A", [_graphic("POINT", [1, 1])]),
                                                   _annotation(image, "A", [_graphic("POINT", [2, 2])])]))
    state = read_pstate(ps)
    assert [a.layer for a in state.annotations_for(image.SOPInstanceUID)] == ["A", "B"]
    assert [layer.name for layer in state.layers] == ["A", "B"]
    assert state.references(image.SOPInstanceUID) and not state.references(other.SOPInstanceUID)


def test_overlay_activation_from_the_pstate() -> None:
    image = _image()
    ps = _gsps(image, GraphicLayerSequence=Sequence([_layer("OV", 1, gray=65535)]))
    bits = np.zeros((4, 4), np.uint8)
    bits[1, 2] = 1
    add_overlay(ps, bits, origin=(3, 5))
    ps.SoftcopyVOILUTSequence[0].WindowCenter = 100000
    ps.SoftcopyVOILUTSequence[0].WindowWidth = 10
    assert (_present(image, ps) == 0).all()  # not activated: not shown
    ps.add_new((0x6000, 0x1001), "CS", "OV")
    got = _present(image, ps)
    assert np.argwhere(got == 255).tolist() == [[3, 6]]  # origin row 3, col 5 (1-based) + (1, 2)


def test_geometry_point_map_agrees_with_the_image_transform() -> None:
    for rotation in (0, 90, 180, 270):
        for flip in (False, True):
            geo = Geometry((2, 1, 12, 8), rotation, flip, (2.0, 3.0))
            img = np.zeros((10, 14), np.uint8)
            img[4, 7] = 255  # pixel centre (7.5, 4.5)
            out = geo.apply(img)
            x, y = geo.map_point(7.5, 4.5)
            assert out[int(y), int(x)] == 255, (rotation, flip)
            back = geo.unmap_point(x, y)
            assert abs(back[0] - 7.5) < 1e-9 and abs(back[1] - 4.5) < 1e-9, (rotation, flip)


def test_cli_writes_displayed_area(tmp_path: Path) -> None:
    image = _image()
    image_path, ps_path, out = tmp_path / "ct.dcm", tmp_path / "ps.dcm", tmp_path / "o.png"
    image.save_as(image_path, enforce_file_format=True)
    _gsps(image, DisplayedAreaSelectionSequence=_area(image, (5, 3), (14, 10))).save_as(ps_path)
    assert main(["render", str(image_path), "--pstate", str(ps_path), "-o", str(out)]) == 0
    assert np.asarray(Image.open(out)).shape == (8, 10)


def test_reader_refuses_what_is_not_a_gsps() -> None:
    image = _image()
    with pytest.raises(DecodeError, match="not a Grayscale Softcopy"):
        read_pstate(image)
    ps = _gsps(image)
    ps.ReferencedSeriesSequence[0].ReferencedImageSequence = Sequence([])
    with pytest.raises(DecodeError, match="references no image"):
        read_pstate(ps)


def test_reader_skips_damaged_items() -> None:
    image = _image()
    bad_graphic = _graphic("CIRCLE", [1.0, 2.0])  # a circle needs two points
    bad_text = Dataset()
    bad_text.UnformattedTextValue = "no box, no anchor"
    ps = _gsps(image, GraphicAnnotationSequence=Sequence([
        _annotation(image, "L", [bad_graphic, _graphic("POINT", [1, 1])], [bad_text])]))
    ps.SoftcopyVOILUTSequence[0].WindowWidth = 0
    state = read_pstate(ps)
    assert [g.type for g in state.annotations[0].graphics] == ["POINT"]
    assert state.annotations[0].texts == () and state.voi == ()


def test_geometry_without_area_is_the_whole_image() -> None:
    image = _image()
    state = read_pstate(_gsps(image, ImageRotation=90, ImageHorizontalFlip="N"))
    geo = geometry(state, image.SOPInstanceUID, 1, (ROWS, COLS))
    assert geo.out_size == (ROWS, COLS)


def test_cli_refuses_a_file_that_is_not_a_presentation_state(tmp_path: Path, capsys) -> None:
    image = _image()
    image_path = tmp_path / "ct.dcm"
    image.save_as(image_path, enforce_file_format=True)
    assert main(["render", str(image_path), "--pstate", str(image_path), "-o", str(tmp_path / "o.png")]) == 1
    err = capsys.readouterr().err
    assert "not a Grayscale Softcopy Presentation State" in err and "Traceback" not in err
    assert not (tmp_path / "o.png").exists()
    assert main(["render", str(image_path), "--pstate", str(tmp_path / "none.dcm"), "-o",
                 str(tmp_path / "o.png")]) != 0


def _black(ps: Dataset) -> Dataset:
    """Window far above every value: the image is black, only graphics are lit."""
    ps.SoftcopyVOILUTSequence[0].WindowCenter = 100000
    ps.SoftcopyVOILUTSequence[0].WindowWidth = 10
    return ps


def _lit(image: Dataset, *graphics: Dataset, texts: list[Dataset] = ()) -> np.ndarray:
    ps = _black(_gsps(image, GraphicLayerSequence=Sequence([_layer("L", 1, gray=65535)]),
                      GraphicAnnotationSequence=Sequence([_annotation(image, "L", list(graphics), texts)])))
    got = _present(image, ps)
    return got[:, :, 0] > 128 if got.ndim == 3 else got > 128


def test_interpolated_curve_passes_through_its_points() -> None:
    image = _image()
    pts = [2.5, 15.5, 10.5, 3.5, 20.5, 15.5, 27.5, 3.5]
    lit = _lit(image, _graphic("INTERPOLATED", pts))
    for x, y in zip(pts[::2], pts[1::2]):
        assert lit[int(y) - 1:int(y) + 2, int(x) - 1:int(x) + 2].any(), (x, y)
    # smooth, not the polyline: between (10.5, 3.5) and (20.5, 15.5) the curve leaves the chord
    chord = _lit(image, _graphic("POLYLINE", pts))
    assert (lit != chord).any()


def test_ellipse_by_its_axes_and_filled_polygon() -> None:
    image = _image()
    # major axis (5, 10)-(25, 10), minor axis (15, 6)-(15, 14)
    lit = _lit(image, _graphic("ELLIPSE", [5.0, 10.0, 25.0, 10.0, 15.0, 6.0, 15.0, 14.0]))
    assert lit[9:11, 4:6].any() and lit[9:11, 24:26].any() and lit[5:7, 14:16].any() and lit[13:15, 14:16].any()
    assert not lit[8:12, 10:20].any()  # the inside is not filled
    assert not lit[2, 15] and not lit[17, 15]  # beyond the minor axis
    filled = _lit(image, _graphic("POLYLINE", [5.0, 5.0, 25.0, 5.0, 25.0, 15.0, 5.0, 15.0, 5.0, 5.0], filled=True))
    assert filled[6:14, 6:24].all() and not filled[:4].any() and not filled[:, :4].any()


def test_text_by_anchor_only_and_in_display_units() -> None:
    image = _image()
    anchored = Dataset()
    anchored.UnformattedTextValue = "X"
    anchored.AnchorPointAnnotationUnits, anchored.AnchorPoint, anchored.AnchorPointVisibility = "PIXEL", [4.0, 4.0], "N"
    lit = _lit(image, texts=[anchored])
    rows, cols = np.nonzero(lit)
    assert len(rows) and rows.min() >= 4 and cols.min() >= 4  # drawn below and right of its anchor
    display = Dataset()
    display.UnformattedTextValue = "X"
    display.BoundingBoxAnnotationUnits = "DISPLAY"
    display.BoundingBoxTopLeftHandCorner, display.BoundingBoxBottomRightHandCorner = [0.5, 0.5], [1.0, 1.0]
    display.BoundingBoxTextHorizontalJustification = "LEFT"
    lit = _lit(image, texts=[display])
    rows, cols = np.nonzero(lit)
    assert len(rows) and rows.min() >= ROWS // 2 and cols.min() >= COLS // 2


def test_overlay_of_the_image_activated_by_the_pstate() -> None:
    """An overlay plane of the image is shown when the presentation state activates its group
    (Overlay Activation Layer without Overlay Data, C.11.7), in its layer's colour."""
    from viewer.render import overlay_layers
    from viewer.render.overlays import overlay_groups

    image = _image()
    bits = np.zeros((ROWS, COLS), np.uint8)
    bits[3, 4:9] = 1
    add_overlay(image, bits, group=0x6002)
    layers = dict(zip(overlay_groups(image), overlay_layers(image, 0)))
    ps = _black(_gsps(image, GraphicLayerSequence=Sequence([_layer("OV", 1, gray=65535)])))
    assert (_present(image, ps, image_overlays=layers) == 0).all()
    ps.add_new((0x6002, 0x1001), "CS", "OV")
    got = _present(image, ps, image_overlays=layers)
    assert np.array_equal(got == 255, bits.astype(bool))


@pytest.mark.filterwarnings("ignore:overflow encountered in exp:RuntimeWarning")  # pydicom's sigmoid
@pytest.mark.parametrize("function", ["SIGMOID", "LINEAR_EXACT", "LINEAR"])
def test_voi_lut_function_against_pydicom(function: str) -> None:
    """The Softcopy VOI's VOI LUT Function (C.11.2.1.3) against pydicom's apply_windowing."""
    from pydicom.pixels.processing import apply_windowing

    image = _image()
    ps = _gsps(image)
    voi = ps.SoftcopyVOILUTSequence[0]
    voi.WindowCenter, voi.WindowWidth, voi.VOILUTFunction = 3000, 4000, function
    got = _present(image, ps).astype(int)
    ref = Dataset()
    ref.WindowCenter, ref.WindowWidth, ref.VOILUTFunction = 3000, 4000, function
    ref.BitsStored, ref.PixelRepresentation, ref.PhotometricInterpretation = 16, 0, "MONOCHROME2"
    yy, xx = np.mgrid[0:ROWS, 0:COLS]
    values = (10 * xx + 300 * yy).astype(np.float64)
    out = apply_windowing(values, ref)  # output range of 16-bit unsigned input: 0..65535
    want = np.floor(np.clip(out / 65535.0, 0, 1) * 255 + 0.5).astype(int)
    assert np.abs(got - want).max() <= 1, function
