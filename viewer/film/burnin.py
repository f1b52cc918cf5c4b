"""Burned-in annotations: text written into an image box's pixels before printing.

For printers without annotation boxes, and for text that must stay with each image
(patient, date, series/image number). Drawn with Pillow's bundled font at the image's bit
depth: full white (255, 4095 or RGB white) over a one-pixel black outline, so it reads on
any background and survives polarity reversal.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Sequence

import numpy as np
from pydicom.dataset import Dataset

Point = tuple[float, float]


@dataclass(frozen=True)
class Mark:
    """A measurement or annotation to burn in, in source image coordinates (column, row).

    ``kind``: ``distance`` or ``angle`` (a polyline), ``rect`` or ``ellipse`` (two opposite
    corners), ``text`` (at the first point); ``text`` is the label drawn next to it.
    """

    kind: str
    points: tuple[Point, ...]
    text: str = ""


def burn_in(pixels: np.ndarray, bits: int, top_left: Sequence[str] = (), bottom_left: Sequence[str] = (),
            marks: Sequence[Mark] = (), to_pixels: Callable[[float, float], Point] | None = None) -> np.ndarray:
    """A copy of ``pixels`` ((rows, cols) or (rows, cols, 3)) with the text lines and marks drawn in.

    The font height is about 1/24 of the image height (at least 8 pixels); lines are about
    1/400 of it. ``to_pixels`` maps a mark's source (column, row) to these pixels; callers
    resample the image to film resolution first, so text and lines are drawn at the
    printer's resolution, not the image's.
    """
    from PIL import Image, ImageDraw, ImageFont

    if not top_left and not bottom_left and not marks:
        return pixels
    rows, cols = pixels.shape[:2]
    size = max(8, rows // 24)
    font = ImageFont.load_default(size=size)
    color = pixels.ndim == 3
    if color:
        img = Image.fromarray(np.ascontiguousarray(pixels.astype(np.uint8)), "RGB")
        white: Any = (255, 255, 255)
        black: Any = (0, 0, 0)
    else:
        img = Image.fromarray(pixels.astype(np.int32), "I")
        white, black = (1 << bits) - 1, 0
    draw = ImageDraw.Draw(img)
    step = size + max(1, size // 4)
    spots = [(2, 2 + i * step, t) for i, t in enumerate(top_left)]
    spots += [(2, rows - 2 - (len(bottom_left) - i) * step, t) for i, t in enumerate(bottom_left)]
    for x, y, text in spots:
        draw.text((x, y), text, fill=white, font=font, stroke_width=1, stroke_fill=black)
    if marks:
        _draw_marks(draw, marks, to_pixels or (lambda c, r: (c, r)), font, white, black, max(1, rows // 400))
    out = np.asarray(img)
    return out.astype(pixels.dtype) if not color else out.astype(np.uint8)


def default_lines(ds: Dataset, frame: int = 0,
                  window: tuple[float, float] | None = None) -> tuple[list[str], list[str]]:
    """(top-left, bottom-left) lines from a dataset: patient, ID, study date; series/image, window."""
    name = str(ds.get("PatientName", "") or "").replace("^", " ").strip()
    top = [t for t in (name, str(ds.get("PatientID", "") or ""), _date(str(ds.get("StudyDate", "") or ""))) if t]
    se, im = ds.get("SeriesNumber", ""), ds.get("InstanceNumber", "")
    bottom = []
    if se != "" or im != "":
        bottom.append(f"Se {se} Im {im}" + (f" Fr {frame + 1}" if int(ds.get("NumberOfFrames", 1) or 1) > 1 else ""))
    if window is not None:
        bottom.append(f"C {window[0]:g} W {window[1]:g}")
    return top, bottom


def _date(da: str) -> str:
    return f"{da[:4]}-{da[4:6]}-{da[6:8]}" if len(da) == 8 and da.isdigit() else da


def _draw_marks(draw: Any, marks: Sequence[Mark], to_px: Callable[[float, float], Point], font: Any, white: Any,
                black: Any, width: int) -> None:
    """Lines, rectangles, ellipses and labels, white over a black outline one pixel wider."""
    for mark in marks:
        pts = [to_px(c, r) for c, r in mark.points]
        if not pts:
            continue
        for fill, w in ((black, width + 2), (white, width)):
            if mark.kind in ("rect", "ellipse") and len(pts) >= 2:
                (x0, y0), (x1, y1) = pts[0], pts[1]
                box = [min(x0, x1), min(y0, y1), max(x0, x1), max(y0, y1)]
                if mark.kind == "rect":
                    draw.rectangle(box, outline=fill, width=w)
                else:
                    draw.ellipse(box, outline=fill, width=w)
            elif mark.kind != "text" and len(pts) >= 2:
                draw.line(pts, fill=fill, width=w, joint="curve")
        if mark.text:
            if mark.kind in ("rect", "ellipse"):
                anchor = max(pts, key=lambda p: (p[0], -p[1]))
            else:
                anchor = pts[-1]
            draw.text((anchor[0] + 2 * width + 2, anchor[1] + 2), mark.text, fill=white, font=font, stroke_width=1,
                      stroke_fill=black)
