"""Presentation states and a viewport's view: save a view as a GSPS, apply a GSPS to a view.

Saving joins the session's :class:`~viewer.session.view_state.ViewState` (window, inversion,
rotation/flip, zoom/pan, measurements and notes) with the writer in
:mod:`viewer.dicom.pstate_write`; applying reads :mod:`viewer.dicom.pstate` back into
view-state values. The two are inverse: a view saved and applied again gives the same
window, transform, zoom, pan and measurements (pan to the nearest half image pixel, the
displayed area being whole pixels).

Geometry. The viewport maps an image point ``p`` (column, row) to view coordinates as
``R(rotation) . S(flip_h, flip_v, aspect) . (p - centre)``: it flips, then rotates. A GSPS
rotates, then flips (PS3.3 C.10.6). ``flip . R(r) = R(-r) . flip``, so a flipped view with
rotation ``t`` is the GSPS rotation ``-t``; a vertical flip is a horizontal one plus 180.
"""

from __future__ import annotations

import dataclasses
import logging
import math
import os
from dataclasses import dataclass, field
from pathlib import Path

from pydicom.dataset import Dataset

from viewer.dicom.frames import read_dataset
from viewer.dicom.pstate import Annotation, PresentationState, read_pstate
from viewer.dicom.pstate_write import ImageMarks, Mark, PresentationContent, build_pstate
from viewer.session.frames import FrameRef
from viewer.session.view_state import Measurement, ViewState

log = logging.getLogger(__name__)

Size = tuple[float, float]


# ---------------------------------------------------------------------- transforms
def gsps_transform(rotation: int, flip_h: bool, flip_v: bool) -> tuple[int, bool]:
    """The viewport's (rotation, flip_h, flip_v) as a GSPS (Image Rotation, Image Horizontal Flip)."""
    theta = (rotation + (180 if flip_v else 0)) % 360
    flip = flip_h != flip_v
    return ((-theta) % 360 if flip else theta), flip


def view_transform(rotation: int, flip: bool) -> tuple[int, bool, bool]:
    """A GSPS rotation and flip as the viewport's (rotation, flip_h, flip_v)."""
    return ((-rotation) % 360 if flip else rotation % 360), flip, False


def _view_to_image(v: tuple[float, float], rotation: int, flip_h: bool, flip_v: bool, aspect: float,
                   shape: tuple[int, int]) -> tuple[float, float]:
    rows, cols = shape
    a = math.radians(-rotation)
    x = v[0] * math.cos(a) - v[1] * math.sin(a)
    y = v[0] * math.sin(a) + v[1] * math.cos(a)
    x, y = x * (-1.0 if flip_h else 1.0), y * (-1.0 if flip_v else 1.0) / aspect
    return x + cols / 2.0, y + rows / 2.0


def _image_to_view(p: tuple[float, float], rotation: int, flip_h: bool, flip_v: bool, aspect: float,
                   shape: tuple[int, int]) -> tuple[float, float]:
    rows, cols = shape
    x, y = p[0] - cols / 2.0, p[1] - rows / 2.0
    x, y = x * (-1.0 if flip_h else 1.0), y * (-1.0 if flip_v else 1.0) * aspect
    a = math.radians(rotation)
    return x * math.cos(a) - y * math.sin(a), x * math.sin(a) + y * math.cos(a)


def displayed_area(state: ViewState, shape: tuple[int, int], viewport: Size | None,
                   aspect: float = 1.0) -> tuple[tuple[int, int], tuple[int, int]] | None:
    """The part of the image the view shows, as GSPS TLHC/BRHC (1-based column, row), or
    None when it shows the whole image fitted (zoom and pan unset) or has no size."""
    if (state.zoom is None and state.pan is None) or viewport is None:
        return None
    rows, cols = shape
    if state.zoom is None:  # fitted but moved: the fitted scale
        corners = [_image_to_view(p, state.rotation, state.flip_h, state.flip_v, aspect, shape)
                   for p in ((0, 0), (cols, 0), (0, rows), (cols, rows))]
        vw = max(c[0] for c in corners) - min(c[0] for c in corners)
        vh = max(c[1] for c in corners) - min(c[1] for c in corners)
        zoom = min(viewport[0] / max(vw, 1e-9), viewport[1] / max(vh, 1e-9))
    else:
        zoom = state.zoom
    cx, cy = state.pan if state.pan is not None else (0.0, 0.0)
    w, h = viewport[0] / zoom, viewport[1] / zoom
    # the pixels under the view's top left and bottom right corners (half a pixel inwards)
    tl = _view_to_image((cx - w / 2 + 0.5, cy - h / 2 + 0.5), state.rotation, state.flip_h, state.flip_v,
                        aspect, shape)
    br = _view_to_image((cx + w / 2 - 0.5, cy + h / 2 - 0.5), state.rotation, state.flip_h, state.flip_v,
                        aspect, shape)
    return (math.floor(tl[0]) + 1, math.floor(tl[1]) + 1), (math.floor(br[0]) + 1, math.floor(br[1]) + 1)


