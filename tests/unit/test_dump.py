"""Dump model, search, VR checks and JSON, against pydicom as the reference.

The tag-for-tag comparison with DCMTK dcmdump lives in
``tests/integration/test_dump_dcmdump.py``; here the oracles are the corpus manifest
(decoded names of the character-set files), pydicom's ``to_json_dict`` / ``from_json``
and pydicom's ``validate_value`` for VR rules.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pydicom
import pytest
from pydicom import config
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence
from pydicom.valuerep import validate_value

from viewer.dicom.dump import NodeKind, dump_dataset, dump_file, group_name, iter_nodes, read_dataset
from viewer.dicom.dump_json import to_json_dict
from viewer.dicom.dump_search import Query, parse_tag, search, visible_nodes
from viewer.dicom.dump_values import pn_components
from viewer.dicom.vr_check import check_values
from viewer.errors import ReadError

from tests.helpers import CORPUS, manifest



def manifest_by_path() -> dict[str, dict[str, str]]:
    return {row["path"]: row for row in manifest()}


CHARSET_FILES = sorted(p for p in (CORPUS / "charset").iterdir())


@pytest.mark.parametrize("path", CHARSET_FILES, ids=[p.name for p in CHARSET_FILES])
def test_charset_files_decode_to_manifest_names(path: Path) -> None:
    row = manifest_by_path()[f"charset/{path.name}"]
    nodes = dump_file(path).nodes
    name = next(n for n in nodes if n.tag == 0x00100010)
    # The manifest holds pydicom's PersonName text, which drops trailing empty groups
    # ("A=B=" -> "A=B"); the dump keeps them as stored (as dcmdump does).
    assert name.value.rstrip("=") == row["PatientName"].rstrip("=")
    charset = next(n for n in nodes if n.tag == 0x00080005)
    assert charset.value == row["SpecificCharacterSet"]


def test_pn_components_of_japanese_name() -> None:
    ds = pydicom.dcmread(CORPUS / "charset" / "japanese_iso2022_ir13_ir87.dcm")
    parts = pn_components(ds.PatientName)
    # PS3.5 H.3.2 example: alphabetic (here half-width katakana), ideographic, phonetic.
    assert parts["ideographic"]["family"] == "山田"
    assert parts["ideographic"]["given"] == "太郎"
    assert parts["phonetic"]["family"] == "やまだ"
    assert parts["alphabetic"]["given"] == ds.PatientName.alphabetic.split("^")[1]


def _generated() -> Dataset:
    ds = Dataset()
    ds.Modality = "CT"
    ds.ModalitiesInStudy = ["CT", "PT"]
    ds.PatientName = "Doe^John"
    ds.add_new(0x00091010, "LO", "GE private creator")
    ds.add_new(0x00091001, "LO", "secret")
    item = Dataset()
    item.CodeValue = "T-D0050"
    item.CodeMeaning = "Tissue needle"
    ds.AnatomicRegionSequence = Sequence([item])
    ds.StudyDescription = ""
    return ds


@pytest.mark.parametrize("query", ["0008,0060", "(0008,0060)", "00080060", "(0008, 0060)", "0x00080060"])
def test_tag_forms_find_modality(query: str) -> None:
    assert parse_tag(query) == 0x00080060
    found = search(dump_dataset(_generated()), query)
    assert [n.keyword for n in found] == ["Modality"]


def test_keyword_substring_and_value_search() -> None:
    nodes = dump_dataset(_generated())
    assert {n.keyword for n in search(nodes, "modalit")} == {"Modality", "ModalitiesInStudy"}
    hits = search(nodes, "needle")  # nested value
    assert [n.keyword for n in hits] == ["CodeMeaning"]
    assert [p.tag for p in (hits[0].parent.parent,)] == [0x00082218]


def test_visible_nodes_keeps_ancestors_and_filters() -> None:
    nodes = dump_dataset(_generated())
    keep = visible_nodes(nodes, Query("needle"))
    kept = [n for n in iter_nodes(nodes) if id(n) in keep]
    assert [n.kind for n in kept] == [NodeKind.SEQUENCE, NodeKind.ITEM, NodeKind.ELEMENT]
    keep = visible_nodes(nodes, Query("", hide_private=True, hide_empty=True))
    shown = [n for n in nodes if id(n) in keep]
    assert all(n.group % 2 == 0 for n in shown)
    assert "StudyDescription" not in {n.keyword for n in shown}
    assert visible_nodes(nodes, Query("")) is None


def test_sequences_are_lazy() -> None:
    nodes = dump_dataset(_generated())
    seq = next(n for n in nodes if n.kind is NodeKind.SEQUENCE)
    assert seq._children is None and seq.has_children
    assert seq.children[0].children[0].keyword == "CodeValue"


def test_private_creator_and_retired_and_groups() -> None:
    ds = pydicom.dcmread(CORPUS / "ct" / "CT_small.dcm")
    nodes = dump_dataset(ds)
    private = [n for n in nodes if n.tag == 0x00091001]
    assert private and private[0].private_creator == ds[0x00090010].value
    assert group_name(0x0010) == "Patient" and group_name(0x6002) == "Overlay" and group_name(0x7FE0) == "Pixel Data"
    ds2 = Dataset()
    ds2.add_new(0x00080040, "US", 1)  # Data Set Type... (0008,0040) is retired in PS3.6
    assert dump_dataset(ds2)[0].retired == pydicom.datadict.dictionary_is_retired(0x00080040)


BAD_VALUES = [("CS", "abc"), ("CS", "A" * 17), ("LO", "x" * 65), ("SH", "x" * 17), ("PN", "A" * 65),
              ("UI", "1.2.abc"), ("UI", "1.02"), ("UI", "1." + "2" * 64), ("DA", "20231332"), ("DA", "2023"),
              ("TM", "256000"), ("DS", "1.5.2"), ("IS", "1.5"), ("AS", "12Y"), ("DT", "2023X")]
GOOD_VALUES = [("CS", "ORIGINAL"), ("LO", "x" * 64), ("PN", "Yamada^Tarou=山田^太郎"), ("UI", "1.2.840.10008.1.2"),
               ("DA", "20240229"), ("TM", "101500.123"), ("DS", "-1.5e3"), ("IS", " 42"), ("AS", "012Y"),
               ("DT", "20240102101500+0100")]


@pytest.mark.parametrize(("vr", "value"), BAD_VALUES + GOOD_VALUES)
def test_vr_checks_agree_with_pydicom(vr: str, value: str) -> None:
    try:
        validate_value(vr, value, config.RAISE)
        valid = True
    except (ValueError, KeyError):
        valid = False
    assert (not check_values(vr, [value])) == valid


def test_invalid_value_is_flagged_in_dump() -> None:
    ds = Dataset()
    ds.add_new(0x00080060, "CS", "ct")
    ds.add_new(0x00100030, "DA", "20231332")
    nodes = dump_dataset(ds)
    assert all(n.problems for n in nodes)
    assert nodes[0].value == "ct"  # flagged, not hidden


READABLE = [p for p in sorted(CORPUS.rglob("*.dcm")) if p.parent.name not in ("broken",)]


@pytest.mark.filterwarnings("ignore:Invalid value for VR")  # from_json validates values from the wild
@pytest.mark.parametrize("path", READABLE, ids=[str(p.relative_to(CORPUS)) for p in READABLE])
def test_json_matches_pydicom_and_round_trips(path: Path) -> None:
    ds, _ = read_dataset(path)
    ours = to_json_dict(ds, path=path, threshold=1024)
    full = pydicom.dcmread(path, force=True)
    bulk = set()

    def handler(elem) -> str:
        bulk.add(f"{int(elem.tag):08X}")
        return "uri"

    reference = full.to_json_dict(bulk_data_threshold=1024, bulk_data_element_handler=handler,
                                  suppress_invalid_tags=True)
    assert set(ours) == set(reference)
    for key, attr in reference.items():
        if key in bulk or "BulkDataURI" in ours[key]:
            # Bulk data is a URI into the file, never inline (PS3.18 F.2.6).
            assert "BulkDataURI" in ours[key] and "InlineBinary" not in ours[key], key
            continue
        assert _same_uri(ours[key]) == attr, key
    back = Dataset.from_json(ours, bulk_data_uri_handler=lambda *_: None)
    for elem in full:
        key = f"{int(elem.tag):08X}"
        if key not in ours or "BulkDataURI" in ours[key] or elem.VR == "SQ":
            continue
        assert back[elem.tag].value == elem.value or (not back[elem.tag].value and not elem.value), key


def _same_uri(attr: dict) -> dict:
    """``attr`` with every BulkDataURI (nested too) replaced by the reference's "uri"."""
    out = dict(attr)
    if "BulkDataURI" in out:
        out["BulkDataURI"] = "uri"
    if out.get("vr") == "SQ" and "Value" in out:
        out["Value"] = [{k: _same_uri(v) for k, v in item.items()} for item in out["Value"]]
    return out


