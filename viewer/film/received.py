"""Render a film box received by the print SCP into a picture of the film (Pillow image).

The inputs are the Datasets the SCU sent (PS3.4 H): the Film Box attributes (N-CREATE and
any N-SET merged), the Image Box N-SET data sets by position, annotation texts by position,
and the Presentation LUT in effect. Nothing here touches the network.

Steps per image box (PS3.3 C.13.5, C.11.6):
stored value -> (MONOCHROME1 inverted) -> Presentation LUT -> P-value -> Polarity ->
density (GSDF or LIN OD, between the film box Min/Max Density) -> PNG gray, resampled to
the box with the Magnification Type. Color boxes (Basic Color Image Sequence, RGB) are
drawn as sent; REVERSE polarity inverts them.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray
from PIL import Image, ImageDraw, ImageFont
from pydicom.dataset import Dataset

from viewer.film import received_density as dens
from viewer.film import received_layout as lay

log = logging.getLogger(__name__)

_RESAMPLE = {"REPLICATE": Image.Resampling.NEAREST, "NONE": Image.Resampling.NEAREST,
             "BILINEAR": Image.Resampling.BILINEAR, "CUBIC": Image.Resampling.BICUBIC}


@dataclass
class FilmRenderOptions:
    """Printer-side settings for rendering.

    Attributes
    ----------
    dpi : int
        Output resolution; the PNG is the film size at this resolution.
    printer_min_density, printer_max_density : float
        The printer's density range in OD (profile Min/Max Density / 100).
    annotation_formats : dict
        Annotation Display Format ID -> (box count, placement TOP / BOTTOM / TOP_BOTTOM).
    """

    dpi: int = 150
    printer_min_density: float = 0.20
    printer_max_density: float = 3.20
    annotation_formats: dict[str, tuple[int, str]] = field(default_factory=dict)


def _num(ds: Dataset, keyword: str, default: float) -> float:
    value = ds.get(keyword)
    try:
        return float(value) if value not in (None, "") else default
    except (TypeError, ValueError):
        return default


def stored_values(item: Dataset) -> NDArray[np.floating]:
    """Pixel values of a Basic Grayscale/Color Image Sequence item: (rows, cols[, 3]) float.

    Color data follow Planar Configuration (0028,0006): 0 = interleaved, 1 = by plane.
    """
    rows, cols = int(item.Rows), int(item.Columns)
    samples = int(item.get("SamplesPerPixel", 1))
    dtype = np.uint8 if int(item.BitsAllocated) == 8 else np.dtype("<u2")
    raw = np.frombuffer(item.PixelData, dtype=dtype, count=rows * cols * samples)
    if samples == 3:
        if int(item.get("PlanarConfiguration", 0)) == 1:
            return np.asarray(raw.reshape(3, rows, cols).transpose(1, 2, 0), dtype=np.float32)
        return np.asarray(raw.reshape(rows, cols, 3), dtype=np.float32)
    bits = int(item.get("BitsStored", item.BitsAllocated))
    return np.asarray(np.bitwise_and(raw.reshape(rows, cols), (1 << bits) - 1), dtype=np.float32)


def grayscale_pvalues(item: Dataset, plut: Dataset | None) -> tuple[NDArray[np.floating], str]:
    """P-values in [0, 1] of a grayscale image and the LUT kind (IDENTITY, LIN OD or LUT)."""
    bits = int(item.get("BitsStored", item.BitsAllocated))
    top = float((1 << bits) - 1)
    values = stored_values(item)
    if str(item.get("PhotometricInterpretation", "MONOCHROME2")).strip() == "MONOCHROME1":
        values = top - values  # PS3.3 C.7.6.3.1.2: minimum is white
    if plut is not None and "PresentationLUTSequence" in plut and plut.PresentationLUTSequence:
        seq = plut.PresentationLUTSequence[0]
        n, first, out_bits = (int(v) for v in seq.LUTDescriptor)
        n = n or 65536  # PS3.3 C.11.1.1: 0 means 2**16 entries
        raw = seq.LUTData
        data = (np.frombuffer(raw, dtype="<u2") if isinstance(raw, bytes) else np.asarray(raw)
                ).astype(np.float64).ravel()[:n]
        # Entry count should match the bit depth (PS3.4 H.4.3.1.2.1.1); if not, scale the
        # input range onto the table rather than clipping most of the image.
        index = values - first if n == top + 1 else values * ((n - 1) / top)
        out = data[np.clip(np.rint(index), 0, len(data) - 1).astype(np.int64)]
        pvalues: NDArray[np.floating] = out / float((1 << out_bits) - 1)
        return pvalues, "LUT"
    shape = str(plut.get("PresentationLUTShape", "IDENTITY")).upper() if plut is not None else "IDENTITY"
    return values / top, ("LIN OD" if shape == "LIN OD" else "IDENTITY")


def _resample(array: NDArray[np.floating], size: tuple[int, int], method: str) -> NDArray[np.floating]:
    """Resize a (rows, cols) float array to (width, height) with Pillow's float mode."""
    img = Image.fromarray(np.ascontiguousarray(array, dtype=np.float32), mode="F")
    return np.asarray(img.resize(size, _RESAMPLE.get(method, Image.Resampling.BICUBIC)))