# ---------------------------------------------------------------------- saving
def _marks(items: list[Measurement]) -> tuple[Mark, ...]:
    return tuple(Mark(m.kind, tuple((float(x), float(y)) for x, y in m.points), m.text or "") for m in items)


def _image_marks(ref: FrameRef, header: Dataset, marks: tuple[Mark, ...],
                 area: tuple[tuple[int, int], tuple[int, int]] | None) -> ImageMarks:
    frames = int(header.get("NumberOfFrames", 1) or 1)
    spacing = header.get("PixelSpacing", None)
    return ImageMarks(str(header.SOPClassUID), str(header.SOPInstanceUID), str(header.SeriesInstanceUID),
                      int(header.Rows), int(header.Columns), ref.frame_index + 1 if frames > 1 else 0, marks,
                      (float(spacing[0]), float(spacing[1])) if spacing is not None and len(spacing) >= 2 else None,
                      area)


@dataclass
class SavedPresentation:
    path: Path
    dataset: Dataset


def content_from_view(state: ViewState, viewport: Size | None = None, *, label: str = "VIEWER",
                      description: str = "", creator: str = "",
                      headers: dict[str, Dataset] | None = None,
                      shown_window: tuple[float, float] | None = None) -> tuple[PresentationContent, Dataset]:
    """What a GSPS of this view says, and the header of the image shown.

    ``shown_window`` is the window the viewport uses when the view has none of its own (the
    file's, or min/max of the frame); without it, the file's first window is written.

    The presentation state references the image shown and every image of the stack with
    measurements; the window, inversion, transform and displayed area apply to each.

    Raises
    ------
    ValueError
        When the view shows no image.
    """
    current = state.current
    if current is None:
        raise ValueError("no image shown: nothing to save")
    cache = headers if headers is not None else {}

    def header(ref: FrameRef) -> Dataset:
        if ref.path not in cache:
            cache[ref.path] = read_dataset(ref.path)
        return cache[ref.path]

    shown = header(current)
    shape = (int(shown.Rows), int(shown.Columns))
    spacing = shown.get("PixelSpacing", None)
    aspect = float(spacing[0]) / float(spacing[1]) if spacing is not None and len(spacing) >= 2 \
        and float(spacing[1]) > 0 else 1.0
    area = displayed_area(state, shape, viewport, aspect)
    refs = [current] + [r for r in state.frames if r != current and state.measurements_on(r.image_key)]
    images = tuple(_image_marks(r, header(r), _marks(state.measurements_on(r.image_key)), area) for r in refs)
    rotation, flip = gsps_transform(state.rotation, state.flip_h, state.flip_v)
    slope, intercept = shown.get("RescaleSlope", None), shown.get("RescaleIntercept", None)
    rescale = (float(slope if slope is not None else 1), float(intercept if intercept is not None else 0),
               str(shown.get("RescaleType", "") or "")) if slope is not None or intercept is not None else None
    window = state.window or shown_window
    if window is None:  # the file's first window, which the viewport shows by default
        c, w = shown.get("WindowCenter", None), shown.get("WindowWidth", None)
        if c is not None and w is not None:
            c = c[0] if not isinstance(c, (int, float, str)) and hasattr(c, "__len__") else c
            w = w[0] if not isinstance(w, (int, float, str)) and hasattr(w, "__len__") else w
            window = (float(c), float(w))
    zoom = None if area is None else state.zoom
    # The view's invert toggles the image's own look; a GSPS's shape replaces MONOCHROME1's
    # inversion (PS3.3 C.11.6.1), so a MONOCHROME1 image shown as it is needs INVERSE.
    invert = state.invert != _monochrome1(shown)
    content = PresentationContent(images, window, state.window_name, invert, rotation, flip, zoom, rescale,
                                  label, description, creator)
    return content, shown


