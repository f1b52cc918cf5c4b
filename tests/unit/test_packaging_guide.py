"""The user guide: its pictures exist and are of the current program, its command table is
the CLI's, and it is linked from the README.

Freshness: ``docs/make_screenshots.py --out TMP`` makes every screenshot again from the
program (its own ``--screenshot`` for the main window, the application's widgets for panels
and dialogs) and each is compared with the committed one: same size, and the same picture
at a coarse scale (text that changes from run to run, such as a temporary folder name, does
not count; a moved or added widget does). Regenerate with ``docs/make_screenshots.py``.
"""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest
from PIL import Image

from viewer.commands import discover

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
GUIDE = DOCS / "guide.md"
TEXT = GUIDE.read_text(encoding="utf-8")


def _load_script(path: Path) -> ModuleType:
    """Import a script that is not in a package (``docs/make_screenshots.py``) by its path."""
    spec = importlib.util.spec_from_file_location(path.stem, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


make_screenshots = _load_script(DOCS / "make_screenshots.py")

#: Mean absolute difference (0..255) allowed between 64x48 grayscale thumbnails.
TOLERANCE = 6.0


def test_every_picture_of_the_guide_exists() -> None:
    images = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", TEXT)
    assert len(images) >= 8
    missing = [p for p in images if not (DOCS / p).is_file()]
    assert not missing


def test_guide_screenshots_are_the_scripts() -> None:
    referenced = {Path(p).stem for p in re.findall(r"\(screenshots/(guide_[a-z_]+)\.png\)", TEXT)}
    made = {f"guide_{name}" for name in make_screenshots.SCENARIOS}
    committed = {p.stem for p in (DOCS / "screenshots").glob("guide_*.png")}
    assert referenced <= made == committed


def test_command_table_is_the_cli() -> None:
    section = TEXT.split("## Command-line tools", 1)[1]
    listed = re.findall(r"^\| `([a-z-]+)` \|", section, flags=re.M)
    assert sorted(listed) == sorted(discover())


def test_guide_sections_of_the_issue() -> None:
    for heading in ("Opening a CD", "Reading and measuring", "Cine", "PACS: configuring a node and retrieving",
                    "printing a film", "The virtual printer", "The tag inspector", "Command-line tools"):
        assert re.search(rf"^## .*{re.escape(heading)}", TEXT, flags=re.M | re.I), heading
    assert "](conformance.md)" in TEXT


def test_readme_links_the_guide_and_the_conformance_statement() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "docs/guide.md" in readme and "docs/conformance.md" in readme


def _thumb(path: Path) -> np.ndarray:
    with Image.open(path) as im:
        return np.asarray(im.convert("L").resize((64, 48), Image.Resampling.BOX), dtype=float)


@pytest.mark.gui
@pytest.mark.slow
def test_screenshots_are_current(tmp_path: Path) -> None:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    proc = subprocess.run([sys.executable, str(DOCS / "make_screenshots.py"), "--out", str(tmp_path)],
                          env=env, capture_output=True, text=True, timeout=600, cwd=ROOT)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    stale = []
    for name in make_screenshots.SCENARIOS:
        fresh, committed = tmp_path / f"guide_{name}.png", DOCS / "screenshots" / f"guide_{name}.png"
        with Image.open(fresh) as a, Image.open(committed) as b:
            if a.size != b.size:
                stale.append(f"{name}: size {b.size} committed, {a.size} now")
                continue
        diff = float(np.abs(_thumb(fresh) - _thumb(committed)).mean())
        if diff > TOLERANCE:
            stale.append(f"{name}: differs by {diff:.1f}")
    assert not stale, "stale screenshots (run docs/make_screenshots.py): " + "; ".join(stale)
