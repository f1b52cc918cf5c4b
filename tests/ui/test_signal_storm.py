"""PySide6 6.12.0 on Python 3.11 aborts after a few hundred Signal.emit() calls (refcount bug on True).

pyproject.toml pins PySide6 < 6.12 for Python < 3.12. This test emits 20,000 signals (with a
bool argument, the case that crashed) in a subprocess and expects a clean exit.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

pytestmark = pytest.mark.gui

SCRIPT = r"""
import os, sys
os.environ["QT_QPA_PLATFORM"] = "offscreen"
from PySide6.QtCore import QCoreApplication, QObject, Signal

class Emitter(QObject):
    flag = Signal(bool)
    plain = Signal()

app = QCoreApplication([])
received = []
e = Emitter()
e.flag.connect(lambda v: received.append(v))
e.plain.connect(lambda: received.append(None))
for i in range(10000):
    e.flag.emit(True)
    e.plain.emit()
print(len(received), sum(1 for v in received if v is True))
"""


def test_twenty_thousand_emits_exit_cleanly() -> None:
    result = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, f"interpreter died ({result.returncode}): {result.stderr[-2000:]}"
    assert result.stdout.split() == ["20000", "10000"]