#: Smoothing Type (2010,0080) -> amount of unsharp masking (negative: blur). The terms are the
#: printer's own (PS3.3 C.13.3: "applies only when Magnification Type is CUBIC").
_SMOOTHING = {"SMOOTH": -1.0, "MEDIUM": 0.5, "SHARP": 1.0}


def _smooth(array: NDArray[np.floating], kind: str) -> NDArray[np.floating]:
    """Apply the printer's smoothing (a [1 2 1] blur or unsharp mask) to magnified pixels."""
    amount = _SMOOTHING.get(kind.upper())
    if amount is None or min(array.shape[:2]) < 3:
        return array
    pad = np.pad(array, 1, mode="edge")
    blur = (pad[:-2] + 2 * pad[1:-1] + pad[2:]) / 4
    blur = (blur[:, :-2] + 2 * blur[:, 1:-1] + blur[:, 2:]) / 4
    smoothed: NDArray[np.floating] = blur if amount < 0 else array + amount * (array - blur)
    return smoothed


def _target_size(item: Dataset, box: Dataset, cell: lay.Rect, method: str, dpi: int) -> tuple[int, int]:
    """Printed (width, height) in pixels of an image in ``cell`` (PS3.3 C.13.5)."""
    rows, cols = int(item.Rows), int(item.Columns)
    aspect = [float(v) for v in item.get("PixelAspectRatio", [1, 1])] or [1.0, 1.0]
    height_per_width = rows / cols * (aspect[0] / aspect[1] if len(aspect) == 2 and aspect[1] else 1.0)
    if method == "NONE":
        width = float(cols)
    elif box.get("RequestedImageSize") not in (None, ""):
        width = float(box.RequestedImageSize) / 25.4 * dpi  # mm, PS3.3 C.13.5.1
    else:
        width = float(cell.w)
    height = width * height_per_width
    if method != "NONE" and str(box.get("RequestedDecimateCropBehavior", "DECIMATE")).upper() != "CROP":
        scale = min(1.0, cell.w / width, cell.h / height) if box.get("RequestedImageSize") else min(
            cell.w / width, cell.h / height)
        width, height = width * scale, height * scale
    return max(1, round(width)), max(1, round(height))


