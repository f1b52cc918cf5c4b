"""DICOM over TLS (PS3.15 B.9, BCP 195) for our SCU calls and our SCPs.

A CA, server and client certificates and a rogue self-signed client are made in the test
with the ``openssl`` CLI. Independent peers: DCMTK's ``storescu``/``echoscu`` (TLS client,
BCP 195 non-downgrading profile) against our storage SCP, and DCMTK's ``storescp`` (TLS
server) receiving from our C-STORE SCU; pydicom reads back what arrived.
"""

from __future__ import annotations

import shutil
import socket
import ssl
import subprocess
import time
from pathlib import Path

import pydicom
import pytest

from tests.helpers.peers import free_port
from viewer.config import DimseNode, Timeouts, TlsOptions
from viewer.errors import NetError
from viewer.net.echo import echo
from viewer.net.storage_scp import StorageSCP
from viewer.dicom.local_store import LocalStore
from viewer.net.tls import ServerTls, server_context

pytestmark = pytest.mark.skipif(shutil.which("openssl") is None, reason="openssl CLI not installed")


@pytest.fixture
def tls_scp(pki, tmp_path):
    ctx = server_context(ServerTls(str(pki["server"][0]), str(pki["server"][1]), str(pki["ca"])))
    scp = StorageSCP(LocalStore(tmp_path / "store"), "VIEWER", free_port(), allowed_calling=["SENDER", "STORESCU"],
                     host="127.0.0.1", ssl_context=ctx).start()
    yield scp
    scp.stop()


def _node(port: int, pki, cert: str | None = "client", ae: str = "VIEWER") -> DimseNode:
    pair = pki[cert] if cert else None
    tls = TlsOptions(ca_file=str(pki["ca"]), cert_file=str(pair[0]) if pair else "",
                     key_file=str(pair[1]) if pair else "", check_hostname=True)
    return DimseNode("tls", ae, "127.0.0.1", port, timeouts=Timeouts.uniform(5), tls=tls)


def _send(node: DimseNode, paths: list[Path]) -> list:
    from viewer.tasks.send import send_paths

    return list(send_paths(node, paths, calling_aet="SENDER"))


def test_our_scu_to_our_storage_scp_over_tls(tls_scp, pki, corpus) -> None:
    src = corpus / "mr" / "MR_small.dcm"
    assert echo(_node(tls_scp.port, pki), "SENDER").status == 0x0000
    _send(_node(tls_scp.port, pki), [src])
    (stored,) = tls_scp.store.instances()
    assert pydicom.dcmread(stored).PixelData == pydicom.dcmread(src).PixelData


@pytest.mark.parametrize("cert", [None, "rogue"])
def test_client_without_a_trusted_certificate_is_refused(tls_scp, pki, corpus, cert) -> None:
    with pytest.raises(NetError):
        echo(_node(tls_scp.port, pki, cert=cert), "SENDER")
    assert tls_scp.store.instances() == []


@pytest.mark.filterwarnings("ignore:ssl.TLSVersion.TLSv1_1 is deprecated:DeprecationWarning")
def test_plain_tcp_and_old_tls_are_refused(tls_scp, pki) -> None:
    from pynetdicom import AE
    from pynetdicom.sop_class import Verification

    ae = AE(ae_title="SENDER")
    ae.add_requested_context(Verification)
    ae.acse_timeout = ae.network_timeout = 5
    assoc = ae.associate("127.0.0.1", tls_scp.port, ae_title="VIEWER")
    assert not assoc.is_established
    old = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    old.load_verify_locations(str(pki["ca"]))
    old.load_cert_chain(str(pki["client"][0]), str(pki["client"][1]))
    try:
        old.minimum_version = old.maximum_version = ssl.TLSVersion.TLSv1_1
    except ValueError:
        pytest.skip("this OpenSSL cannot even offer TLS 1.1")
    with socket.create_connection(("127.0.0.1", tls_scp.port), timeout=5) as raw, \
            pytest.raises((ssl.SSLError, OSError)):
        old.wrap_socket(raw, server_hostname="127.0.0.1").do_handshake()


def test_wrong_server_certificate_is_a_clear_net_error(pki, tmp_path) -> None:
    ctx = server_context(ServerTls(str(pki["rogue"][0]), str(pki["rogue"][1]), str(pki["ca"])))
    scp = StorageSCP(LocalStore(tmp_path / "s"), "VIEWER", free_port(), allowed_calling=["SENDER"],
                     host="127.0.0.1", ssl_context=ctx).start()
    try:
        with pytest.raises(NetError, match="TLS handshake failed"):
            echo(_node(scp.port, pki), "SENDER")
    finally:
        scp.stop()


def test_server_tls_setup_errors_are_clear(pki, tmp_path) -> None:
    with pytest.raises(NetError, match="not found"):
        server_context(ServerTls(str(tmp_path / "none.pem")))
    with pytest.raises(NetError, match="CA file is needed"):
        server_context(ServerTls(str(pki["server"][0]), str(pki["server"][1])))
    with pytest.raises(NetError, match="TLS setup"):
        server_context(ServerTls(str(pki["server"][0]), str(pki["rogue"][1]), str(pki["ca"])))  # key mismatch


