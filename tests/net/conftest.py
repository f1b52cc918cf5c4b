"""Fixtures shared by the network tests."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest


def _openssl(*args: str) -> None:
    subprocess.run(["openssl", *args], check=True, capture_output=True)


def _signed(folder: Path, ca: tuple[Path, Path], name: str) -> tuple[Path, Path]:
    key, csr, cert, ext = (folder / f"{name}.key", folder / f"{name}.csr", folder / f"{name}.pem",
                           folder / f"{name}.ext")
    ext.write_text("subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth,clientAuth\n"
                   "basicConstraints=CA:FALSE\n")
    _openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(csr), "-subj", f"/CN={name}")
    _openssl("x509", "-req", "-in", str(csr), "-CA", str(ca[0]), "-CAkey", str(ca[1]), "-CAcreateserial",
             "-out", str(cert), "-days", "1", "-extfile", str(ext))
    return cert, key


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """A test PKI made with the ``openssl`` CLI: a CA, server and client certificates signed by
    it (``(cert, key)`` pairs) and a rogue self-signed client."""
    d = tmp_path_factory.mktemp("pki")
    ca = (d / "ca.pem", d / "ca.key")
    _openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(ca[1]), "-out", str(ca[0]), "-days", "1",
             "-subj", "/CN=Test DICOM CA", "-addext", "basicConstraints=critical,CA:TRUE",
             "-addext", "keyUsage=critical,keyCertSign,cRLSign")
    server, client = _signed(d, ca, "server"), _signed(d, ca, "client")
    rogue = (d / "rogue.pem", d / "rogue.key")
    _openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(rogue[1]), "-out", str(rogue[0]),
             "-days", "1", "-subj", "/CN=rogue", "-addext", "subjectAltName=IP:127.0.0.1")
    return {"ca": ca[0], "server": server, "client": client, "rogue": rogue}

from tests.helpers.http_server import serve  # noqa: E402,F401 - the fixture, shared by the DICOMweb tests
