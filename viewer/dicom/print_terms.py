"""Defined terms of the Basic Print Management classes as Enums (PS3.3 C.13, PS3.4 H).

One table for both ends of DICOM print: the print SCU (:mod:`viewer.film`, which re-exports
them from :mod:`viewer.film.enums`) and the print SCP (:mod:`viewer.net.print_scp`, which
checks requests against them). Values are the exact strings that go on the wire, so
``Enum.value`` (and ``str(term)``) can be written into a Dataset unchanged.

Printer-dependent lists (film sizes, medium types, display formats...) come from a printer's
configuration instead; these are the ones the standard fixes.
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
    """Execution Status (2100,0020) of a Print Job, PS3.3 C.13.9, and the Event Type ID of
    its N-EVENT-REPORT (PS3.4 H.4.8.1.1)."""

    PENDING = "PENDING"
    PRINTING = "PRINTING"
    DONE = "DONE"
    FAILURE = "FAILURE"

    @property
    def event_type(self) -> int:
        return {"PENDING": 1, "PRINTING": 2, "DONE": 3, "FAILURE": 4}[self.value]


class DecimateCrop(_Term):
    """Requested Decimate/Crop Behavior (2020,0040), PS3.3 C.13.5."""

    DECIMATE = "DECIMATE"
    CROP = "CROP"
    FAIL = "FAIL"


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


def values(enum: type[Enum]) -> tuple[str, ...]:
    """The values of a terms Enum, for messages and membership tests."""
    return tuple(str(e.value) for e in enum)


__all__ = ["DecimateCrop", "ExecutionStatus", "FilmOrientation", "Polarity", "PresentationLUTShape", "PrintJobEvent",
           "PrintPriority", "PrinterEvent", "PrinterStatus", "values"]
