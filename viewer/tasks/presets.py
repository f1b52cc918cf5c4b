"""Window presets by modality, read from ``resources/window_presets.json`` (house rule 9).

A preset is a linear VOI window (center, width) in modality units (HU for CT), applied as
PS3.3 C.11.2.1.2.1 describes. No Qt here.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from viewer.resources import resource_path

log = logging.getLogger(__name__)

#: The bundled presets file.
PRESETS_FILE = resource_path("window_presets.json", must_exist=False)


@dataclass(frozen=True)
class WindowPreset:
    """A named window in modality units, with an optional one-key shortcut."""

    name: str
    center: float
    width: float
    key: str = ""


def load_presets(path: str | Path | None = None) -> dict[str, tuple[WindowPreset, ...]]:
    """Read a presets file: ``{"CT": [{"name", "center", "width", "key"}, ...], ...}``.

    Entries that are malformed (missing numbers, width <= 0) are skipped with a warning;
    a missing or unreadable file gives an empty mapping, never an exception, so the viewer
    still starts.
    """
    p = Path(path) if path is not None else PRESETS_FILE
    try:
        raw = json.loads(p.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        log.warning("window presets not loaded from %s: %s", p, exc)
        return {}
    out: dict[str, tuple[WindowPreset, ...]] = {}
    for modality, entries in raw.items():
        if modality.startswith("_") or not isinstance(entries, list):
            continue
        good = []
        for e in entries:
            try:
                preset = WindowPreset(str(e["name"]), float(e["center"]), float(e["width"]), str(e.get("key", "")))
            except (KeyError, TypeError, ValueError):
                log.warning("bad window preset for %s in %s: %r", modality, p, e)
                continue
            if preset.width <= 0:
                log.warning("window preset %s/%s has width <= 0; skipped", modality, preset.name)
                continue
            good.append(preset)
        out[modality.upper()] = tuple(good)
    return out


@lru_cache(maxsize=1)
def _bundled() -> dict[str, tuple[WindowPreset, ...]]:
    return load_presets()


def presets_for(modality: str) -> tuple[WindowPreset, ...]:
    """The bundled presets for a Modality (0008,0060) value, e.g. ``"CT"``; empty if none."""
    return _bundled().get((modality or "").strip().upper(), ())
