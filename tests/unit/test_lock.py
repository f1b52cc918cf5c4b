"""The lock file (``requirements.lock``) satisfies every requirement of ``pyproject.toml``.

``make run`` and ``make test`` install exact versions from the lock; ``make lock`` refreshes it
from the ranges in ``pyproject.toml``. This test fails when the two drift apart: a dependency
added to ``pyproject.toml`` without re-locking, or a pin outside its range.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest
from packaging.markers import default_environment
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[2]
LOCK = ROOT / "requirements.lock"
# The lock is resolved for this interpreter line (``make lock`` passes --python-version 3.11):
# markers are evaluated against it, not against whatever runs the test.
LOCK_PYTHON = "3.11"


def _pins() -> dict[str, Version]:
    pins: dict[str, Version] = {}
    for line in LOCK.read_text(encoding="utf-8").splitlines():
        m = re.match(r"^([A-Za-z0-9_.\-]+)==([^\s;]+)", line)
        if m:
            pins[canonicalize_name(m.group(1))] = Version(m.group(2))
    return pins


def _requirements() -> list[Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    reqs = [Requirement(r) for r in project["dependencies"]]
    reqs += [Requirement(r) for r in project["optional-dependencies"]["test"]]
    env = default_environment()
    env.update(python_version=LOCK_PYTHON, python_full_version=f"{LOCK_PYTHON}.0", extra="test")
    return [r for r in reqs if r.marker is None or r.marker.evaluate(env)]


def test_lock_pins_exact_versions() -> None:
    text = LOCK.read_text(encoding="utf-8")
    loose = [ln for ln in text.splitlines()
             if ln and not ln.startswith((" ", "#", "-")) and "==" not in ln]
    assert not loose, f"lock lines without an exact version: {loose}"
    assert len(_pins()) > 20


def _problem(req: Requirement, pins: dict[str, Version]) -> str | None:
    name = canonicalize_name(req.name)
    if name not in pins:
        return f"{req.name} is in pyproject.toml but not in the lock: run `make lock`"
    if not req.specifier.contains(pins[name], prereleases=True):
        return f"lock pins {req.name}=={pins[name]}, outside pyproject's {req.specifier}: run `make lock`"
    return None


@pytest.mark.parametrize("req", _requirements(), ids=str)
def test_lock_satisfies_pyproject(req: Requirement) -> None:
    assert _problem(req, _pins()) is None


def test_the_check_catches_a_drifted_lock() -> None:
    """A pin outside its range, and a requirement missing from the lock, are both reported."""
    pins = _pins()
    pins[canonicalize_name("pynetdicom")] = Version("3.1.0")
    assert "outside" in (_problem(Requirement("pynetdicom>=3.0,<3.1"), pins) or "")
    assert "not in the lock" in (_problem(Requirement("no-such-package>=1"), pins) or "")