def render_box(item: Dataset, box: Dataset, cell: lay.Rect, film_box: Dataset, plut: Dataset | None,
               opts: FilmRenderOptions) -> NDArray[np.floating]:
    """The printed pixels of one image box, (h, w) gray or (h, w, 3) RGB floats in 0..255."""
    method = str(box.get("MagnificationType") or film_box.get("MagnificationType") or "BILINEAR").upper()
    size = _target_size(item, box, cell, method, opts.dpi)
    reverse = str(box.get("Polarity", "NORMAL")).upper() == "REVERSE"
    if int(item.get("SamplesPerPixel", 1)) == 3:
        rgb = stored_values(item)
        out = np.stack([_resample(rgb[..., c], size, method) for c in range(3)], axis=-1)
        return np.clip(255.0 - out if reverse else out, 0, 255)
    p, kind = grayscale_pvalues(item, plut)
    p = _resample(p, size, method)  # interpolate P-values, not densities
    if method == "CUBIC":
        p = _smooth(p, str(box.get("SmoothingType") or film_box.get("SmoothingType") or "NONE"))
    if reverse:
        p = 1.0 - p
    dmin, dmax = _film_densities(film_box, opts)
    lut = dens.pvalue_gray_lut(kind == "LIN OD", dmin, dmax, *_light(film_box), opts.printer_min_density,
                               opts.printer_max_density)
    return dens.pvalues_to_gray(p, lut)


def _light(film_box: Dataset) -> tuple[float, float]:
    """Illumination and Reflected Ambient Light in cd/m2 (2010,015E / 2010,0160, PS3.3 C.13.3)."""
    return (_num(film_box, "Illumination", dens.DEFAULT_ILLUMINATION),
            _num(film_box, "ReflectedAmbientLight", dens.DEFAULT_REFLECTED_AMBIENT))


def _film_densities(film_box: Dataset, opts: FilmRenderOptions) -> tuple[float, float]:
    """Film box Min/Max Density in OD, clamped to the printer's range (PS3.4 H status B605)."""
    dmin = _num(film_box, "MinDensity", opts.printer_min_density * 100) / 100.0
    dmax = _num(film_box, "MaxDensity", opts.printer_max_density * 100) / 100.0
    dmin = min(max(dmin, opts.printer_min_density), opts.printer_max_density)
    dmax = min(max(dmax, dmin), opts.printer_max_density)
    return dmin, dmax


