"""Apply a Grayscale Softcopy Presentation State to one frame (PS3.4 N.2).

Order (PS3.4 N.2, Figure N.2-1): Modality LUT -> VOI LUT -> Presentation LUT give P-values;
shutters, activated overlays and graphic annotations are placed in image pixel space; the
spatial transformation (rotation, flip; PS3.3 C.10.6) and the displayed area (C.10.4) then
say which part is shown and how. Graphics are drawn last, upright, at their transformed
positions, so that text is not rotated with the image; DISPLAY units are fractions of the
displayed area (C.10.5.1.1).

Pure numpy and PIL (for lines and text); no Qt.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import Callable

import numpy as np

from viewer.dicom.pstate import (Annotation, DisplayedArea, GraphicLayer, Lut, Overlay, PresentationState,
                                 Shutters)
from viewer.render import lut as _lut
from viewer.render.params import LutData, RenderParams, VoiFunction, Window
from viewer.render.pipeline import apply_table
from viewer.render.shutter import Shutter, shutter_mask

log = logging.getLogger(__name__)

RGB = tuple[int, int, int]


# ---------------------------------------------------------------------- grayscale
def _lut_data(lut: Lut) -> LutData:
    return LutData(lut.first_mapped, lut.bits, lut.data, lut.explanation)


def pstate_params(image: RenderParams, ps: PresentationState, sop_instance_uid: str,
                  frame: int = 1) -> RenderParams:
    """The image's render parameters with the presentation state's Modality LUT and VOI.

    The presentation state's Modality LUT replaces the image's (PS3.4 N.2.1.1; identity when
    the presentation state has none, as the image then has none either, PS3.3 A.33.1-1);
    its Softcopy VOI LUT for this image replaces the image's VOI, and with none no VOI
    transformation is applied (C.11.8). The Presentation LUT Shape decides ``invert``:
    the image's MONOCHROME1 is not looked at (C.11.6.1).
    """
    m = ps.modality_lut
    params = replace(image, rescale_slope=m.slope if m else 1.0, rescale_intercept=m.intercept if m else 0.0,
                     rescale_type=m.rescale_type if m else "",
                     modality_lut=_lut_data(m.lut) if m and m.lut else None,
                     invert=ps.plut_shape == "INVERSE")
    voi = ps.voi_for(sop_instance_uid, frame)
    if voi is None:
        return replace(params, window=None, voi_lut=None)
    if voi.lut is not None:
        return replace(params, window=None, voi_lut=_lut_data(voi.lut))
    assert voi.center is not None and voi.width is not None
    return replace(params, window=Window(voi.center, voi.width, VoiFunction.parse(voi.function),
                                         voi.explanation or "presentation state"), voi_lut=None)


def _identity_voi(values: np.ndarray, params: RenderParams) -> np.ndarray:
    """No VOI: the Modality LUT's output range onto [0, 1] (PS3.4 N.2.1.2)."""
    if params.modality_lut is not None:
        return values / float((1 << params.modality_lut.bits) - 1)
    domain, _size = _lut.stored_domain(params)
    ends = _lut.modality(np.array([domain[0], domain[-1]]), params)
    lo, hi = float(ends.min()), float(ends.max())
    return np.clip((values - lo) / max(hi - lo, 1e-12), 0.0, 1.0)


def _plut(y: np.ndarray, plut: Lut, voi_bits: int | None = None) -> np.ndarray:
    """Presentation LUT Sequence (C.11.6.1): the VOI output spread over its entries, the
    entries scaled from 0..2^bits-1 to [0, 1].

    After a window, the index is ``floor(y (n - 1))`` (truncated, as LUT inputs are,
    C.11.1.1). After a VOI LUT of ``voi_bits`` output bits, its output value ``v`` indexes
    ``floor(v n / 2^voi_bits)``: the bit shift DCMTK applies when the two sizes differ (they
    agree when the Presentation LUT has 2^voi_bits entries, as C.11.6.1 intends)."""
    table = plut.table().astype(np.float64)
    n = len(table)
    if voi_bits is not None:
        v = np.floor(y * ((1 << voi_bits) - 1) + 0.5)
        idx = np.floor(v * n / float(1 << voi_bits)).astype(np.int64)
    else:
        idx = np.floor(y * (n - 1)).astype(np.int64)
    np.clip(idx, 0, n - 1, out=idx)
    out: np.ndarray = table[idx] / float((1 << plut.bits) - 1)
    return out


