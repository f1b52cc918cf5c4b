"""``report`` against DCMTK ``dsrdump``: every value dsrdump prints appears in our text.

The SRs come from two writers: a hand-built Comprehensive/Enhanced/Basic Text SR (every
value type, nested containers, a Japanese patient name) and highdicom's TID 1500
measurement report. dsrdump runs with long values, all codes and instance UIDs; from each
of its lines we take the codes (value, scheme, meaning), quoted values, numbers and
referenced UIDs, and look for each in our output.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from pydicom import dcmread
from pydicom.data import get_testdata_file
from pydicom.uid import UID

from tests.helpers.peers import require_program
from tests.helpers.sr import BASIC_TEXT_SR, COMPREHENSIVE_SR, ENHANCED_SR, comprehensive_sr, tid1500_sr
from viewer.dicom.sr import format_pn

_CODE = re.compile(r'\(([^,()"]*),([^,()"]*),"([^"]*)"\)')
_QUOTED = re.compile(r'="([^"]*)"')
_UIDS = re.compile(r'\("([0-9.]+)","([0-9.]+)"(?:,([0-9,]+))?\)')
_DA, _TM = re.compile(r"^(\d{4})(\d\d)(\d\d)$"), re.compile(r"^(\d\d)(\d\d)(\d\d)$")


def _dicom_to_iso(vt: str, raw: str) -> str:
    """dsrdump prints DATE/TIME/DATETIME as stored; our report writes them as ISO 8601."""
    if vt == "DATE":
        return _DA.sub(r"\1-\2-\3", raw)
    if vt == "TIME":
        return _TM.sub(r"\1:\2:\3", raw)
    if vt == "DATETIME":
        return f"{_dicom_to_iso('DATE', raw[:8])} {_dicom_to_iso('TIME', raw[8:14])}"
    return raw


def _dsrdump(path: Path) -> str:
    exe = require_program("dsrdump", "dcmtk")
    proc = subprocess.run([exe, "+Pl", "+Pu", "+Psu", "+Pc", "+U8", str(path)], capture_output=True, timeout=60)
    assert proc.returncode == 0, proc.stderr.decode(errors="replace")
    return proc.stdout.decode("utf-8")


def _ours(path: Path, fmt: str = "text") -> str:
    proc = subprocess.run([sys.executable, "-m", "viewer", "report", str(path), "--format", fmt],
                          capture_output=True, timeout=60)
    assert proc.returncode == 0, proc.stderr.decode(errors="replace")
    return proc.stdout.decode("utf-8")


def _expected_values(dump: str) -> list[str]:
    """Every value dsrdump shows, as our text writes it."""
    values: list[str] = []
    header, _, tree = dump.partition("\n\n<")
    for line in header.splitlines()[1:]:
        key, sep, value = line.partition(":")
        if not sep or not value.strip():
            continue
        key, value = key.strip(), value.strip()
        if key == "Patient":
            m = re.match(r"(.*?) \((.*)\)$", value)
            assert m, value
            values.append(format_pn(m.group(1)))
            values += [p.lstrip("#") for p in m.group(2).split(", ") if p]
        elif key == "Referring Physician":
            values.append(format_pn(value))
        elif key in ("Study", "Series"):
            m = re.match(r"(.*?) ?\(#(.*)\)$", value)
            assert m, value
            values += [v for v in m.groups() if v]
        else:
            values.append(value)
    for line in ("<" + tree).splitlines():
        for value, scheme, meaning in _CODE.findall(line):
            values += [v for v in (value, scheme, meaning) if v]
        for sop_class, sop_instance, frames in _UIDS.findall(line):
            values += [UID(sop_class).name, sop_instance] + ([f"frame {frames}"] if frames else [])
        rest = _UIDS.sub("", _CODE.sub("", line))
        vt = re.search(r"(\w+):", line)
        for quoted in _QUOTED.findall(rest):
            values.append(format_pn(quoted) if " PNAME:" in line else _dicom_to_iso(vt.group(1) if vt else "", quoted))
        continuity = re.search(r"\)=(SEPARATE|CONTINUOUS)>", line)
        if continuity:
            values.append(continuity.group(1))
        scoord = re.search(r"=\((\w+),([-0-9./,]+)\)>", rest)
        if scoord:
            values.append(scoord.group(1))
            values += [p for p in scoord.group(2).split(",")]
    return values


@pytest.mark.parametrize("sop_class", [COMPREHENSIVE_SR, ENHANCED_SR, BASIC_TEXT_SR])
def test_hand_built_sr_values_all_appear(tmp_path: Path, sop_class: str) -> None:
    path = comprehensive_sr(tmp_path / "sr.dcm", sop_class)
    dump = _dsrdump(path)
    ours = _ours(path)
    expected = _expected_values(dump)
    assert len(expected) > 25
    missing = [v for v in expected if v not in ours]
    assert not missing, f"dsrdump shows values our report lacks: {missing}\n--- ours:\n{ours}\n--- dsrdump:\n{dump}"
    # The Japanese name in every component group, and nesting by indentation.
    assert "Yamada, Tarou = 山田, 太郎 = やまだ, たろう" in ours
    assert "\n  History (121060, DCM) [SEPARATE]\n    History (121060, DCM): Smoker" in ours


def test_tid1500_measurement_report_values_all_appear(tmp_path: Path) -> None:
    ct = dcmread(get_testdata_file("CT_small.dcm"))
    path = tid1500_sr(tmp_path / "tid1500.dcm", ct)
    dump = _dsrdump(path)
    ours = _ours(path)
    missing = [v for v in _expected_values(dump) if v not in ours]
    assert not missing, f"dsrdump shows values our report lacks: {missing}\n--- ours:\n{ours}\n--- dsrdump:\n{dump}"
    assert "Diameter (81827009, SCT): 12.5 mm" in ours


def test_html_links_the_referenced_image(tmp_path: Path) -> None:
    path = comprehensive_sr(tmp_path / "sr.dcm", image_uid="1.2.3.4.5")
    page = _ours(path, "html")
    assert '<a href="dicom:1.2.3.4.5?frame=3">' in page
    assert "<h2>" in page and "Nodule" in page


def test_report_on_an_image_is_one_clear_line(tmp_path: Path) -> None:
    proc = subprocess.run([sys.executable, "-m", "viewer", "report", get_testdata_file("CT_small.dcm")],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 1
    assert proc.stderr.strip().splitlines() == [proc.stderr.strip()]
    assert "is not a structured report (CT Image Storage)" in proc.stderr
