"""One image for an image box, rendered as its viewport shows it.

:class:`ImageRef` names a frame and the view it is printed with (window, invert, turns,
flips, displayed area, shutter, overlays, marks); :func:`render_for_print` turns it into an
:class:`~viewer.film.spec.ImageBoxSpec` at the print depth through :mod:`viewer.render`
(no second VOI implementation) and :mod:`viewer.film.view`.
"""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass

import numpy as np
from pydicom.dataset import Dataset

from viewer.errors import ViewerError
from viewer.film.burnin import Mark
from viewer.film.compose import true_size_mm
from viewer.film.enums import Polarity
from viewer.film.spec import ImageBoxSpec
from viewer.film.view import (ViewGeometry, apply_geometry, aspect_pair, point_mapper, resample_linear,
                              rotated_pair, source_crop)
from viewer.tasks import print_pstate

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ImageRef:
    """One image to print as the user sees it (a viewport's view, or the file's defaults).

    Attributes
    ----------
    path : str
        DICOM file.
    frame : int
        0-based frame index.
    window : tuple of float or None
        (center, width) in modality units; None = the file's first window.
    rotation : int
        Clockwise rotation in degrees, a multiple of 90.
    flip, flip_v : bool
        Mirror left-right / top-bottom (before the rotation, as the viewport does).
    crop : tuple of int or None
        (row0, col0, row1, col1) of the visible region, in frame pixels (ignored with ``area``).
    area : (x, y, width, height) or None
        The viewport's displayed area in view coordinates (:mod:`viewer.film.view`).
    invert : bool
        The viewport's Invert (grayscale: the VOI output reversed).
    shutter : bool
        Paint the image's Display Shutter (PS3.3 C.7.6.11) over the masked area.
    overlays : bool
        Burn the image's overlay planes (PS3.3 C.9.2) in.
    marks : tuple of Mark
        Measurements and annotations to burn in at film resolution.
    pstate : str
        The Grayscale Softcopy Presentation State file the view applies ("" for none): the
        image prints through it as the screen shows it (:mod:`viewer.tasks.print_pstate`).
    pstate_annotations : bool
        Draw its graphic and text objects (the view's annotation toggle).
    """

    path: str
    frame: int = 0
    window: tuple[float, float] | None = None
    rotation: int = 0
    flip: bool = False
    crop: tuple[int, int, int, int] | None = None
    flip_v: bool = False
    area: tuple[float, float, float, float] | None = None
    invert: bool = False
    shutter: bool = True
    overlays: bool = False
    marks: tuple[Mark, ...] = ()
    pstate: str = ""
    pstate_annotations: bool = True

    @property
    def geometry(self) -> ViewGeometry:
        return ViewGeometry(rotation=self.rotation, flip_h=self.flip, flip_v=self.flip_v, area=self.area)


#: Longest side, in printer pixels, of an image with burnt-in text (about 300 dpi on a
#: 14x17 inch film of 2x2 boxes); text and lines are drawn at this resolution.
FILM_PIXELS = 2048


