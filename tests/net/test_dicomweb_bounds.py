"""The DICOMweb client against servers that flood it: an endless body, a gzip bomb, a
server trickling a byte now and then, JSON of the wrong shape; WADO-RS through the local
store (its free-space floor, never overwriting a different object with the same UIDs).

The servers are local ``http.server`` instances. Oracles: ``tracemalloc`` (memory the
client allocated), pydicom (what the files on disk hold), and the local store's rule for
C-STORE (a different object under a taken name is kept beside it).
"""

from __future__ import annotations

import gzip
import io
import shutil
import time
import tracemalloc
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pydicom
import pytest
from pydicom.data import get_testdata_file

from tests.helpers.http_server import STUDY
from viewer.dicom.local_store import LocalStore
from viewer.errors import NetError
from viewer.net.dicomweb import DicomWebClient, WebTarget

JSON = "application/dicom+json"


def _json_handler(body: bytes, *, gzipped: bool = False, chunked_forever: bytes | None = None,
                  trickle: float | None = None):
    def h(req: BaseHTTPRequestHandler) -> None:
        req.send_response(200)
        req.send_header("Content-Type", JSON)
        if gzipped:
            req.send_header("Content-Encoding", "gzip")
        try:
            if chunked_forever is not None:
                req.send_header("Transfer-Encoding", "chunked")
                req.end_headers()
                piece = b"%x\r\n%s\r\n" % (len(chunked_forever), chunked_forever)
                req.wfile.write(b"1\r\n[\r\n")
                for _ in range(100_000):  # ~ forever for the client
                    req.wfile.write(piece)
                return
            req.send_header("Content-Length", str(len(body)))
            req.end_headers()
            if trickle is None:
                req.wfile.write(body)
                return
            for i in range(len(body)):
                req.wfile.write(body[i:i + 1])
                req.wfile.flush()
                time.sleep(trickle)
        except (BrokenPipeError, ConnectionResetError):
            pass
    return h


def test_qido_body_size_is_capped(serve) -> None:
    server = serve(_json_handler(b"", chunked_forever=b'{"00100020": {"vr": "LO", "Value": ["X"]}},' * 100))
    tracemalloc.start()
    try:
        with pytest.raises(NetError, match="larger than 4194304 bytes"):
            DicomWebClient(WebTarget(server.url, timeout=10), max_json_bytes=4 * 1024 ** 2).search("STUDY")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 32 * 1024 ** 2


def test_qido_gzip_bomb_is_refused(serve) -> None:
    bomb = gzip.compress(b" " * (512 * 1024 ** 2), compresslevel=9)
    assert len(bomb) < 1024 ** 2
    server = serve(_json_handler(bomb, gzipped=True))
    tracemalloc.start()
    try:
        with pytest.raises(NetError, match="compression bomb"):
            DicomWebClient(WebTarget(server.url, timeout=10)).search("STUDY")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 64 * 1024 ** 2


def test_honest_gzip_json_still_reads(serve) -> None:
    body = b'[{"0020000D": {"vr": "UI", "Value": ["1.2.3"]}}]'
    server = serve(_json_handler(gzip.compress(body), gzipped=True))
    [ds] = DicomWebClient(WebTarget(server.url, timeout=10)).search("STUDY")
    assert ds.StudyInstanceUID == "1.2.3"


def test_qido_trickling_server_meets_the_deadline(serve) -> None:
    server = serve(_json_handler(b'[{"0020000D": {"vr": "UI", "Value": ["1.2.3"]}}]' * 10, trickle=0.2))
    with pytest.raises(NetError, match="not complete within 2 s"):
        DicomWebClient(WebTarget(server.url, timeout=10, deadline=2)).search("STUDY")


@pytest.mark.parametrize("body", [b'{"a": 1}', b"[1, 2]", b'"text"', b'[{"00100010": 5}]',
                                  b'[{"00100010": {"vr": "PN", "Value": 7}}]',
                                  b'[{"00081115": {"vr": "SQ", "Value": [1]}}]',
                                  b"[" * 100_000 + b"]" * 100_000,
                                  b'[{"x": ' * 200 + b"{}" + b"}]" * 200])
def test_wrong_shape_json_is_a_clear_error(serve, body: bytes) -> None:
    server = serve(_json_handler(body))
    with pytest.raises(NetError, match="JSON"):
        DicomWebClient(WebTarget(server.url, timeout=10)).search("STUDY")


# ------------------------------------------------------------------ WADO-RS


def _multipart_handler(parts: list[bytes], *, gzipped: bool = False):
    boundary = b"bnd42"
    body = b"".join(b"--" + boundary + b"\r\nContent-Type: application/dicom\r\n\r\n" + p + b"\r\n" for p in parts)
    body += b"--" + boundary + b"--\r\n"
    if gzipped:
        body = gzip.compress(body)

    def h(req: BaseHTTPRequestHandler) -> None:
        req.send_response(200)
        req.send_header("Content-Type", f'multipart/related; type="application/dicom"; boundary={boundary.decode()}')
        if gzipped:
            req.send_header("Content-Encoding", "gzip")
        req.send_header("Content-Length", str(len(body)))
        req.end_headers()
        try:
            req.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            pass
    return h


