"""Optical density helpers for the preview and for checking densities against a printer.

Densities in Basic Film Box attributes are hundredths of optical density (PS3.3 C.13.8:
Min/Max Density 2010,0120/0130; Border and Empty Image Density 2010,0100/0110 are BLACK,
WHITE or a number in hundredths of OD).
"""

from __future__ import annotations

from viewer.errors import UsageError


def parse_density(value: str | int, min_density: int = 20, max_density: int = 320) -> int:
    """Density in hundredths of OD: BLACK is ``max_density``, WHITE ``min_density``.

    Raises
    ------
    UsageError
        When ``value`` is neither BLACK, WHITE nor a non-negative integer.
    """
    text = str(value).strip().upper()
    if text == "BLACK":
        return int(max_density)
    if text == "WHITE":
        return int(min_density)
    try:
        number = int(text)
    except ValueError:
        raise UsageError(f"bad density {value!r}: BLACK, WHITE or hundredths of optical density") from None
    if number < 0:
        raise UsageError(f"bad density {value!r}: must not be negative")
    return number


def density_to_gray(density: int, min_density: int = 20, max_density: int = 320) -> int:
    """Preview gray level 0..255 of a film area of ``density`` (dense film is dark).

    Linear in density between the film's min (white, 255) and max (black, 0); a screen
    preview only, not a calibrated rendering (a printer maps P-values via PS3.14 GSDF).
    """
    span = max(int(max_density) - int(min_density), 1)
    frac = (int(max_density) - int(density)) / span
    return int(round(255 * min(max(frac, 0.0), 1.0)))
