"""Window presets by modality, read from ``resources/window_presets.json`` (house rule 9).

A preset is a linear VOI window (center, width) in modality units (HU for CT), applied as
PS3.3 C.11.2.1.2.1 describes, or a *relative* preset: a window over two percentiles of the
image's modality values, for modalities whose values have no fixed meaning (MR, CR/DX, MG,
NM). One preset per modality may be the ``default``: the window an image opens with when
its file has none (CT opens at soft tissue 40/400, as Weasis and RadiAnt do, not at
min/max). User presets live in the settings as JSON in the same format
(:func:`parse_presets`, :func:`user_presets_json`). No Qt here.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np

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
    #: a relative preset: the window spans these percentiles (0-100) of the image's values
    percentiles: tuple[float, float] | None = None
    #: the window of this modality's images whose file has none
    default: bool = False


def _preset(e: Mapping[str, Any]) -> WindowPreset:
    """One preset from its JSON object; KeyError/TypeError/ValueError when malformed."""
    pct = e.get("percentiles")
    if pct is not None:
        lo, hi = (float(v) for v in pct)
        if not 0.0 <= lo < hi <= 100.0:
            raise ValueError(f"percentiles must be 0 <= low < high <= 100, not {pct!r}")
        center, width = 0.0, 1.0
    else:
        center, width = float(e["center"]), float(e["width"])
    return WindowPreset(str(e["name"]), center, width, str(e.get("key", "") or ""),
                        (lo, hi) if pct is not None else None, bool(e.get("default", False)))


def parse_presets(raw: Any, origin: str = "presets") -> dict[str, tuple[WindowPreset, ...]]:
    """``{"CT": [{"name", "center", "width" | "percentiles", "key", "default"}, ...]}`` -> presets.

    Malformed entries (missing numbers, width <= 0, bad percentiles) are skipped with a warning.
    """
    out: dict[str, tuple[WindowPreset, ...]] = {}
    if not isinstance(raw, dict):
        log.warning("window presets in %s are not an object; ignored", origin)
        return out
    for modality, entries in raw.items():
        if str(modality).startswith("_") or not isinstance(entries, list):
            continue
        good = []
        for e in entries:
            try:
                preset = _preset(e)
            except (KeyError, TypeError, ValueError, AttributeError):
                log.warning("bad window preset for %s in %s: %r", modality, origin, e)
                continue
            if preset.width <= 0:
                log.warning("window preset %s/%s has width <= 0; skipped", modality, preset.name)
                continue
            good.append(preset)
        out[str(modality).upper()] = tuple(good)
    return out


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
    return parse_presets(raw, str(p))


@lru_cache(maxsize=1)
def _bundled() -> dict[str, tuple[WindowPreset, ...]]:
    return load_presets()


def presets_for(modality: str) -> tuple[WindowPreset, ...]:
    """The bundled presets for a Modality (0008,0060) value, e.g. ``"CT"``; empty if none."""
    return _bundled().get((modality or "").strip().upper(), ())


def default_preset(modality: str) -> WindowPreset | None:
    """The preset an image of ``modality`` opens with when its file has no window, or None."""
    return next((p for p in presets_for(modality) if p.default), None)


def preset_window(preset: WindowPreset, stored: np.ndarray, params: Any) -> tuple[float, float]:
    """(center, width) of ``preset`` for a frame of stored values and its render parameters.

    A relative preset spans its percentiles of the modality values (PS3.3 C.11.1); 0-100 %
    is the min/max window of :func:`viewer.render.pipeline.min_max_window` (DCMTK's definition).
    """
    if preset.percentiles is None:
        return preset.center, preset.width
    lo_pct, hi_pct = preset.percentiles
    if lo_pct <= 0.0 and hi_pct >= 100.0:
        from viewer.render.pipeline import min_max_window

        w = min_max_window(stored, params)
        return float(w.center), float(w.width)
    from viewer.render import modality_values

    # Every other pixel in each direction: percentiles barely move, 4x less work on big films.
    sample = stored[::2, ::2] if stored.shape[0] > 512 or stored.shape[1] > 512 else stored
    values = modality_values(sample, params)
    lo, hi = (float(v) for v in np.percentile(values, [lo_pct, hi_pct]))
    return (lo + hi) / 2.0, max(hi - lo, 1e-6)


def min_max_preset() -> WindowPreset:
    """The full range of the image (DCMTK's min-max VOI)."""
    return WindowPreset("Min/max", 0.0, 1.0, "", (0.0, 100.0))


def merged(modality: str, user: Mapping[str, Sequence[WindowPreset]] | None = None) -> tuple[WindowPreset, ...]:
    """The bundled presets of ``modality`` followed by the user's."""
    extra = tuple((user or {}).get((modality or "").strip().upper(), ()))
    return presets_for(modality) + extra


def user_presets_json(presets: Mapping[str, Sequence[WindowPreset]]) -> str:
    """User presets as the JSON text kept in the settings (the presets file's format)."""
    out: dict[str, list[dict[str, Any]]] = {}
    for modality, items in presets.items():
        out[modality.upper()] = [
            {"name": p.name, **({"percentiles": list(p.percentiles)} if p.percentiles
                                else {"center": p.center, "width": p.width}),
             **({"key": p.key} if p.key else {})}
            for p in items]
    return json.dumps(out, sort_keys=True)