def _voi_bits(params: RenderParams) -> int | None:
    """Output bits of the VOI LUT in use (None after a window)."""
    return params.voi_lut.bits if params.window is None and params.voi_lut is not None else None


@lru_cache(maxsize=16)
def pvalue_table(params: RenderParams, plut: Lut | None, bits: int = 8) -> np.ndarray:
    """P-values of ``bits`` bits over every stored value: modality, VOI, Presentation LUT
    (cached per parameters, LUT and depth: a window drag builds one table per window).

    uint8 up to 8 bits (the screen), uint16 above (12-bit print, PS3.4 H.4.1.1.2)."""
    values, size = _lut.stored_domain(params)
    m = _lut.modality(values, params)
    if params.window is None and params.voi_lut is None:
        y = _identity_voi(m, params)
    else:
        y = _lut.voi(m, params, params.window)
    if plut is not None:
        y = _plut(y, plut, _voi_bits(params))
    out = _lut.to_levels(y, params.invert, bits)
    if not params.signed:
        return np.ascontiguousarray(out)
    table = np.zeros(size, out.dtype)
    table[values & (size - 1)] = out
    return table


def gray_levels(frame: np.ndarray, params: RenderParams, plut: Lut | None, bits: int = 8) -> np.ndarray:
    """The frame's P-values of ``bits`` bits (grayscale images only; 8 for the screen)."""
    if frame.dtype.kind in "uib" and frame.dtype.itemsize <= 2:
        return apply_table(pvalue_table(params, plut, bits), frame)
    m = _lut.modality(frame, params)
    y = _identity_voi(m, params) if params.window is None and params.voi_lut is None else \
        _lut.voi(m, params, params.window)
    if plut is not None:
        y = _plut(y, plut, _voi_bits(params))
    return _lut.to_levels(y, params.invert, bits)


def view_params(image: RenderParams, ps: PresentationState, sop_instance_uid: str, frame: int,
                window: tuple[float, float] | None, invert: bool) -> RenderParams:
    """The parameters a view renders with when ``ps`` is applied to its image.

    The presentation state's Modality LUT and VOI (:func:`pstate_params`); the view's window,
    when it has one, still wins; the view's ``invert`` is relative to the image's own look
    (it was set from the Presentation LUT Shape when ``ps`` was applied), so a MONOCHROME1
    image turns it around (PS3.3 C.11.6.1: the shape replaces the photometric inversion).
    The viewport and print use this one function, so a film shows what the screen does."""
    mono1 = str(image.photometric).upper() == "MONOCHROME1"
    params = replace(pstate_params(image, ps, sop_instance_uid, frame), invert=bool(invert) != mono1)
    return params.with_window(*window) if window is not None else params


# ---------------------------------------------------------------------- colours
def cielab_to_rgb(lab: tuple[int, int, int]) -> RGB:
    """A DICOM CIELab triplet (PS3.3 C.10.7.1.1: L 0..65535 for 0..100, a and b 0..65535 for
    -128..127) to 8-bit sRGB (D65 white)."""
    lightness = lab[0] * 100.0 / 65535.0
    a = lab[1] * 255.0 / 65535.0 - 128.0
    b = lab[2] * 255.0 / 65535.0 - 128.0
    fy = (lightness + 16.0) / 116.0
    fx, fz = fy + a / 500.0, fy - b / 200.0

    def finv(t: float) -> float:
        return t ** 3 if t ** 3 > 0.008856 else (t - 16.0 / 116.0) / 7.787

    x, y, z = 0.95047 * finv(fx), 1.0 * finv(fy), 1.08883 * finv(fz)
    lin = (3.2406 * x - 1.5372 * y - 0.4986 * z, -0.9689 * x + 1.8758 * y + 0.0415 * z,
           0.0557 * x - 0.2040 * y + 1.0570 * z)

    def gamma(c: float) -> int:
        c = max(0.0, min(1.0, c))
        c = 12.92 * c if c <= 0.0031308 else 1.055 * c ** (1 / 2.4) - 0.055
        return int(round(c * 255))

    return gamma(lin[0]), gamma(lin[1]), gamma(lin[2])