def render_for_print(ref: ImageRef, bits: int, *, color: bool = False, true_size: bool = False,
                     polarity: Polarity = Polarity.NORMAL, burn_in: bool = False,
                     film_pixels: int = FILM_PIXELS) -> ImageBoxSpec:
    """Render one frame for an image box as its viewport shows it.

    VOI as shown (:func:`viewer.render.render`, no second VOI implementation), invert,
    display shutter, overlays; then the displayed area, flips and rotation
    (:mod:`viewer.film.view`). With a presentation state that applies to the frame
    (``ref.pstate``), its grayscale pipeline, shutters, activated overlays and graphic
    annotations instead, as the viewport draws them (:mod:`viewer.tasks.print_pstate`).
    Non-square pixels keep their Pixel Aspect Ratio (swapped by a quarter turn); the
    printer, or :func:`viewer.film.adapt.adapt_job`, makes them square. With ``burn_in``
    (patient, date, series/image), ``ref.marks`` or annotations of the presentation state,
    the image is first resampled to square pixels at ``film_pixels`` on its longer side,
    and the text and marks are drawn at that resolution. Color sources stay RGB when
    ``color``, else they become 8-bit luma; with ``color``, a presentation state's coloured
    layers make the image 8-bit RGB.
    """
    from viewer.dicom.frames import open_frames
    from viewer.dicom.geometry import pixel_spacing
    from viewer.film.adapt import rgb_to_gray
    from viewer.render import params_from_dataset, render

    src = open_frames(ref.path)
    if not 0 <= ref.frame < src.num_frames:
        raise ViewerError(f"{ref.path}: frame {ref.frame + 1} out of range 1..{src.num_frames}")
    ds = src.dataset
    params = params_from_dataset(ds, ref.frame)
    ps = print_pstate.applied(ref.pstate, ds, params, ref.frame)
    if ps is not None:
        from viewer.render.pstate import is_colored

        # A colour film shows the layers' colours: 8-bit RGB, as the screen (PS3.4 H.4.1.1.2).
        rgb = color and is_colored(ps)
        out_bits = 8 if rgb else bits
        px = print_pstate.levels(src.frame(ref.frame), params, ps, ds, ref.frame, ref.window, ref.invert, out_bits)
        if rgb:
            px = np.repeat(px[:, :, None], 3, axis=2)
        px = print_pstate.burn_layers(px, ps, ds, ref.frame, ref.overlays, out_bits)
    else:
        if ref.window is not None and not params.is_color:
            params = params.with_window(*ref.window)
        if ref.invert and not params.is_color:
            params = dataclasses.replace(params, invert=not params.invert)
        # The display pipeline at the print depth: 12-bit P-values (PS3.4 H.4.1.1.2) come from the
        # same Modality LUT -> VOI as the screen. Colour (RGB, palette, supplemental) is 8-bit.
        px = render(src.frame(ref.frame), params, output_bits=bits)
        out_bits = 8 if px.ndim == 3 else bits
        if px.ndim == 3 and ref.invert:
            px = 255 - px
        if px.ndim == 3 and not color:
            px, out_bits = rgb_to_gray(px), 8
        if ref.overlays:
            px = _burn_overlays(px, ds, ref.frame, out_bits)
        if ref.shutter:
            from viewer.render.shutter import apply_shutter, shutter_from_dataset

            shutter = shutter_from_dataset(ds)
            if shutter is not None:
                px = apply_shutter(px, shutter, bits=out_bits)
    shape = (int(px.shape[0]), int(px.shape[1]))
    graphics = ps is not None and ref.pstate_annotations and print_pstate.has_annotations(ps, ds, ref.frame)
    spacing = pixel_spacing(ds)
    pair = aspect_pair(spacing.row_mm, spacing.col_mm) if spacing is not None else None
    if pair is None and spacing is None:
        par = ds.get("PixelAspectRatio")
        if par and len(par) == 2 and int(par[0]) > 0 and int(par[1]) > 0 and int(par[0]) != int(par[1]):
            pair = (int(par[0]), int(par[1]))
    # The viewport's aspect: the exact spacing ratio (the pair is its rational form for the wire).
    aspect = spacing.row_mm / spacing.col_mm if spacing is not None else (pair[0] / pair[1] if pair else 1.0)
    geometry = ref.geometry
    crop = source_crop(px.shape[:2], aspect, geometry) if ref.area is not None else \
        (ref.crop or (0, 0, px.shape[0], px.shape[1]))
    crop = (max(crop[0], 0), max(crop[1], 0), min(crop[2], px.shape[0]), min(crop[3], px.shape[1]))
    px = apply_geometry(px, crop, geometry)
    pair = rotated_pair(pair, geometry)
    size = None
    if true_size and spacing is not None:
        # Requested Image Size is the printed width (PS3.3 C.13.5); after a quarter turn
        # the printed width runs along the former rows.
        col_mm = spacing.row_mm if geometry.quarter_turns % 2 else spacing.col_mm
        size = true_size_mm(px.shape[1], col_mm)
    if burn_in or ref.marks or graphics:
        from viewer.film.burnin import burn_in as _burn, default_lines

        rows, cols = px.shape[:2]
        height = rows * (pair[0] / pair[1] if pair else 1.0)
        scale = film_pixels / max(height, cols)
        out_rows, out_cols = max(1, round(height * scale)), max(1, round(cols * scale))
        px = resample_linear(px, out_rows, out_cols)
        mapper = point_mapper(crop, geometry, (out_cols / cols, out_rows / rows))
        if graphics and ps is not None:  # under the marks and text, as on screen
            px = print_pstate.draw_annotations(px, ps, ds, ref.frame, shape, mapper, out_bits)
        top, bottom = default_lines(ds, ref.frame, ref.window) if burn_in else ([], [])
        px = _burn(px, out_bits, top, bottom, ref.marks, mapper)
        pair = None
    return ImageBoxSpec(pixels=px, bits=out_bits, polarity=polarity, requested_size_mm=size,
                        pixel_aspect_ratio=pair, source=f"{ref.path}#{ref.frame + 1}")


def _burn_overlays(px: np.ndarray, ds: Dataset, frame: int, bits: int) -> np.ndarray:
    """Overlay planes (PS3.3 C.9.2) burnt in at full white, as the viewport draws them on top."""
    from viewer.render import overlay_layers

    try:
        layers = [np.asarray(x, bool) for x in overlay_layers(ds, frame)]
    except Exception as exc:  # noqa: BLE001 - a broken overlay must not stop the print
        log.info("overlays not printed: %s", exc)
        return px
    layers = [x for x in layers if x.shape == px.shape[:2]]
    if not layers:
        return px
    out = px.copy()
    mask = np.logical_or.reduce(layers)
    out[mask] = 255 if px.ndim == 3 else (1 << bits) - 1
    return out
