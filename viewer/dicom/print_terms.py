"""Defined terms the print SCP checks requests against (house rule 9: terms are Enums).

Printer-dependent lists (film sizes, medium types, display formats...) come from the
printer profile instead; these are the ones the standard fixes.
"""

from __future__ import annotations

from enum import Enum


class PrintPriority(str, Enum):
    """Print Priority (2000,0020), PS3.3 C.13.1."""

    HIGH = "HIGH"
    MED = "MED"
    LOW = "LOW"


class FilmOrientation(str, Enum):
    """Film Orientation (2010,0040), PS3.3 C.13.3."""

    PORTRAIT = "PORTRAIT"
    LANDSCAPE = "LANDSCAPE"


class Polarity(str, Enum):
    """Polarity (2020,0020), PS3.3 C.13.5."""

    NORMAL = "NORMAL"
    REVERSE = "REVERSE"


class DecimateCrop(str, Enum):
    """Requested Decimate/Crop Behavior (2020,0040), PS3.3 C.13.5."""

    DECIMATE = "DECIMATE"
    CROP = "CROP"
    FAIL = "FAIL"


class PresentationLUTShape(str, Enum):
    """Presentation LUT Shape (2050,0020) for print, PS3.3 C.11.6."""

    IDENTITY = "IDENTITY"
    LIN_OD = "LIN OD"


class ExecutionStatus(str, Enum):
    """Print Job Execution Status (2100,0020) and its N-EVENT-REPORT Event Type ID (PS3.4 H.4.8.1.1)."""

    PENDING = "PENDING"
    PRINTING = "PRINTING"
    DONE = "DONE"
    FAILURE = "FAILURE"

    @property
    def event_type(self) -> int:
        return {"PENDING": 1, "PRINTING": 2, "DONE": 3, "FAILURE": 4}[self.value]


def values(enum: type[Enum]) -> tuple[str, ...]:
    """The values of a terms Enum, for messages and membership tests."""
    return tuple(str(e.value) for e in enum)
