"""Plain-value description of how to turn stored values into a display image.

:class:`RenderParams` is frozen and hashable and holds no Dataset (house rule 2), so it can
key a LUT cache and cross thread boundaries. LUT tables are kept as ``bytes`` (little-endian
uint16 entries) because ``bytes`` caches its hash.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field, replace

import numpy as np


class VoiFunction(str, enum.Enum):
    """VOI LUT Function (0028,1056) defined terms, PS3.3 C.11.2.1.3."""

    LINEAR = "LINEAR"
    LINEAR_EXACT = "LINEAR_EXACT"
    SIGMOID = "SIGMOID"

    @classmethod
    def parse(cls, value: object) -> VoiFunction:
        """Return the enum for a tag value; unknown or empty values mean LINEAR (C.11.2.1.3)."""
        try:
            return cls(str(value or "LINEAR").strip().upper())
        except ValueError:
            return cls.LINEAR


@dataclass(frozen=True)
class Window:
    """One Window Center/Width pair with its function and explanation (PS3.3 C.11.2.1.2)."""

    center: float
    width: float
    function: VoiFunction = VoiFunction.LINEAR
    explanation: str = ""

    @property
    def label(self) -> str:
        """Menu text, e.g. ``"LUNG (C -600, W 1500)"``."""
        text = f"C {self.center:g}, W {self.width:g}"
        if self.function is not VoiFunction.LINEAR:
            text += f", {self.function.value}"
        return f"{self.explanation} ({text})" if self.explanation else text


@dataclass(frozen=True)
class LutData:
    """A Modality, VOI or palette LUT: LUT Descriptor (0028,3002) values plus LUT Data.

    ``first_mapped`` is the stored (or input) value mapped to the first entry; inputs below it
    map to the first entry, above the last to the last entry (PS3.3 C.11.1.1 and C.11.2.1.1).
    """

    first_mapped: int
    bits: int
    data: bytes = field(repr=False)
    explanation: str = ""

    @property
    def count(self) -> int:
        """Number of entries."""
        return len(self.data) // 2

    def table(self) -> np.ndarray:
        """The entries as a uint16 array."""
        return np.frombuffer(self.data, dtype="<u2")

    @property
    def label(self) -> str:
        """Menu text."""
        name = self.explanation or "VOI LUT"
        return f"{name} ({self.count} entries)"


@dataclass(frozen=True)
class Palette:
    """PALETTE COLOR lookup tables (PS3.3 C.7.6.3.1.5), expanded and scaled to 8 bits.

    ``rgb`` holds ``count x 3`` uint8 bytes; index ``v - first_mapped`` (clipped).
    """

    first_mapped: int
    rgb: bytes = field(repr=False)

    def table(self) -> np.ndarray:
        """The palette as ``(count, 3)`` uint8."""
        return np.frombuffer(self.rgb, dtype=np.uint8).reshape(-1, 3)


@dataclass(frozen=True)
class RenderParams:
    """Everything :func:`viewer.render.render` needs besides the frame.

    Attributes
    ----------
    photometric : str
        Photometric Interpretation of the stored data (``MONOCHROME1``, ``RGB``, ...).
    samples, bits_allocated, bits_stored : int
        Image Pixel module values (PS3.3 C.7.6.3).
    signed : bool
        Pixel Representation 1.
    rescale_slope, rescale_intercept : float
        Modality LUT as Rescale Slope/Intercept (PS3.3 C.11.1), identity if absent.
    rescale_type : str
        Rescale Type, e.g. ``HU``; empty if unknown.
    modality_lut : LutData or None
        Modality LUT Sequence; takes the place of the rescale when present.
    windows : tuple of Window
        Every window in the file (for a menu), in file order.
    voi_luts : tuple of LutData
        Every VOI LUT Sequence item (for a menu).
    window : Window or None
        The window in use; ``None`` with ``voi_lut`` set uses the VOI LUT, and with both
        ``None`` a window from the frame's minimum and maximum is used.
    voi_lut : LutData or None
        The VOI LUT in use (only when ``window`` is ``None``).
    invert : bool
        MONOCHROME1 or Presentation LUT Shape INVERSE (PS3.3 C.11.6): the output is inverted.
    palette : Palette or None
        PALETTE COLOR tables.
    frame_index : int
        The frame these values were read for (per-frame functional groups differ).
    supplemental : Palette or None
        Supplemental Palette Color LUT of a grayscale image with Pixel Presentation COLOR or
        MIXED (PS3.3 C.8.16.2.1.1.1): stored values from ``first_mapped`` up are shown in
        colour, values below through the grayscale pipeline.
    show_supplemental : bool
        Whether :func:`render` applies ``supplemental`` (then it returns RGB although
        ``is_color`` stays False, since window/level still applies to the grayscale part).
        Off by default, as DCMTK and most viewers show these images in grayscale.
    """

    photometric: str = "MONOCHROME2"
    samples: int = 1
    bits_allocated: int = 16
    bits_stored: int = 16
    signed: bool = False
    rescale_slope: float = 1.0
    rescale_intercept: float = 0.0
    rescale_type: str = ""
    modality_lut: LutData | None = None
    windows: tuple[Window, ...] = ()
    voi_luts: tuple[LutData, ...] = ()
    window: Window | None = None
    voi_lut: LutData | None = None
    invert: bool = False
    palette: Palette | None = None
    frame_index: int = 0
    supplemental: Palette | None = None
    show_supplemental: bool = False

    # -------------------------------------------------------------- what the GUI shows
    @property
    def is_color(self) -> bool:
        """Whether the display image is RGB (true colour or palette)."""
        return self.samples > 1 or self.palette is not None

    @property
    def inverted(self) -> bool:
        """Whether MONOCHROME1 / INVERSE inversion is applied (alias of ``invert``)."""
        return self.invert

    @property
    def voi_options(self) -> tuple[str, ...]:
        """Menu labels: every window, then every VOI LUT, in that order."""
        return tuple(w.label for w in self.windows) + tuple(v.label for v in self.voi_luts)

    @property
    def voi_index(self) -> int | None:
        """Index in :attr:`voi_options` of the VOI in use; ``None`` for a user or min/max window."""
        if self.window is not None:
            return self.windows.index(self.window) if self.window in self.windows else None
        if self.voi_lut is not None and self.voi_lut in self.voi_luts:
            return len(self.windows) + self.voi_luts.index(self.voi_lut)
        return None

    @property
    def voi_description(self) -> str:
        """What the current VOI is, for the overlay text."""
        if self.is_color:
            return ""
        if self.window is not None:
            return self.window.label
        if self.voi_lut is not None:
            return self.voi_lut.label
        return "min/max of the frame"

    def with_window(self, center: float, width: float, function: VoiFunction | str | None = None) -> RenderParams:
        """Return a copy using an explicit window (e.g. from a mouse drag or ``--window``).

        Parameters
        ----------
        center, width : float
            Window Center and Width in modality units (HU for CT); width is clamped to >= 1
            for LINEAR (PS3.3 C.11.2.1.2) and > 0 otherwise.
        function : VoiFunction or str, optional
            VOI LUT Function; default keeps the current one (or LINEAR).
        """
        func = VoiFunction.parse(function) if function is not None else (
            self.window.function if self.window is not None else VoiFunction.LINEAR)
        minimum = 1.0 if func is VoiFunction.LINEAR else 1e-6
        return replace(self, window=Window(float(center), max(float(width), minimum), func, "user"),
                       voi_lut=None)

    def with_voi(self, index: int) -> RenderParams:
        """Return a copy using entry ``index`` of :attr:`voi_options` (windows, then VOI LUTs).

        Raises
        ------
        IndexError
            If there is no such entry.
        """
        n = len(self.windows)
        if 0 <= index < n:
            return replace(self, window=self.windows[index], voi_lut=None)
        if n <= index < n + len(self.voi_luts):
            return replace(self, window=None, voi_lut=self.voi_luts[index - n])
        raise IndexError(f"VOI {index + 1} does not exist: the image has {n + len(self.voi_luts)}")

    def with_supplemental(self, show: bool = True) -> RenderParams:
        """Return a copy that shows (or hides) the Supplemental Palette Color LUT colours."""
        return replace(self, show_supplemental=bool(show) and self.supplemental is not None)

    def with_min_max(self) -> RenderParams:
        """Return a copy that windows on the frame's minimum and maximum."""
        return replace(self, window=None, voi_lut=None)
