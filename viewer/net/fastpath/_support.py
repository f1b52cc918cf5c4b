"""Which pynetdicom the fast paths (``viewer.net._fast_*``, ``_serve_inline``) were written for.

They replace or wrap private parts of pynetdicom's DUL and DIMSE layers, so each installs
itself only on a version whose internals it knows; any other version runs as shipped.
"""

from __future__ import annotations

import pynetdicom

#: pynetdicom versions whose DUL internals the fast paths were written against (3.0.x).
SUPPORTED_VERSIONS = ("3.0.",)


def supported() -> bool:
    """Whether the installed pynetdicom is one the fast paths know the internals of."""
    return str(pynetdicom.__version__).startswith(SUPPORTED_VERSIONS)


__all__ = ["SUPPORTED_VERSIONS", "supported"]
