"""A presentation state on film: an image printed as the screen shows it with a GSPS applied.

The viewport shows an image a Grayscale Softcopy Presentation State references through the
presentation state's Modality LUT, Softcopy VOI and Presentation LUT (the view's window and
invert on top, :func:`viewer.render.pstate.view_params`), without the image's own Display
Shutter and overlays; over it the presentation state's shutters, the overlays it activates
(PS3.3 C.11.7) and its graphic annotations (C.10.5) in image coordinates, so they follow the
view's rotation, flips and displayed area while text stays upright (``viewer.ui.pstate_ui``).

A film does the same with the same functions of :mod:`viewer.render.pstate`: P-values at the
print depth (PS3.4 H.4.1.1.2: 8 or 12 bits), shutters and overlays burnt in before the view's
geometry, annotations drawn at film resolution through the point mapping of
:mod:`viewer.film.view`. DISPLAY units (C.10.5.1.1) are fractions of the presentation state's
displayed area; like the viewport, they are placed on the image through that area first.

A grayscale film gets each layer's monochrome level (C.10.7.1.1), a colour film its colour.
"""

from __future__ import annotations

import logging
import os
from functools import lru_cache
from typing import Callable

import numpy as np
from pydicom.dataset import Dataset

from viewer.dicom.pstate import PresentationState
from viewer.render.params import RenderParams

log = logging.getLogger(__name__)

Point = tuple[float, float]


@lru_cache(maxsize=8)
def _load(path: str, mtime_ns: int, signed: bool) -> PresentationState:
    """One read per file version (a series of 40 images names the same GSPS 40 times)."""
    from viewer.tasks.pstate import load_pstate

    return load_pstate(path, signed_image=signed)


def applied(path: str, ds: Dataset, params: RenderParams, frame_index: int) -> PresentationState | None:
    """The presentation state of file ``path`` when it applies to frame ``frame_index`` of ``ds``.

    None without a path, for a colour image (a GSPS is grayscale only, PS3.3 A.33.1), for an
    image it does not reference (the view's other images print as they are shown: without
    it), and when the file cannot be read (the image then prints without it, logged).
    """
    if not path or params.is_color:
        return None
    signed = str(ds.get("PixelRepresentation", 0) or 0).strip() == "1"
    try:
        ps = _load(os.fspath(path), os.stat(path).st_mtime_ns, signed)
    except Exception as exc:  # noqa: BLE001 - a presentation state gone or broken must not stop the print
        log.warning("presentation state %s not applied on film: %s", path, exc)
        return None
    sop = str(ds.get("SOPInstanceUID", "") or "")
    return ps if ps.references(sop, frame_index + 1) else None


def levels(frame: np.ndarray, params: RenderParams, ps: PresentationState, ds: Dataset, frame_index: int,
           window: tuple[float, float] | None, invert: bool, bits: int) -> np.ndarray:
    """The frame's P-values of ``bits`` bits as the viewport renders it through ``ps``."""
    from viewer.render.pstate import gray_levels, view_params

    sop = str(ds.get("SOPInstanceUID", "") or "")
    return gray_levels(frame, view_params(params, ps, sop, frame_index + 1, window, invert), ps.plut, bits)


def burn_layers(px: np.ndarray, ps: PresentationState, ds: Dataset, frame_index: int, image_overlays: bool,
                bits: int) -> np.ndarray:
    """Shutters and activated overlays burnt in (image space, before the view's geometry).

    Overlay planes of the presentation state are always drawn; planes of the image it
    activates only when the view shows overlays (``image_overlays``), as the viewport does.
    """
    from viewer.render.pstate import burn_layers as _burn

    planes: dict[int, np.ndarray] = {}
    wanted = {ov.group for ov in ps.overlays if ov.bits is None}
    if image_overlays and wanted:
        from viewer.render import overlay_layers
        from viewer.render.overlays import overlay_groups

        try:
            found = dict(zip(overlay_groups(ds), overlay_layers(ds, frame_index)))
            planes = {g: np.asarray(p, bool) for g, p in found.items() if g in wanted}
        except Exception as exc:  # noqa: BLE001 - a broken overlay must not stop the print
            log.info("overlays not printed: %s", exc)
    return _burn(px, ps, planes, bits)


def has_annotations(ps: PresentationState, ds: Dataset, frame_index: int) -> bool:
    """Whether ``ps`` has graphic or text objects on this frame."""
    return bool(ps.annotations_for(str(ds.get("SOPInstanceUID", "") or ""), frame_index + 1))


def draw_annotations(px: np.ndarray, ps: PresentationState, ds: Dataset, frame_index: int,
                     shape: tuple[int, int], to_film: Callable[[float, float], Point], bits: int) -> np.ndarray:
    """The graphic and text objects on this frame drawn on the film image ``px``.

    ``shape`` is the frame's (rows, columns); ``to_film`` maps an image point (column, row)
    to ``px``'s pixels (the view's crop, flips, turn and the film's scale). Text and lines
    are sized for the film as burnt-in text is (:func:`viewer.film.burnin.burn_in`).
    """
    from viewer.render.pstate import draw_graphics, geometry

    sop = str(ds.get("SOPInstanceUID", "") or "")
    anns = ps.annotations_for(sop, frame_index + 1)
    if not anns:
        return px
    geo = geometry(ps, sop, frame_index + 1, shape)
    out_w, out_h = geo.out_size

    def to_out(p: Point, units: str) -> Point:
        if units == "DISPLAY":  # a fraction of the displayed area, placed on the image first
            return to_film(*geo.unmap_point(p[0] * out_w, p[1] * out_h))
        return to_film(*p)

    rows = px.shape[0]
    return draw_graphics(px, anns, ps, to_out, bits=bits, font_size=max(8, rows // 24), width=max(1, rows // 400))
