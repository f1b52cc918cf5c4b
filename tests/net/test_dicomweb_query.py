"""QIDO-RS query form: the C-FIND query builder's identifier becomes QIDO parameters, and a
DicomWebNode from the config becomes a client. The oracle for the wire format is the request
the server receives, parsed with the stdlib (urllib.parse)."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Iterator
from urllib.parse import parse_qsl, urlsplit

import pytest
from pydicom.dataset import Dataset

from viewer.net.dicomweb import DicomWebClient, WebTarget, keys_from_identifier

STUDY_JSON = (b'[{"00100010": {"vr": "PN", "Value": [{"Alphabetic": "DOE^JOHN"}]},'
              b' "0020000D": {"vr": "UI", "Value": ["1.2.3"]}},'
              b' {"00100010": {"vr": "PN", "Value": [{"Alphabetic": "DOEX^JOHN"}]},'
              b' "0020000D": {"vr": "UI", "Value": ["1.2.4"]}}]')


@pytest.fixture
def server() -> Iterator[tuple[str, list[str]]]:
    seen: list[str] = []

    class H(BaseHTTPRequestHandler):
        def log_message(self, *a: object) -> None:
            pass

        def do_GET(self) -> None:
            seen.append(self.path)
            self.send_response(200)
            self.send_header("Content-Type", "application/dicom+json")
            self.send_header("Content-Length", str(len(STUDY_JSON)))
            self.end_headers()
            self.wfile.write(STUDY_JSON)

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), H)
    t = threading.Thread(target=httpd.serve_forever, daemon=True)
    t.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/dicom-web", seen
    httpd.shutdown()
    httpd.server_close()


def test_identifier_from_query_builder_becomes_qido_params(server) -> None:
    from viewer.net.find import Root, build_query

    url, seen = server
    ident = build_query("SERIES", ["StudyInstanceUID=1.2.3", "Modality=CT", "SeriesNumber"], Root.STUDY,
                        defaults=False)
    level, keys = keys_from_identifier(ident)
    assert level == "SERIES"
    assert keys == {"StudyInstanceUID": "1.2.3", "Modality": "CT", "SeriesNumber": ""}
    DicomWebClient(WebTarget(url)).search(level, keys)
    parts = urlsplit(seen[-1])
    assert parts.path == "/dicom-web/studies/1.2.3/series"
    assert parse_qsl(parts.query) == [("Modality", "CT"), ("includefield", "SeriesNumber")]


def test_multi_valued_uid_list_and_sequences() -> None:
    ds = Dataset()
    ds.QueryRetrieveLevel = "IMAGE"
    ds.SOPInstanceUID = ["1.2.3", "1.2.4"]
    ds.ReferencedStudySequence = []
    level, keys = keys_from_identifier(ds)
    assert (level, keys) == ("IMAGE", {"SOPInstanceUID": "1.2.3,1.2.4"})


def test_caret_and_space_are_sent_as_a_wildcard_and_filtered_here(server) -> None:
    url, seen = server
    found = DicomWebClient(WebTarget(url)).search("STUDY", {"PatientName": "DOE^JOHN"})
    query = dict(parse_qsl(urlsplit(seen[-1]).query))
    assert query["PatientName"] == "DOE*JOHN" and query["includefield"] == "PatientName"
    # the server's superset (it returned DOEX^JOHN too) is narrowed to the exact match
    assert [str(d.PatientName) for d in found] == ["DOE^JOHN"]


def test_target_from_config_node() -> None:
    from viewer.config import DicomWebNode

    t = WebTarget.from_node(DicomWebNode("pacs", "https://pacs.example/dicom-web", auth="bearer", token="t0k"))
    assert (t.url, t.token, t.username, t.verify) == ("https://pacs.example/dicom-web", "t0k", None, True)
    t = WebTarget.from_node(DicomWebNode("pacs", "https://p/dw", auth="basic", username="u", password="p",
                                         ca_file="/etc/ca.pem"))
    assert (t.username, t.password, t.token, t.verify) == ("u", "p", None, "/etc/ca.pem")
    t = WebTarget.from_node(DicomWebNode("pacs", "https://p/dw", verify_tls=False, username="u"))
    assert (t.username, t.verify) == (None, False)  # auth "none": credentials are not sent


def test_non_ascii_name_query(server) -> None:
    url, seen = server
    DicomWebClient(WebTarget(url)).search("STUDY", {"PatientName": "Yamada^Tarou=山田^太郎"})
    query = dict(parse_qsl(urlsplit(seen[-1]).query))
    assert query["PatientName"] == "Yamada*Tarou*"  # "=", "^" and the ideographs: one "*"