def rgb_to_cielab(rgb: RGB) -> tuple[int, int, int]:
    """8-bit sRGB to a DICOM CIELab triplet (inverse of :func:`cielab_to_rgb`)."""
    def lin(c: int) -> float:
        v = c / 255.0
        return v / 12.92 if v <= 0.04045 else ((v + 0.055) / 1.055) ** 2.4

    r, g, b = (lin(c) for c in rgb)
    x = (0.4124 * r + 0.3576 * g + 0.1805 * b) / 0.95047
    y = 0.2126 * r + 0.7152 * g + 0.0722 * b
    z = (0.0193 * r + 0.1192 * g + 0.9505 * b) / 1.08883

    def f(t: float) -> float:
        return t ** (1 / 3) if t > 0.008856 else 7.787 * t + 16.0 / 116.0

    lightness, a, bb = 116.0 * f(y) - 16.0, 500.0 * (f(x) - f(y)), 200.0 * (f(y) - f(z))
    return (int(round(max(0.0, min(100.0, lightness)) * 65535 / 100)), int(round((a + 128.0) * 65535 / 255)),
            int(round((bb + 128.0) * 65535 / 255)))


def layer_color(layer: GraphicLayer | None) -> RGB:
    """A layer's recommended colour (CIELab first, then grayscale; white by default)."""
    if layer is not None and layer.cielab is not None:
        return cielab_to_rgb(layer.cielab)
    if layer is not None and layer.gray is not None:
        g = int(round(layer.gray * 255 / 65535))
        return g, g, g
    return 255, 255, 255


def shutter_fill(shutters: Shutters) -> RGB:
    if shutters.cielab is not None:
        return cielab_to_rgb(shutters.cielab)
    g = int(round(max(0, min(65535, shutters.presentation_value)) * 255 / 65535))
    return g, g, g


def _gray_fraction(gray: int | None, cielab: tuple[int, int, int] | None, default: float) -> float:
    """A monochrome value in [0, 1]: the recommended grayscale P-value, else the CIELab
    lightness L* (P-values are perceptually linear, as L* is), else ``default``."""
    if gray is not None:
        return max(0, min(65535, gray)) / 65535.0
    if cielab is not None:
        return max(0, min(65535, cielab[0])) / 65535.0
    return default


def layer_level(layer: GraphicLayer | None, bits: int = 8) -> int:
    """A layer's level on a monochrome output of ``bits`` bits (a grayscale film).

    PS3.3 C.10.7.1.1: the Recommended Display Grayscale Value is for monochrome displays,
    the CIELab value for colour ones; with only the colour, its lightness; white by default."""
    f = _gray_fraction(layer.gray if layer else None, layer.cielab if layer else None, 1.0)
    return int(round(f * ((1 << bits) - 1)))


def shutter_level(shutters: Shutters, bits: int = 8) -> int:
    """The Shutter Presentation Value (0018,1622) as a P-value of ``bits`` bits (CIELab: its L*)."""
    gray = None if shutters.cielab is not None else shutters.presentation_value
    return int(round(_gray_fraction(gray, shutters.cielab, 0.0) * ((1 << bits) - 1)))


def is_colored(ps: PresentationState) -> bool:
    """Whether anything ``ps`` draws has a colour other than a gray (layers, shutter)."""
    colours = [layer_color(layer) for layer in ps.layers if layer.cielab is not None]
    if ps.shutters.cielab is not None:
        colours.append(shutter_fill(ps.shutters))
    return any(c[0] != c[1] or c[1] != c[2] for c in colours)


