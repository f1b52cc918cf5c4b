"""DICOMweb against Orthanc's DICOMweb plugin, with Orthanc's own DIMSE answers as the oracle:
QIDO-RS results equal C-FIND results for the same query, WADO-RS retrieval equals C-GET
retrieval instance for instance (pynetdicom as the DIMSE client)."""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

import pytest
from pydicom import dcmread
from pydicom.dataset import Dataset
from pynetdicom import AE, build_role, evt
from pynetdicom.sop_class import StudyRootQueryRetrieveInformationModelGet

from tests.helpers.orthanc import c_find
from tests.helpers.studies import make_study
from viewer.errors import NetError
from viewer.net.dicomweb import DicomWebClient, WebTarget

pytestmark = pytest.mark.peers


@pytest.fixture(scope="module")
def study(orthanc, corpus: Path, tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """A generated study (PatientID SEND-WEB) loaded with Orthanc's REST API (``POST /instances``;
    DCMTK storescu as in ``orthanc.load`` proposes no compressed syntax without extra flags)."""
    import requests

    paths = make_study(corpus, tmp_path_factory.mktemp("web"), "WEB")
    for p in paths:
        requests.post(f"{orthanc.url}/instances", data=p.read_bytes(), timeout=30).raise_for_status()
    return paths


def c_get(orthanc, level: str, keys: dict[str, str], sop_classes: set[str], syntaxes: list[str]) -> dict[str, Dataset]:
    got: dict[str, Dataset] = {}

    def on_store(event: evt.Event) -> int:
        ds = event.dataset
        ds.file_meta = event.file_meta
        got[str(ds.SOPInstanceUID)] = ds
        return 0

    ae = AE(ae_title="WEBTEST")
    ae.add_requested_context(StudyRootQueryRetrieveInformationModelGet)
    for sop in sop_classes:
        for ts in syntaxes:
            ae.add_requested_context(sop, [ts])
    roles = [build_role(sop, scp_role=True) for sop in sop_classes]
    assoc = ae.associate("127.0.0.1", orthanc.port, ae_title=orthanc.aet, ext_neg=roles,
                         evt_handlers=[(evt.EVT_C_STORE, on_store)])
    q = Dataset()
    q.QueryRetrieveLevel = level
    for k, v in keys.items():
        setattr(q, k, v)
    statuses = [s.Status for s, _ in assoc.send_c_get(q, StudyRootQueryRetrieveInformationModelGet)]
    assoc.release()
    assert statuses[-1] == 0
    return got


def _values(dss: list[Dataset], keys: list[str]) -> list[tuple]:
    return sorted(tuple(str(d.get(k, "")) for k in keys) for d in dss)


@pytest.mark.parametrize("level, keys", [
    ("STUDY", {"PatientID": "SEND-WEB", "StudyInstanceUID": "", "PatientName": "", "StudyDate": "",
               "AccessionNumber": "", "ModalitiesInStudy": "", "NumberOfStudyRelatedInstances": ""}),
    ("STUDY", {"PatientName": "SEND^W*", "StudyInstanceUID": "", "PatientID": ""}),
    ("SERIES", {"PatientID": "SEND-WEB", "SeriesInstanceUID": "", "Modality": "", "SeriesNumber": "",
                "NumberOfSeriesRelatedInstances": ""}),
    ("IMAGE", {"PatientID": "SEND-WEB", "SOPInstanceUID": "", "SOPClassUID": "", "InstanceNumber": ""}),
])
def test_qido_equals_c_find(orthanc, study: list[Path], level: str, keys: dict[str, str]) -> None:
    study_uid = str(dcmread(study[0], stop_before_pixels=True).StudyInstanceUID)
    if level != "STUDY":
        keys = {"StudyInstanceUID": study_uid, **keys}
    dimse = c_find(orthanc, level, keys)
    with DicomWebClient(WebTarget(orthanc.dicomweb)) as web:
        rs = web.search(level, keys)
    assert dimse, "oracle found nothing"
    assert _values(rs, list(keys)) == _values(dimse, list(keys))


def test_wado_rs_equals_c_get(orthanc, study: list[Path], tmp_path: Path) -> None:
    sources = [dcmread(p) for p in study]
    study_uid = str(sources[0].StudyInstanceUID)
    seen = []
    with DicomWebClient(WebTarget(orthanc.dicomweb)) as web:
        files = web.retrieve(tmp_path / "store", study_uid, progress=lambda p, n: seen.append(n))
        series_uid = str(sources[-1].SeriesInstanceUID)
        series_files = web.retrieve(tmp_path / "series", study_uid, series_uid)
    assert seen == list(range(1, len(study) + 1))
    oracle = c_get(orthanc, "STUDY", {"StudyInstanceUID": study_uid}, {str(s.SOPClassUID) for s in sources},
                   sorted({str(s.file_meta.TransferSyntaxUID) for s in sources}))
    assert len(oracle) == len(study) == len(files)
    for f in files:
        ds = dcmread(f)
        assert f == tmp_path / "store" / study_uid / str(ds.SeriesInstanceUID) / f"{ds.SOPInstanceUID}.dcm"
        ref = oracle[str(ds.SOPInstanceUID)]
        assert ds.file_meta.TransferSyntaxUID == ref.file_meta.TransferSyntaxUID
        # Orthanc's WADO-RS adds Data Set Trailing Padding to some files; PS3.10 7.2 gives it
        # no meaning, and C-GET does not carry it.
        for d in (ds, ref):
            if 0xFFFCFFFC in d:
                del d[0xFFFCFFFC]
        assert ds == ref
    assert {dcmread(f).SOPInstanceUID for f in series_files} == {
        s.SOPInstanceUID for s in sources if s.SeriesInstanceUID == series_uid}
    assert not [p for p in (tmp_path / "store").rglob(".partial-*")]


def test_metadata_and_thumbnail(orthanc, study: list[Path]) -> None:
    sources = [dcmread(p, stop_before_pixels=True) for p in study]
    s0 = sources[0]
    with DicomWebClient(WebTarget(orthanc.dicomweb)) as web:
        meta = web.metadata(str(s0.StudyInstanceUID))
        thumb = web.thumbnail(str(s0.StudyInstanceUID), str(s0.SeriesInstanceUID), str(s0.SOPInstanceUID))
        study_thumb = web.thumbnail(str(s0.StudyInstanceUID))
        with pytest.raises(NetError, match="HTTP 404"):
            web.metadata("1.2.3.4.5.6.7.8.9.404")
    assert {str(m.SOPInstanceUID) for m in meta} == {str(s.SOPInstanceUID) for s in sources}
    for m in meta:
        src = next(s for s in sources if s.SOPInstanceUID == m.SOPInstanceUID)
        assert (m.PatientID, m.Rows, m.Columns) == (src.PatientID, src.Rows, src.Columns)
    # Orthanc's plugin renders instances (/rendered, no /thumbnail); a study falls back to
    # rendering one of its instances. Oracle: Pillow decodes a JPEG of the instance's size.
    from PIL import Image

    for t in (thumb, study_thumb):
        assert t is not None
        img = Image.open(io.BytesIO(t))
        assert img.format == "JPEG"
        assert any(img.size == (s.Columns, s.Rows) for s in sources)
    assert Image.open(io.BytesIO(thumb)).size == (s0.Columns, s0.Rows)


def test_cli_find_and_get_by_url(orthanc, study: list[Path], tmp_path: Path, repo_root: Path) -> None:
    study_uid = str(dcmread(study[0], stop_before_pixels=True).StudyInstanceUID)
    out = subprocess.run([sys.executable, "-m", "viewer", "find", orthanc.dicomweb, "--level", "STUDY",
                          "-k", "PatientID=SEND-WEB", "-k", "StudyInstanceUID", "--json"],
                         capture_output=True, text=True, cwd=repo_root, timeout=60)
    assert out.returncode == 0, out.stderr
    assert study_uid in out.stdout
    out = subprocess.run([sys.executable, "-m", "viewer", "get", orthanc.dicomweb, "--level", "STUDY",
                          "-k", f"StudyInstanceUID={study_uid}", "--out", str(tmp_path / "got")],
                         capture_output=True, text=True, cwd=repo_root, timeout=120)
    assert out.returncode == 0, out.stderr
    assert len(list((tmp_path / "got").rglob("*.dcm"))) == len(study)


def test_node_level_search_and_retrieve_with_cancel(orthanc, study: list[Path], tmp_path: Path) -> None:
    from viewer.config import DicomWebNode
    from viewer.errors import Cancelled
    from viewer.cancel import CancelToken
    from viewer.net.dicomweb import retrieve_node, search_node
    from viewer.dicom.local_store import LocalStore

    node = DicomWebNode("orthanc-web", orthanc.dicomweb)
    found = list(search_node(node, "STUDY", {"PatientID": "SEND-WEB", "StudyInstanceUID": ""}))
    study_uid = str(dcmread(study[0], stop_before_pixels=True).StudyInstanceUID)
    assert [str(d.StudyInstanceUID) for d in found] == [study_uid]
    store = LocalStore(tmp_path / "store")
    steps = list(retrieve_node(node, "STUDY", {"StudyInstanceUID": study_uid}, store))
    assert steps[-1].final and steps[-1].received == len(study)
    assert sorted(p for s in steps for p in s.files) == store.instances()
    # cancel after the first instance: Cancelled, no partial file, what was complete stays
    token = CancelToken()
    store2 = LocalStore(tmp_path / "store2")
    got = []
    with pytest.raises(Cancelled):
        for step in retrieve_node(node, "PATIENT", {"PatientID": "SEND-WEB"}, store2, token=token):
            got.extend(step.files)
            token.cancel()
    assert store2.instances() == sorted(got) and len(got) == 1
    assert not list((tmp_path / "store2").rglob(".partial-*"))
