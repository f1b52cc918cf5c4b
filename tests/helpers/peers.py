"""Real DICOM peers for the tests, started on 127.0.0.1 with free ports and temporary folders.

A pytest plugin (``pytest_plugins`` in ``tests/conftest.py``). Each peer is another project's program:

* ``dcmprscp`` (DCMTK): Basic Grayscale Print SCP, one process per printer profile;
* ``Orthanc`` (+ DICOMweb plugin): Q/R SCP and DICOMweb server;
* ``dcmqrscp`` (DCMTK): a simple Q/R SCP;
* ``wlmscpfs`` (DCMTK): a Modality Worklist SCP.

Every peer is started by a session fixture, waited for with a real C-ECHO, and stopped by
pid (SIGTERM, then SIGKILL after 10 s). When ``CI`` is set a missing program fails the run;
elsewhere the test is skipped with a reason naming the Debian package to install.

The configurations in ``tests/peers_conf/`` come from the team's peer reference
(its ``peers/conf`` folder in the team workspace), rendered with ``@NAME@`` placeholders.
"""

from __future__ import annotations

import logging
import os
import random
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator

import pytest

CONF = Path(__file__).resolve().parents[1] / "peers_conf"
HOST = "127.0.0.1"
START_TIMEOUT = float(os.environ.get("PEERS_START_TIMEOUT", "30"))
#: AE title of our own storage SCP, which Orthanc and dcmqrscp know as a C-MOVE destination.
MOVE_DEST_AET = "VIEWER"

log = logging.getLogger(__name__)


def free_port() -> int:
    """A TCP port that was free a moment ago, below the kernel's ephemeral range.

    Binding to port 0 hands out an ephemeral port, and the same range serves every outgoing
    connection: a port kept for a whole session (the one the peers C-MOVE to) was taken, once,
    by a client connection between two of its uses ("Address already in use"). Ports below
    the range are never given to outgoing connections.
    """
    low = _ephemeral_low()
    pick = random.SystemRandom()
    for _ in range(200):
        port = pick.randint(max(1024, low - 12000), low - 1)
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            try:
                s.bind((HOST, port))
            except OSError:
                continue
            return port
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


def _ephemeral_low() -> int:
    try:
        return int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768  # Linux's default


def require_program(program: str, apt_package: str) -> str:
    """Path of ``program``; fail under CI, skip elsewhere, naming the apt package."""
    path = shutil.which(program)
    if path:
        return path
    msg = f"{program} not found: install the Debian package '{apt_package}' (make deps does)"
    if os.environ.get("CI"):
        pytest.fail(msg, pytrace=False)
    pytest.skip(msg)


def render_template(template: Path, out: Path, values: dict[str, object]) -> None:
    text = template.read_text()
    for key, value in values.items():
        text = text.replace(f"@{key}@", str(value))
    out.write_text(text)


def c_echo(port: int, aet: str, timeout: float = 3.0) -> int | None:
    """C-ECHO with pynetdicom; the status, or None when no association was made."""
    from pynetdicom import AE
    from pynetdicom.sop_class import Verification

    ae = AE(ae_title="PEERCHECK")
    ae.add_requested_context(Verification)
    ae.acse_timeout = ae.dimse_timeout = ae.network_timeout = timeout
    ae.connection_timeout = timeout
    assoc = ae.associate(HOST, port, ae_title=aet)
    if not assoc.is_established:
        return None
    # pynetdicom's reactor must not take the C-ECHO response (viewer.net.fastpath.response_guard)
    from viewer.net.fastpath.response_guard import guard

    guard(assoc)
    try:
        status = assoc.send_c_echo()
        return int(status.Status) if status and "Status" in status else None
    finally:
        assoc.release()


def _port_open(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex((HOST, port)) == 0


@dataclass
class Peer:
    """A running peer process."""

    name: str
    aet: str
    port: int
    state: Path
    proc: subprocess.Popen
    log_path: Path
    extra: dict[str, object] = field(default_factory=dict)

    @property
    def pid(self) -> int:
        return self.proc.pid

    def alive(self) -> bool:
        return self.proc.poll() is None

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def wait_ready(self, http_port: int | None = None) -> None:
        """Poll with C-ECHO (DCMTK logs an FSM error for a bare TCP connect) until ready."""
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if not self.alive():
                raise RuntimeError(f"{self.name} exited ({self.proc.returncode}):\n{self.log_tail()}")
            if c_echo(self.port, self.aet, timeout=2) == 0 and (http_port is None or _port_open(http_port)):
                return
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"{self.name} did not answer C-ECHO within {START_TIMEOUT} s:\n{self.log_tail()}")

    def stop(self) -> None:
        """SIGTERM by pid, SIGKILL after 10 s."""
        if self.proc.poll() is not None:
            return
        try:
            os.kill(self.proc.pid, signal.SIGTERM)
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=5)
        except ProcessLookupError:
            pass


