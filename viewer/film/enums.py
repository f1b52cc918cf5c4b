"""DICOM defined terms of the Basic Print Management classes as Enums (PS3.3 C.13).

Values are the exact strings that go on the wire, so ``Enum.value`` can be written into a
Dataset unchanged.
"""

from __future__ import annotations

from enum import Enum


class _Term(str, Enum):
    """A defined term; ``str(term)`` is the wire value."""

    def __str__(self) -> str:
        return str(self.value)


class FilmOrientation(_Term):
    """Film Orientation (2010,0040), PS3.3 C.13.8."""

    PORTRAIT = "PORTRAIT"
    LANDSCAPE = "LANDSCAPE"


class Polarity(_Term):
    """Polarity (2020,0020), PS3.3 C.13.5: REVERSE prints min pixel as white."""

    NORMAL = "NORMAL"
    REVERSE = "REVERSE"


class PrintPriority(_Term):
    """Print Priority (2000,0020), PS3.3 C.13.1."""

    HIGH = "HIGH"
    MED = "MED"
    LOW = "LOW"


class PresentationLUTShape(_Term):
    """Presentation LUT Shape (2050,0020), PS3.3 C.11.6: IDENTITY for P-values, LIN OD for
    pixel values linear in optical density."""

    IDENTITY = "IDENTITY"
    LIN_OD = "LIN OD"


class ExecutionStatus(_Term):
    """Execution Status (2100,0020) of a Print Job, PS3.3 C.13.9."""

    PENDING = "PENDING"
    PRINTING = "PRINTING"
    DONE = "DONE"
    FAILURE = "FAILURE"


class PrinterStatus(_Term):
    """Printer Status (2110,0010), PS3.3 C.13.9."""

    NORMAL = "NORMAL"
    WARNING = "WARNING"
    FAILURE = "FAILURE"


class PrintJobEvent(int, Enum):
    """Event Type IDs of Print Job N-EVENT-REPORT, PS3.4 H.4.4.1.2.1."""

    PENDING = 1
    PRINTING = 2
    DONE = 3
    FAILURE = 4


class PrinterEvent(int, Enum):
    """Event Type IDs of Printer N-EVENT-REPORT, PS3.4 H.4.2.1.2.1."""

    NORMAL = 1
    WARNING = 2
    FAILURE = 3


#: Film Size ID (2010,0050) defined terms, PS3.3 C.13.8, with (width, height) in mm of the
#: film held in portrait orientation.
FILM_SIZES_MM: dict[str, tuple[float, float]] = {
    "8INX10IN": (203.2, 254.0),
    "8_5INX11IN": (215.9, 279.4),
    "10INX12IN": (254.0, 304.8),
    "10INX14IN": (254.0, 355.6),
    "11INX14IN": (279.4, 355.6),
    "11INX17IN": (279.4, 431.8),
    "14INX14IN": (355.6, 355.6),
    "14INX17IN": (355.6, 431.8),
    "24CMX24CM": (240.0, 240.0),
    "24CMX30CM": (240.0, 300.0),
    "A4": (210.0, 297.0),
    "A3": (297.0, 420.0),
}