def test_json_omit_drops_bulk() -> None:
    ds, _ = read_dataset(CORPUS / "ct" / "CT_small.dcm")
    model = to_json_dict(ds, bulk="omit")
    assert "7FE00010" not in model
    assert all("BulkDataURI" not in v for v in model.values())


@pytest.mark.parametrize("name", ["zero_bytes.dcm", "not_dicom.txt", "not_dicom.png", "garbage_random.dcm",
                                  "preamble_only.dcm", "garbage_after_dicm.dcm", "readme_not_dicom.dcm"])
def test_unreadable_files_raise_read_error(name: str) -> None:
    with pytest.raises(ReadError):
        read_dataset(CORPUS / "broken" / name)


def test_missing_file_raises_read_error(tmp_path: Path) -> None:
    with pytest.raises(ReadError):
        read_dataset(tmp_path / "nope.dcm")


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "viewer", "dump", *args], capture_output=True, text=True,
                          timeout=120, cwd=Path(__file__).resolve().parents[2])


def test_cli_dump_text_and_search() -> None:
    path = CORPUS / "synthetic" / "enhanced_mr_diffusion_12f.dcm"
    proc = _cli(str(path), "--search", "0018,9087")
    assert proc.returncode == 0, proc.stderr
    ds = pydicom.dcmread(path)
    expected = [item.MRDiffusionSequence[0].DiffusionBValue for item in ds.PerFrameFunctionalGroupsSequence]
    lines = proc.stdout.splitlines()
    assert len(lines) == len(expected)
    assert [float(line.split()[3]) for line in lines] == expected
    proc = _cli(str(path))
    assert proc.returncode == 0
    assert "(0008,0060) CS Modality [MR] # 2, 1" in proc.stdout.splitlines()


