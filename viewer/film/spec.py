"""The film model: a print job is a film session of film boxes of image and annotation boxes.

Plain dataclasses (PS3.3 C.13.1 Basic Film Session, C.13.3 Basic Film Box, C.13.5 Image Box,
C.13.7 Basic Annotation Box). ``None`` means "do not send this attribute" (the printer's
default applies).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from viewer.film.enums import FilmOrientation, Polarity, PresentationLUTShape, PrintPriority


@dataclass
class FilmSessionSpec:
    """Basic Film Session attributes (PS3.3 C.13.1)."""

    copies: int = 1
    priority: PrintPriority | None = None
    medium_type: str | None = None
    film_destination: str | None = None
    label: str | None = None
    memory_allocation: int | None = None
    owner_id: str | None = None


@dataclass
class FilmBoxSpec:
    """Basic Film Box presentation attributes (PS3.3 C.13.3)."""

    display_format: str = "STANDARD\\1,1"
    orientation: FilmOrientation = FilmOrientation.PORTRAIT
    film_size: str | None = "14INX17IN"
    magnification: str | None = None
    smoothing: str | None = None
    border_density: str | None = None
    empty_image_density: str | None = None
    min_density: int | None = None
    max_density: int | None = None
    trim: str | None = None
    configuration_information: str | None = None
    resolution_id: str | None = None
    annotation_display_format_id: str | None = None
    illumination: int | None = None
    reflected_ambient_light: int | None = None


@dataclass
class ImageBoxSpec:
    """One image box's content: display-ready pixels and how to present them (PS3.3 C.13.5).

    Attributes
    ----------
    pixels : numpy.ndarray
        ``(rows, cols)`` uint8 (8 bit) or uint16 holding 0..4095 (12 bit), or
        ``(rows, cols, 3)`` uint8 RGB for color films (house rule 12: row-major).
    bits : int
        8 or 12 (Bits Stored; 12 goes out as Bits Allocated 16).
    polarity : Polarity
    requested_size_mm : float or None
        Requested Image Size (2020,0030): width of the printed image in mm.
    decimate_crop : str or None
        Requested Decimate/Crop Behavior (2020,0040): DECIMATE, CROP or FAIL.
    pixel_aspect_ratio : tuple of int or None
        (row spacing, column spacing) when not 1:1.
    source : str
        Where the pixels came from, for messages (``file.dcm#frame``).
    """

    pixels: np.ndarray
    bits: int = 8
    polarity: Polarity = Polarity.NORMAL
    requested_size_mm: float | None = None
    decimate_crop: str | None = None
    pixel_aspect_ratio: tuple[int, int] | None = None
    source: str = ""

    @property
    def is_color(self) -> bool:
        """True for an RGB image box."""
        return self.pixels.ndim == 3


@dataclass
class FilmSpec:
    """One film: a film box, its image boxes in position order (None = empty box), annotations."""

    box: FilmBoxSpec
    images: list[ImageBoxSpec | None] = field(default_factory=list)
    annotations: dict[int, str] = field(default_factory=dict)


@dataclass
class PrintJobSpec:
    """What the user asked to print: one film session and its films."""

    session: FilmSessionSpec
    films: list[FilmSpec]
    presentation_lut: PresentationLUTShape | None = PresentationLUTShape.IDENTITY

    @property
    def color(self) -> bool:
        """True when any image box is RGB (the Basic Color Print Meta SOP class is needed)."""
        return any(img is not None and img.is_color for f in self.films for img in f.images)

    @property
    def bits(self) -> int:
        """The largest bit depth of the job's image boxes (8 when there are none)."""
        return max((img.bits for f in self.films for img in f.images if img is not None), default=8)
