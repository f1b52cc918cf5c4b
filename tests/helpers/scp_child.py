"""Run one of our SCPs in a child process and report its peak resident memory.

``python -m tests.helpers.scp_child storage|print STORE_DIR [KEY=VALUE ...]`` prints the port
it listens on, serves until stdin is closed, then prints ``VmHWM`` of ``/proc/self/status``
in KiB (the child's own high-water mark: see tests/helpers/rss.py) and exits. KEY=VALUE set
attributes of the SCP before it starts (``acse_timeout=2``, ``max_per_host=4``).
"""

from __future__ import annotations

import logging
import subprocess
import sys
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

ROOT = Path(__file__).resolve().parents[2]


def _peak_kib() -> int:
    with open("/proc/self/status") as status:
        return int(next(line.split()[1] for line in status if line.startswith("VmHWM:")))


def main(argv: list[str]) -> int:
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    from viewer.net.print_scp import PrintServer
    from viewer.net.storage_scp import StorageSCP

    kind, folder, *settings = argv
    scp: StorageSCP | PrintServer
    if kind == "storage":
        from viewer.dicom.local_store import LocalStore

        scp = StorageSCP(LocalStore(Path(folder)), "VIEWER", 0, allowed_calling=["PACS"], host="127.0.0.1")
    else:
        scp = PrintServer(on_print=lambda request: None, host="127.0.0.1", port=0)
    for item in settings:
        key, value = item.split("=", 1)
        setattr(scp, key, float(value) if "timeout" in key else int(value))
    scp.start()
    print(scp.port, flush=True)
    sys.stdin.read()
    scp.stop()
    print(_peak_kib(), flush=True)
    return 0


@contextmanager
def scp_process(kind: str, folder: Path, *settings: str, env: dict[str, str] | None = None
                ) -> Iterator[tuple[int, list[float]]]:
    """The child SCP's port, and a list that holds its peak RSS in MiB once the block ends."""
    import os

    proc = subprocess.Popen([sys.executable, "-m", "tests.helpers.scp_child", kind, str(folder), *settings],
                            cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                            env={**os.environ, **(env or {})})
    assert proc.stdout is not None and proc.stdin is not None
    peak: list[float] = []
    try:
        port = int(proc.stdout.readline())
        yield port, peak
    finally:
        proc.stdin.close()
        try:
            out = proc.stdout.read()
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
            raise
        lines = out.split()
        if lines:
            peak.append(int(lines[-1]) / 1024)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