@pytest.mark.skipif(shutil.which("storescu") is None, reason="DCMTK not installed")
def test_dcmtk_storescu_over_tls_to_our_storage_scp(tls_scp, pki, corpus) -> None:
    src = corpus / "ct" / "CT_small.dcm"
    base = ["+tls", str(pki["client"][1]), str(pki["client"][0]), "+cf", str(pki["ca"]), "-aet", "STORESCU",
            "-aec", "VIEWER", "127.0.0.1", str(tls_scp.port)]
    run = subprocess.run(["storescu", *base, str(src)], capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    (stored,) = tls_scp.store.instances()
    assert pydicom.dcmread(stored).PixelData == pydicom.dcmread(src).PixelData
    # DCMTK without a client certificate (anonymous TLS) is refused by our SCP.
    anon = subprocess.run(["echoscu", "+tla", "+cf", str(pki["ca"]), "-aet", "STORESCU", "-aec", "VIEWER",
                           "127.0.0.1", str(tls_scp.port)], capture_output=True, text=True, timeout=60)
    assert anon.returncode != 0


@pytest.mark.skipif(shutil.which("storescp") is None, reason="DCMTK not installed")
def test_our_scu_to_dcmtk_storescp_over_tls(pki, corpus, tmp_path) -> None:
    port, out = free_port(), tmp_path / "received"
    out.mkdir()
    proc = subprocess.Popen(["storescp", "+tls", str(pki["server"][1]), str(pki["server"][0]), "+cf", str(pki["ca"]),
                             "-aet", "DCMTKTLS", "-od", str(out), str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                time.sleep(0.1)
        src = corpus / "mr" / "MR_small.dcm"
        _send(_node(port, pki, ae="DCMTKTLS"), [src])
        deadline = time.monotonic() + 10
        while not list(out.iterdir()) and time.monotonic() < deadline:
            time.sleep(0.1)
        (got,) = list(out.iterdir())
        assert pydicom.dcmread(got).SOPInstanceUID == pydicom.dcmread(src).SOPInstanceUID
    finally:
        proc.terminate()
        proc.wait(10)


def test_print_scp_over_tls(pki, tmp_path) -> None:
    from viewer.net.print_scp import PrintServer, load_profile

    ctx = server_context(ServerTls(str(pki["server"][0]), str(pki["server"][1]), str(pki["ca"])))
    srv = PrintServer(lambda req: None, load_profile("default"), aet="VIEWERPRINT", host="127.0.0.1",
                      port=free_port(), timeout=10, ssl_context=ctx)
    srv.start()
    try:
        assert echo(_node(srv.port, pki, ae="VIEWERPRINT"), "PRINTSCU").status == 0x0000
        with pytest.raises(NetError):
            echo(_node(srv.port, pki, cert="rogue", ae="VIEWERPRINT"), "PRINTSCU")
    finally:
        srv.stop()


def test_print_scp_cli_over_tls(pki, tmp_path) -> None:
    """``print-scp --tls-cert/--tls-key/--tls-ca``: TLS only, client certificate required."""
    import sys

    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "viewer", "print-scp", "--port", str(port), "--bind", "127.0.0.1",
                             "--out", str(tmp_path / "prints"), "--tls-cert", str(pki["server"][0]),
                             "--tls-key", str(pki["server"][1]), "--tls-ca", str(pki["ca"])],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                assert echo(_node(port, pki, ae="VIEWERPRINT"), "PRINTSCU").status == 0x0000
                break
            except NetError:
                assert proc.poll() is None and time.monotonic() < deadline, "print-scp did not come up"
                time.sleep(0.3)
        with pytest.raises(NetError):
            echo(_node(port, pki, cert=None, ae="VIEWERPRINT"), "PRINTSCU")
    finally:
        proc.terminate()
        proc.wait(10)
    bad = subprocess.run([sys.executable, "-m", "viewer", "print-scp", "--tls-ca", str(pki["ca"])],
                         capture_output=True, text=True, timeout=60)
    assert bad.returncode == 2 and "need --tls-cert" in bad.stderr


def test_configured_storage_scp_over_tls(pki, tmp_path, corpus) -> None:
    """LocalAE's tls_* settings (saved and loaded with the network configuration) make the
    storage SCP that C-MOVE/the panel start listen for TLS only."""
    from viewer.config import LocalAE, NetworkConfig, load_config, save_config
    from viewer.tasks.retrieve import ScpHolder

    local = LocalAE("VIEWER", free_port(), tls_cert_file=str(pki["server"][0]), tls_key_file=str(pki["server"][1]),
                    tls_ca_file=str(pki["ca"]))
    save_config(NetworkConfig(local=local), tmp_path / "cfg")
    local = load_config(tmp_path / "cfg").local
    holder = ScpHolder(local, LocalStore(tmp_path / "store"), {"SENDER"})
    try:
        scp = holder.get()
        _send(_node(scp.port, pki), [corpus / "mr" / "MR_small.dcm"])
        assert len(scp.store.instances()) == 1
        with pytest.raises(NetError):
            echo(DimseNode("plain", "VIEWER", "127.0.0.1", scp.port, timeouts=Timeouts.uniform(3)), "SENDER")
    finally:
        holder.stop()
