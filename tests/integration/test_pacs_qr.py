"""C-ECHO/probe, C-FIND, C-MOVE and C-GET against real peers: Orthanc and DCMTK dcmqrscp.

Oracles: the peers themselves, loaded with DCMTK storescu; the generated originals give
the expected UIDs, counts and pixel data.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pydicom
import pytest
from pydicom.dataset import Dataset

from tests.helpers.studies import CT, PATIENTS, make_images, uid
from viewer.config import DimseNode, LocalAE
from viewer.net.echo import echo
from viewer.net.find import FIND_MODEL, Level, Root, build_query, find
from viewer.net.probe import probe
from viewer.dicom.local_store import TMP_PREFIX, LocalStore
from viewer.tasks.retrieve import RetrieveRequest, ScpHolder, retrieve

pytestmark = pytest.mark.peers
OUR_AET = "VIEWER"  # the C-MOVE destination the peers know (tests/helpers/peers.py MOVE_DEST_AET)


@pytest.fixture(scope="module")
def originals(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Dataset]:
    """SOP Instance UID -> original data set."""
    paths = make_images(tmp_path_factory.mktemp("pacs7-originals"))
    return {str(ds.SOPInstanceUID): ds for ds in map(pydicom.dcmread, paths)}


@pytest.fixture(scope="module")
def loaded(originals: dict[str, Dataset], orthanc, dcmqrscp, tmp_path_factory) -> dict[str, DimseNode]:
    folder = tmp_path_factory.mktemp("pacs7-load")
    paths = []
    for i, ds in enumerate(originals.values()):
        paths.append(folder / f"{i}.dcm")
        ds.save_as(paths[-1], enforce_file_format=True)
    orthanc.load(*paths)
    dcmqrscp.load(*paths)
    return {"orthanc": DimseNode("orthanc", orthanc.aet, "127.0.0.1", orthanc.port),
            "dcmqrscp": DimseNode("dcmqrscp", dcmqrscp.aet, "127.0.0.1", dcmqrscp.port)}


PEERS = ["orthanc", "dcmqrscp"]


def _expected(originals: dict[str, Dataset], level: Level, pid: str) -> set[str]:
    key = {Level.PATIENT: "PatientID", Level.STUDY: "StudyInstanceUID", Level.SERIES: "SeriesInstanceUID",
           Level.IMAGE: "SOPInstanceUID"}[level]
    return {str(ds.data_element(key).value) for ds in originals.values() if ds.PatientID == pid}


@pytest.mark.parametrize("peer", PEERS)
def test_echo_and_probe(loaded, peer: str) -> None:
    node = loaded[peer]
    assert echo(node, OUR_AET).status == 0x0000
    results = {r.abstract_syntax: r for r in probe(node, OUR_AET)}
    # Both peers are Q/R SCPs and not print SCPs (peers README).
    assert results["1.2.840.10008.5.1.4.1.2.2.1"].accepted
    assert results["1.2.840.10008.5.1.4.1.2.1.3"].accepted
    assert not results["1.2.840.10008.5.1.1.9"].accepted
    assert results["1.2.840.10008.5.1.1.9"].reason == "Abstract Syntax Not Supported"
    assert results[CT].scp_role_accepted is True


@pytest.mark.parametrize("peer", PEERS)
@pytest.mark.parametrize("root", list(Root))
@pytest.mark.parametrize("level", list(Level))
def test_find_every_level_and_root(loaded, originals, peer: str, root: Root, level: Level) -> None:
    if root is Root.STUDY and level is Level.PATIENT:
        pytest.skip("no PATIENT level in Study Root (PS3.4 C.6.2)")
    pid = PATIENTS[0][1]
    first = next(ds for ds in originals.values() if ds.PatientID == pid)
    keys = {"PatientID": pid}
    if level in (Level.SERIES, Level.IMAGE):
        keys["StudyInstanceUID"] = str(first.StudyInstanceUID)
    if level is Level.IMAGE:
        keys["SeriesInstanceUID"] = str(first.SeriesInstanceUID)
    if root is Root.STUDY and level is not Level.STUDY:
        del keys["PatientID"]  # not a key below STUDY in Study Root
    results = list(find(loaded[peer], OUR_AET, build_query(level, keys, root), FIND_MODEL[root]))
    key = {Level.PATIENT: "PatientID", Level.STUDY: "StudyInstanceUID", Level.SERIES: "SeriesInstanceUID",
           Level.IMAGE: "SOPInstanceUID"}[level]
    got = {str(ds.get(key)) for ds in results}
    expected = _expected(originals, level, pid)
    if level is Level.IMAGE:
        expected = {u for u, ds in originals.items() if ds.SeriesInstanceUID == first.SeriesInstanceUID}
    assert got == expected
    assert all(ds.QueryRetrieveLevel == level.value for ds in results)


def test_find_related_counts_from_orthanc(loaded, originals) -> None:
    pid = PATIENTS[0][1]
    (study,) = find(loaded["orthanc"], OUR_AET, build_query("STUDY", {"PatientID": pid}), FIND_MODEL[Root.STUDY])
    mine = [ds for ds in originals.values() if ds.PatientID == pid]
    assert int(study.NumberOfStudyRelatedInstances) == len(mine)
    assert set(np.atleast_1d(study.ModalitiesInStudy)) == {ds.Modality for ds in mine}


def test_find_wildcard_and_date_range(loaded) -> None:
    node = loaded["orthanc"]
    got = {str(ds.PatientID) for ds in find(node, OUR_AET, build_query("STUDY", {"PatientID": "PACS7-*"}),
                                             FIND_MODEL[Root.STUDY])}
    assert got == {p[1] for p in PATIENTS}
    got = {str(ds.PatientID) for ds in find(node, OUR_AET, build_query(
        "STUDY", {"PatientID": "PACS7-*", "StudyDate": "20240112-20240131"}), FIND_MODEL[Root.STUDY])}
    assert got == {PATIENTS[1][1]}  # StudyDate 20240111 / 20240112


def _retrieve_and_compare(node: DimseNode, method: str, level: str, uids: dict[str, str], expected: set[str],
                          originals: dict[str, Dataset], out: Path, move_dest_port: int) -> None:
    store = LocalStore(out)
    holder = ScpHolder(LocalAE(OUR_AET, move_dest_port), store, {node.ae_title})
    try:
        steps = list(retrieve(RetrieveRequest(node, level, uids, method=method), OUR_AET, store, scp=holder))
    finally:
        holder.stop()
    assert steps[-1].final and steps[-1].status == 0x0000
    assert steps[-1].completed == len(expected) and steps[-1].failed == 0
    files = store.instances()
    assert {str(p) for s in steps for p in s.files} == {str(p) for p in files}
    got = {}
    for path in files:
        ds = pydicom.dcmread(path)
        got[str(ds.SOPInstanceUID)] = ds
        # named by sanitized UIDs: study/series/instance
        assert path.relative_to(store.root).parts == (ds.StudyInstanceUID, ds.SeriesInstanceUID,
                                                      f"{ds.SOPInstanceUID}.dcm")
    assert set(got) == expected
    for sop, ds in got.items():
        np.testing.assert_array_equal(ds.pixel_array, originals[sop].pixel_array)
    assert not list(store.root.rglob(f"{TMP_PREFIX}*"))


@pytest.mark.parametrize("peer", PEERS)
@pytest.mark.parametrize("method", ["move", "get"])
def test_retrieve_study(loaded, originals, tmp_path, move_dest_port, peer: str, method: str) -> None:
    pid = PATIENTS[1][1]
    study = uid(pid, "study")
    expected = {u for u, ds in originals.items() if ds.StudyInstanceUID == study}
    _retrieve_and_compare(loaded[peer], method, "STUDY", {"StudyInstanceUID": study}, expected, originals,
                          tmp_path, move_dest_port)


@pytest.mark.parametrize("peer", PEERS)
@pytest.mark.parametrize("method", ["move", "get"])
def test_retrieve_series(loaded, originals, tmp_path, move_dest_port, peer: str, method: str) -> None:
    pid = PATIENTS[0][1]
    study, series = uid(pid, "study"), uid(pid, "series", 2)
    expected = {u for u, ds in originals.items() if ds.SeriesInstanceUID == series}
    _retrieve_and_compare(loaded[peer], method, "SERIES", {"StudyInstanceUID": study, "SeriesInstanceUID": series},
                          expected, originals, tmp_path, move_dest_port)


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "viewer", *args], capture_output=True, text=True, timeout=120)


def test_cli_find_json_matches_findscu(loaded, orthanc, tmp_path) -> None:
    """Our JSON output against DCMTK findscu's answer to the same query."""
    r = _cli("find", "127.0.0.1", str(orthanc.port), "--aec", orthanc.aet, "--level", "SERIES",
             "-k", f"StudyInstanceUID={uid(PATIENTS[0][1], 'study')}", "--json")
    assert r.returncode == 0, r.stderr
    ours = [Dataset.from_json(obj) for obj in json.loads(r.stdout)]
    (tmp_path / "dcmtk").mkdir()
    subprocess.run(["findscu", "-S", "-aet", OUR_AET, "-aec", orthanc.aet, "-k", "QueryRetrieveLevel=SERIES",
                    "-k", f"StudyInstanceUID={uid(PATIENTS[0][1], 'study')}", "-k", "SeriesInstanceUID",
                    "-k", "Modality", "-X", "-od", str(tmp_path / "dcmtk"), "127.0.0.1", str(orthanc.port)],
                   check=True, capture_output=True, timeout=60)
    theirs = [pydicom.dcmread(p) for p in sorted((tmp_path / "dcmtk").glob("*.dcm"))]
    assert sorted(str(d.SeriesInstanceUID) for d in ours) == sorted(str(d.SeriesInstanceUID) for d in theirs)
    assert {str(d.Modality) for d in ours} == {str(d.Modality) for d in theirs}