def _paste(canvas: NDArray[np.floating], pixels: NDArray[np.floating], cell: lay.Rect) -> lay.Rect:
    """Centre ``pixels`` in ``cell``, cropping what does not fit (PS3.3 C.13.5 CROP)."""
    h, w = pixels.shape[:2]
    cx0, cy0 = max(0, (w - cell.w) // 2), max(0, (h - cell.h) // 2)
    pw, ph = min(w, cell.w), min(h, cell.h)
    x, y = cell.x + (cell.w - pw) // 2, cell.y + (cell.h - ph) // 2
    region = pixels[cy0:cy0 + ph, cx0:cx0 + pw]
    if canvas.ndim == 3 and region.ndim == 2:
        region = region[..., None]
    canvas[y:y + ph, x:x + pw] = region
    return lay.Rect(x, y, pw, ph)


def _trim(canvas: NDArray[np.floating], image: lay.Rect, cell: lay.Rect, value: float, width: int) -> None:
    """Trim (2010,0140) YES: a box line around the printed image, inside its cell (PS3.3 C.13.3)."""
    x0, y0 = max(cell.x, image.x - width), max(cell.y, image.y - width)
    x1, y1 = min(cell.x + cell.w, image.x + image.w + width), min(cell.y + cell.h, image.y + image.h + width)
    canvas[y0:y0 + width, x0:x1] = value
    canvas[y1 - width:y1, x0:x1] = value
    canvas[y0:y1, x0:x0 + width] = value
    canvas[y0:y1, x1 - width:x1] = value


def _font(size: int) -> ImageFont.ImageFont | ImageFont.FreeTypeFont:
    try:
        return ImageFont.load_default(size=size)
    except (TypeError, OSError):  # Pillow without FreeType: fixed bitmap font
        return ImageFont.load_default()


def render_film(film_box: Dataset, image_boxes: dict[int, Dataset], annotations: dict[int, str],
                presentation_lut: Dataset | None, opts: FilmRenderOptions | None = None,
                image_luts: dict[int, Dataset] | None = None) -> Image.Image:
    """Render one film box.

    Parameters
    ----------
    film_box : Dataset
        Film Box attributes (Image Display Format, Film Size ID, Film Orientation, densities...).
    image_boxes : dict of int to Dataset
        Image Box N-SET data by Image Box Position (1-based); each holds a Basic Grayscale or
        Basic Color Image Sequence and optional Polarity, Magnification Type, Requested Image Size.
    annotations : dict of int to str
        Annotation Box Text String by Annotation Position.
    presentation_lut : Dataset or None
        The Presentation LUT referenced by the film box or session (None: IDENTITY).
    opts : FilmRenderOptions, optional
    image_luts : dict of int to Dataset, optional
        Presentation LUTs referenced by single image boxes; they override ``presentation_lut``.

    Returns
    -------
    PIL.Image.Image
        ``L`` (grayscale) or ``RGB`` when any box is in color, the film size at ``opts.dpi``.
    """
    opts = opts or FilmRenderOptions()
    width, height = lay.film_size_px(film_box.get("FilmSizeID"), film_box.get("FilmOrientation"), opts.dpi)
    count, placement = opts.annotation_formats.get(str(film_box.get("AnnotationDisplayFormatID", "")).upper(),
                                                   (0, "TOP"))
    area = lay.image_area(width, height, lay.annotation_rows(count, placement))
    cells = lay.image_boxes(str(film_box.ImageDisplayFormat), area, min(width, height))
    dmin, dmax = _film_densities(film_box, opts)
    light = _light(film_box)
    border = float(dens.density_to_gray(dens.named_density(film_box.get("BorderDensity"), dmin, dmax),
                                        opts.printer_min_density, opts.printer_max_density, *light))
    empty = float(dens.density_to_gray(dens.named_density(film_box.get("EmptyImageDensity"), dmin, dmax),
                                       opts.printer_min_density, opts.printer_max_density, *light))
    color = any(int(item.get("SamplesPerPixel", 1)) == 3 for item in map(_image_item, image_boxes.values())
                if item is not None)
    canvas = np.full((height, width, 3) if color else (height, width), border, dtype=np.float32)
    for position, cell in enumerate(cells, start=1):
        canvas[cell.y:cell.y + cell.h, cell.x:cell.x + cell.w] = empty
        box = image_boxes.get(position)
        item = _image_item(box) if box is not None else None
        if box is None or item is None:
            continue
        plut = (image_luts or {}).get(position, presentation_lut)
        placed = _paste(canvas, render_box(item, box, cell, film_box, plut, opts), cell)
        if str(film_box.get("Trim", "NO")).upper() == "YES":
            _trim(canvas, placed, cell, 0.0 if border > 127 else 255.0, max(1, opts.dpi // 75))
    image = Image.fromarray(np.rint(canvas).astype(np.uint8), mode="RGB" if color else "L")
    if count:
        _draw_annotations(image, annotations, lay.annotation_boxes(count, placement, width, height), border)
    return image


def _image_item(box: Dataset) -> Dataset | None:
    for keyword in ("BasicGrayscaleImageSequence", "BasicColorImageSequence"):
        seq = box.get(keyword)
        if seq:
            item: Dataset = seq[0]
            return item
    return None


def _draw_annotations(image: Image.Image, texts: dict[int, str], rects: list[lay.Rect], border: float) -> None:
    """Annotation Box Text Strings (2030,0020) in their positions, contrasting with the border."""
    draw = ImageDraw.Draw(image)
    ink = 0 if border > 127 else 255
    fill = (ink, ink, ink) if image.mode == "RGB" else ink
    for position, rect in enumerate(rects, start=1):
        text = texts.get(position, "")
        if not text:
            continue
        font = _font(max(8, int(rect.h * 0.6)))
        draw.text((rect.x + rect.w / 2, rect.y + rect.h / 2), text, fill=fill, font=font, anchor="mm")
