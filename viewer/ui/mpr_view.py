"""Multiplanar reconstruction on screen: axial, coronal and sagittal views with a crosshair.

The planes are a frame source of the reading session (:mod:`viewer.session.mpr`): the three
views are ordinary grid viewports whose stacks are ``mpr:`` frames, decoded (cut from the
volume) by the frame loader in the decode pool like any file's frames. So window/level,
presets, zoom, measurements (in mm, from each plane's spacing), orientation letters and PNG
export of the view work on them as on acquired slices; the pixel aspect comes from the
plane's spacing (a coronal plane of 5 mm slices is not squashed). Printing and series export
read files and do not take MPR planes yet.

The crosshair is the session's 3D cursor: with the crosshair tool (the 3D cursor tool), a
click or drag in one view moves the cursor, and the other views show the planes through
it; scrolling a view moves the cursor along that view's normal. Ctrl+drag in the axial view
rotates the crosshair: the coronal and sagittal planes turn about the axial normal
(oblique planes, :func:`viewer.render.mpr.rotated_plane`). The MPR toolbar sets the slab
thickness and mode (MIP, MinIP, average), resets the rotation, shows the volume's notes
(gaps, uneven spacing) and closes MPR. The volume is built in a worker with progress and
cancel; a stack that cannot form a volume (a tilted gantry, mixed orientations) is refused
with the reason.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
from PySide6.QtCore import QEvent, QObject, QPointF, Qt, Signal
from PySide6.QtGui import QAction, QColor, QKeySequence, QMouseEvent, QPainterPath, QPen
from PySide6.QtWidgets import (QComboBox, QDoubleSpinBox, QGraphicsPathItem, QLabel, QMessageBox, QProgressDialog,
                               QPushButton, QToolBar)

from viewer.errors import Cancelled
from viewer.dicom.geometry import PixelSpacing, slice_normal
from viewer.render.mpr import Plane, SlabMode
from viewer.session.frames import FrameRef
from viewer.session.mpr import PLANES, SCHEME, MprSource, parse_path, source_of
from viewer.ui.viewport_loader import VIRTUAL_SOURCES, LoadedFrame, ViewKey, render_view
from viewer.ui.workers import Worker, message, run_in

if TYPE_CHECKING:
    from viewer.dicom.model import Series
    from viewer.dicom.volume_io import LoadedVolume
    from viewer.ui.viewport import Viewport

log = logging.getLogger(__name__)

#: Modalities offered MPR (cross-sectional stacks).
MPR_MODALITIES = frozenset({"CT", "MR", "PT", "NM"})
#: Crosshair colours: the line of each plane, as drawn in the other two views.
PLANE_COLOURS = {Plane.AXIAL: QColor(255, 90, 90), Plane.CORONAL: QColor(90, 230, 90),
                 Plane.SAGITTAL: QColor(90, 160, 255)}
MODES = (("MIP", SlabMode.MIP), ("MinIP", SlabMode.MINIP), ("Average", SlabMode.AVG))


def load_plane(ref: FrameRef, view: ViewKey | None = None) -> LoadedFrame:
    """Worker body for ``mpr:`` frames: cut the plane, give it a header, render it ahead."""
    from viewer.errors import ReadError
    from viewer.render import params_from_dataset

    source = source_of(ref.path)
    if source is None:
        raise ReadError("the MPR volume was closed")
    if source.superseded(ref):
        raise Cancelled("a plane of settings no view shows any more")  # prefetched before a rotation
    image = source.image(ref)
    ds = source.header(ref, image)
    spacing = PixelSpacing(float(image.spacing[0]), float(image.spacing[1]), "MPR plane spacing")
    item = LoadedFrame(ref, image.pixels, params_from_dataset(ds), ds, 1, spacing, image.orientation,
                       tuple(float(v) for v in image.position))
    if view is not None:
        from viewer.ui.viewport_image import to_rgb32

        item.display = render_view(image.pixels, item, view)
        item.display32 = to_rgb32(item.display)
        item.display_key = view
    return item


VIRTUAL_SOURCES[SCHEME] = load_plane


def is_mpr(vp: Viewport) -> bool:
    """Whether a viewport shows MPR planes."""
    ref = vp.state.current
    return ref is not None and ref.path.startswith(SCHEME)


def _clip(u: float, v: float, du: float, dv: float, cols: int, rows: int) -> tuple[float, float] | None:
    """Parameter range of the line (u, v) + t (du, dv) inside [-0.5, cols-0.5] x [-0.5, rows-0.5]."""
    t0, t1 = -math.inf, math.inf
    for p, d, lo, hi in ((u, du, -0.5, cols - 0.5), (v, dv, -0.5, rows - 0.5)):
        if abs(d) < 1e-12:
            if not lo <= p <= hi:
                return None
            continue
        a, b = (lo - p) / d, (hi - p) / d
        t0, t1 = max(t0, min(a, b)), min(t1, max(a, b))
    return (t0, t1) if t0 < t1 else None


def crosshair_line(item: LoadedFrame, point: tuple[float, ...],
                   other_normal: tuple[float, float, float]) -> tuple[tuple[float, float], tuple[float, float]] | None:
    """Where the plane through ``point`` with ``other_normal`` cuts the frame ``item``: the
    segment's two ends in DICOM pixel coordinates (column, row; centres at integers)."""
    if item.position is None or item.orientation is None or item.spacing is None:
        return None
    row = np.asarray(item.orientation[:3], dtype=np.float64)
    col = np.asarray(item.orientation[3:6], dtype=np.float64)
    normal = np.cross(row, col)
    d = np.cross(normal, np.asarray(other_normal, dtype=np.float64))
    if np.linalg.norm(d) < 1e-6:
        return None  # parallel planes: no line
    rel = np.asarray(point, dtype=np.float64) - np.asarray(item.position, dtype=np.float64)
    row_mm, col_mm = float(item.spacing[0]), float(item.spacing[1])
    u, v = float(rel @ row) / col_mm, float(rel @ col) / row_mm
    du, dv = float(d @ row) / col_mm, float(d @ col) / row_mm
    rows, cols = item.stored.shape[:2]
    span = _clip(u, v, du, dv, cols, rows)
    if span is None:
        return None
    t0, t1 = span
    return (u + t0 * du, v + t0 * dv), (u + t1 * du, v + t1 * dv)


