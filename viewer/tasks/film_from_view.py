"""Image boxes from viewports: what each viewport shows becomes what its film box prints.

Joins :mod:`viewer.session` (a viewport's :class:`~viewer.session.ViewState`) and
:mod:`viewer.film` (which knows nothing of sessions): the window, invert, shutter,
rotation, flips and displayed area (zoom and pan) of the view, the presentation state it
applies (its pipeline, shutters, overlays and annotations: :mod:`viewer.tasks.print_pstate`),
and, when asked, its overlays and measurements to burn in at film resolution.
"""

from __future__ import annotations

from typing import Sequence

from viewer.film.burnin import Mark
from viewer.session import FrameRef, ViewState
from viewer.tasks.print_render import ImageRef


def _frame_geometry(ref: FrameRef) -> tuple[tuple[int, int], float]:
    """(rows, columns) and pixel aspect (row / column spacing) as the viewport uses them."""
    import pydicom

    from viewer.dicom.geometry import pixel_aspect_ratio

    ds = pydicom.dcmread(ref.path, stop_before_pixels=True)
    return (int(ds.Rows), int(ds.Columns)), float(pixel_aspect_ratio(ds))


def displayed_area(state: ViewState, shape: tuple[int, int], aspect: float,
                   viewport_px: tuple[float, float] | None) -> tuple[float, float, float, float] | None:
    """The view rectangle (x, y, width, height) a viewport of ``viewport_px`` shows; None: the whole image.

    Mirrors the viewport: zoom is screen pixels per view unit about ``pan`` (the image
    centre, (0, 0), when unset); without zoom the image is fitted, moved to ``pan`` if set.
    """
    rows, cols = shape
    turned = (int(state.rotation) // 90) % 2 == 1
    img_w, img_h = (rows * aspect, cols) if turned else (cols, rows * aspect)
    if state.zoom is None:
        if state.pan is None:
            return None
        cx, cy = state.pan
        return cx - img_w / 2, cy - img_h / 2, img_w, img_h
    if viewport_px is None:
        return None
    w, h = max(1.0, viewport_px[0]) / state.zoom, max(1.0, viewport_px[1]) / state.zoom
    cx, cy = state.pan if state.pan is not None else (0.0, 0.0)
    return cx - w / 2, cy - h / 2, w, h


def marks_of(state: ViewState, frame: FrameRef) -> tuple[Mark, ...]:
    """The measurements and annotations on ``frame`` as marks to burn in."""
    return tuple(Mark(m.kind, tuple((float(x), float(y)) for x, y in m.points), m.text)
                 for m in state.measurements_on(frame.image_key))


def image_ref_from_view(state: ViewState, viewport_px: tuple[float, float] | None = None, *,
                        index: int | None = None, measurements: bool = False,
                        overlays: bool | None = None) -> ImageRef:
    """Frame ``index`` (default: the one shown) of ``state`` as the viewport shows it.

    ``viewport_px`` is the viewport's size in screen pixels (needed when zoomed).
    ``measurements``: burn the frame's measurements and annotations in; ``overlays``:
    burn overlay planes in (default: as the view shows them).
    """
    if not state.frames:
        raise ValueError("the viewport shows no image")
    frame = state.frames[state.index if index is None else index]
    area = None
    if state.zoom is not None or state.pan is not None:
        shape, aspect = _frame_geometry(frame)
        area = displayed_area(state, shape, aspect, viewport_px)
    return ImageRef(frame.path, frame.frame_index, window=state.window, rotation=int(state.rotation) % 360,
                    flip=state.flip_h, flip_v=state.flip_v, area=area, invert=state.invert, shutter=state.shutter,
                    overlays=state.show_overlays if overlays is None else overlays,
                    marks=marks_of(state, frame) if measurements else (), pstate=pstate_of(state, frame),
                    pstate_annotations=bool(state.show_annotations))


def pstate_of(state: ViewState, frame: FrameRef) -> str:
    """The file of the presentation state the view applies to ``frame`` ("" for none).

    The viewport renders the images a presentation state references through it
    (``ViewState.presentation``); a film of them is printed through the same file."""
    ps = state.presentation
    if ps is None or not ps.path:
        return ""
    if frame.sop_instance_uid and not ps.references(frame.sop_instance_uid, frame.frame_index + 1):
        return ""
    return ps.path  # without a UID at hand, the render checks the file's (print_pstate.applied)


def image_refs_from_views(views: Sequence[tuple[ViewState, tuple[float, float] | None]], *,
                          measurements: bool = False) -> list[ImageRef]:
    """One image box per viewport (layout order), each as its viewport shows it; empty viewports skipped."""
    return [image_ref_from_view(state, size, measurements=measurements) for state, size in views if state.frames]


def series_refs_from_view(state: ViewState, viewport_px: tuple[float, float] | None = None, *,
                          measurements: bool = False) -> list[ImageRef]:
    """Every frame of the viewport's stack, each with the view of the frame shown."""
    return [image_ref_from_view(state, viewport_px, index=i, measurements=measurements)
            for i in range(len(state.frames))]
