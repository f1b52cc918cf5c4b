"""The import-linter contracts of pyproject.toml hold, and they do catch what they forbid.

The oracle is import-linter itself, run on the real tree and on a copy with one forbidden
import added (the GUI calling viewer.net directly, as the PACS panel once did).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LINT = Path(sys.executable).with_name("lint-imports")
CONTRACT = "The GUI reaches viewer.net and viewer.film only through viewer.tasks"

pytestmark = pytest.mark.skipif(not LINT.exists(), reason="import-linter is not installed")


def _lint(root: Path) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, PYTHONPATH=str(root))
    return subprocess.run([str(LINT), "--config", str(root / "pyproject.toml"), "--no-cache"], cwd=root, env=env,
                          capture_output=True, text=True, timeout=600)


def _copy(tmp_path: Path) -> Path:
    shutil.copytree(ROOT / "viewer", tmp_path / "viewer", ignore=shutil.ignore_patterns("__pycache__", "_data"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    return tmp_path


def test_the_gui_imports_no_protocol_code(tmp_path) -> None:
    result = _lint(_copy(tmp_path))
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"{CONTRACT} KEPT" in result.stdout


def test_a_gui_module_importing_viewer_net_breaks_the_contract(tmp_path) -> None:
    root = _copy(tmp_path)
    panel = root / "viewer" / "ui" / "pacs_panel.py"
    text = panel.read_text(encoding="utf-8")
    forbidden = "from viewer.net.find import find  # noqa: F401\n"
    anchor = "from viewer.tasks import query as pacs\n"
    assert anchor in text
    panel.write_text(text.replace(anchor, forbidden + anchor, 1), encoding="utf-8")
    result = _lint(root)
    assert result.returncode != 0
    assert f"{CONTRACT} BROKEN" in result.stdout
    assert "viewer.ui.pacs_panel -> viewer.net.find" in result.stdout