def _encoded(ds: pydicom.Dataset) -> bytes:
    buf = io.BytesIO()
    ds.save_as(buf, enforce_file_format=True)
    return buf.getvalue()


def test_wado_keeps_an_existing_different_object_with_the_same_uids(serve, tmp_path: Path) -> None:
    original = Path(get_testdata_file("CT_small.dcm")).read_bytes()
    ds = pydicom.dcmread(io.BytesIO(original))
    store = LocalStore(tmp_path / "store")
    existing = store.write(original, ds.StudyInstanceUID, ds.SeriesInstanceUID, ds.SOPInstanceUID)
    other = pydicom.dcmread(io.BytesIO(original))
    other.PatientName = "Somebody^Else"
    server = serve(_multipart_handler([_encoded(other)]))
    [written] = DicomWebClient(WebTarget(server.url, timeout=10)).retrieve(tmp_path / "store", STUDY)
    assert existing.read_bytes() == original  # not overwritten
    assert written != existing and pydicom.dcmread(written).PatientName == "Somebody^Else"
    # the same object again is not written twice (as the C-STORE path)
    server2 = serve(_multipart_handler([original]))
    assert DicomWebClient(WebTarget(server2.url, timeout=10)).retrieve(store, STUDY) == [existing]
    assert len([p for p in (tmp_path / "store").rglob("*.dcm")]) == 2


def test_wado_respects_the_store_free_space_floor(serve, tmp_path: Path) -> None:
    root = tmp_path / "store"
    root.mkdir()
    free = shutil.disk_usage(root).free
    store = LocalStore(root, min_free_bytes=free + 1024 ** 3)  # the floor is already reached
    server = serve(_multipart_handler([Path(get_testdata_file("CT_small.dcm")).read_bytes()]))
    with pytest.raises(NetError, match="local store refused"):
        DicomWebClient(WebTarget(server.url, timeout=10)).retrieve(store, STUDY)
    assert [p for p in root.rglob("*") if p.is_file()] == []


def test_wado_gzip_bomb_is_refused(serve, tmp_path: Path) -> None:
    part = Path(get_testdata_file("CT_small.dcm")).read_bytes() + bytes(512 * 1024 ** 2)
    server = serve(_multipart_handler([part], gzipped=True))
    with pytest.raises(NetError, match="compression bomb"):
        DicomWebClient(WebTarget(server.url, timeout=10)).retrieve(tmp_path / "store", STUDY)
    assert [p for p in (tmp_path / "store").rglob("*") if p.is_file()] == []


def _endless(code: int, ctype: str):
    def h(req: BaseHTTPRequestHandler) -> None:
        req.send_response(code)
        req.send_header("Content-Type", ctype)
        req.send_header("Transfer-Encoding", "chunked")
        req.end_headers()
        piece = b"x" * 65536
        try:
            for _ in range(100_000):
                req.wfile.write(b"%x\r\n%s\r\n" % (len(piece), piece))
        except (BrokenPipeError, ConnectionResetError):
            pass
    return h


def test_an_endless_error_body_is_cut_short(serve, tmp_path: Path) -> None:
    server = serve(_endless(500, "text/plain"))
    with pytest.raises(NetError, match="HTTP 500"):
        DicomWebClient(WebTarget(server.url, timeout=10)).retrieve(tmp_path / "store", STUDY)


def test_an_endless_thumbnail_is_cut_short(serve) -> None:
    server = serve(_endless(200, "image/jpeg"))
    tracemalloc.start()
    try:
        # /thumbnail and /rendered both too large: no thumbnail, as for a server without them
        client = DicomWebClient(WebTarget(server.url, timeout=10), max_json_bytes=4 * 1024 ** 2)
        assert client.thumbnail(STUDY, "1.2", "1.2.3") is None
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 32 * 1024 ** 2


def test_wado_trickle_meets_the_deadlines(serve, tmp_path: Path) -> None:
    """Per instance and in all: many small instances each on time still end at the total."""
    part = Path(get_testdata_file("CT_small.dcm")).read_bytes()
    boundary = b"bnd42"
    one = b"--" + boundary + b"\r\nContent-Type: application/dicom\r\n\r\n" + part + b"\r\n"

    def h(req: BaseHTTPRequestHandler) -> None:
        req.send_response(200)
        req.send_header("Content-Type", f'multipart/related; type="application/dicom"; boundary={boundary.decode()}')
        req.send_header("Transfer-Encoding", "chunked")
        req.end_headers()
        try:
            for _ in range(1000):  # an instance every 0.3 s, for ever
                req.wfile.write(b"%x\r\n%s\r\n" % (len(one), one))
                req.wfile.flush()
                time.sleep(0.3)
        except (BrokenPipeError, ConnectionResetError):
            pass

    server = serve(h)
    with pytest.raises(NetError, match="3 s in all"):
        DicomWebClient(WebTarget(server.url, timeout=10, deadline=2, retrieve_deadline=3)).retrieve(
            tmp_path / "store", STUDY)