# ---------------------------------------------------------------------- geometry
@dataclass(frozen=True)
class Geometry:
    """Where image pixels go on the output: displayed area, rotation, flip, scale.

    ``area`` is (x0, y0, x1, y1) in continuous image coordinates ((0, 0) the top left
    corner of the top left pixel); the rotation is clockwise and comes before the
    horizontal flip (PS3.3 C.10.6: Image Rotation is applied before any Image Horizontal
    Flip; DCMTK ``dcmp2pgm`` agrees); ``scale`` is output
    pixels per image pixel (x, y).
    """

    area: tuple[int, int, int, int]
    rotation: int = 0
    flip: bool = False
    scale: tuple[float, float] = (1.0, 1.0)

    @property
    def crop_size(self) -> tuple[int, int]:
        x0, y0, x1, y1 = self.area
        return x1 - x0, y1 - y0

    @property
    def out_size(self) -> tuple[int, int]:
        """(width, height) of the output."""
        w, h = self.crop_size
        if self.rotation in (90, 270):
            w, h = h, w
        return max(1, int(round(w * self.scale[0]))), max(1, int(round(h * self.scale[1])))

    def map_point(self, x: float, y: float) -> tuple[float, float]:
        """Image coordinates (column, row; continuous) to output coordinates."""
        x0, y0, _x1, _y1 = self.area
        w, h = self.crop_size
        x, y = x - x0, y - y0
        if self.rotation == 90:
            x, y, w = h - y, x, h
        elif self.rotation == 180:
            x, y = w - x, h - y
        elif self.rotation == 270:
            x, y, w = y, w - x, h
        if self.flip:
            x = w - x
        return x * self.scale[0], y * self.scale[1]

    def unmap_point(self, x: float, y: float) -> tuple[float, float]:
        """Output coordinates back to image coordinates (inverse of :meth:`map_point`)."""
        x0, y0, _x1, _y1 = self.area
        w, h = self.crop_size
        x, y = x / self.scale[0], y / self.scale[1]
        if self.flip:
            x = (h if self.rotation in (90, 270) else w) - x
        if self.rotation == 90:
            x, y = y, h - x
        elif self.rotation == 180:
            x, y = w - x, h - y
        elif self.rotation == 270:
            x, y = w - y, x
        return x + x0, y + y0

    def apply(self, img: np.ndarray, fill: int | RGB = 0) -> np.ndarray:
        """Crop (padding outside the image with ``fill``), flip, rotate and scale ``img``."""
        x0, y0, x1, y1 = self.area
        rows, cols = img.shape[:2]
        out = np.empty((y1 - y0, x1 - x0) + img.shape[2:], img.dtype)
        out[...] = fill
        sy0, sy1, sx0, sx1 = max(0, y0), min(rows, y1), max(0, x0), min(cols, x1)
        if sy1 > sy0 and sx1 > sx0:
            out[sy0 - y0:sy1 - y0, sx0 - x0:sx1 - x0] = img[sy0:sy1, sx0:sx1]
        out = np.rot90(out, k=-(self.rotation // 90))
        if self.flip:
            out = out[:, ::-1]
        w, h = self.out_size
        if (w, h) != out.shape[1::-1]:
            ri = np.minimum((np.arange(h) / self.scale[1]).astype(np.int64), out.shape[0] - 1)
            ci = np.minimum((np.arange(w) / self.scale[0]).astype(np.int64), out.shape[1] - 1)
            out = out[ri][:, ci]
        return np.ascontiguousarray(out)


def geometry(ps: PresentationState, sop_instance_uid: str, frame: int, shape: tuple[int, int],
             use_area: bool = True) -> Geometry:
    """The output geometry for an image of ``shape`` (rows, cols).

    The displayed area (C.10.4) is the rectangle between its two corner pixels, inclusive,
    possibly beyond the image; without one, the whole image. MAGNIFY scales by the
    Presentation Pixel Magnification Ratio; other modes show one output column per image
    column; a pixel aspect other than 1 (Presentation Pixel Spacing or Aspect Ratio)
    stretches the rows.
    """
    rows, cols = shape
    area: DisplayedArea | None = ps.area_for(sop_instance_uid, frame) if use_area else None
    if area is None:
        return Geometry((0, 0, cols, rows), ps.rotation, ps.flip)
    xa, xb = sorted((area.tlhc[0], area.brhc[0]))
    ya, yb = sorted((area.tlhc[1], area.brhc[1]))
    mag = area.magnification if area.size_mode == "MAGNIFY" and area.magnification else 1.0
    aspect = area.row_to_column
    # the aspect stretches image rows; after a quarter turn those are output columns
    sx, sy = (mag, mag * aspect) if ps.rotation in (0, 180) else (mag * aspect, mag)
    return Geometry((xa - 1, ya - 1, xb, yb), ps.rotation, ps.flip, (sx, sy))


# ---------------------------------------------------------------------- shutters, overlays
def _place(bits: np.ndarray, origin: tuple[int, int], shape: tuple[int, int]) -> np.ndarray:
    mask = np.zeros(shape, bool)
    r0, c0 = origin[0] - 1, origin[1] - 1
    rs, cs = max(0, -r0), max(0, -c0)
    re, ce = min(bits.shape[0], shape[0] - r0), min(bits.shape[1], shape[1] - c0)
    if re > rs and ce > cs:
        mask[r0 + rs:r0 + re, c0 + cs:c0 + ce] = bits[rs:re, cs:ce]
    return mask


def shuttered(ps: PresentationState, shape: tuple[int, int]) -> np.ndarray | None:
    """Boolean (rows, cols), True where a shutter hides the image; None without shutters."""
    s = ps.shutters
    hidden = None
    if s.geometric is not None:
        g = s.geometric
        hidden = ~shutter_mask(Shutter(g.rectangle, g.circle, g.polygon), shape)
    if s.bitmap is not None:
        bits = _place(s.bitmap, s.bitmap_origin, shape)
        hidden = bits if hidden is None else hidden | bits
    return hidden


def overlay_masks(ps: PresentationState, image_layers: dict[int, np.ndarray],
                  shape: tuple[int, int]) -> list[tuple[np.ndarray, RGB]]:
    """Activated overlays (C.11.7) as (mask, colour of their layer): the presentation
    state's own planes, else the image's plane of that group (``image_layers``)."""
    return [(mask, layer_color(ps.layer(ov.layer))) for ov, mask in _overlay_planes(ps, image_layers, shape)]


def _overlay_planes(ps: PresentationState, image_layers: dict[int, np.ndarray],
                    shape: tuple[int, int]) -> list[tuple[Overlay, np.ndarray]]:
    """Each activated overlay that can be shown, with its mask over the image."""
    out = []
    for ov in ps.overlays:
        if ov.bits is not None:
            mask = _place(ov.bits, ov.origin, shape)
        elif ov.group in image_layers and image_layers[ov.group].shape == shape:
            mask = image_layers[ov.group]
        else:
            log.info("overlay %04X activated but not in the image", ov.group)
            continue
        out.append((ov, mask))
    return out


# ---------------------------------------------------------------------- graphics
def _ellipse_points(points: tuple[tuple[float, float], ...], n: int = 72) -> list[tuple[float, float]]:
    """ELLIPSE: major axis end points, then minor axis end points (C.10.5.1.2)."""
    (ax1, ay1), (ax2, ay2), (bx1, by1), (bx2, by2) = points[:4]
    cx, cy = (ax1 + ax2) / 2, (ay1 + ay2) / 2
    ux, uy = (ax2 - ax1) / 2, (ay2 - ay1) / 2
    vx, vy = (bx2 - bx1) / 2, (by2 - by1) / 2
    return [(cx + ux * math.cos(t) + vx * math.sin(t), cy + uy * math.cos(t) + vy * math.sin(t))
            for t in (2 * math.pi * i / n for i in range(n))]


def _circle_points(points: tuple[tuple[float, float], ...], n: int = 72) -> list[tuple[float, float]]:
    """CIRCLE: the centre, then a point on the circle (C.10.5.1.2)."""
    (cx, cy), (px, py) = points[:2]
    r = math.hypot(px - cx, py - cy)
    return [(cx + r * math.cos(t), cy + r * math.sin(t)) for t in (2 * math.pi * i / n for i in range(n))]


def _catmull_rom(points: list[tuple[float, float]], steps: int = 8) -> list[tuple[float, float]]:
    """INTERPOLATED: a smooth curve through every point (Catmull-Rom, C.10.5.1.2)."""
    if len(points) < 3:
        return points
    closed = points[0] == points[-1]
    pts = points[:-1] if closed else points
    n = len(pts)
    out = []
    segments = n if closed else n - 1
    for i in range(segments):
        p0 = pts[(i - 1) % n] if closed or i > 0 else pts[0]
        p1, p2 = pts[i], pts[(i + 1) % n]
        p3 = pts[(i + 2) % n] if closed or i + 2 < n else pts[-1]
        for s in range(steps):
            t = s / steps
            out.append(tuple(0.5 * (2 * p1[k] + (-p0[k] + p2[k]) * t
                                    + (2 * p0[k] - 5 * p1[k] + 4 * p2[k] - p3[k]) * t * t
                                    + (-p0[k] + 3 * p1[k] - 3 * p2[k] + p3[k]) * t ** 3) for k in (0, 1)))
    out.append(pts[0] if closed else pts[-1])
    return out  # type: ignore[return-value]


def outline(kind: str, points: tuple[tuple[float, float], ...]) -> list[tuple[float, float]]:
    """The polyline that draws a graphic object (in the units of its points)."""
    if kind == "CIRCLE":
        pts = _circle_points(points)
        return pts + pts[:1]
    if kind == "ELLIPSE":
        pts = _ellipse_points(points)
        return pts + pts[:1]
    if kind == "INTERPOLATED":
        return _catmull_rom(list(points))
    return list(points)


def draw_annotations(img: np.ndarray, annotations: list[Annotation], ps: PresentationState,
                     geo: Geometry) -> np.ndarray:
    """Draw graphic and text objects on the output image (RGB uint8 returned).

    PIXEL units go through ``geo``; DISPLAY units are fractions of the output (C.10.5.1.1).
    """
    rgb = img if img.ndim == 3 else np.repeat(img[:, :, None], 3, axis=2)
    h, w = rgb.shape[:2]

    def to_out(p: tuple[float, float], units: str) -> tuple[float, float]:
        if units == "DISPLAY":
            return p[0] * w, p[1] * h
        return geo.map_point(*p)

    return draw_graphics(rgb, annotations, ps, to_out)


def draw_graphics(img: np.ndarray, annotations: list[Annotation], ps: PresentationState,
                  to_out: Callable[[tuple[float, float], str], tuple[float, float]], *, bits: int = 8,
                  font_size: int | None = None, width: int = 1) -> np.ndarray:
    """Draw graphic and text objects upright on ``img``, where ``to_out`` maps a point and its
    units (PIXEL, DISPLAY) to output pixels; a new array of the same kind is returned.

    An RGB ``img`` gets each layer's colour (:func:`layer_color`), a grayscale one of ``bits``
    bits its monochrome level (:func:`layer_level`): the screen's rendering and a film's burn-in
    are the same drawing. ``font_size`` (default: Pillow's bitmap font) and ``width`` (line
    width; points and anchor marks grow with it) let a film draw at its resolution. Graphic
    types as C.10.5.1.2; a text object's box (C.10.5.1.1) is written from its top left corner,
    justified inside it, with a line to its anchor when the anchor is visible; an anchor alone
    gets the text beside it.
    """
    from PIL import Image, ImageDraw, ImageFont

    color = img.ndim == 3
    pil = Image.fromarray(np.ascontiguousarray(img.astype(np.uint8)), "RGB") if color else \
        Image.fromarray(img.astype(np.int32), "I")
    draw = ImageDraw.Draw(pil)
    font = ImageFont.load_default(size=font_size) if font_size else ImageFont.load_default()
    r, gap = 2 * width, 3 * width

    for ann in annotations:
        layer = ps.layer(ann.layer)
        ink: RGB | int = layer_color(layer) if color else layer_level(layer, bits)
        for g in ann.graphics:
            pts = [to_out(p, g.units) for p in outline(g.type, g.points)]
            if g.type == "POINT":
                for x, y in pts:
                    draw.ellipse([x - r, y - r, x + r, y + r], fill=ink)
            elif g.filled and len(pts) >= 3:
                draw.polygon(pts, fill=ink, outline=ink)
            else:
                draw.line(pts, fill=ink, width=width, joint="curve")
        for t in ann.texts:
            if t.tlhc is not None and t.brhc is not None:
                (xa, ya), (xb, yb) = to_out(t.tlhc, t.box_units), to_out(t.brhc, t.box_units)
                left, top, right = min(xa, xb), min(ya, yb), max(xa, xb)
                tw = draw.textlength(t.text, font=font)
                x = {"RIGHT": right - tw, "CENTER": (left + right - tw) / 2}.get(t.justification, left)
                draw.text((x, top), t.text, fill=ink, font=font)
                if t.anchor is not None and t.anchor_visible:
                    draw.line([to_out(t.anchor, t.anchor_units), (left, top)], fill=ink, width=width)
            elif t.anchor is not None:
                ax, ay = to_out(t.anchor, t.anchor_units)
                draw.text((ax + gap, ay + gap), t.text, fill=ink, font=font)
                if t.anchor_visible:
                    draw.ellipse([ax - r / 2, ay - r / 2, ax + r / 2, ay + r / 2], fill=ink)
    out: np.ndarray = np.asarray(pil).astype(np.uint8 if color else img.dtype)
    return out


def burn_layers(img: np.ndarray, ps: PresentationState, image_layers: dict[int, np.ndarray],
                bits: int = 8) -> np.ndarray:
    """A copy of ``img`` (P-values of ``bits`` bits, or RGB) with the shutters filled and the
    activated overlays drawn over them, as the viewport draws them over the image.

    Grayscale output takes the shutter's and each layer's monochrome level
    (:func:`shutter_level`, :func:`layer_level`), RGB their colours."""
    out: np.ndarray = img.copy()
    shape = out.shape[:2]
    hidden = shuttered(ps, shape)
    if hidden is not None:
        out[hidden] = shutter_fill(ps.shutters) if out.ndim == 3 else shutter_level(ps.shutters, bits)
    for ov, mask in _overlay_planes(ps, image_layers, shape):
        layer = ps.layer(ov.layer)
        out[mask] = layer_color(layer) if out.ndim == 3 else layer_level(layer, bits)
    return out


# ---------------------------------------------------------------------- the whole
def present(frame: np.ndarray, image: RenderParams, ps: PresentationState, sop_instance_uid: str,
            frame_number: int = 1, image_overlays: dict[int, np.ndarray] | None = None,
            annotations: bool = True, use_area: bool = True) -> np.ndarray:
    """Render ``frame`` (stored values) as ``ps`` says; uint8 gray, or RGB when colours are drawn.

    Parameters
    ----------
    frame : numpy.ndarray
        Stored values of the frame (grayscale).
    image : RenderParams
        The image's own parameters (bits, sign), from ``params_from_dataset``.
    ps : PresentationState
    sop_instance_uid, frame_number : str, int
        Which image and 1-based frame, to pick the items that apply.
    image_overlays : dict, optional
        The image's overlay planes by group, for overlays the presentation state activates.
    annotations : bool
        Draw the graphic annotations (text and graphics).
    use_area : bool
        Crop to the displayed area (off: the whole image, as ``dcmp2pgm`` writes it).
    """
    if image.is_color:
        raise ValueError("a Grayscale Softcopy Presentation State applies to grayscale images only")
    params = pstate_params(image, ps, sop_instance_uid, frame_number)
    img: np.ndarray = gray_levels(frame, params, ps.plut)
    shape = img.shape[:2]
    hidden = shuttered(ps, shape)
    masks = overlay_masks(ps, image_overlays or {}, shape)
    colored = ps.shutters.cielab is not None or any(c[0] != c[1] or c[1] != c[2] for _m, c in masks)
    if colored:
        img = np.repeat(img[:, :, None], 3, axis=2)
    for mask, color in masks:
        img[mask] = color if colored else color[0]
    if hidden is not None:
        fill = shutter_fill(ps.shutters)
        img[hidden] = fill if colored else fill[0]
    geo = geometry(ps, sop_instance_uid, frame_number, shape, use_area)
    out = geo.apply(img)
    if annotations:
        anns = ps.annotations_for(sop_instance_uid, frame_number)
        if anns:
            out = draw_annotations(out, anns, ps, geo)
    return out
