"""A hostile DICOMweb server: a WADO-RS part that never ends must not fill the
disk (the store's object limit stops it, nothing partial stays), and a server that never
answers ends in a NetError within the timeout."""

from __future__ import annotations

import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from viewer.errors import NetError
from viewer.net.dicomweb import DicomWebClient, WebTarget
from viewer.dicom.local_store import TMP_PREFIX, LocalStore

STUDY = "1.2.826.0.1.3680043.8.498.1"


class _Endless(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *a: object) -> None:
        pass

    def do_GET(self) -> None:  # http.server's name
        self.send_response(200)
        self.send_header("Content-Type", 'multipart/related; type="application/dicom"; boundary=b0')
        self.end_headers()
        try:
            self.wfile.write(b"--b0\r\nContent-Type: application/dicom\r\n\r\n")
            chunk = b"\0" * 65536
            for _ in range(100000):  # 6.5 GB if nobody stops reading
                self.wfile.write(chunk)
        except OSError:
            pass


def test_endless_wado_part_is_stopped_at_the_store_limit(tmp_path: Path) -> None:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Endless)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        store = LocalStore(tmp_path / "store", max_object_bytes=4 << 20)
        url = f"http://127.0.0.1:{httpd.server_address[1]}/dicom-web"
        t0 = time.monotonic()
        with pytest.raises(NetError, match="larger than"):
            DicomWebClient(WebTarget(url, timeout=5)).retrieve(store, STUDY)
        assert time.monotonic() - t0 < 20
        assert [p for p in store.root.rglob("*") if p.is_file()] == []  # no partial file
        assert not list(store.root.rglob(f"{TMP_PREFIX}*"))
    finally:
        httpd.shutdown()
        httpd.server_close()


def test_silent_server_is_a_net_error_within_the_timeout(tmp_path: Path) -> None:
    srv = socket.create_server(("127.0.0.1", 0))
    conns = []
    threading.Thread(target=lambda: conns.append(srv.accept()), daemon=True).start()
    try:
        url = f"http://127.0.0.1:{srv.getsockname()[1]}/dicom-web"
        t0 = time.monotonic()
        with pytest.raises(NetError):
            DicomWebClient(WebTarget(url, timeout=2)).retrieve(tmp_path / "store", STUDY)
        assert time.monotonic() - t0 < 15
    finally:
        srv.close()
