"""The CLI skeleton: version, one-line errors, exit codes, no traceback without --debug."""

from __future__ import annotations

import subprocess
import sys

import pytest

from viewer import __version__
from viewer.commands import discover

EXPECTED_COMMANDS = {"render", "dump", "scan", "echo", "find", "move", "get", "worklist", "send", "print", "print-scp",
                     "export", "library", "report"}


def run_cli(*args: str, env: dict | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "viewer", *args], capture_output=True, text=True, timeout=120,
                          env=env)


def test_version() -> None:
    result = run_cli("--version")
    assert result.returncode == 0
    assert result.stdout.strip() == f"dicom-viewer {__version__}"


def test_unknown_option_is_one_line_and_nonzero() -> None:
    result = run_cli("--no-such-option")
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "unrecognized arguments: --no-such-option" in lines[0]
    assert "Traceback" not in result.stderr


def test_gui_on_missing_path_is_one_line_and_nonzero(tmp_path) -> None:
    missing = tmp_path / "nope"
    result = run_cli(str(missing), "--screenshot", str(tmp_path / "x.png"))
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and str(missing) in lines[0], result.stderr
    assert not (tmp_path / "x.png").exists()


@pytest.mark.parametrize("command", sorted(set(discover()) & {"render", "dump", "scan"}))
def test_subcommand_on_missing_path_is_one_line_and_nonzero(command: str, tmp_path) -> None:
    missing = tmp_path / "does-not-exist.dcm"
    args = [command, str(missing)] + (["-o", str(tmp_path / "o.png")] if command == "render" else [])
    result = run_cli(*args)
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "does-not-exist.dcm" in lines[0] and "Traceback" not in result.stderr


@pytest.mark.parametrize("command", sorted(discover()))
def test_subcommand_unknown_option_is_one_line(command: str) -> None:
    result = run_cli(command, "--definitely-not-an-option")
    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr


def test_registered_commands_are_known() -> None:
    # Every discovered module is one of the documented subcommands (no stray modules).
    assert set(discover()) <= EXPECTED_COMMANDS
