"""``dicom-viewer library``: import of a DICOMDIR CD (made by DCMTK ``dcmmkdir``), a folder and a
ZIP gives the counts of ``scan --json``; a second import changes nothing; the exported file
set is read by ``dcmdump``, accepted by ``dcmmkdir`` and scans back to the same instances
and pixels."""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import pydicom
import pytest

from tests.helpers.library_data import PatientSpec, StudySpec, write_study
from tests.helpers.peers import require_program

ROOT = Path(__file__).resolve().parents[2]
CORPUS = ROOT / "tests" / "data" / "corpus"


def _cli(*args: str, env_home: Path) -> subprocess.CompletedProcess[str]:
    env = {"PATH": "/usr/bin:/bin", "HOME": str(env_home), "XDG_DATA_HOME": str(env_home / "data"),
           "XDG_CONFIG_HOME": str(env_home / "config"), "XDG_CACHE_HOME": str(env_home / "cache"),
           "QT_QPA_PLATFORM": "offscreen"}
    r = subprocess.run([sys.executable, "-m", "viewer", *args], capture_output=True, text=True, env=env,
                       cwd=ROOT, timeout=300)
    assert r.returncode == 0, r.stderr + r.stdout
    return r


def _studies() -> list[StudySpec]:
    return [
        StudySpec(PatientSpec("LIBCLI^ONE", "LC-1", birth_date="19700101"), "lc1", description="CT CHEST",
                  series=[("CT", "AXIAL", "CHEST", 4), ("CT", "CORONAL", "CHEST", 2)]),
        StudySpec(PatientSpec("LIBCLI^ONE", "LC-1", birth_date="19700101"), "lc2", date="20200101",
                  description="MR HEAD", accession="ACC2", series=[("MR", "T1", "HEAD", 3)]),
        StudySpec(PatientSpec("LIBCLI^TWO", "LC-2"), "lc3", description="MR KNEE",
                  series=[("MR", "PD", "KNEE", 2)]),
    ]


