"""Architecture guard (house rule 1, docs/architecture.md): no Qt below viewer/ui, headless commands stay headless."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

from viewer.commands import discover

PACKAGE = Path(__file__).resolve().parents[2] / "viewer"
QT_MODULES = {"PySide6", "shiboken6", "pyqtgraph"}

# Run a CLI call in a fresh interpreter where importing Qt raises ImportError.
BLOCK_QT = (
    "import sys\n"
    "for name in ('PySide6', 'shiboken6', 'pyqtgraph'):\n"
    "    sys.modules[name] = None\n"
    "from viewer.cli import main\n"
    "code = main(sys.argv[1:])\n"
    "assert not any(m.split('.')[0] in ('PySide6', 'shiboken6', 'pyqtgraph') and sys.modules[m] is not None"
    " for m in list(sys.modules)), 'Qt was imported'\n"
    "sys.exit(code)\n"
)


def _qt_imports(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    found = []
    for node in ast.walk(tree):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module]
        found += [n for n in names if n.split(".")[0] in QT_MODULES]
    return found


def test_no_qt_outside_ui_and_app() -> None:
    offenders = {}
    for path in PACKAGE.rglob("*.py"):
        rel = path.relative_to(PACKAGE).as_posix()
        if rel.startswith("ui/") or rel == "app.py":
            continue
        if hits := _qt_imports(path):
            offenders[rel] = hits
    assert offenders == {}


def test_guard_detects_a_qt_import(tmp_path) -> None:
    # The scanner itself must be able to fail.
    bad = tmp_path / "bad.py"
    bad.write_text("def f():\n    from PySide6.QtCore import QObject\n")
    assert _qt_imports(bad) == ["PySide6.QtCore"]


@pytest.mark.parametrize("command", sorted(discover()))
def test_subcommand_help_works_without_qt(command: str) -> None:
    result = subprocess.run([sys.executable, "-c", BLOCK_QT, command, "--help"], capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "usage:" in result.stdout


def test_dump_help_works_without_qt() -> None:
    if "dump" not in discover():
        pytest.fail("the dump subcommand is missing")
    result = subprocess.run([sys.executable, "-c", BLOCK_QT, "dump", "--help"], capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr


def test_blocking_qt_really_blocks() -> None:
    # The GUI path needs Qt: under the block it must fail (proves the block is effective).
    result = subprocess.run([sys.executable, "-c", BLOCK_QT, "--size", "300x300"], capture_output=True, text=True,
                            timeout=120)
    assert result.returncode != 0
    assert "PySide6" in result.stderr or "import" in result.stderr.lower()