def test_cli_json_is_pydicom_loadable() -> None:
    import json

    path = CORPUS / "ct" / "CT_small.dcm"
    proc = _cli(str(path), "--json")
    assert proc.returncode == 0, proc.stderr
    model = json.loads(proc.stdout)
    assert model["7FE00010"]["BulkDataURI"].endswith("#tag=7FE00010")
    back = Dataset.from_json(model, bulk_data_uri_handler=lambda *_: None)
    assert back.PatientName == pydicom.dcmread(path).PatientName


def test_cli_unreadable_file_is_one_line_exit_1() -> None:
    proc = _cli(str(CORPUS / "broken" / "not_dicom.txt"))
    assert proc.returncode == 1
    assert proc.stderr.count("\n") == 1 and "not a DICOM file" in proc.stderr
    assert proc.stdout == ""


@pytest.mark.parametrize("path", CHARSET_FILES, ids=[p.name for p in CHARSET_FILES])
def test_charset_terms_known(path: Path) -> None:
    from viewer.dicom.charset import check_charset, describe

    value = pydicom.dcmread(path).SpecificCharacterSet
    assert check_charset(value) == [] and "unknown" not in describe(value)


def test_charset_mistakes_are_flagged() -> None:
    from viewer.dicom.charset import check_charset

    assert check_charset("ISO_IR 999")
    assert check_charset(["ISO_IR 192", "ISO 2022 IR 87"])  # UTF-8 allows no code extensions
    # DCMTK cannot convert this file's values to UTF-8 either: it declares no character set.
    nodes = dump_file(CORPUS / "spacing" / "JPEG2KLossless_1s_1f_u_16_16.dcm").nodes
    name = next(n for n in nodes if n.tag == 0x00100010)
    assert any("no Specific Character Set" in p for p in name.problems)


def test_cli_frame_shows_that_frames_groups() -> None:
    path = CORPUS / "synthetic" / "enhanced_mr_diffusion_12f.dcm"
    ds = pydicom.dcmread(path)
    proc = _cli(str(path), "--frame", "4")
    assert proc.returncode == 0, proc.stderr
    diff = ds.PerFrameFunctionalGroupsSequence[3].MRDiffusionSequence[0]
    first = proc.stdout.splitlines()[0]
    assert first.startswith("# Frame 4 of 12") and f"b = {diff.DiffusionBValue:g}" in first
    assert diff.DiffusionDirectionality in first
    assert _cli(str(path), "--frame", "13").returncode == 2
    assert _cli(str(CORPUS / "ct" / "CT_small.dcm"), "--frame", "1").returncode == 2


@pytest.mark.parametrize("name", ["enhanced/eCT_Supplemental.dcm", "synthetic/enhanced_mr_diffusion_12f.dcm"])
def test_frame_groups_are_shared_plus_that_frames_items(name: str) -> None:
    from viewer.dicom.functional_groups import diffusion_info, frame_groups, number_of_frames

    ds = pydicom.dcmread(CORPUS / name)
    assert number_of_frames(ds) == int(ds.NumberOfFrames)
    shared = {e.keyword for e in ds.SharedFunctionalGroupsSequence[0] if e.VR == "SQ"}
    for frame in range(number_of_frames(ds)):
        per = {e.keyword for e in ds.PerFrameFunctionalGroupsSequence[frame] if e.VR == "SQ"}
        groups = frame_groups(ds, frame)
        assert {g.keyword for g in groups} == shared | per
        assert {g.keyword for g in groups if not g.shared} == per
        info = diffusion_info(ds, frame)
        if "MRDiffusionSequence" in per:
            item = ds.PerFrameFunctionalGroupsSequence[frame].MRDiffusionSequence[0]
            assert info is not None and info.b_value == item.DiffusionBValue
            assert info.directionality == item.DiffusionDirectionality
        else:
            assert info is None
