"""Whether the fast path may run: the pynetdicom versions it was written for, and the switch.

The supported range is :data:`PYNETDICOM_MIN` <= version < :data:`PYNETDICOM_BELOW`;
``pyproject.toml`` pins the same range (:data:`PYNETDICOM_REQUIREMENT`), and
``tests/net/test_fastpath_switch.py`` fails when the two differ or the installed pynetdicom is
outside it. Outside that range, or switched off (:data:`viewer.config.FASTPATH_ENV`, the
``fast_path`` setting of :class:`viewer.config.LocalAE`), every association runs as
pynetdicom ships it, and one WARNING says so.
"""

from __future__ import annotations

import logging
import re
import threading

import pynetdicom

from viewer.config import fast_path_allowed

log = logging.getLogger("viewer.net.fastpath")

#: Lowest pynetdicom version whose private internals the fast path knows (inclusive).
PYNETDICOM_MIN = (3, 0)
#: First pynetdicom version it does not know (exclusive).
PYNETDICOM_BELOW = (3, 1)
#: The requirement ``pyproject.toml`` must state (compared by a test).
PYNETDICOM_REQUIREMENT = (f"pynetdicom>={'.'.join(map(str, PYNETDICOM_MIN))},"
                          f"<{'.'.join(map(str, PYNETDICOM_BELOW))}")

_lock = threading.Lock()
_setting: bool = True  # the LocalAE.fast_path setting, see configure()
_warned = False


def version_tuple(version: str) -> tuple[int, ...]:
    """The leading numeric release parts of ``version`` ("3.0.4" -> (3, 0, 4); "3.1.0rc1" -> (3, 1, 0))."""
    parts: list[int] = []
    for piece in version.split("."):
        match = re.match(r"\d+", piece)
        if match is None:
            break
        parts.append(int(match.group()))
        if match.end() != len(piece):
            break
    return tuple(parts)


def version_supported(version: str | None = None) -> bool:
    """Whether pynetdicom ``version`` (default: the installed one) is in the supported range."""
    found = version_tuple(str(pynetdicom.__version__ if version is None else version))
    return PYNETDICOM_MIN <= found < PYNETDICOM_BELOW


def configure(enabled: bool) -> None:
    """Apply the ``fast_path`` setting (:class:`viewer.config.LocalAE`) for this process."""
    global _setting
    _setting = bool(enabled)


def enabled() -> bool:
    """Whether the fast path may be installed now: switched on and a supported pynetdicom.

    When it may not, one WARNING (per process) names the reason.
    """
    global _warned
    reason = None
    if not fast_path_allowed(_setting):
        reason = "switched off (setting or environment variable)"
    elif not version_supported():
        reason = (f"pynetdicom {pynetdicom.__version__} is not the version it was written for "
                  f"({PYNETDICOM_REQUIREMENT})")
    if reason is None:
        return True
    with _lock:
        warn, _warned = not _warned, True
    if warn:
        log.warning("pynetdicom fast path not used: %s; retrieval runs as pynetdicom ships it, "
                    "several times slower", reason)
    return False


__all__ = ["PYNETDICOM_BELOW", "PYNETDICOM_MIN", "PYNETDICOM_REQUIREMENT", "configure", "enabled",
           "version_supported", "version_tuple"]