@dataclass(frozen=True)
class _Previous:
    """What the window showed before MPR (restored by Close MPR)."""

    layout: str
    shown: list[tuple[str, int, str, str]]  #: per visible viewport: series UID, index, document, message
    tool: str
    reference_lines: bool
    active: int


class _Crosshair:
    """The lines of the two other planes on one view's image anchor."""

    def __init__(self, vp: Viewport) -> None:
        self.items: dict[Plane, QGraphicsPathItem] = {}
        for plane, colour in PLANE_COLOURS.items():
            item = QGraphicsPathItem(vp.anchor)
            pen = QPen(colour, 1.2)
            pen.setCosmetic(True)
            item.setPen(pen)
            item.setZValue(16)
            item.setVisible(False)
            self.items[plane] = item

    def hide(self) -> None:
        for item in self.items.values():
            item.setVisible(False)


class MprController(QObject):
    """The MPR action, the building worker, the MPR toolbar and the crosshair gestures.

    Signals
    -------
    started()
        The three views were given their planes.
    failed(str)
        The volume could not be built (the reason).
    """

    started = Signal()
    failed = Signal(str)

    def __init__(self, window: Any) -> None:
        super().__init__(window)
        self.w = window
        self.source: MprSource | None = None
        self.views: dict[Plane, Viewport] = {}
        self.last_error = ""
        self._worker: Worker | None = None
        self._progress: QProgressDialog | None = None
        self._previous: _Previous | None = None
        self._moving = False
        self._dragging: Viewport | None = None
        self._rotating: tuple[float, float] | None = None  #: (mouse angle at press, crosshair angle at press)
        self._cut_job: Worker | None = None
        self._wanted: dict[str, Any] = {}  #: settings asked for, not cut yet
        self._wanted_planes: set[Plane] = set()
        self._crosshairs: dict[int, _Crosshair] = {}
        self._by_widget: dict[int, Viewport] = {}
        self._wired: set[int] = set()

        self.action = QAction("&MPR (axial, coronal, sagittal)", window)
        self.action.setIconText("MPR")
        self.action.setShortcut(QKeySequence("Ctrl+Shift+M"))
        self.action.setToolTip("Multiplanar reconstruction of the active CT/MR stack (Ctrl+Shift+M)")
        self.action.triggered.connect(lambda: self.start())
        view_menu = getattr(window, "view_menu", None)
        if view_menu is not None:
            view_menu.addSeparator()
            view_menu.addAction(self.action)
        toolbar = getattr(window, "toolbar", None)
        if toolbar is not None:
            toolbar.addAction(self.action)
        self._build_bar()
        window.grid.viewport_added.connect(self._wire)
        for vp in window.grid.viewports:
            self._wire(vp)
        window.session.changed.connect(lambda _s, name, _v: self.update_crosshair() if name == "cursor" else None)

    # ------------------------------------------------------------------ toolbar
    def _build_bar(self) -> None:
        bar = QToolBar("MPR", self.w)
        bar.setObjectName("toolbar-mpr")
        bar.addWidget(QLabel(" MPR slab "))
        self.slab = QDoubleSpinBox()
        self.slab.setRange(0.0, 200.0)
        self.slab.setSingleStep(1.0)
        self.slab.setDecimals(1)
        self.slab.setSuffix(" mm")
        self.slab.setSpecialValueText("thin")
        self.slab.setToolTip("Slab thickness (0: a single plane)")
        self.slab.setFocusPolicy(Qt.FocusPolicy.ClickFocus)
        self.slab.valueChanged.connect(lambda v: self.set_slab(float(v)))
        bar.addWidget(self.slab)
        self.mode = QComboBox()
        for text, mode in MODES:
            self.mode.addItem(text, mode.value)
        self.mode.setToolTip("How a thick slab is projected")
        self.mode.setFocusPolicy(Qt.FocusPolicy.ClickFocus)
        self.mode.currentIndexChanged.connect(lambda i: self.set_mode(SlabMode(self.mode.itemData(i))))
        bar.addWidget(self.mode)
        self.angle_label = QLabel(" 0° ")
        self.angle_label.setToolTip("Rotation of the crosshair (Ctrl+drag in the axial view)")
        bar.addWidget(self.angle_label)
        reset = QPushButton("Reset rotation")
        reset.clicked.connect(lambda: self.set_angle(0.0))
        bar.addWidget(reset)
        close = QPushButton("Close MPR")
        close.clicked.connect(self.close)
        bar.addWidget(close)
        self.notes_label = QLabel("")
        self.notes_label.setStyleSheet("color: #c07000; padding-left: 8px;")
        self.notes_label.setWordWrap(False)
        bar.addWidget(self.notes_label)
        self.bar = bar
        self.w.addToolBarBreak(Qt.ToolBarArea.TopToolBarArea)
        self.w.addToolBar(Qt.ToolBarArea.TopToolBarArea, bar)
        bar.hide()

    # ------------------------------------------------------------------ wiring
    def _wire(self, vp: Viewport) -> None:
        if id(vp) in self._wired:
            return
        self._wired.add(id(vp))
        widget = vp.view.viewport()
        self._by_widget[id(widget)] = vp
        widget.installEventFilter(self)
        vp.state.changed.connect(lambda _s, name, value, v=vp: self._on_state(v, name, value))
        vp.image_shown.connect(lambda _ref, v=vp: self._on_image(v))

    def _plane_of(self, vp: Viewport) -> Plane | None:
        ref = vp.state.current
        parsed = parse_path(ref.path) if ref is not None else None
        if parsed is None or self.source is None or parsed[0] != self.source.key:
            return None
        return parsed[1]

    # ------------------------------------------------------------------ starting
    def series_for(self, vp: Viewport | None = None) -> Series | None:
        """The series of ``vp`` (default: the active viewport) if MPR can be offered for it."""
        vp = vp or self.w.viewport
        tree = self.w._tree
        uid = vp.state.series_uid or self.w._series_uid_of(vp)
        series = tree.series_by_uid(uid) if tree is not None and uid else None
        if series is None or str(series.modality or "") not in MPR_MODALITIES:
            return None
        return series

    def start(self, series: Series | None = None) -> Worker | None:
        """Build the volume of ``series`` (default: the active viewport's) and show the three planes."""
        series = series or self.series_for()
        if series is None:
            self._fail("MPR needs a CT or MR stack in the active viewport")
            return None
        if self._worker is not None:  # a build under way: this one replaces it
            self._worker.cancel()
            self._worker = None
            if self._progress is not None:
                _close_quietly(self._progress)
                self._progress = None
        from viewer.dicom.volume_io import volume_of_series

        dialog = QProgressDialog("Building the volume for MPR…", "Cancel", 0, max(1, series.instance_count), self.w)
        dialog.setWindowTitle("MPR")
        dialog.setMinimumDuration(300)
        dialog.setAutoClose(False)
        dialog.setAutoReset(False)
        self._progress = dialog
        if self.source is None:  # what comes back on Close MPR (not the MPR views themselves)
            shown = [(vp.state.series_uid or self.w._series_uid_of(vp), vp.state.index, vp.state.document,
                      vp.state.message) for vp in self.w.grid.visible_viewports()]
            self._previous = _Previous(self.w.grid.layout_name, shown, self.w.viewport.state.tool,
                                       self.w.reference_lines.enabled, self.w.session.active)
        uid = str(series.series_instance_uid)

        # Each build answers for itself only: a build replaced by a newer one (MPR pressed
        # again while the volume is read) ends later, and its end must not touch the newer
        # build's dialog or worker (closing that dialog cancelled the newer build).
        def latest() -> bool:
            return self._worker is worker

        def progress(value: Any) -> None:
            if isinstance(value, tuple) and latest():
                done, total = value
                dialog.setMaximum(max(1, int(total)))
                dialog.setValue(int(done))

        def built(loaded: LoadedVolume) -> None:
            if latest():
                self._built(loaded, uid)

        def failed(exc: BaseException) -> None:
            if latest():
                self._fail(f"MPR is not possible for this series: {message(exc)}")

        def aborted() -> None:
            if latest():
                self.w.statusBar().showMessage("MPR cancelled")

        def finished() -> None:
            _close_quietly(dialog)
            if latest():
                self._worker = None
                self._progress = None

        worker = run_in(self.w.pools, self.w.pools.decode, volume_of_series, series, pass_cancel=True,
                        pass_progress=True, on_progress=progress, on_result=built, on_error=failed,
                        on_abort=aborted, on_finished=finished, owner=self)
        dialog.canceled.connect(worker.cancel)
        self._worker = worker
        self.w.statusBar().showMessage("Building the volume for MPR…")
        return worker

    def _fail(self, text: str) -> None:
        self.last_error = text
        self.w.statusBar().showMessage(text, 15000)
        self.failed.emit(text)
        if not getattr(self.w, "quiet_errors", False):
            QMessageBox.warning(self.w, "MPR", text)

    def _built(self, loaded: LoadedVolume, series_uid: str) -> None:
        self._end_source()
        source = self.source = MprSource(loaded, series_uid)
        self.last_error = ""
        self.w.grid.set_layout("1x3")  # the planes first, then the window's bookkeeping (no fill-up)
        self.views = dict(zip(PLANES, self.w.grid.visible_viewports()[:3]))
        self.w.reference_lines.set_enabled(False)  # the crosshair shows the planes instead
        center = source.settings.center
        self._moving = True
        try:
            for plane, vp in self.views.items():
                vp.state.set_frames(source.frames(plane), source.index_through(plane, center), series_uid)
        finally:
            self._moving = False
        self.w.set_layout("1x3")
        self.w.viewer_menus.set_tool("cursor")
        self.w.session.set_active(0)
        self._set_cursor(center, None)
        self.slab.blockSignals(True)
        self.slab.setValue(0.0)
        self.slab.blockSignals(False)
        self.mode.blockSignals(True)
        self.mode.setCurrentIndex(0)
        self.mode.blockSignals(False)
        self.angle_label.setText(" 0° ")
        notes = "; ".join(source.notes)
        self.notes_label.setText(notes)
        self.notes_label.setToolTip(notes)
        self.bar.show()
        vol = source.volume
        self.w.statusBar().showMessage(
            f"MPR: {vol.shape[2]}×{vol.shape[1]}×{vol.shape[0]} voxels of "
            f"{vol.spacing[2]:.3g}×{vol.spacing[1]:.3g}×{vol.spacing[0]:.3g} mm" + (f" — {notes}" if notes else ""),
            20000)
        self.started.emit()

    @property
    def notes(self) -> str:
        """The notes shown on the MPR toolbar (gaps, uneven spacing), "" when none."""
        return self.notes_label.text()

    # ------------------------------------------------------------------ closing
    def _end_source(self) -> None:
        self._wanted, self._wanted_planes = {}, set()
        if self.source is not None:
            self.source.close()
            self.source = None
        for cross in self._crosshairs.values():
            cross.hide()
        self.bar.hide()

    def close(self) -> None:
        """Leave MPR: the previous layout, series and tool come back."""
        if self.source is None:
            return
        previous = self._previous
        views = list(self.views.values())
        self._end_source()
        self.views = {}
        for vp in views:
            if vp.state.current is not None and vp.state.current.path.startswith(SCHEME):
                vp.state.clear()
        if previous is not None:
            self.w.grid.set_layout(previous.layout)
            tree = self.w._tree
            for vp, (uid, index, document, text) in zip(self.w.grid.viewports, previous.shown):
                series = tree.series_by_uid(uid) if tree is not None and uid else None
                if document:
                    vp.state.show_document(document, text, uid)
                elif series is not None:
                    self.w.show_series(series, vp)
                    vp.set_index(index)
                else:
                    vp.state.clear(text)
            self.w.set_layout(previous.layout)
            self.w.session.set_active(min(previous.active, len(self.w.grid.visible_viewports()) - 1))
            self.w.viewer_menus.set_tool(previous.tool)
            self.w.reference_lines.set_enabled(previous.reference_lines)
        self.w.session.set_cursor(None)

    # ------------------------------------------------------------------ settings
    def set_slab(self, mm: float) -> None:
        if self.source is not None and abs(mm - self._latest("slab_mm")) > 1e-9:
            self._apply(PLANES, slab_mm=max(0.0, float(mm)))

    def set_mode(self, mode: SlabMode) -> None:
        if self.source is not None and SlabMode(mode) is not self._latest("mode"):
            self._apply(PLANES, mode=SlabMode(mode))

    def set_angle(self, degrees: float) -> None:
        """Rotate the crosshair in the axial view to ``degrees`` (coronal/sagittal become
        oblique; the axial plane does not turn)."""
        if self.source is None:
            return
        cursor = tuple(float(v) for v in (self.w.session.cursor or self.source.settings.center))
        self._apply((Plane.CORONAL, Plane.SAGITTAL), angle_deg=(float(degrees) + 180.0) % 360.0 - 180.0,
                    center=cursor)

    def _latest(self, name: str) -> Any:
        """A setting as last asked for (it may still be waiting to be cut)."""
        if name in self._wanted:
            return self._wanted[name]
        return getattr(self.source.settings, name) if self.source is not None else None

    @property
    def busy(self) -> bool:
        """New planes are being cut or wait to be (tests wait for the last ones)."""
        return self._cut_job is not None or bool(self._wanted)

    def _apply(self, planes: tuple[Plane, ...], **changes: Any) -> None:
        """New settings for ``planes``' views. The planes through the crosshair are cut in the
        decode pool and swapped in together once ready, so no view goes blank; settings asked
        for meanwhile (a drag of the crosshair's handle, spin box steps) are coalesced into the
        next cut."""
        self._wanted.update(changes)
        self._wanted_planes.update(planes)
        if self._cut_job is None:
            self._next_cut()

    def _next_cut(self) -> None:
        changes, planes = self._wanted, self._wanted_planes
        self._wanted, self._wanted_planes = {}, set()
        source = self.source
        if not changes or source is None:
            return
        settings = source.update(**changes)
        cursor = tuple(float(v) for v in (self.w.session.cursor or settings.center))
        wanted = []
        for plane in PLANES:
            vp = self.views.get(plane)
            if plane in planes and vp is not None and self._plane_of(vp) is not None:
                refs = source.frames(plane)
                wanted.append((plane, refs, source.index_through(plane, cursor), vp.view_key()))

        def cut() -> list[tuple[Plane, list[FrameRef], int, LoadedFrame]]:
            return [(plane, refs, i, load_plane(refs[i], key)) for plane, refs, i, key in wanted]

        def show(results: list[tuple[Plane, list[FrameRef], int, LoadedFrame]]) -> None:
            if self.source is not source:
                return
            self._moving = True
            try:
                for plane, refs, i, item in results:
                    vp = self.views[plane]
                    source.shown(plane, source.version_of(refs[i]))
                    vp.loader.put(item)  # ready: the view swaps planes without a blank frame
                    vp.state.replace_frames(refs)
                    vp.set_index(i)
            finally:
                self._moving = False
            self.angle_label.setText(f" {settings.angle_deg:.0f}° ")
            self.update_crosshair()

        def finished() -> None:
            self._cut_job = None
            self._next_cut()

        def failed(exc: BaseException) -> None:
            if self.source is source:  # not for an MPR closed (or rebuilt) since
                self.w.statusBar().showMessage(f"MPR: {message(exc)}")

        self._cut_job = run_in(self.w.pools, self.w.pools.decode, cut, on_result=show, on_error=failed,
                               on_finished=finished, owner=self)

    # ------------------------------------------------------------------ crosshair
    def _set_cursor(self, point: Any, state: Any) -> None:
        self._moving = True
        try:
            self.w.session.set_cursor(tuple(float(v) for v in point), state)
        finally:
            self._moving = False
        self.update_crosshair()

    def _on_state(self, vp: Viewport, name: str, value: object) -> None:
        if self.source is None or self._moving:
            return
        plane = self._plane_of(vp)
        if name == "index" and plane is not None and self.w.session.cursor is not None:
            # Scrolling a view moves the crosshair along its normal, onto the plane shown.
            ref = vp.state.current
            normal = slice_normal(ref.orientation) if ref is not None and ref.orientation is not None else None
            if ref is not None and ref.position is not None and normal is not None:
                p = np.asarray(self.w.session.cursor, dtype=np.float64)
                n = np.asarray(normal, dtype=np.float64)
                p = p + float((np.asarray(ref.position) - p) @ n) * n
                self._set_cursor(p, vp.state)
        elif name in ("window", "invert") and plane is not None:
            # One window for the three views.
            self._moving = True
            try:
                for other in self.views.values():
                    if other is not vp and self._plane_of(other) is not None:
                        if name == "window":
                            other.state.update(window=vp.state.window, window_name=vp.state.window_name)
                        else:
                            other.state.invert = vp.state.invert
            finally:
                self._moving = False
        elif name == "frames" and not any(self._plane_of(v) is not None for v in self.w.grid.visible_viewports()):
            self._end_source()  # no view shows the planes any more (other series were opened)
            self.w.reference_lines.set_enabled(self._previous.reference_lines if self._previous else True)

    def _on_image(self, vp: Viewport) -> None:
        if self.source is not None:
            self.update_crosshair()

    def update_crosshair(self) -> None:
        """Draw in each view the lines of the planes the two other views show."""
        point = self.w.session.cursor
        # Each line is a plane as its view shows it (the plane nearest the cursor).
        planes: dict[Plane, tuple[tuple[float, ...], tuple[float, float, float]]] = {}
        for plane, vp in self.views.items():
            ref = vp.state.current
            if self._plane_of(vp) is not None and ref is not None and ref.orientation is not None \
                    and ref.position is not None:
                n = slice_normal(ref.orientation)
                if n is not None:
                    planes[plane] = (ref.position, (float(n[0]), float(n[1]), float(n[2])))
        for vp in self.w.grid.viewports:
            cross = self._crosshairs.get(id(vp))
            shown = self._plane_of(vp)
            if shown is None or point is None or vp.current is None:
                if cross is not None:
                    cross.hide()
                continue
            if cross is None:
                cross = self._crosshairs[id(vp)] = _Crosshair(vp)
            for other, item in cross.items.items():
                seg = crosshair_line(vp.current, *planes[other]) if other != shown and other in planes else None
                if seg is None:
                    item.setVisible(False)
                    continue
                path = QPainterPath()
                path.moveTo(seg[0][0] + 0.5, seg[0][1] + 0.5)
                path.lineTo(seg[1][0] + 0.5, seg[1][1] + 0.5)
                item.setPath(path)
                item.setVisible(True)

    def crosshair_segments(self, vp: Viewport) -> dict[Plane, tuple[tuple[float, float], tuple[float, float]]]:
        """The crosshair lines drawn on ``vp`` (image coordinates), by the plane they show."""
        cross = self._crosshairs.get(id(vp))
        out = {}
        if cross is not None:
            for plane, item in cross.items.items():
                if item.isVisible():
                    path = item.path()
                    a, b = path.elementAt(0), path.elementAt(1)
                    out[plane] = ((a.x, a.y), (b.x, b.y))
        return out

    # ------------------------------------------------------------------ gestures
    def eventFilter(self, obj: QObject, event: QEvent) -> bool:
        kind = event.type()
        if kind not in (QEvent.Type.MouseButtonPress, QEvent.Type.MouseMove, QEvent.Type.MouseButtonRelease):
            return False
        vp = self._by_widget.get(id(obj))
        if vp is None or self.source is None or vp.state.tool != "cursor" or vp.current is None:
            return False
        plane = self._plane_of(vp)
        if plane is None or not isinstance(event, QMouseEvent):
            return False
        pos = event.position()
        if kind == QEvent.Type.MouseButtonPress:
            if event.button() != Qt.MouseButton.LeftButton:
                return False
            vp.activated.emit()
            vp.setFocus(Qt.FocusReason.MouseFocusReason)
            ctrl = bool(event.modifiers() & Qt.KeyboardModifier.ControlModifier)
            if ctrl and plane is Plane.AXIAL:
                angle = self._mouse_angle(vp, pos)
                if angle is not None:
                    self._rotating = (angle, self.source.settings.angle_deg)
                return True
            self._dragging = vp
            self._move_to(vp, pos)
            return True
        if kind == QEvent.Type.MouseMove and event.buttons() & Qt.MouseButton.LeftButton:
            if self._rotating is not None and plane is Plane.AXIAL:
                angle = self._mouse_angle(vp, pos)
                if angle is not None:
                    target = self._rotating[1] + angle - self._rotating[0]
                    if abs(target - float(self._latest("angle_deg"))) >= 0.5:
                        self.set_angle(target)
                return True
            if self._dragging is vp:
                self._move_to(vp, pos)
                return True
            return False
        if kind == QEvent.Type.MouseButtonRelease and event.button() == Qt.MouseButton.LeftButton:
            was = self._dragging is vp or self._rotating is not None
            self._dragging = None
            self._rotating = None
            return was
        return False

    def _patient_at(self, vp: Viewport, pos: QPointF) -> tuple[float, float, float] | None:
        scene = vp.view.mapToScene(pos.toPoint())
        x, y = vp.image_point(scene)
        return vp.patient_point(x, y)

    def _move_to(self, vp: Viewport, pos: QPointF) -> None:
        point = self._patient_at(vp, pos)
        if point is not None:
            self._set_cursor(point, vp.state)

    def _mouse_angle(self, vp: Viewport, pos: QPointF) -> float | None:
        """Direction (degrees, in the axial plane: atan2 of patient y, x) from the crosshair to the mouse."""
        point, cursor = self._patient_at(vp, pos), self.w.session.cursor
        if point is None or cursor is None:
            return None
        dx, dy = point[0] - cursor[0], point[1] - cursor[1]
        if math.hypot(dx, dy) < 1e-6:
            return None
        return math.degrees(math.atan2(dy, dx))


def _close_quietly(dialog: QProgressDialog) -> None:
    """Close a build's progress dialog without its ``canceled`` (which closing emits); once."""
    if dialog.property("closed_quietly"):
        return
    dialog.setProperty("closed_quietly", True)
    dialog.canceled.disconnect()
    dialog.close()