def save_view(state: ViewState, viewport: Size | None = None, *, folder: Path | None = None,
              store_root: Path | None = None, label: str = "VIEWER", description: str = "",
              creator: str = "", shown_window: tuple[float, float] | None = None) -> SavedPresentation:
    """Write the view as a GSPS: into ``folder``, else beside the image shown when that folder
    is writable, else into the local store (``store_root``) laid out by study and series.

    Raises
    ------
    ValueError
        When the view shows no image.
    OSError
        When no folder can be written.
    """
    content, shown = content_from_view(state, viewport, label=label, description=description, creator=creator,
                                       shown_window=shown_window)
    ds = build_pstate(content, shown)
    current = state.current
    assert current is not None
    path = write_beside(ds, Path(current.path), folder=folder, store_root=store_root, prefix="PR")
    log.info("presentation state saved: %s", path)
    return SavedPresentation(path, ds)


def write_beside(ds: Dataset, image: Path, *, folder: Path | None = None, store_root: Path | None = None,
                 prefix: str = "PR") -> Path:
    """Write a new object (a presentation state, a key object selection) about ``image``:
    into ``folder``, else beside ``image`` when that folder is writable and not in the local
    store, else into the local store (``store_root``) by study and series.

    Raises
    ------
    OSError
        When no folder can be written.
    """
    name = f"{prefix}_{ds.SOPInstanceUID}.dcm"
    target: Path | None = None
    if folder is not None:
        target = Path(folder) / name
    elif store_root is not None and _inside(image, store_root):
        target = None
    elif os.access(image.parent, os.W_OK):
        target = image.parent / name
    if target is None:
        if store_root is None:
            raise OSError(f"cannot write beside {image} and no local store is set")
        from io import BytesIO

        from viewer.dicom.local_store import LocalStore

        buf = BytesIO()
        ds.save_as(buf, enforce_file_format=True)
        return LocalStore(store_root).write(buf.getvalue(), ds.StudyInstanceUID, ds.SeriesInstanceUID,
                                            ds.SOPInstanceUID)
    target.parent.mkdir(parents=True, exist_ok=True)
    ds.save_as(target, enforce_file_format=True)
    return target


def _monochrome1(header: Dataset) -> bool:
    return str(header.get("PhotometricInterpretation", "") or "").strip().upper() == "MONOCHROME1"


def _inside(path: Path, root: Path) -> bool:
    try:
        path.resolve().relative_to(Path(root).resolve())
        return True
    except ValueError:
        return False


# ---------------------------------------------------------------------- applying
@dataclass
class AppliedView:
    """What applying a presentation state to one image sets.

    ``updates`` are ViewState fields; ``measurements`` the annotations this viewer wrote
    (its own graphic groups), editable again; ``annotations`` the rest, to draw as they are.
    """

    updates: dict[str, object]
    measurements: list[Measurement] = field(default_factory=list)
    annotations: list[Annotation] = field(default_factory=list)


_KINDS = {"distance", "angle", "rect", "ellipse", "polyline", "point", "text", "arrow"}


def _measurements(ps: PresentationState, annotations: list[Annotation]) -> tuple[list[Measurement],
                                                                                 list[Annotation]]:
    """Split annotations into this viewer's measurements (by Graphic Group) and the rest."""
    out: list[Measurement] = []
    rest: list[Annotation] = []
    for ann in annotations:
        texts = {t.group: t for t in ann.texts if t.group is not None}
        used: set[int] = set()
        keep_graphics = []
        for g in ann.graphics:
            kind = ps.groups.get(g.group, "") if g.group is not None else ""
            if kind not in _KINDS or g.units != "PIXEL":
                keep_graphics.append(g)
                continue
            pts = list(g.points)
            if kind == "arrow" and len(pts) == 5:  # tail, tip, then the head's barbs
                pts = pts[:2]
            elif kind == "rect" and len(pts) == 5:
                pts = [pts[0], pts[2]]
            elif kind == "ellipse" and len(pts) == 4:
                a, b = pts[:2], pts[2:]
                horizontal, vertical = (a, b) if a[0][1] == a[1][1] else (b, a)
                pts = [(horizontal[0][0], vertical[0][1]), (horizontal[1][0], vertical[1][1])]
            text = texts[g.group].text if g.group in texts else ""
            if g.group in texts:
                used.add(g.group)
            out.append(Measurement(kind, pts, text))
        keep_texts = []
        for t in ann.texts:
            if t.group in used:
                continue
            if t.group is not None and ps.groups.get(t.group) == "text" and t.anchor is not None \
                    and t.anchor_units == "PIXEL":
                out.append(Measurement("text", [t.anchor], t.text))
                continue
            keep_texts.append(t)
        if keep_graphics or keep_texts:
            rest.append(Annotation(ann.layer, ann.refs, tuple(keep_texts), tuple(keep_graphics)))
    return out, rest


