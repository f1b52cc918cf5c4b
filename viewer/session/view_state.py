"""One viewport's view: what it shows and how, with the measurements on each image.

The viewport widget renders from a :class:`ViewState` and changes it only through it;
the cine player, the measuring tools, the menus, the readout, export and print read and
write it too. Field changes are announced through ``changed(state, name, value)``;
``"measurements"`` is announced with the :data:`ImageKey` that changed.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from viewer.session.events import EventedModel
from viewer.session.frames import FrameRef, ImageKey

if TYPE_CHECKING:
    from viewer.dicom.pstate import PresentationState

Point = tuple[float, float]

TOOLS = ("pan", "zoom", "distance", "angle", "rect", "ellipse", "text", "arrow", "cursor")
CINE_MODES = ("loop", "bounce", "once")

_ids = itertools.count(1)


@dataclass(eq=False)
class Measurement:
    """A measurement or annotation on one image, in image coordinates (column, row).

    Annotations are ``text`` (one point: the label's anchor, ``text`` its words) and
    ``arrow`` (two points: tail, tip).

    ``result`` is the value (a Length, degrees, RoiStats); ``text`` what the label shows.
    """

    kind: str
    points: list[Point]
    text: str = ""
    result: Any = None
    id: int = field(default_factory=lambda: next(_ids))


class ViewState(EventedModel):
    """The view of one viewport.

    Fields
    ------
    series_uid : str
        Series Instance UID shown ("" for none).
    frames : list of FrameRef
        The stack, in display order.
    index : int
        Position in ``frames``.
    window : (center, width) or None
        The user's window in modality units; None: the file's own (or min/max).
    window_name : str
        The preset's name, for the corner text.
    zoom : float or None
        Screen pixels per image column; None: fit the image into the viewport.
    pan : (x, y) or None
        The view centre in view coordinates (image centre = (0, 0)); None: centred.
    rotation : int
        Clockwise, degrees, multiple of 90.
    flip_h, flip_v, invert, shutter, show_overlays, show_annotations : bool
        ``shutter``: apply the image's Display Shutter.
    tool : str
        The left-button tool (one of :data:`TOOLS`).
    selected : int or None
        The selected measurement's id (on the image shown).
    message : str
        Why the viewport shows no image (an error, or a hint), "" when it shows one.
    note : str
        A line shown over the image (e.g. why the series asked for first could not be shown).
    cine_fps : float or None
        The user's cine rate; None: the file's timing.
    cine_mode : str
        ``loop``, ``bounce`` or ``once``.
    playing : bool
    document : str
        The file of a structured report or encapsulated document (PDF, CDA) shown instead of
        images ("" when none): the viewport area shows the document, not the last image.
    presentation : PresentationState or None
        The Grayscale Softcopy Presentation State applied: the images it references are
        rendered through its Modality, VOI and Presentation LUTs (the window field, when set,
        still wins) and without the image's own Display Shutter (the GSPS's shutters replace it).
    """

    FIELDS = ("series_uid", "frames", "index", "window", "window_name", "zoom", "pan", "rotation", "flip_h",
              "flip_v", "invert", "shutter", "show_overlays", "show_annotations", "tool", "selected",
              "message", "note", "cine_fps", "cine_mode", "playing", "document",
              "presentation")

    def __init__(self) -> None:
        super().__init__()
        self.series_uid = ""
        self.frames: list[FrameRef] = []
        self.index = 0
        self.window: tuple[float, float] | None = None
        self.window_name = ""
        self.zoom: float | None = None
        self.pan: tuple[float, float] | None = None
        self.rotation = 0
        self.flip_h = False
        self.flip_v = False
        self.invert = False
        self.shutter = True
        self.show_overlays = True
        self.show_annotations = True
        self.tool = "pan"
        self.selected: int | None = None
        self.message = ""
        self.note = ""
        self.cine_fps: float | None = None
        self.cine_mode = "loop"
        self.playing = False
        self.document = ""
        self.presentation: PresentationState | None = None
        self.measurements: dict[ImageKey, list[Measurement]] = {}

    # ------------------------------------------------------------------ stack
    def set_frames(self, frames: list[FrameRef], start: int = 0, series_uid: str = "") -> None:
        """Show a new stack from frame ``start``; the window, zoom and pan start afresh."""
        self.playing = False
        self.series_uid = series_uid
        self.frames = list(frames)
        self.update(window=None, window_name="", zoom=None, pan=None, selected=None, message="", note="",
                    document="", presentation=None)
        # Announce the index even when it is the same number: it is another image now.
        self.__dict__["index"] = -1
        self.index = max(0, min(start, len(self.frames) - 1)) if self.frames else 0

    def replace_frames(self, frames: list[FrameRef]) -> None:
        """A grown or re-sorted stack of the same series: stay on the image shown."""
        ref = self.current
        self.frames = list(frames)
        if ref is not None and ref in self.frames:
            self.index = self.frames.index(ref)
        else:
            self.index = max(0, min(self.index, len(self.frames) - 1))

    def clear(self, message: str = "") -> None:
        """Show nothing (and say why)."""
        self.playing = False
        self.update(series_uid="", frames=[], index=0, window=None, window_name="", zoom=None, pan=None,
                    selected=None, message=message, note="", document="", presentation=None)

    def show_document(self, path: str, message: str = "", series_uid: str = "") -> None:
        """Show a report or document (its file, of series ``series_uid``) instead of images;
        ``message`` says what it is (the viewport's text while the document loads, and if it
        cannot be shown)."""
        self.clear(message)
        self.series_uid = series_uid
        self.document = str(path)

    @property
    def current(self) -> FrameRef | None:
        if not self.frames:
            return None
        return self.frames[max(0, min(self.index, len(self.frames) - 1))]

    @property
    def count(self) -> int:
        return len(self.frames)

    def set_index(self, index: int) -> None:
        """Go to frame ``index`` (clamped)."""
        if self.frames:
            self.index = max(0, min(int(index), len(self.frames) - 1))

    def step(self, delta: int) -> None:
        self.set_index(self.index + delta)

    # ------------------------------------------------------------------ window
    def set_window(self, center: float, width: float, name: str = "") -> None:
        self.update(window=(float(center), max(1.0, float(width))), window_name=name)

    def reset_window(self) -> None:
        self.update(window=None, window_name="")

    # ------------------------------------------------------------------ geometry
    def rotate(self, degrees: int) -> None:
        self.update(rotation=(self.rotation + degrees) % 360, zoom=None, pan=None)

    def set_flip(self, horizontal: bool | None = None, vertical: bool | None = None) -> None:
        if horizontal is not None:
            self.flip_h = bool(horizontal)
        if vertical is not None:
            self.flip_v = bool(vertical)
        self.update(zoom=None, pan=None)

    # ------------------------------------------------------------------ measurements
    def measurements_on(self, key: ImageKey | None = None) -> list[Measurement]:
        """The measurements on an image (default: the one shown)."""
        if key is None:
            ref = self.current
            if ref is None:
                return []
            key = ref.image_key
        return list(self.measurements.get(key, []))

    def add_measurement(self, m: Measurement, key: ImageKey | None = None) -> Measurement:
        if key is None:
            ref = self.current
            if ref is None:
                raise ValueError("no image to measure on")
            key = ref.image_key
        self.measurements.setdefault(key, []).append(m)
        self.changed.emit(self, "measurements", key)
        return m

    def find_measurement(self, mid: int) -> tuple[ImageKey, Measurement] | None:
        for key, items in self.measurements.items():
            for m in items:
                if m.id == mid:
                    return key, m
        return None

    def remove_measurement(self, mid: int) -> bool:
        """Delete one measurement by id; False when there is none."""
        found = self.find_measurement(mid)
        if found is None:
            return False
        key, m = found
        self.measurements[key].remove(m)
        if not self.measurements[key]:
            del self.measurements[key]
        if self.selected == mid:
            self.selected = None
        self.changed.emit(self, "measurements", key)
        return True

    def set_measurement_text(self, mid: int, text: str) -> bool:
        """Change the text of one measurement or note (a text label's words); False when
        there is no such measurement."""
        found = self.find_measurement(mid)
        if found is None:
            return False
        key, m = found
        m.text = text
        self.changed.emit(self, "measurements", key)
        return True

    def delete_selected(self) -> bool:
        return self.selected is not None and self.remove_measurement(self.selected)

    def clear_measurements(self, key: ImageKey | None = None) -> None:
        """Remove the measurements on an image (default: the one shown)."""
        if key is None:
            ref = self.current
            if ref is None:
                return
            key = ref.image_key
        if self.measurements.pop(key, None) is not None:
            self.selected = None
            self.changed.emit(self, "measurements", key)
