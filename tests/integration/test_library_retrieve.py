"""Every way in feeds the study library: C-GET from Orthanc, C-MOVE from dcmqrscp, WADO-RS from
Orthanc, and instances sent to our storage SCP by DCMTK ``storescu``. Oracles: the peers and
the generated originals (their series and instance counts)."""

from __future__ import annotations

import json
import subprocess
import sys
import warnings
from pathlib import Path
from typing import Any

import pytest

from tests.helpers.library_data import PatientSpec, StudySpec, write_study
from tests.helpers.peers import free_port, require_program
from viewer.library import Library, SourceKind
from viewer.library import query

pytestmark = pytest.mark.peers
OUR_AET = "VIEWER"  # the C-MOVE destination the peers know (tests/helpers/peers.py)
ROOT = Path(__file__).resolve().parents[2]

STUDIES = [
    StudySpec(PatientSpec("LIBPACS^GET", "LIBPACS-1"), "libpacs-get", description="CT for C-GET",
              series=[("CT", "AXIAL", "CHEST", 4), ("CT", "CORONAL", "CHEST", 3)]),
    StudySpec(PatientSpec("LIBPACS^MOVE", "LIBPACS-2"), "libpacs-move", description="MR for C-MOVE",
              series=[("MR", "T1", "HEAD", 2), ("MR", "T2", "HEAD", 2), ("MR", "FLAIR", "HEAD", 1)]),
    StudySpec(PatientSpec("LIBPACS^WEB", "LIBPACS-3"), "libpacs-web", description="CT for WADO-RS",
              series=[("CT", "AXIAL", "ABDOMEN", 3)]),
]


def _expected(study: StudySpec) -> dict[str, int]:
    from tests.helpers.library_data import uid

    return {uid(study.key, "series", i): n for i, (_, _, _, n) in enumerate(study.series)}