def _spawn(name: str, argv: list[str], state: Path, log_name: str,
           cwd: Path | None = None) -> tuple[subprocess.Popen, Path]:
    log_path = state / log_name
    fh = open(log_path, "wb")  # noqa: SIM115 - kept open for the child's lifetime
    # DCMTK leaves Nagle's algorithm on unless TCP_NODELAY is set in its environment; each
    # response then waits ~40 ms for the client's delayed ACK (measured in bench/print.py).
    env = dict(os.environ, TCP_NODELAY="1")
    proc = subprocess.Popen(argv, stdout=fh, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                            cwd=cwd or state, start_new_session=True, env=env)
    fh.close()
    return proc, log_path


# --------------------------------------------------------------------------- print SCP
@dataclass
class PrintScp(Peer):
    profile: str = "GRAY"

    @property
    def db(self) -> Path:
        return self.state / "database"

    def stored_prints(self) -> list[Path]:
        return sorted(self.db.glob("SP_*.dcm"))

    def hardcopies(self) -> list[Path]:
        return sorted(self.db.glob("HG_*.dcm"))

    def clear(self) -> None:
        for f in self.db.glob("*.dcm"):
            f.unlink()


def start_print_scp(base: Path, profile: str = "GRAY", aet: str = "PRINTSCP") -> PrintScp:
    """Start ``dcmprscp -p PROFILE`` (profiles GRAY, RESTRICTED, GRAY8 in dcmpstat.cfg.in)."""
    program = require_program("dcmprscp", "dcmtk")
    state = base / f"print-scp-{profile.lower()}"
    dirs = {k: state / k.lower().replace("_dir", "") for k in ("DB_DIR", "SPOOL_DIR", "LOG_DIR", "LUT_DIR")}
    dirs["DB_DIR"] = state / "database"
    for d in dirs.values():
        d.mkdir(parents=True, exist_ok=True)
    port = free_port()
    cfg = state / "dcmpstat.cfg"
    render_template(CONF / "dcmpstat.cfg.in", cfg,
                    {**dirs, "PRINT_SCP_PORT": port, "PRINT_SCP_AET": aet})
    proc, log_path = _spawn("dcmprscp", [program, "-v", "+d", "-c", str(cfg), "-p", profile], state, "dcmprscp.log")
    peer = PrintScp("dcmprscp", aet, port, state, proc, log_path, profile=profile)
    peer.wait_ready()
    return peer


# --------------------------------------------------------------------------- Orthanc
@dataclass
class Orthanc(Peer):
    http_port: int = 0

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.http_port}"

    @property
    def dicomweb(self) -> str:
        return f"{self.url}/dicom-web"

    def load(self, *paths: Path) -> None:
        """Store files with DCMTK ``storescu`` (the peer's own kind of tool)."""
        _storescu(self.aet, self.port, paths)

    def reset(self) -> None:
        """Delete every stored instance (REST ``DELETE /patients/{id}``)."""
        import requests

        for pid in requests.get(f"{self.url}/patients", timeout=10).json():
            requests.delete(f"{self.url}/patients/{pid}", timeout=10).raise_for_status()


def start_orthanc(base: Path, move_dest_port: int, aet: str = "ORTHANC") -> Orthanc:
    program = require_program("Orthanc", "orthanc")
    plugin = Path("/usr/share/orthanc/plugins/libOrthancDicomWeb.so")
    if not plugin.exists():
        msg = f"{plugin} not found: install the Debian package 'orthanc-dicomweb'"
        if os.environ.get("CI"):
            pytest.fail(msg, pytrace=False)
        pytest.skip(msg)
    state = base / "orthanc"
    storage = state / "storage"
    storage.mkdir(parents=True, exist_ok=True)
    port, http_port = free_port(), free_port()
    render_template(CONF / "orthanc.json.in", state / "orthanc.json", {
        "STORAGE_DIR": storage, "PACS_HTTP_PORT": http_port, "PACS_AET": aet, "PACS_DICOM_PORT": port,
        "MODALITIES_JSON": f'"{MOVE_DEST_AET}" : [ "{MOVE_DEST_AET}", "{HOST}", {move_dest_port} ]'})
    proc, log_path = _spawn("Orthanc", [program, f"--logdir={state}", str(state / "orthanc.json")], state,
                            "orthanc.out")
    peer = Orthanc("Orthanc", aet, port, state, proc, log_path, http_port=http_port)
    peer.wait_ready(http_port=http_port)
    return peer


