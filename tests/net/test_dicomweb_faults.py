"""DICOMweb client against a tiny local HTTP server that misbehaves on purpose, and the
multipart reader against the standard library's MIME parser (``email``) as the oracle."""

from __future__ import annotations

import base64
import email
import email.policy
import random
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Callable

import pytest
from pydicom import dcmread

from viewer.errors import NetError, UsageError
from viewer.net import _multipart
from viewer.net.dicomweb import DicomWebClient, WebTarget
from viewer.net.storage_scu import Category, StoreItem

from tests.helpers.http_server import STUDY, Server  # noqa: F401 - Server for annotations


def _reply(code: int, body: bytes = b"", ctype: str = "text/plain") -> Callable[[BaseHTTPRequestHandler], None]:
    def h(req: BaseHTTPRequestHandler) -> None:
        req.send_response(code)
        req.send_header("Content-Type", ctype)
        req.send_header("Content-Length", str(len(body)))
        req.end_headers()
        req.wfile.write(body)
    return h


def _files(corpus: Path) -> list[bytes]:
    return [(corpus / "ct" / "CT_small.dcm").read_bytes(), (corpus / "mr" / "MR_small.dcm").read_bytes()]


@pytest.mark.parametrize("code, words", [(401, "authentication"), (404, "not found"), (500, "server error")])
def test_http_errors_are_clear(serve, tmp_path: Path, code: int, words: str) -> None:
    server = serve(_reply(code, b"boom"))
    client = DicomWebClient(WebTarget(server.url))
    with pytest.raises(NetError, match=f"HTTP {code} {words}") as exc:
        client.retrieve(tmp_path / "store", STUDY)
    assert exc.value.status == code and exc.value.category == "http"
    with pytest.raises(NetError, match=f"HTTP {code}"):
        client.search("STUDY", {"PatientID": "X"})
    assert list((tmp_path / "store").rglob("*")) == []


@pytest.mark.parametrize("code", [401, 500])
def test_stow_http_errors_end_the_send_with_a_report(serve, corpus: Path, code: int) -> None:
    from viewer.tasks import send as task

    server = serve(_reply(code, b"nope"))
    items, _ = task.collect([corpus / "ct" / "CT_small.dcm"])
    report = task.send(DicomWebClient(WebTarget(server.url)), items)
    assert report.error.startswith(f"HTTP {code}") and report.results == []


