"""C-ECHO over TLS (PS3.15 B.1) against an in-process pynetdicom SCP with certificates
made by openssl: a trusted CA works, an untrusted one is a clear NetError."""

from __future__ import annotations

import shutil
import ssl
import subprocess
from pathlib import Path

import pytest
from pynetdicom import AE
from pynetdicom.sop_class import Verification

from tests.helpers.peers import free_port
from viewer.config import DimseNode, Timeouts, TlsOptions
from viewer.errors import NetError
from viewer.net.echo import echo

pytestmark = pytest.mark.skipif(shutil.which("openssl") is None, reason="openssl not installed")


def _self_signed(folder: Path, name: str) -> tuple[Path, Path]:
    cert, key = folder / f"{name}.pem", folder / f"{name}.key"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj",
                    f"/CN={name}", "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)],
                   check=True, capture_output=True)
    return cert, key


@pytest.fixture
def tls_server(tmp_path):
    cert, key = _self_signed(tmp_path, "server")
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(cert, key)
    ae = AE(ae_title="TLSSCP")
    ae.add_supported_context(Verification)
    port = free_port()
    server = ae.start_server(("127.0.0.1", port), block=False, ssl_context=ctx)
    yield port, cert
    server.shutdown()


def _node(port: int, ca: Path) -> DimseNode:
    return DimseNode("tls", "TLSSCP", "127.0.0.1", port, timeouts=Timeouts.uniform(5), tls=TlsOptions(ca_file=str(ca)))


def test_echo_over_tls(tls_server) -> None:
    port, cert = tls_server
    assert echo(_node(port, cert), "VIEWER").status == 0x0000


def test_untrusted_server_certificate_fails_clearly(tls_server, tmp_path) -> None:
    port, _ = tls_server
    other, _key = _self_signed(tmp_path, "other")
    with pytest.raises(NetError, match="TLS handshake failed: CERTIFICATE_VERIFY_FAILED"):
        echo(_node(port, other), "VIEWER")


def test_missing_ca_file_is_a_net_error(tls_server, tmp_path) -> None:
    port, _ = tls_server
    with pytest.raises(NetError, match="TLS setup"):
        echo(_node(port, tmp_path / "nope.pem"), "VIEWER")