# --------------------------------------------------------------------------- dcmqrscp
@dataclass
class QrScp(Peer):
    def load(self, *paths: Path) -> None:
        _storescu(self.aet, self.port, paths)


def start_dcmqrscp(base: Path, move_dest_port: int, aet: str = "DCMQRSCP") -> QrScp:
    program = require_program("dcmqrscp", "dcmtk")
    state = base / "dcmqrscp"
    db = state / "db"
    db.mkdir(parents=True, exist_ok=True)
    port = free_port()
    render_template(CONF / "dcmqrscp.cfg.in", state / "dcmqrscp.cfg", {
        "QR_SCP_PORT": port, "QR_SCP_AET": aet, "DB_DIR": db,
        "HOST_TABLE": f"peer1 = ({MOVE_DEST_AET}, {HOST}, {move_dest_port})"})
    # Default fork mode: with -s it segfaulted after the first association (peers README).
    proc, log_path = _spawn("dcmqrscp", [program, "-v", "-c", str(state / "dcmqrscp.cfg")], state, "dcmqrscp.log")
    peer = QrScp("dcmqrscp", aet, port, state, proc, log_path)
    peer.wait_ready()
    return peer


# --------------------------------------------------------------------------- wlmscpfs
@dataclass
class WorklistScp(Peer):
    @property
    def folder(self) -> Path:
        return self.state / "db" / self.aet


def start_wlmscpfs(base: Path, aet: str = "WLMSCP") -> WorklistScp:
    program = require_program("wlmscpfs", "dcmtk")
    dump2dcm = require_program("dump2dcm", "dcmtk")
    state = base / "worklist"
    folder = state / "db" / aet  # the called AE must equal this folder's name
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "lockfile").touch()  # wlmscpfs requires it
    for dump in sorted((CONF / "worklist").glob("*.dump")):
        subprocess.run([dump2dcm, "+te", str(dump), str(folder / f"{dump.stem}.wl")], check=True,
                       capture_output=True)
    port = free_port()
    # -s single process (clean stop by pid); -dfr serve incomplete entries.
    proc, log_path = _spawn("wlmscpfs", [program, "-v", "-s", "-dfr", "-dfp", str(state / "db"), str(port)],
                            state, "wlmscpfs.log")
    peer = WorklistScp("wlmscpfs", aet, port, state, proc, log_path)
    peer.wait_ready()
    return peer


def _storescu(aet: str, port: int, paths: tuple[Path, ...]) -> None:
    program = require_program("storescu", "dcmtk")
    argv = [program, "-aet", "PEERLOAD", "-aec", aet, "-nh", "+sd", "+r", HOST, str(port), *map(str, paths)]
    result = subprocess.run(argv, capture_output=True, text=True, timeout=120)
    if result.returncode != 0:
        raise RuntimeError(f"storescu failed ({result.returncode}): {result.stderr[-2000:]}")


# --------------------------------------------------------------------------- fixtures
@pytest.fixture(scope="session")
def peers_state() -> Iterator[Path]:
    """One temporary folder for every peer's state; removed at the end of the session."""
    path = Path(tempfile.mkdtemp(prefix="dicom-viewer-peers-"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(scope="session")
def move_dest_port() -> int:
    """Port of our storage SCP (AE ``VIEWER``) that Orthanc and dcmqrscp may C-MOVE to."""
    return free_port()


@pytest.fixture(scope="session")
def print_scp_factory(peers_state: Path) -> Iterator[Callable[[str], PrintScp]]:
    """``factory(profile)`` starts (once per profile) a dcmprscp with that printer profile."""
    running: dict[str, PrintScp] = {}

    def factory(profile: str = "GRAY") -> PrintScp:
        peer = running.get(profile)
        if peer is None or not peer.alive():
            peer = running[profile] = start_print_scp(peers_state, profile)
        return peer

    yield factory
    for peer in running.values():
        peer.stop()


@pytest.fixture(scope="session")
def print_scp(print_scp_factory: Callable[[str], PrintScp]) -> PrintScp:
    """dcmprscp with the full-featured GRAY profile."""
    return print_scp_factory("GRAY")


@pytest.fixture(scope="session")
def orthanc(peers_state: Path, move_dest_port: int) -> Iterator[Orthanc]:
    peer = start_orthanc(peers_state, move_dest_port)
    yield peer
    peer.stop()


@pytest.fixture(scope="session")
def dcmqrscp(peers_state: Path, move_dest_port: int) -> Iterator[QrScp]:
    peer = start_dcmqrscp(peers_state, move_dest_port)
    yield peer
    peer.stop()


@pytest.fixture(scope="session")
def wlmscpfs(peers_state: Path) -> Iterator[WorklistScp]:
    peer = start_wlmscpfs(peers_state)
    yield peer
    peer.stop()