@pytest.fixture(scope="module")
def loaded(orthanc: Any, dcmqrscp: Any, tmp_path_factory: pytest.TempPathFactory) -> None:
    folder = tmp_path_factory.mktemp("libpacs")
    paths = [p for st in STUDIES for p in write_study(folder, st)]
    orthanc.load(*paths)
    dcmqrscp.load(*paths)


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    r = subprocess.run([sys.executable, "-m", "viewer", *args], capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert r.returncode == 0, r.stderr + r.stdout
    return r


def _listed(db: Path, study_uid: str) -> dict[str, Any]:
    data = json.loads(_cli("library", "--db", str(db), "list", "--json").stdout)
    (study,) = [st for p in data["patients"] for st in p["studies"] if st["study_instance_uid"] == study_uid]
    return study


def test_cget_from_orthanc_shows_in_library_list(loaded: None, orthanc: Any, tmp_path: Path) -> None:
    study = STUDIES[0]
    db, out = tmp_path / "lib.sqlite", tmp_path / "got"
    _cli("get", "127.0.0.1", str(orthanc.port), "--aec", orthanc.aet, "--level", "STUDY",
         "-k", f"StudyInstanceUID={study.study_uid}", "--out", str(out), "--library", str(db), "-q")
    listed = _listed(db, study.study_uid)
    assert {se["series_instance_uid"]: se["instances"] for se in listed["series"]} == _expected(study)
    assert listed["study_description"] == study.description and listed["sources"] == ["pacs"]
    assert not listed["offline"]
    with Library(db) as lib:
        paths = [Path(r[0]) for r in lib.conn.execute("SELECT path FROM instances")]
        node = lib.conn.execute("SELECT DISTINCT node FROM sources").fetchall()
    assert len(paths) == 7 and all(out in p.parents and p.exists() for p in paths)
    assert node == [(f"{orthanc.aet}@127.0.0.1:{orthanc.port}",)]


def test_cmove_from_dcmqrscp_into_library(loaded: None, dcmqrscp: Any, move_dest_port: int, tmp_path: Path) -> None:
    study = STUDIES[1]
    db = tmp_path / "lib.sqlite"
    _cli("move", "127.0.0.1", str(dcmqrscp.port), "--aec", dcmqrscp.aet, "--dest", OUR_AET,
         "--store-port", str(move_dest_port), "--level", "STUDY", "-k", f"StudyInstanceUID={study.study_uid}",
         "--out", str(tmp_path / "moved"), "--library", str(db), "-q")
    listed = _listed(db, study.study_uid)
    assert {se["series_instance_uid"]: se["instances"] for se in listed["series"]} == _expected(study)


def test_wado_rs_from_orthanc_into_library(loaded: None, orthanc: Any, tmp_path: Path) -> None:
    study = STUDIES[2]
    db = tmp_path / "lib.sqlite"
    _cli("get", orthanc.dicomweb, "--level", "STUDY", "-k", f"StudyInstanceUID={study.study_uid}",
         "--out", str(tmp_path / "web"), "--library", str(db), "-q")
    listed = _listed(db, study.study_uid)
    assert {se["series_instance_uid"]: se["instances"] for se in listed["series"]} == _expected(study)
    assert listed["sources"] == ["dicomweb"]


def test_storage_scp_receipts_are_indexed_as_they_arrive(tmp_path: Path) -> None:
    from viewer.net.storage_scp import StorageSCP
    from viewer.dicom.local_store import LocalStore
    from viewer.tasks.library import LibraryFeed

    storescu = require_program("storescu", "dcmtk")
    study = StudySpec(PatientSpec("LIBSCP^SENT", "LIBSCP-1"), "libscp", series=[("CT", "A", "CHEST", 5)])
    files = write_study(tmp_path / "send", study)
    db, store_root = tmp_path / "lib.sqlite", tmp_path / "store"
    batches = []
    feed = LibraryFeed(db, store_root=store_root, on_batch=batches.append)
    port = free_port()
    scp = StorageSCP(LocalStore(store_root), "LIBSCP", port, accept_any=True).start()
    try:
        feed.attach(scp)
        subprocess.run([storescu, "-aet", "SENDER", "-aec", "LIBSCP", "127.0.0.1", str(port), *map(str, files)],
                       check=True, capture_output=True, timeout=60)
        assert feed.flush(30)
    finally:
        scp.stop()
        feed.close()
    assert sum(b.added for b in batches) == 5
    with Library(db, store_root=store_root) as lib:
        (row,) = query.find_studies(lib.conn)
        assert (row.study_instance_uid, row.instances, row.sources) == (study.study_uid, 5, [str(SourceKind.SCP)])
        owned = lib.conn.execute("SELECT COUNT(*) FROM instances WHERE owned = 1").fetchone()[0]
        assert owned == 5  # received into the local store: ours
        assert lib.conn.execute("SELECT node FROM sources").fetchall() == [("SENDER",)]


@pytest.mark.parametrize("typed, found", [("2024-01-02", 1), ("2024-01-01..2024-01-31", 1), ("2024-01-03..today", 0),
                                          ("..2024-01-01", 0)])
def test_query_form_dates_find_on_orthanc(loaded: None, orthanc: Any, typed: str, found: int) -> None:
    from viewer.config import DimseNode
    from viewer.net.find import FIND_MODEL, Root, build_query, find
    from viewer.tasks.query_form import QueryForm, query_keys

    node = DimseNode("orthanc", orthanc.aet, "127.0.0.1", orthanc.port)
    keys = query_keys(QueryForm(patient_id="LIBPACS-1", date=typed))
    results = list(find(node, OUR_AET, build_query("STUDY", keys), FIND_MODEL[Root.STUDY]))
    assert len(results) == found
    # As typed, without the conversion, the ISO date matches nothing at all (pydicom warns).
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        raw = list(find(node, OUR_AET, build_query("STUDY", {"PatientID": "LIBPACS-1", "StudyDate": "2024-01-02"}),
                        FIND_MODEL[Root.STUDY]))
    assert raw == []


def test_cmove_while_receiving_reads_each_received_file_once(loaded: None, dcmqrscp: Any, move_dest_port: int,
                                                              tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A C-MOVE from the PACS panel with Receive on: our storage SCP's library feed, the
    retrieve's indexing and the window showing the files all need each file's header; it is
    read once (the storage path's own walk of the temporary file aside). Counted by opens of
    the stored files."""
    import builtins
    from collections import Counter

    from viewer.config import DimseNode, LocalAE
    from viewer.dicom.local_store import LocalStore
    from viewer.dicom.scan import EventKind
    from viewer.tasks.library_feed import LibraryService
    from viewer.tasks.retrieve import ScpHolder, retrieve_from

    study = STUDIES[1]
    store = tmp_path / "store"
    service = LibraryService(tmp_path / "lib.sqlite", store_root=store)
    local = LocalAE(OUR_AET, move_dest_port, accept_any_calling=True, store_dir=str(store))
    holder = ScpHolder(local, LocalStore(store), {dcmqrscp.aet}, on_start=service.attach_scp)
    reads: Counter[str] = Counter()
    real_open = builtins.open

    def counting_open(file: Any, *args: Any, **kwargs: Any) -> Any:
        name = str(file)
        if name.startswith(str(store)) and name.endswith(".dcm") and "/.partial-" not in name:
            reads[name] += 1
        return real_open(file, *args, **kwargs)

    shown = []
    try:
        holder.get()  # Receive: listening (its feed attached) before the retrieve
        monkeypatch.setattr(builtins, "open", counting_open)
        node = DimseNode("qr", dcmqrscp.aet, "127.0.0.1", dcmqrscp.port, retrieve="move")
        steps = retrieve_from(node, "STUDY", {"StudyInstanceUID": study.study_uid}, OUR_AET, LocalStore(store),
                              scp=holder)
        for step in service.retrieved(steps, node.name, opened=True):
            # what the window does with each step's files (MainWindow.add_arrived)
            shown += [e.instance for e in service.arrived(step.files) if e.kind is EventKind.INSTANCE]
        assert service._feed is not None and service._feed.flush(30)
    finally:
        holder.stop()
        monkeypatch.undo()
        service.close()
    assert len(shown) == 5 and {i.study_instance_uid for i in shown} == {study.study_uid}
    with Library(tmp_path / "lib.sqlite") as lib:
        (row,) = query.find_studies(lib.conn)
        assert row.instances == 5 and set(row.sources) <= {"pacs", "scp"}
        paths = sorted(r[0] for r in lib.conn.execute("SELECT path FROM instances"))
    assert sorted(reads) == paths
    assert set(reads.values()) == {1}, reads