def test_cli_echo_probe_and_get(loaded, orthanc, originals, tmp_path) -> None:
    r = _cli("echo", "127.0.0.1", str(orthanc.port), "--aec", orthanc.aet, "--probe")
    assert r.returncode == 0, r.stderr
    assert "status 0x0000" in r.stdout and "ACCEPTED Study Root Q/R GET" in r.stdout
    study = uid(PATIENTS[0][1], "study")
    r = _cli("get", "127.0.0.1", str(orthanc.port), "--aec", orthanc.aet, "--level", "STUDY",
             "-k", f"StudyInstanceUID={study}", "--out", str(tmp_path / "got"))
    assert r.returncode == 0, r.stderr
    expected = {u for u, ds in originals.items() if ds.StudyInstanceUID == study}
    assert {str(pydicom.dcmread(p).SOPInstanceUID) for p in LocalStore(tmp_path / "got").instances()} == expected


def test_cli_move(loaded, dcmqrscp, originals, tmp_path, move_dest_port) -> None:
    study = uid(PATIENTS[1][1], "study")
    r = _cli("move", "127.0.0.1", str(dcmqrscp.port), "--aec", dcmqrscp.aet, "--dest", OUR_AET,
             "--store-port", str(move_dest_port), "--level", "STUDY", "-k", f"StudyInstanceUID={study}",
             "--out", str(tmp_path / "moved"))
    assert r.returncode == 0, r.stderr
    expected = {u for u, ds in originals.items() if ds.StudyInstanceUID == study}
    assert {str(pydicom.dcmread(p).SOPInstanceUID) for p in LocalStore(tmp_path / "moved").instances()} == expected


def test_cli_move_to_unknown_destination_is_a_clear_failure(loaded, orthanc, tmp_path) -> None:
    r = _cli("move", "127.0.0.1", str(orthanc.port), "--aec", orthanc.aet, "--dest", "NOBODY",
             "--level", "STUDY", "-k", f"StudyInstanceUID={uid(PATIENTS[0][1], 'study')}", "--out", str(tmp_path))
    assert r.returncode == 1
    assert "error: C-MOVE" in r.stderr and "Failure" in r.stderr
    assert "Traceback" not in r.stderr
