"""The print SCP as a door open to the network: oversized image boxes are refused, the images one
association may hold are bounded, and hostile connections do not stop it serving.

Peers: pynetdicom print SCU in-process (the wire protocol is real) and raw sockets.
Oracle: PS3.7 C.5 / PS3.4 H.4 statuses (0x0213 resource limitation is a failure, the
server answers it and stays up for the next SCU).
"""

from __future__ import annotations

import socket
import struct
import threading
import time
from pathlib import Path

import pytest
from pynetdicom import AE
from pynetdicom.sop_class import Verification

from tests.helpers.net import wait_closed
from tests.helpers.print_scu import PrintScu
from tests.helpers.peers import free_port
from viewer.net.print_scp import checks as chk
from viewer.net.print_scp import service as svc
from viewer.net.print_scp import PrintServer, load_profile

TIMEOUT = 2.0


@pytest.fixture
def server(tmp_path: Path):
    printed: list = []
    srv = PrintServer(printed.append, load_profile("default"), aet="VIEWERPRINT", host="127.0.0.1",
                      port=free_port(), timeout=TIMEOUT)
    srv.start()
    srv.printed = printed  # type: ignore[attr-defined]
    yield srv
    srv.stop()


def _echo(port: int) -> bool:
    ae = AE(ae_title="CHECK")
    ae.add_requested_context(Verification)
    ae.acse_timeout = ae.network_timeout = 10
    assoc = ae.associate("127.0.0.1", port, ae_title="VIEWERPRINT")
    if not assoc.is_established:
        return False
    ok = int(assoc.send_c_echo().Status) == 0
    assoc.release()
    return ok


def test_oversized_image_box_is_refused(server, monkeypatch) -> None:
    monkeypatch.setattr(chk, "MAX_IMAGE_PIXELS", 100 * 100)  # the real limit is 8192 x 8192
    scu = PrintScu(server.port)
    try:
        refs = scu.film()
        assert scu.set_box(refs[0], 1, 128, 128) == chk.RESOURCE_LIMITATION
        assert scu.set_box(refs[0], 1, 64, 64) == 0x0000  # the same box takes a fitting image
    finally:
        scu.release()
    assert _echo(server.port)


def test_images_held_per_association_are_bounded(server, monkeypatch) -> None:
    monkeypatch.setattr(svc, "MAX_ASSOCIATION_BYTES", 3 * 64 * 64 + 32 * 32)
    scu = PrintScu(server.port)
    try:
        refs = scu.film()
        statuses = [scu.set_box(ref, i + 1, 64, 64) for i, ref in enumerate(refs)]
        assert statuses == [0, 0, 0, chk.RESOURCE_LIMITATION]
        assert scu.set_box(refs[0], 1, 32, 32) == 0  # replacing an image frees its bytes
        assert scu.set_box(refs[3], 4, 64, 64) == 0
    finally:
        scu.release()
    # Another association has its own budget.
    other = PrintScu(server.port)
    try:
        assert other.set_box(other.film()[0], 1, 64, 64) == 0
    finally:
        other.release()


def _half_rq() -> bytes:
    return struct.pack(">BBI", 1, 0, 200) + b"\x00\x01\x00\x00" + b"VIEWERPRINT".ljust(16)  # 24 of 206 bytes


@pytest.mark.parametrize("payload", [b"", b"\xde\xad\xbe\xef" * 50, _half_rq()])
def test_print_scp_serves_while_hostile_connections_hang(server, payload: bytes) -> None:
    socks = [socket.create_connection(("127.0.0.1", server.port), timeout=5) for _ in range(25)]
    try:
        for s in socks:
            if payload:
                s.sendall(payload)
        # More connections than max_associations (20) hang or misbehave; within the
        # timeouts the server drops them and serves again.
        deadline = time.monotonic() + TIMEOUT * 3 + 5
        while not _echo(server.port):
            assert time.monotonic() < deadline, "print SCP locked out by hanging connections"
            time.sleep(0.5)
    finally:
        for s in socks:
            s.close()


def test_print_scp_drops_a_connection_that_stops_mid_pdu(server) -> None:
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as s:
        s.sendall(_half_rq())
        assert wait_closed(s, TIMEOUT * 4 + 5) < TIMEOUT * 4 + 4  # closed by the network timeout


def test_a_message_larger_than_the_limit_closes_the_connection(server, caplog) -> None:
    """Bounded memory per association: the data set of one N-SET is counted as it arrives
    (P-DATA-TF fragments) and the connection is closed past the limit, before the request
    is complete; the server serves the next SCU."""
    server.max_message_bytes = 64 * 1024  # real limit: an 8192 x 8192 16-bit image box
    server.stop()
    server.start()  # handlers bound with the new limit
    scu = PrintScu(server.port)
    refs = scu.film()
    assert scu.set_box(refs[0], 1, 128, 128) == 0  # 16 KiB: fine
    try:
        status: int | None = scu.set_box(refs[1], 2, 512, 512)  # 256 KiB
    except Exception:  # noqa: BLE001 - pynetdicom may report the lost association by raising
        status = None
    assert status != 0
    scu.assoc.join(10)  # the SCU's association thread ends when it notices the close
    assert not scu.assoc.is_established
    assert "connection closed" in caplog.text
    assert _echo(server.port)


def _print_job(corpus: Path, port: int):
    print_films = pytest.importorskip("viewer.tasks.print_films")
    print_render = pytest.importorskip("viewer.tasks.print_render")
    profile_mod = pytest.importorskip("viewer.film.profile")
    spec = pytest.importorskip("viewer.film.spec")
    client = profile_mod.permissive_profile("127.0.0.1", port, "VIEWERPRINT")
    box = spec.FilmBoxSpec(display_format="STANDARD\\2,1", film_size="8INX10IN")
    refs = [print_render.ImageRef(str(corpus / "ct" / "CT_small.dcm")),
            print_render.ImageRef(str(corpus / "mr" / "MR_small.dcm"))]
    job, _ = print_films.build_job(refs, box, spec.FilmSessionSpec(label="X"), client, color=False, bits=8)
    return job, client


@pytest.mark.parametrize("fault", ["abort", "silent"])
def test_print_scu_when_the_printer_aborts_or_goes_silent_mid_job(server, corpus: Path, monkeypatch, fault) -> None:
    """Our print SCU against our print SCP made to abort the association, or stop answering,
    at the second image box: a PrintError (our ViewerError) within the timeouts, never a hang."""
    from viewer.errors import ViewerError

    original = server.service.n_set
    calls = {"n": 0}
    answer = threading.Event()  # "silent": the printer answers nothing until the SCU has given up

    def faulty(event):
        calls["n"] += 1
        if calls["n"] == 2:
            if fault == "abort":
                event.assoc.abort()
                return 0x0110, None
            answer.wait(60)
        return original(event)

    monkeypatch.setattr(server.service, "n_set", faulty)
    server.stop()
    server.start()  # handlers bound to the patched method
    job, client = _print_job(corpus, server.port)
    print_run = pytest.importorskip("viewer.tasks.print_run")
    try:
        with pytest.raises(ViewerError) as info:  # only the SCU's own timeouts can end a silent job
            print_run.run_print_job(job, client, timeout=3.0, job_timeout=5.0)
    finally:
        answer.set()
    assert str(info.value)
    assert server.printed == []  # nothing printed from a broken job
    assert _echo(server.port)  # and the printer serves the next SCU