@pytest.fixture(scope="module")
def media(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The same studies as a folder, a DICOMDIR CD made by dcmmkdir, and a ZIP of the folder."""
    dcmmkdir = require_program("dcmmkdir", "dcmtk")
    base = tmp_path_factory.mktemp("libcli")
    folder = base / "folder"
    for st in _studies():
        write_study(folder, st)
    cd = base / "cd"
    for n, f in enumerate(sorted(folder.rglob("*.dcm"))):
        target = cd / "DICOM" / f"S{n // 100:07d}" / f"I{n:07d}"
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(f, target)
    subprocess.run([dcmmkdir, "-q", "+r", "+id", str(cd), "+D", str(cd / "DICOMDIR"), "DICOM"], check=True)
    archive = base / "study.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for f in sorted(folder.rglob("*.dcm")):
            zf.write(f, f.relative_to(folder))
    return {"cd": cd / "DICOMDIR", "folder": folder, "zip": archive}


def _scan_counts(path: Path, home: Path) -> dict[str, int]:
    data = json.loads(_cli("scan", str(path), "--json", env_home=home).stdout)
    return {se["series_instance_uid"]: se["instances"]
            for p in data["patients"] for st in p["studies"] for se in st["series"]}


def _list_counts(data: dict[str, Any]) -> dict[str, int]:
    return {se["series_instance_uid"]: se["instances"]
            for p in data["patients"] for st in p["studies"] for se in st["series"]}


@pytest.mark.parametrize("kind", ["cd", "folder", "zip"])
def test_import_counts_equal_scan_and_reimport_changes_nothing(media: dict[str, Path], tmp_path: Path,
                                                               kind: str) -> None:
    db = str(tmp_path / "lib.sqlite")
    path = media[kind]
    expected = _scan_counts(path, tmp_path)
    assert sum(expected.values()) == 11
    first = json.loads(_cli("library", "--db", db, "import", str(path), "--json", env_home=tmp_path).stdout)
    assert first["added"] == 11 and first["errors"] == []
    listed = json.loads(_cli("library", "--db", db, "list", "--json", env_home=tmp_path).stdout)
    assert _list_counts(listed) == expected
    second = json.loads(_cli("library", "--db", db, "import", str(path), "--json", env_home=tmp_path).stdout)
    assert (second["added"], second["updated"], second["unchanged"]) == (0, 0, 11)
    again = json.loads(_cli("library", "--db", db, "list", "--json", env_home=tmp_path).stdout)
    assert again == listed


def test_list_filters_search_and_priors(media: dict[str, Path], tmp_path: Path) -> None:
    db = str(tmp_path / "lib.sqlite")
    _cli("library", "--db", db, "import", str(media["folder"]), env_home=tmp_path)
    by_mod = json.loads(_cli("library", "--db", db, "list", "--modality", "MR", "--json", env_home=tmp_path).stdout)
    assert sorted(st["study_description"] for p in by_mod["patients"] for st in p["studies"]) == ["MR HEAD", "MR KNEE"]
    by_date = json.loads(_cli("library", "--db", db, "list", "--date", "2019-01-01..2020-12-31", "--json",
                              env_home=tmp_path).stdout)
    assert [st["study_description"] for p in by_date["patients"] for st in p["studies"]] == ["MR HEAD"]
    found = json.loads(_cli("library", "--db", db, "search", "libcli two", "--json", env_home=tmp_path).stdout)
    assert [s["study_description"] for s in found["studies"]] == ["MR KNEE"]
    current = _studies()[0].study_uid
    priors = json.loads(_cli("library", "--db", db, "priors", current, "--json", env_home=tmp_path).stdout)
    assert [(p["study_instance_uid"], p["guess"]) for p in priors["priors"]] == [(_studies()[1].study_uid, False)]


def _pixels_by_uid(path: Path, home: Path) -> dict[str, str]:
    """SOP Instance UID -> hash of the decoded pixels, for every instance our ``scan`` finds."""
    from viewer.dicom.scan import load_tree

    tree = load_tree(path)
    assert not tree.errors, tree.errors
    out = {}
    for series in tree.iter_series():
        for inst in series.instances:
            ds = pydicom.dcmread(inst.path)
            out[inst.sop_instance_uid] = hashlib.sha256(ds.pixel_array.tobytes()).hexdigest()
    return out


def _check_file_set(out: Path) -> None:
    """dcmdump reads the DICOMDIR; dcmmkdir reads and updates it with every file, refusing none."""
    dcmdump = require_program("dcmdump", "dcmtk")
    dcmmkdir = require_program("dcmmkdir", "dcmtk")
    dump = subprocess.run([dcmdump, "-q", str(out / "DICOMDIR")], capture_output=True, text=True)
    assert dump.returncode == 0 and "DirectoryRecordSequence" in dump.stdout, dump.stderr
    assert "=MediaStorageDirectoryStorage" in dump.stdout  # 1.2.840.10008.1.3.10
    tops = sorted(p.name for p in out.iterdir() if p.is_dir() and p.name != "VIEWER")
    # dcmmkdir --update reads our DICOMDIR, checks every file against the STD-GEN-CD profile and
    # writes the directory again (to a copy: an update replaces the file it reads).
    updated = out.parent / "DICOMDIR.updated"
    shutil.copy(out / "DICOMDIR", updated)
    check = subprocess.run([dcmmkdir, "+U", "-nb", "-Pgp", "+r", "+id", str(out), "+D", str(updated), *tops],
                           capture_output=True, text=True, cwd=out)
    assert check.returncode == 0, check.stderr
    assert "E:" not in check.stderr and "cannot be added" not in check.stderr, check.stderr
    # A DICOMDIR dcmmkdir builds from scratch over the same files lists the same images.
    fresh = out.parent / "DICOMDIR.dcmtk"
    made = subprocess.run([dcmmkdir, "-Pgp", "+r", "+id", str(out), "+D", str(fresh), *tops],
                          capture_output=True, text=True, cwd=out)
    assert made.returncode == 0 and "E:" not in made.stderr, made.stderr

    def referenced(dicomdir: Path) -> list[str]:
        r = subprocess.run([dcmdump, "-q", "+P", "0004,1511", "+P", "0004,1500", str(dicomdir)],
                           capture_output=True, text=True)
        assert r.returncode == 0, r.stderr
        return sorted(line.split("#")[0].strip() for line in r.stdout.splitlines())

    ours = referenced(out / "DICOMDIR")
    assert ours and ours == referenced(updated) == referenced(fresh)
    for f in out.rglob("*"):
        rel = f.relative_to(out)
        if f.is_file() and rel.parts[0] not in ("VIEWER",) and f.name not in ("README.TXT", "AUTORUN.INF"):
            assert all(len(p) <= 8 and p == p.upper() and p.replace("_", "").isalnum() for p in rel.parts), rel


def test_export_file_set(media: dict[str, Path], tmp_path: Path) -> None:
    db = str(tmp_path / "lib.sqlite")
    src = tmp_path / "src"
    shutil.copytree(media["folder"], src)
    # One JPEG 2000 and one implicit VR instance: written as Explicit VR Little Endian (STD-GEN-CD).
    extra = StudySpec(PatientSpec("LIBCLI^THREE", "LC-3"), "lc4", series=[("MR", "J2K", "HEAD", 1)])
    for name in ("ts/MR_small_jp2klossless.dcm", "mr/MR_small.dcm"):
        ds = pydicom.dcmread(CORPUS / name)
        ds.StudyInstanceUID, ds.PatientID, ds.PatientName = extra.study_uid, "LC-3", "LIBCLI^THREE"
        ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID = pydicom.uid.generate_uid()
        if ds.file_meta.TransferSyntaxUID.is_compressed:
            ds["PixelData"].VR = "OB"
        target = src / "lc4" / Path(name).name
        target.parent.mkdir(parents=True, exist_ok=True)
        ds.save_as(target, enforce_file_format=True)
    _cli("library", "--db", db, "import", str(src), env_home=tmp_path)
    uids = [st.study_uid for st in _studies()] + [extra.study_uid]
    out = tmp_path / "cd"
    r = _cli("library", "--db", db, "export", *uids, "--out", str(out), "--label", "Patient CD", env_home=tmp_path)
    assert "13 instance(s)" in r.stdout
    _check_file_set(out)
    assert _pixels_by_uid(out, tmp_path) == _pixels_by_uid(src, tmp_path)
    for f in (out / "PT000000").rglob("*"):
        if f.is_file():
            assert pydicom.dcmread(f).file_meta.TransferSyntaxUID == "1.2.840.10008.1.2.1"
    assert pydicom.dcmread(out / "DICOMDIR").FileSetID == "PATIENT CD"
    assert (out / "README.TXT").exists()


def test_export_anonymized_with_viewer_bundle(media: dict[str, Path], tmp_path: Path) -> None:
    db = str(tmp_path / "lib.sqlite")
    _cli("library", "--db", db, "import", str(media["folder"]), env_home=tmp_path)
    bundle = tmp_path / "bundle"
    bundle.mkdir()
    (bundle / "dicom-viewer").write_text("#!/bin/sh\n")
    out = tmp_path / "cd"
    uid = _studies()[0].study_uid
    _cli("library", "--db", db, "export", uid, "--out", str(out), "--anonymize", "--with-viewer",
         "--bundle", str(bundle), env_home=tmp_path)
    _check_file_set(out)
    assert (out / "VIEWER" / "dicom-viewer").exists()
    assert "open=VIEWER\\dicom-viewer DICOMDIR" in (out / "AUTORUN.INF").read_text()
    source = {h for h in _pixels_by_uid(media["folder"] / "lc1", tmp_path).values()}
    exported = _pixels_by_uid(out, tmp_path)
    assert len(exported) == 6 and set(exported.values()) == source
    assert not set(exported) & {i for i in _pixels_by_uid(media["folder"] / "lc1", tmp_path)}  # new UIDs
    for f in (out / "PT000000").rglob("*"):
        if f.is_file():
            ds = pydicom.dcmread(f)
            assert str(ds.PatientName) == "ANONYMOUS" and ds.PatientIdentityRemoved == "YES"


def test_export_without_a_bundle_says_so(media: dict[str, Path], tmp_path: Path) -> None:
    db = str(tmp_path / "lib.sqlite")
    _cli("library", "--db", db, "import", str(media["folder"] / "lc3"), env_home=tmp_path)
    out = tmp_path / "cd"
    env_bundle = tmp_path / "nowhere"
    r = _cli("library", "--db", db, "export", _studies()[2].study_uid, "--out", str(out), "--with-viewer",
             "--bundle", str(env_bundle), env_home=tmp_path)
    assert "no viewer bundle found" in r.stderr and "build-frozen.sh" in r.stderr
    _check_file_set(out)


def test_remove_and_rebuild_cli(media: dict[str, Path], tmp_path: Path) -> None:
    db = tmp_path / "lib.sqlite"
    store = tmp_path / "store"
    _cli("library", "--db", str(db), "--store", str(store), "import", str(media["folder"]), "--copy",
         env_home=tmp_path)
    before = json.loads(_cli("library", "--db", str(db), "list", "--json", env_home=tmp_path).stdout)
    db.write_bytes(db.read_bytes()[:1000])  # damaged
    broken = subprocess.run([sys.executable, "-m", "viewer", "library", "--db", str(db), "list"], capture_output=True,
                            text=True, cwd=ROOT, timeout=120)
    assert broken.returncode == 1 and "library rebuild" in broken.stderr
    assert len(broken.stderr.strip().splitlines()) == 1, broken.stderr
    r = _cli("library", "--db", str(db), "--store", str(store), "rebuild", env_home=tmp_path)
    assert "3 study(ies), 11 instance(s)" in r.stdout
    after = json.loads(_cli("library", "--db", str(db), "list", "--json", env_home=tmp_path).stdout)
    assert _list_counts(after) == _list_counts(before)
    uid = _studies()[2].study_uid
    r = _cli("library", "--db", str(db), "--store", str(store), "remove", uid, env_home=tmp_path)
    assert "2 instance(s) removed" in r.stdout and "2 file(s) deleted" in r.stdout
    assert len(list((media["folder"] / "lc3").rglob("*.dcm"))) == 2
    assert len(list(store.rglob("*.dcm"))) == 9


# A fresh interpreter where importing Qt raises ImportError (headless machines have no PySide6).
_NO_QT = (
    "import sys\n"
    "for name in ('PySide6', 'shiboken6', 'pyqtgraph'):\n"
    "    sys.modules[name] = None\n"
    "from viewer.cli import main\n"
    "sys.exit(main(sys.argv[1:]))\n"
)


def test_library_commands_run_without_qt(media: dict[str, Path], tmp_path: Path) -> None:
    db = str(tmp_path / "lib.sqlite")
    uid = _studies()[2].study_uid
    for args in (["import", str(media["zip"]), "--copy"], ["list", "--json"], ["search", "knee", "--json"],
                 ["priors", uid, "--json"], ["export", uid, "--out", str(tmp_path / "cd")], ["remove", uid],
                 ["rebuild"]):
        r = subprocess.run([sys.executable, "-c", _NO_QT, "library", "--db", db, "--store", str(tmp_path / "store"),
                            *args], capture_output=True, text=True, cwd=ROOT, timeout=300)
        assert r.returncode == 0, (args, r.stderr)


def test_export_keeps_names_in_every_component_group(tmp_path: Path) -> None:
    name = "Müller^Hans=ミュラー^ハンス=みゅらー^はんす"
    study = StudySpec(PatientSpec(name, "LC-UTF8", charset="ISO_IR 192"), "lc-utf8",
                      series=[("CT", "Lüng", "CHEST", 2)])
    write_study(tmp_path / "media", study)
    db = str(tmp_path / "lib.sqlite")
    _cli("library", "--db", db, "import", str(tmp_path / "media"), env_home=tmp_path)
    found = json.loads(_cli("library", "--db", db, "search", "みゅらー", "--json", env_home=tmp_path).stdout)
    assert [s["patient_name"] for s in found["studies"]] == [name]
    out = tmp_path / "cd"
    _cli("library", "--db", db, "export", study.study_uid, "--out", str(out), env_home=tmp_path)
    _check_file_set(out)
    dump = subprocess.run(["dcmdump", "-q", "+P", "PatientName", str(out / "DICOMDIR")], capture_output=True,
                          text=True, encoding="utf-8")
    assert f"[{name}]" in dump.stdout


def test_a_cd_is_listed_as_its_files_are(media: dict[str, Path], tmp_path: Path) -> None:
    """A CD's DICOMDIR records lack the series descriptions, body parts and birth dates
    (dcmmkdir's General Purpose CD profile, PS3.11 D.3.3); the library lists the CD with the
    attributes of its files, as it lists the same studies imported from a folder."""
    listings = []
    for kind in ("cd", "folder"):
        db = str(tmp_path / f"{kind}.sqlite")
        _cli("library", "--db", db, "import", str(media[kind]), env_home=tmp_path)
        listings.append(json.loads(_cli("library", "--db", db, "list", "--json", env_home=tmp_path).stdout))
    cd, folder = ({(p["patient_id"], p["patient_birth_date"], st["study_instance_uid"], se["series_instance_uid"],
                    se["series_description"], se["body_part"], se["instances"])
                   for p in data["patients"] for st in p["studies"] for se in st["series"]} for data in listings)
    assert ("LC-1", "19700101") in {(pid, birth) for pid, birth, *_ in folder}
    assert any((description, body) == ("CORONAL", "CHEST") for *_, description, body, _n in folder)
    assert cd == folder