def test_cut_connection_mid_multipart_leaves_no_partial_file(serve, corpus: Path, tmp_path: Path) -> None:
    first, second = _files(corpus)
    boundary = "cutcut"
    body = (b"--cutcut\r\nContent-Type: application/dicom\r\n\r\n" + first +
            b"\r\n--cutcut\r\nContent-Type: application/dicom\r\n\r\n" + second[: len(second) // 2])

    def h(req: BaseHTTPRequestHandler) -> None:
        req.send_response(200)
        req.send_header("Content-Type", f'multipart/related; type="application/dicom"; boundary={boundary}')
        req.send_header("Content-Length", str(len(body) + 5000))  # promises more than it sends
        req.end_headers()
        req.wfile.write(body)
        req.wfile.flush()
        req.close_connection = True

    server = serve(h)
    store = tmp_path / "store"
    with pytest.raises(NetError, match="connection|ended"):
        DicomWebClient(WebTarget(server.url, timeout=5)).retrieve(store, STUDY)
    files = [p for p in store.rglob("*") if p.is_file()]
    # the complete first instance is kept, the cut one leaves nothing (not even a temp file)
    assert len(files) == 1 and files[0].name.endswith(".dcm") and not files[0].name.startswith(".")
    assert dcmread(files[0]) == dcmread(corpus / "ct" / "CT_small.dcm")


def test_close_delimited_body_without_close_delimiter(serve, corpus: Path, tmp_path: Path) -> None:
    first, _ = _files(corpus)
    body = b"--b1\r\nContent-Type: application/dicom\r\n\r\n" + first[:1000]

    def h(req: BaseHTTPRequestHandler) -> None:
        req.send_response(200)
        req.send_header("Content-Type", 'multipart/related; type="application/dicom"; boundary=b1')
        req.send_header("Connection", "close")
        req.end_headers()
        req.wfile.write(body)
        req.close_connection = True

    server = serve(h)
    with pytest.raises(NetError, match="middle of a part"):
        DicomWebClient(WebTarget(server.url, timeout=5)).retrieve(tmp_path / "s", STUDY)
    assert [p for p in (tmp_path / "s").rglob("*") if p.is_file()] == []


def test_auth_headers_and_tls_default(serve) -> None:
    server = serve(_reply(204))
    DicomWebClient(WebTarget(server.url, token="tok123")).search("STUDY",
                                                                 {"PatientID": "A*", "PatientName": "B^C* D&E"})
    DicomWebClient(WebTarget(server.url, username="u", password="p")).search("SERIES", {}, study_uid=STUDY)
    (m1, p1, h1, _), (m2, p2, h2, _) = server.requests
    assert h1["Authorization"] == "Bearer tok123"
    assert h2["Authorization"] == "Basic " + base64.b64encode(b"u:p").decode()
    assert p1 == "/dicom-web/studies?PatientID=A*&includefield=PatientName&PatientName=B*C*D*E"
    assert p2 == f"/dicom-web/studies/{STUDY}/series"
    assert WebTarget("https://x").verify is True
    assert DicomWebClient(WebTarget("https://x/dicom-web")).session.verify is True
    with pytest.raises(UsageError):
        DicomWebClient(WebTarget("ftp://x"))


def test_unreachable_server(tmp_path: Path) -> None:
    from tests.helpers.peers import free_port

    with pytest.raises(NetError, match="cannot connect"):
        DicomWebClient(WebTarget(f"http://127.0.0.1:{free_port()}/dicom-web", timeout=3)).search("STUDY")


def test_stow_failed_instances_are_reported(serve, corpus: Path) -> None:
    paths = [corpus / "ct" / "CT_small.dcm", corpus / "mr" / "MR_small.dcm"]
    dss = [dcmread(p, stop_before_pixels=True) for p in paths]
    reply = ('{"00081198": {"vr": "SQ", "Value": [{"00081150": {"vr": "UI", "Value": ["%s"]},'
             ' "00081155": {"vr": "UI", "Value": ["%s"]}, "00081197": {"vr": "US", "Value": [49442]}}]},'
             ' "00081199": {"vr": "SQ", "Value": [{"00081150": {"vr": "UI", "Value": ["%s"]},'
             ' "00081155": {"vr": "UI", "Value": ["%s"]}}]}}'
             % (dss[1].SOPClassUID, dss[1].SOPInstanceUID, dss[0].SOPClassUID, dss[0].SOPInstanceUID))
    server = serve(_reply(202, reply.encode(), "application/dicom+json"))
    items = [StoreItem(p, str(d.SOPClassUID), str(d.SOPInstanceUID), "1.2.840.10008.1.2.1") for p, d in zip(paths, dss)]
    results = list(DicomWebClient(WebTarget(server.url)).store(items))
    assert [r.category for r in results] == [Category.SUCCESS, Category.FAILURE]
    assert results[1].status == 0xC122
    # the request body is a multipart message the stdlib MIME parser reads back as our files
    method, path, headers, body = server.requests[0]
    assert (method, path) == ("POST", "/dicom-web/studies")
    msg = email.message_from_bytes(b"Content-Type: " + headers["Content-Type"].encode() + b"\r\n\r\n" + body,
                                   policy=email.policy.HTTP)
    assert [part.get_payload(decode=True) for part in msg.iter_parts()] == [p.read_bytes() for p in paths]


def test_multipart_reader_matches_urllib3_encoder(corpus: Path) -> None:
    # Oracle: urllib3's multipart encoder (RFC 2046 framing; form-data differs from related
    # only in the part headers, which the reader passes through).
    from urllib3.filepost import encode_multipart_formdata

    payloads = _files(corpus) + [b"", b"\r\n--notaboundary\r\n", bytes(range(256)) * 50, b"\r\n"]
    body, ctype = encode_multipart_formdata([(f"f{i}", (f"f{i}.dcm", p, "application/dicom"))
                                              for i, p in enumerate(payloads)])
    boundary = _multipart.boundary_of(ctype)
    rng = random.Random(1)
    for n in range(20):  # arbitrary chunking must not matter
        cuts = sorted(rng.sample(range(1, len(body)), 1 + n * 7))
        chunks = [body[a:b] for a, b in zip([0, *cuts], [*cuts, len(body)])]
        got, heads, cur = [], [], bytearray()
        for kind, value in _multipart.iter_events(chunks, boundary):
            if kind == "headers":
                heads.append(value)
            elif kind == "data":
                cur.extend(value)
            else:
                got.append(bytes(cur))
                cur.clear()
        assert got == payloads
        assert [h["content-type"] for h in heads] == ["application/dicom"] * len(payloads)
    with pytest.raises(_multipart.MultipartError):
        list(_multipart.iter_events([body[:-10]], boundary))
    with pytest.raises(_multipart.MultipartError):
        _multipart.boundary_of("application/dicom+json")


def test_multipart_writer_read_by_stdlib(corpus: Path) -> None:
    # Oracle: the stdlib MIME parser (text payloads: it normalises bare line ends in binary).
    payloads = [b"first part", b"", b"line1\r\nline2", b"--almost a boundary"]
    boundary = _multipart.new_boundary()
    body = b"".join(_multipart.encode(payloads, boundary))
    msg = email.message_from_bytes(f"Content-Type: multipart/related; boundary={boundary}\r\n\r\n".encode()
                                   + body, policy=email.policy.HTTP)
    assert [p.get_payload(decode=True) for p in msg.iter_parts()] == payloads


def test_retrieve_falls_back_when_any_syntax_is_not_acceptable(serve, corpus: Path, tmp_path: Path) -> None:
    first, _ = _files(corpus)
    body = b"--b2\r\nContent-Type: application/dicom\r\n\r\n" + first + b"\r\n--b2--\r\n"

    def h(req: BaseHTTPRequestHandler) -> None:
        if "transfer-syntax=*" in req.headers.get("Accept", ""):
            return _reply(406, b"no")(req)
        req.send_response(200)
        req.send_header("Content-Type", 'multipart/related; type="application/dicom"; boundary=b2')
        req.send_header("Content-Length", str(len(body)))
        req.end_headers()
        req.wfile.write(body)

    server = serve(h)
    files = DicomWebClient(WebTarget(server.url)).retrieve(tmp_path / "s", STUDY)
    assert len(files) == 1 and files[0].read_bytes() == first
    assert [r[2]["Accept"] for r in server.requests] == [
        'multipart/related; type="application/dicom"; transfer-syntax=*',
        'multipart/related; type="application/dicom"']
