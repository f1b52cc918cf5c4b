"""A screen preview of one film as numpy pixels (no Qt): boxes, densities, polarity.

The dialog shows this image at the film's aspect ratio and draws annotation text over it.
Each image is scaled to fit its box with its aspect ratio kept (as printers magnify,
PS3.3 C.13.5 Magnification Type), nearest neighbour, centred; the area around it and
empty boxes are painted at Empty Image Density, the film outside the boxes at Border
Density (both BLACK when unspecified, the usual printer default).
"""

from __future__ import annotations

import numpy as np

from viewer.film.density import density_to_gray, parse_density
from viewer.film.enums import Polarity
from viewer.film.layout import Rect, film_size_mm, image_boxes
from viewer.film.spec import FilmSpec, ImageBoxSpec


def fit_rect(box: Rect, rows: int, cols: int, aspect: float = 1.0) -> Rect:
    """The largest rectangle with the image's aspect ratio centred in ``box``.

    ``aspect`` is the pixel aspect (row spacing / column spacing).
    """
    img_ratio = (cols / max(rows * aspect, 1e-9))
    if box.width / max(box.height, 1e-9) > img_ratio:
        h = box.height
        w = h * img_ratio
    else:
        w = box.width
        h = w / img_ratio
    return Rect(box.x + (box.width - w) / 2, box.y + (box.height - h) / 2, w, h)


def display_gray(image: ImageBoxSpec) -> np.ndarray:
    """The image as 8-bit display values (12 bit scaled, polarity applied; RGB kept)."""
    px = np.asarray(image.pixels)
    if image.bits == 12 and px.ndim == 2:
        px = (px.astype(np.uint32) * 255 + 2047) // 4095
    px = px.astype(np.uint8)
    if image.polarity == Polarity.REVERSE:
        px = 255 - px
    return px


def resample_nearest(px: np.ndarray, rows: int, cols: int) -> np.ndarray:
    """Nearest-neighbour resize of a (rows, cols[, 3]) array."""
    r_idx = np.minimum((np.arange(rows) + 0.5) * px.shape[0] / max(rows, 1), px.shape[0] - 1).astype(np.intp)
    c_idx = np.minimum((np.arange(cols) + 0.5) * px.shape[1] / max(cols, 1), px.shape[1] - 1).astype(np.intp)
    resized: np.ndarray = px[r_idx][:, c_idx]
    return resized


def true_size_rect(box: Rect, rows: int, cols: int, aspect: float, width: float) -> Rect:
    """An image printed ``width`` wide (Requested Image Size), centred in ``box``; demagnified
    to fit when larger than the box, as the printer does (PS3.4 H.4 status 0xB604)."""
    height = width * rows * aspect / max(cols, 1)
    shrink = min(1.0, box.width / max(width, 1e-9), box.height / max(height, 1e-9))
    w, h = width * shrink, height * shrink
    return Rect(box.x + (box.width - w) / 2, box.y + (box.height - h) / 2, w, h)


def render_preview(film: FilmSpec, width_px: int = 400) -> tuple[np.ndarray, list[Rect]]:
    """Pixels (uint8, (H, W) or (H, W, 3) when the film holds color) and the box rectangles in pixels.

    The height follows the film's aspect ratio (Film Size ID and orientation); without a
    film size, 14INX17IN is assumed. An image with a Requested Image Size is drawn at that
    width in mm (true size), not fitted to its box.
    """
    box = film.box
    size = box.film_size or "14INX17IN"
    w_mm, h_mm = film_size_mm(size, box.orientation)
    scale = width_px / w_mm
    height_px = max(1, int(round(h_mm * scale)))
    dmin = box.min_density if box.min_density is not None else 20
    dmax = box.max_density if box.max_density is not None else 320
    border = density_to_gray(parse_density(box.border_density or "BLACK", dmin, dmax), dmin, dmax)
    empty = density_to_gray(parse_density(box.empty_image_density or "BLACK", dmin, dmax), dmin, dmax)
    color = any(i is not None and i.is_color for i in film.images)
    shape = (height_px, width_px, 3) if color else (height_px, width_px)
    out = np.full(shape, border, dtype=np.uint8)
    rects = [r.scaled(scale) for r in image_boxes(box.display_format, size, box.orientation)]
    for i, rect in enumerate(rects):
        x0, y0 = int(round(rect.x)), int(round(rect.y))
        x1, y1 = int(round(rect.x + rect.width)), int(round(rect.y + rect.height))
        # One pixel of border between boxes keeps neighbours apart on screen.
        out[y0 + 1:y1 - 1, x0 + 1:x1 - 1] = empty
        img = film.images[i] if i < len(film.images) else None
        if img is None:
            continue
        px = display_gray(img)
        aspect = 1.0
        if img.pixel_aspect_ratio:
            aspect = img.pixel_aspect_ratio[0] / max(img.pixel_aspect_ratio[1], 1)
        inner = Rect(rect.x + 1, rect.y + 1, max(rect.width - 2, 1), max(rect.height - 2, 1))
        if img.requested_size_mm:
            fit = true_size_rect(inner, px.shape[0], px.shape[1], aspect, img.requested_size_mm * scale)
        else:
            fit = fit_rect(inner, px.shape[0], px.shape[1], aspect)
        fx0, fy0 = int(round(fit.x)), int(round(fit.y))
        fw, fh = max(1, int(round(fit.width))), max(1, int(round(fit.height)))
        patch = resample_nearest(px, fh, fw)
        if color and patch.ndim == 2:
            patch = np.repeat(patch[..., None], 3, axis=2)
        out[fy0:fy0 + fh, fx0:fx0 + fw] = patch[:out.shape[0] - fy0, :out.shape[1] - fx0]
    return out, rects
