"""Helpers shared by the subcommands (no Qt, stdlib only at import time)."""

from __future__ import annotations

from pathlib import Path

from viewer.errors import ReadError


def existing_paths(paths: list[str]) -> list[Path]:
    """Return ``paths`` as Paths, or raise :class:`ReadError` naming the first one missing."""
    out = []
    for p in paths:
        path = Path(p)
        if not path.exists():
            raise ReadError(f"no such file or directory: {p}", path=p)
        out.append(path)
    return out
