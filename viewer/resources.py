"""Locate the application's data files (icons, presets, printer profiles, the sample study).

The repository keeps them in ``resources/`` at the top level. The wheel
maps that folder into the package as ``viewer._data`` (``setup.py``: ``package_dir``), the
PyInstaller bundle copies it to ``<bundle>/_internal/viewer/_data`` (``packaging/dicom-viewer.spec``).
:func:`resource_path` hides the difference; it is the one place that knows these layouts.

Order of the look-up:

1. a frozen bundle (``sys.frozen``): ``sys._MEIPASS/viewer/_data``;
2. an installed package ``viewer._data`` (wheel, or an editable install that maps it),
   found with :mod:`importlib.resources` / :func:`importlib.util.find_spec`;
3. the source tree: ``<repo>/resources`` next to the ``viewer`` package.

Wheels are always unpacked on disk (``zip-safe = false``), so a real :class:`~pathlib.Path`
is returned: Qt, :mod:`json` and pydicom all want file names.
"""

from __future__ import annotations

import importlib.resources
import importlib.util
import logging
import sys
from enum import Enum
from functools import lru_cache
from pathlib import Path

from viewer.errors import ViewerError

log = logging.getLogger(__name__)

#: Import name of the data package inside a wheel or bundle.
DATA_PACKAGE = "viewer._data"


class ResourceError(ViewerError):
    """A bundled data file is missing (a broken install)."""


class Origin(str, Enum):
    """Where the resources were found."""

    FROZEN = "frozen"
    PACKAGE = "package"
    SOURCE = "source"


def _frozen_root() -> Path | None:
    if not getattr(sys, "frozen", False):
        return None
    base = Path(getattr(sys, "_MEIPASS", Path(sys.executable).resolve().parent))
    root = base / "viewer" / "_data"
    return root if root.is_dir() else None


def _package_root() -> Path | None:
    try:
        spec = importlib.util.find_spec(DATA_PACKAGE)
    except (ImportError, ValueError):
        return None
    if spec is None:
        return None
    # ``resources/`` has no __init__.py, so the package is a namespace package: its
    # search locations are the folder(s); a regular package would have an origin file.
    locations = list(spec.submodule_search_locations or [])
    if locations:
        return Path(locations[0])
    return Path(str(importlib.resources.files(DATA_PACKAGE)))


def _source_root() -> Path | None:
    root = Path(__file__).resolve().parents[1] / "resources"
    return root if root.is_dir() else None


@lru_cache(maxsize=1)
def _root() -> tuple[Path, Origin]:
    for finder, origin in ((_frozen_root, Origin.FROZEN), (_package_root, Origin.PACKAGE),
                           (_source_root, Origin.SOURCE)):
        root = finder()
        if root is not None and root.is_dir():
            log.debug("resources from %s (%s)", root, origin.value)
            return root, origin
    raise ResourceError("the application's resources are missing: reinstall dicom-viewer")


def resource_root() -> Path:
    """The folder holding all resources (see the module docstring for the look-up order)."""
    return _root()[0]


def resource_origin() -> Origin:
    """Whether resources come from a frozen bundle, an installed package or the source tree."""
    return _root()[1]


def resource_path(*parts: str, must_exist: bool = True) -> Path:
    """Path of a resource file or folder, e.g. ``resource_path("printers", "x.json")``.

    Parameters
    ----------
    *parts : str
        Path components below the resource root (no ``..``).
    must_exist : bool
        Raise :class:`ResourceError` when the path does not exist (default).

    Returns
    -------
    pathlib.Path
        An absolute path on disk.
    """
    if any(p in ("..",) or Path(p).is_absolute() for p in parts):
        raise ValueError(f"resource path must stay below the resource root: {parts!r}")
    path = resource_root().joinpath(*parts)
    if must_exist and not path.exists():
        raise ResourceError(f"resource {'/'.join(parts)} is missing from {resource_root()}: reinstall dicom-viewer")
    return path