def view_from_pstate(ps: PresentationState, sop_instance_uid: str, frame: int, shape: tuple[int, int],
                     viewport: Size | None = None, aspect: float = 1.0, monochrome1: bool = False) -> AppliedView:
    """The view-state values of ``ps`` for one image (``frame`` 1-based).

    Window: the Softcopy VOI window (a VOI LUT is not a window: the view keeps its own).
    Transform: see the module notes. Displayed area: SCALE TO FIT of the whole image is the
    fitted view (zoom and pan None); otherwise the area's centre is the pan and the zoom is
    the MAGNIFY ratio, or the scale that fits the area into ``viewport``. Inversion: the
    view's ``invert`` toggles the image's own look, so INVERSE on a MONOCHROME1 image is
    ``invert`` False.
    """
    updates: dict[str, object] = {}
    voi = ps.voi_for(sop_instance_uid, frame)
    if voi is not None and voi.center is not None and voi.width is not None:
        updates["window"] = (float(voi.center), max(1.0, float(voi.width)))
        updates["window_name"] = voi.explanation
    else:
        updates["window"], updates["window_name"] = None, ""
    rotation, flip_h, flip_v = view_transform(ps.rotation, ps.flip)
    updates.update(rotation=rotation, flip_h=flip_h, flip_v=flip_v,
                   invert=(ps.plut_shape == "INVERSE") != monochrome1)
    rows, cols = shape
    area = ps.area_for(sop_instance_uid, frame)
    zoom: float | None = None
    pan: tuple[float, float] | None = None
    if area is not None:
        xa, xb = sorted((area.tlhc[0], area.brhc[0]))
        ya, yb = sorted((area.tlhc[1], area.brhc[1]))
        whole = (xa, ya, xb, yb) == (1, 1, cols, rows)
        if not (whole and area.size_mode != "MAGNIFY"):
            corners = [_image_to_view(p, rotation, flip_h, flip_v, aspect, shape)
                       for p in ((xa - 1, ya - 1), (xb, ya - 1), (xa - 1, yb), (xb, yb))]
            x0, x1 = min(c[0] for c in corners), max(c[0] for c in corners)
            y0, y1 = min(c[1] for c in corners), max(c[1] for c in corners)
            pan = ((x0 + x1) / 2.0, (y0 + y1) / 2.0)
            if area.size_mode == "MAGNIFY" and area.magnification:
                zoom = float(area.magnification)
            elif viewport is not None:
                zoom = min(viewport[0] / max(x1 - x0, 1e-9), viewport[1] / max(y1 - y0, 1e-9))
            if abs(pan[0]) < 1e-9 and abs(pan[1]) < 1e-9 and zoom is None:
                pan = None
    updates.update(zoom=zoom, pan=pan)
    measurements, rest = _measurements(ps, ps.annotations_for(sop_instance_uid, frame))
    return AppliedView(updates, measurements, rest)


def apply_to_view(state: ViewState, ps: PresentationState, viewport: Size | None = None,
                  header: Dataset | None = None) -> AppliedView:
    """Apply ``ps`` to the image ``state`` shows: set its fields and put this viewer's
    measurements on every referenced image of the stack (replacing what was there).

    ``header`` is the shown image's data set when at hand (else it is read)."""
    current = state.current
    if current is None:
        raise ValueError("no image shown")
    if header is None:
        header = read_dataset(current.path)
    shape = (int(header.Rows), int(header.Columns))
    spacing = header.get("PixelSpacing", None)
    aspect = float(spacing[0]) / float(spacing[1]) if spacing is not None and len(spacing) >= 2 \
        and float(spacing[1]) > 0 else 1.0
    applied = view_from_pstate(ps, current.sop_instance_uid, current.frame_index + 1, shape, viewport, aspect,
                               _monochrome1(header))
    state.update(**applied.updates)
    for ref in state.frames:
        if not ps.references(ref.sop_instance_uid, ref.frame_index + 1):
            continue
        found, _rest = _measurements(ps, ps.annotations_for(ref.sop_instance_uid, ref.frame_index + 1))
        if not found:
            continue
        state.clear_measurements(ref.image_key)
        for m in found:
            state.add_measurement(m, ref.image_key)
    return applied


def load_pstate(path: str | os.PathLike[str], signed_image: bool = False) -> PresentationState:
    """Read a GSPS file (with its overlay data); the state keeps its ``path``."""
    return dataclasses.replace(read_pstate(read_dataset(path, defer=False), signed_image), path=os.fspath(path))
