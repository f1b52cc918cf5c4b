"""``python -m viewer print-scp`` as a process: DCMTK's echoscu and dcmprscu talk to it,
SIGTERM/SIGINT stop it cleanly, and its log reads like ``dcmprscp -v``."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.helpers.peers import c_echo, free_port, require_program
from tests.helpers.dcmtk_print import dcmtk_print, print_images

pytestmark = pytest.mark.peers
ROOT = Path(__file__).resolve().parents[2]


def start(out: Path, port: int, *extra: str) -> subprocess.Popen:
    proc = subprocess.Popen([sys.executable, "-m", "viewer", "print-scp", "--port", str(port), "--bind", "127.0.0.1",
                             "--aet", "VIEWERPRINT", "--out", str(out), "--dpi", "50", *extra],
                            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"print-scp exited: {proc.communicate()}")
        if c_echo(port, "VIEWERPRINT", timeout=1) == 0:
            return proc
        time.sleep(0.2)
    proc.kill()
    raise AssertionError("print-scp did not answer C-ECHO")


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_cli_prints_and_stops_cleanly(tmp_path, corpus, sig):
    port = free_port()
    proc = start(tmp_path / "out", port)
    try:
        echo = subprocess.run([require_program("echoscu", "dcmtk"), "-aec", "VIEWERPRINT", "127.0.0.1", str(port)],
                              capture_output=True, text=True, timeout=30)
        assert echo.returncode == 0, echo.stderr
        _sp, statuses = dcmtk_print(port, tmp_path / "scu", 2, 2, print_images(corpus), "--identity")
        assert statuses and all(s == "0x0000" for _, s in statuses), statuses
    finally:
        proc.send_signal(sig)
        out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    [session] = [p for p in (tmp_path / "out").iterdir() if p.is_dir()]
    assert (session / "film-1.png").exists() and (session / "session.pdf").exists()
    assert len(list(session.glob("film-1-box-*.dcm"))) == 4
    # dcmprscp -v style log: associations and every DIMSE message with its status.
    for needle in ("Association Received", "DCMPRSCU", "N-GET Printer", "N-CREATE Film Session",
                   "N-CREATE Film Box", "N-SET Grayscale Image Box", "N-ACTION Film Box", "N-DELETE",
                   "Association Released", "shutting down", "print SCP stopped: 1 film(s) printed"):
        assert needle in err, needle
    # Nothing listens on the port any more (a restart can bind it, as pynetdicom reuses the address).
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("127.0.0.1", port))
        s.listen(1)


def test_cli_bad_options(tmp_path):
    run = [sys.executable, "-m", "viewer", "print-scp", "--out", str(tmp_path / "o")]
    r = subprocess.run([*run, "--profile", "nosuch", "--port", str(free_port())], cwd=ROOT, capture_output=True,
                       text=True, timeout=60)
    assert r.returncode == 2 and "no printer profile 'nosuch'" in r.stderr and "Traceback" not in r.stderr
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        taken = busy.getsockname()[1]
        r = subprocess.run([*run, "--bind", "127.0.0.1", "--port", str(taken)], cwd=ROOT, capture_output=True,
                           text=True, timeout=60)
    assert r.returncode == 1 and "cannot listen" in r.stderr and "Traceback" not in r.stderr
