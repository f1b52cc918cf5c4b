"""DICOM defined terms of the Basic Print Management classes as the print client uses them.

The Enums are :mod:`viewer.dicom.print_terms` (one table for the print SCU and the print
SCP), re-exported here; the film sizes are the client's own table.
"""

from __future__ import annotations

from viewer.dicom.print_terms import (ExecutionStatus, FilmOrientation, Polarity, PresentationLUTShape,
                                     PrinterEvent, PrinterStatus, PrintJobEvent, PrintPriority)

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


__all__ = ["ExecutionStatus", "FILM_SIZES_MM", "FilmOrientation", "Polarity", "PresentationLUTShape", "PrintJobEvent",
           "PrintPriority", "PrinterEvent", "PrinterStatus"]
