"""Run ``python -m viewer ARGS`` in a child and report its peak resident memory.

The child reads its peak resident set, ``VmHWM`` of ``/proc/self/status`` (KiB), as it exits
and writes it to a file, so stderr stays the command's own. Not ``ru_maxrss``: Linux keeps the
high-water mark of the memory a child was forked from across ``exec`` (the forked copy of the
parent's address space is accounted to the child), so a child of a 2 GiB pytest process
reports at least 2 GiB however little it uses. ``VmHWM`` belongs to the address space made
by ``exec``.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
_CHILD = """
import atexit, os, sys
def _report():
    with open("/proc/self/status") as status:
        peak = next(line.split()[1] for line in status if line.startswith("VmHWM:"))
    with open(os.environ["RSS_REPORT"], "w") as fh:
        fh.write(peak)
atexit.register(_report)
from viewer.cli import main
sys.exit(main(sys.argv[1:]))
"""


@dataclass
class Run:
    returncode: int
    stdout: str
    stderr: str
    peak_mib: float
    hung: bool = False


def run_viewer(*args: str, timeout: float = 120, env: dict[str, str] | None = None) -> Run:
    """The command's exit status, output and peak RSS in MiB (``hung`` when it timed out)."""
    with tempfile.TemporaryDirectory() as tmp:
        report = Path(tmp) / "rss"
        full_env = {**os.environ, **(env or {}), "RSS_REPORT": str(report)}
        try:
            p = subprocess.run([sys.executable, "-c", _CHILD, *args], cwd=ROOT, capture_output=True, text=True,
                               timeout=timeout, env=full_env)
        except subprocess.TimeoutExpired as exc:
            return Run(-1, str(exc.stdout or ""), str(exc.stderr or ""), float("nan"), hung=True)
        peak = int(report.read_text()) / 1024 if report.exists() else float("nan")
        return Run(p.returncode, p.stdout, p.stderr, peak)
