"""The print SCU over DICOM TLS (PS3.15 B.9, BCP 195).

Our print client prints to our own print SCP started with TLS in-process; the CA and the
certificates are made in the test with the ``openssl`` CLI (helpers of
``test_hardening_tls``). Oracle: the film the SCP renders from a TLS association is
byte-identical to the film it renders from the same job sent over plain TCP, and the
server side only accepts a handshake with a client certificate from the CA.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.helpers.peers import free_port
from viewer.cli import main
from viewer.errors import PrintError
from viewer.film.output import make_sink
from viewer.net.print_scp import PrintServer, load_profile
from viewer.net.tls import ServerTls, server_context

pytestmark = pytest.mark.skipif(shutil.which("openssl") is None, reason="openssl CLI not installed")


def _server(out: Path, ssl_context=None) -> PrintServer:
    profile = load_profile("default")
    sink = make_sink(out, profile.min_density, profile.max_density, profile.annotation_formats, 60)
    srv = PrintServer(sink.print_job, profile, aet="VIEWERPRINT", host="127.0.0.1", port=free_port(), timeout=10,
                      ssl_context=ssl_context)
    srv.start()
    return srv


@pytest.fixture
def tls_printer(pki, tmp_path):
    ctx = server_context(ServerTls(str(pki["server"][0]), str(pki["server"][1]), str(pki["ca"])))
    srv = _server(tmp_path / "tls", ctx)
    yield srv
    srv.stop()


@pytest.fixture
def plain_printer(tmp_path):
    srv = _server(tmp_path / "plain")
    yield srv
    srv.stop()


def _print(port: int, image: Path, *extra: str) -> int:
    return main(["print", "127.0.0.1", str(port), str(image), "--aec", "VIEWERPRINT", "--timeout", "10",
                 "--job-timeout", "10", "--layout", "STANDARD\\1,1", "--film-size", "8INX10IN", *extra])


def test_film_printed_over_tls_arrives(tls_printer, plain_printer, pki, corpus, tmp_path):
    image = corpus / "ct" / "CT_small.dcm"
    tls = ["--tls-ca", str(pki["ca"]), "--tls-cert", str(pki["client"][0]), "--tls-key", str(pki["client"][1])]
    assert _print(tls_printer.port, image, *tls) == 0
    assert _print(plain_printer.port, image) == 0
    [via_tls] = sorted((tmp_path / "tls").glob("*/film-1.png"))
    [via_tcp] = sorted((tmp_path / "plain").glob("*/film-1.png"))
    assert via_tls.read_bytes() == via_tcp.read_bytes()


def test_plain_print_to_a_tls_printer_is_refused(tls_printer, corpus, tmp_path, capsys):
    assert _print(tls_printer.port, corpus / "ct" / "CT_small.dcm") == 1
    assert not list((tmp_path / "tls").glob("*/film-1.png"))


@pytest.mark.parametrize("who", ["wrong-ca", "no-client-cert"])
def test_tls_failures_are_one_clear_message(tls_printer, pki, corpus, tmp_path, capsys, who):
    if who == "wrong-ca":  # the printer's certificate is not signed by the CA we trust
        tls = ["--tls-ca", str(pki["rogue"][0]), "--tls-cert", str(pki["client"][0]),
               "--tls-key", str(pki["client"][1])]
    else:
        tls = ["--tls-ca", str(pki["ca"])]
    assert _print(tls_printer.port, corpus / "ct" / "CT_small.dcm", *tls) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "Traceback" not in err[0]
    assert "VIEWERPRINT@127.0.0.1" in err[0]
    if who == "wrong-ca":
        assert "TLS handshake failed" in err[0] and "CERTIFICATE_VERIFY_FAILED" in err[0]
    assert not list((tmp_path / "tls").glob("*/film-1.png"))


def test_profile_carries_tls(pki, corpus, tls_printer, tmp_path):
    from viewer.film.profile import PrinterProfile, permissive_profile
    from viewer.film.spec import FilmBoxSpec, FilmSessionSpec
    from viewer.tasks.print_films import build_job
    from viewer.tasks.print_render import ImageRef
    from viewer.tasks.print_run import run_print_job

    base = permissive_profile("127.0.0.1", tls_printer.port, "VIEWERPRINT").to_dict()
    base.update(tls_ca_file=str(pki["ca"]), tls_cert_file=str(pki["client"][0]), tls_key_file=str(pki["client"][1]))
    profile = PrinterProfile.from_dict(base)  # as loaded from a printer profile JSON file
    job, _ = build_job([ImageRef(str(corpus / "ct" / "CT_small.dcm"))], FilmBoxSpec(display_format="STANDARD\\1,1"),
                       FilmSessionSpec(), profile)
    assert run_print_job(job, profile, timeout=10, job_timeout=10).ok
    assert list((tmp_path / "tls").glob("*/film-1.png"))
    base.update(tls_ca_file=str(tmp_path / "missing.pem"))
    with pytest.raises(PrintError, match="TLS setup for printer"):
        run_print_job(job, PrinterProfile.from_dict(base), timeout=10, job_timeout=10)
