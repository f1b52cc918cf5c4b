"""The project's exception hierarchy.

Every error a user can cause (a bad file, a peer that says no) is one of these, so the
CLI and the GUI can show one clear line instead of a traceback.
"""

from __future__ import annotations


class ViewerError(Exception):
    """Base class: a failure with a message fit for the user."""


class UsageError(ViewerError):
    """Bad command-line input (missing path, bad option value)."""


class ReadError(ViewerError):
    """A file could not be read as DICOM (missing, truncated, not DICOM)."""

    def __init__(self, message: str, path: str | None = None) -> None:
        super().__init__(message)
        self.path = path


class DecodeError(ViewerError):
    """Pixel data could not be decoded (unknown transfer syntax, missing codec, bad length)."""


class NetError(ViewerError):
    """A network operation failed; keeps the DIMSE status and its category (PS3.7 C)."""

    def __init__(self, message: str, status: int | None = None, category: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.category = category


class PrintError(NetError):
    """A print operation failed (PS3.4 H); ``status`` holds the DIMSE status."""


class Cancelled(ViewerError):
    """The user cancelled a long operation."""
