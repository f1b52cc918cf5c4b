"""Corner annotations and orientation markers over a viewport.

:func:`corner_texts` builds the four corner texts from the header and the view state (no
Qt); :class:`AnnotationOverlay` lays them out as labels over the image, with the
orientation letters on the four edges (PS3.3 C.7.6.2.1.1 gives the directions).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

from pydicom.dataset import Dataset
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QWidget

from viewer.dicom.geometry import direction_label, location_along, slice_normal
from viewer.dicom.model import format_date, format_person_name_groups


@dataclass
class ViewInfo:
    """What the annotations describe besides the header."""

    index: int = 0
    count: int = 0
    frame_index: int = 0
    num_frames: int = 1
    window: tuple[float, float] | None = None
    window_name: str = ""
    zoom: float = 1.0
    invert: bool = False
    rotation: int = 0
    flip_h: bool = False
    spacing: Any = None
    pixel_text: str = ""
    fps_text: str = ""
    position: Any = None  #: this frame's Image Position (Patient), for enhanced multi-frame images
    orientation: Any = None  #: this frame's Image Orientation (Patient)


def _g(ds: Dataset | Mapping[str, str], keyword: str) -> str:
    try:
        value = ds.get(keyword, "")
    except Exception:  # noqa: BLE001 - malformed values must not break the overlay
        return ""
    if value is None:
        return ""
    if isinstance(value, (list, tuple)) or type(value).__name__ == "MultiValue":
        return "\\".join(str(v) for v in value)
    return str(value).strip()


def person_name_text(value: object) -> str:
    """Every component group of a PN value (:func:`viewer.dicom.model.format_person_name_groups`)."""
    return format_person_name_groups(value)


def _num(text: str) -> float | None:
    try:
        return float(text)
    except (TypeError, ValueError):
        return None


_HEADER_CACHE: dict[int, tuple[Dataset, dict[str, str]]] = {}


def _header(ds: Dataset) -> dict[str, str]:
    """The header values the corners use, read once per data set (a drag re-reads none)."""
    hit = _HEADER_CACHE.get(id(ds))
    if hit is not None and hit[0] is ds:
        return hit[1]
    keys = ("PatientName", "PatientBirthDate", "PatientID", "PatientSex", "StudyDate", "StudyDescription",
            "InstitutionName", "SeriesNumber", "SeriesDescription", "Modality", "Manufacturer",
            "SliceLocation", "SliceThickness")
    values = {k: _g(ds, k) for k in keys}
    ipp = ds.get("ImagePositionPatient") if hasattr(ds, "get") else None
    iop = ds.get("ImageOrientationPatient") if hasattr(ds, "get") else None
    values["_ipp"] = "\\".join(str(v) for v in ipp) if ipp is not None and len(ipp) == 3 else ""
    values["_iop"] = "\\".join(str(v) for v in iop) if iop is not None and len(iop) == 6 else ""
    regions = ds.get("SequenceOfUltrasoundRegions") if hasattr(ds, "get") else None
    values["_us_regions"] = str(len(regions)) if regions else ""
    if len(_HEADER_CACHE) > 512:
        _HEADER_CACHE.clear()
    _HEADER_CACHE[id(ds)] = (ds, values)
    return values


def corner_texts(ds: Dataset, info: ViewInfo) -> dict[str, str]:
    """Texts for the ``"tl"``, ``"tr"``, ``"bl"`` and ``"br"`` corners."""
    header = _header(ds)
    name = person_name_text(_g(header, "PatientName"))
    birth = format_date(_g(header, "PatientBirthDate"))
    tl = [name or "(no name)", " ".join(x for x in (f"ID {_g(header, 'PatientID')}" if _g(header, "PatientID") else "",
                                                      birth, _g(header, "PatientSex")) if x),
          " ".join(x for x in (format_date(_g(header, "StudyDate")), _g(header, "StudyDescription")) if x),
          _g(header, "InstitutionName")]
    series = " ".join(x for x in (f"Se {_g(header, 'SeriesNumber')}" if _g(header, "SeriesNumber") else "",
                                  _g(header, "SeriesDescription")) if x)
    image = f"Im {info.index + 1}/{info.count}" if info.count else ""
    if info.num_frames > 1:
        frame = f"Fr {info.frame_index + 1}/{info.num_frames}"
        image = frame if info.count == info.num_frames else f"{image}  {frame}"
    tr = [" ".join(x for x in (_g(header, "Modality"), _g(header, "Manufacturer")) if x), series, image, info.fps_text]
    bl = []
    if info.window is not None:
        c, w = info.window
        bl.append(f"W {w:.0f}  L {c:.0f}" + (f"  {info.window_name}" if info.window_name else ""))
    extras = [f"Zoom {info.zoom * 100:.0f}%"]
    if info.rotation:
        extras.append(f"Rot {info.rotation}°")
    if info.flip_h:
        extras.append("Flip")
    if info.invert:
        extras.append("Inverted")
    bl.append("  ".join(extras))
    bl.append(info.pixel_text)
    br = []
    pos = slice_position_text(header, info)
    if pos:
        br.append(pos)
    # Slice Thickness (0018,0050) as the file writes it (DS, PS3.5 6.2): "1.25", "650.18".
    thick = _g(header, "SliceThickness")
    if thick and _num(thick):
        br.append(f"Thk {thick} mm")
    if info.spacing is not None:
        br.append(f"{info.spacing[0]:.3g} x {info.spacing[1]:.3g} mm")
        br.append(str(info.spacing[2]))
    elif header.get("_us_regions"):  # calibrated per region (PS3.3 C.8.5.5)
        n = int(header["_us_regions"])
        br.append(f"{n} ultrasound region{'s' if n != 1 else ''} (spacing per region)")
    else:
        br.append("no pixel spacing")
    return {k: "\n".join(x for x in v if x) for k, v in (("tl", tl), ("tr", tr), ("bl", bl), ("br", br))}


def _vector(text: str, n: int) -> tuple[float, ...] | None:
    try:
        out = tuple(float(v) for v in text.split("\\"))
    except ValueError:
        return None
    return out if len(out) == n else None


def slice_position_text(ds: dict[str, str], info: ViewInfo) -> str:
    """Where the slice is: Slice Location (0020,1041) when the file has it, else the
    position along the slice normal, dot(Image Position, normal) (PS3.3 C.7.6.2.1.1),
    with the normal's direction letters, e.g. ``"Pos 31.2 mm (L)"`` on a sagittal image.

    The normal is turned so that its largest component is positive (towards L, P or H):
    the number then grows towards the patient's left, back or head.
    """
    loc = _num(ds.get("SliceLocation", ""))
    if loc is not None:
        return f"Pos {loc:.1f} mm"
    position = info.position if info.position is not None else _vector(ds.get("_ipp", ""), 3)
    orientation = info.orientation if info.orientation is not None else _vector(ds.get("_iop", ""), 6)
    if position is None:
        return ""
    normal = slice_normal(orientation) if orientation is not None else None
    if normal is None:
        return f"z {float(position[2]):.1f} mm"
    n = normal
    big = max(range(3), key=lambda i: abs(n[i]))
    if n[big] < 0:
        n = (-n[0], -n[1], -n[2])
    value = location_along(position, n)
    if value is None:
        return ""
    return f"Pos {value:.1f} mm ({direction_label(n)})"


def rotate_labels(labels: tuple[str, str, str, str], rotation: int, flip_h: bool) -> tuple[str, str, str, str]:
    """Edge labels ``(top, bottom, left, right)`` after a horizontal flip, then a clockwise rotation."""
    top, bottom, left, right = labels
    if flip_h:
        left, right = right, left
    for _ in range((rotation // 90) % 4):
        # Turning the image 90° clockwise: what was on the left comes to the top.
        top, right, bottom, left = left, top, right, bottom
    return top, bottom, left, right


# A translucent dark backing keeps the text readable on white (MONOCHROME1 film, noise).
_STYLE = ("color: #f0f0f0; background: rgba(0, 0, 0, 120); border-radius: 2px; padding: 1px 3px; "
          "font-family: 'DejaVu Sans', sans-serif; font-size: 11px;")


class AnnotationOverlay:
    """Eight labels (4 corners, 4 edges) placed over ``host``; call :meth:`place` on resize."""

    def __init__(self, host: QWidget) -> None:
        self.host = host
        self.corners: dict[str, QLabel] = {}
        self.edges: dict[str, QLabel] = {}
        align = {"tl": Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop,
                 "tr": Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignTop,
                 "bl": Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignBottom,
                 "br": Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignBottom}
        for key, a in align.items():
            label = QLabel(host)
            label.setAlignment(a)
            label.setStyleSheet(_STYLE)
            label.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
            self.corners[key] = label
        for key in ("top", "bottom", "left", "right"):
            label = QLabel(host)
            label.setAlignment(Qt.AlignmentFlag.AlignCenter)
            label.setStyleSheet(_STYLE + "font-size: 14px; font-weight: bold; color: #ffd75e;")
            label.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
            self.edges[key] = label
        self.visible = True
        #: the corner texts in full; a narrow viewport shows them shortened
        self.full: dict[str, str] = {}

    def set_texts(self, corners: dict[str, str], edges: tuple[str, str, str, str] | None) -> None:
        changed: list[str] = []
        for key, text in corners.items():
            if self.full.get(key, "") != text:
                self.full[key] = text
                changed.append(key)
        for key, text in zip(("top", "bottom", "left", "right"), edges or ("", "", "", "")):
            if self.edges[key].text() != text:
                self.edges[key].setText(text)
                changed.append(key)
        if changed:  # re-layout only what changed (a W/L drag or a new frame changes one label)
            self.place(changed)

    def set_corner(self, key: str, text: str) -> None:
        """One corner's text (the pixel readout line changes on every mouse move)."""
        if self.full.get(key, "") != text:
            self.full[key] = text
            self.place([key])

    def set_visible(self, visible: bool) -> None:
        self.visible = visible
        for label in (*self.corners.values(), *self.edges.values()):
            label.setVisible(visible and bool(label.text()))

    def labels(self) -> list[QLabel]:
        return [*self.corners.values(), *self.edges.values()]

    def place(self, keys: list[str] | None = None) -> None:
        """Lay the labels out; corner texts are shortened to fit their quarter of the
        viewport (lines elided at the right, trailing lines dropped) so corners never overlap."""
        w, h, m = self.host.width(), self.host.height(), 6
        gap = 12
        if keys is not None and any(k in self.corners for k in keys):
            # A corner's room depends on the corner beside it: lay out both of its row.
            keys = list(keys) + [{"tl": "tr", "tr": "tl", "bl": "br", "br": "bl"}[k] for k in keys if k in self.corners]
        natural = {k: self._natural_width(lbl, self.full.get(k, "")) for k, lbl in self.corners.items()}
        for key, label in self.corners.items():
            if keys is not None and key not in keys:
                continue
            other = natural[{"tl": "tr", "tr": "tl", "bl": "br", "br": "bl"}[key]]
            # Half the width at least; more when the corner beside it leaves room, but never
            # over the orientation letter in the middle of the edge.
            room = max(w // 2 - m - gap // 2, w - 2 * m - gap - other)
            letter = self.edges["top" if key[0] == "t" else "bottom"]
            if letter.text() and self.visible:
                room = min(room, w // 2 - m - (letter.sizeHint().width() + 4) // 2 - 4)
            text = self._fit(label, self.full.get(key, ""), max(24, room), max(12, h // 2 - m - 2))
            if label.text() != text:
                label.setText(text)
            label.setVisible(self.visible and bool(text))  # no empty backing boxes
            label.adjustSize()
            lw, lh = min(label.width(), max(10, room)), min(label.height(), max(10, h // 2 - m))
            x = m if key[1] == "l" else w - lw - m
            y = m if key[0] == "t" else h - lh - m
            label.setGeometry(x, y, lw, lh)
        for key, label in self.edges.items():
            if keys is not None and key not in keys:
                continue
            label.setVisible(self.visible and bool(label.text()))
            label.adjustSize()
            lw, lh = label.width() + 4, label.height()
            pos = {"top": ((w - lw) // 2, m), "bottom": ((w - lw) // 2, h - lh - m),
                   "left": (m, (h - lh) // 2), "right": (w - lw - m, (h - lh) // 2)}[key]
            label.setGeometry(pos[0], pos[1], lw, lh)

    @staticmethod
    def _natural_width(label: QLabel, text: str) -> int:
        if not text:
            return 0
        fm = label.fontMetrics()
        return max(fm.horizontalAdvance(line) for line in text.split("\n")) + 8

    @staticmethod
    def _fit(label: QLabel, text: str, width: int, height: int) -> str:
        """``text`` shortened to ``width`` x ``height`` pixels of ``label``'s font."""
        if not text:
            return ""
        fm = label.fontMetrics()
        pad = 8  # the style's padding and border
        line_h = max(1, fm.lineSpacing())
        max_lines = max(1, (height - pad) // line_h)
        lines = text.split("\n")
        if len(lines) > max_lines:
            lines = lines[:max_lines]
        return "\n".join(fm.elidedText(line, Qt.TextElideMode.ElideRight, max(8, width - pad)) for line in lines)
