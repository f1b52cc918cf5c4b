"""Our dump against DCMTK ``dcmdump`` on every readable file of the test corpus.

The oracle is DCMTK: same set of tags (nested ones included, addressed by their path of
sequence tags and item indices), same VRs, VMs, keywords and retired flags (public tags), same value
lengths for values a character set cannot change, and the same decoded text for text VRs (``dcmdump +U8``
converts to UTF-8).
glibc's iconv cannot convert ISO 2022 IR 87 for DCMTK 3.6.7; for those files dcmdump runs
without ``+U8`` and only ASCII values are compared (their names are checked against the
corpus manifest in ``tests/unit/test_dump_charset.py``).
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from tests.helpers.peers import require_program
from viewer.dicom.dump import DumpNode, NodeKind, dump_file, iter_nodes
from viewer.dicom.dump_values import CHARSET_VRS, NUMBER_VRS, TEXT_VRS

CORPUS = Path(__file__).resolve().parents[1] / "data" / "corpus"
FILES = sorted(p for p in CORPUS.rglob("*") if p.is_file() and p.name not in ("MANIFEST.tsv", "README.md"))

_LINE = re.compile(r"^(?P<indent> *)\((?P<g>[0-9a-f]{4}),(?P<e>[0-9a-f]{4})\) (?P<vr>\w\w|\?\?) "
                   r"(?P<value>.*?)\s*# +(?P<len>[^,\s]+), ?(?P<vm>\d+) (?P<kw>[^\n]*)\Z", re.DOTALL)
ITEM, ITEM_END, SEQ_END = 0xFFFEE000, 0xFFFEE00D, 0xFFFEE0DD


def run_dcmdump(path: Path) -> tuple[str, bool] | None:
    """dcmdump's text (``+U8`` when it can convert) and whether it is UTF-8; None if unreadable."""
    exe = require_program("dcmdump", "dcmtk")
    base = [exe, "-Un", "+L", "-M"]
    for utf8 in (True, False):
        cmd = base + (["+U8"] if utf8 else []) + [str(path)]
        proc = subprocess.run(cmd, capture_output=True, timeout=60)
        if proc.returncode == 0:
            text = proc.stdout.decode("utf-8" if utf8 else "latin-1", errors="replace")
            return text, utf8
    return None


def parse_dcmdump(text: str) -> dict[tuple, dict[str, str]]:
    """``path -> {vr, value, len}`` from dcmdump output; paths are (tag, item, tag, ...)."""
    out: dict[tuple, dict[str, str]] = {}
    stack: list[tuple] = []           # path of the element at each depth
    items: dict[tuple, int] = {}      # next item index under each sequence path
    section = ""
    pending = ""
    for line in text.replace("\r\n", "\n").split("\n"):
        if pending:  # a value with line breaks (LT/UT): dcmdump prints it as is
            line = pending + "\n" + line
            pending = ""
        if (pending or line.lstrip().startswith("(")) and not _LINE.match(line):
            pending = line
            continue
        if line.startswith("# Dicom-Meta-Information-Header"):
            section = "meta"
        elif line.startswith("# Dicom-Data-Set"):
            section = "data"
        m = _LINE.match(line)
        if not m:
            continue
        depth = len(m["indent"]) // 2
        tag = int(m["g"] + m["e"], 16)
        if tag in (ITEM_END, SEQ_END):
            continue
        parent = stack[depth - 1] if depth else ()
        if tag == ITEM:
            if m["vr"] == "pi":  # fragments of encapsulated Pixel Data: summarised by us
                continue
            idx = items.get(parent, 0)
            items[parent] = idx + 1
            path = parent + (("item", idx),)
        else:
            path = parent + (tag,)
        del stack[depth:]
        stack.append(path)
        if any(isinstance(p, int) and p == 0x7FE00010 for p in path[:-1]):
            continue
        value = m["value"]
        # DCMTK's internal VR "up" is a UL holding a file offset (DICOMDIR, PS3.10 8.6).
        out[path] = {"vr": "UL" if m["vr"] == "up" else m["vr"], "value": value, "vm": m["vm"], "kw": m["kw"].strip(),
                     "len": m["len"], "section": section}
    return out


def our_paths(nodes: list[DumpNode]) -> dict[tuple, DumpNode]:
    out: dict[tuple, DumpNode] = {}
    for node in iter_nodes(nodes):
        parts: list = []
        n: DumpNode | None = node
        while n is not None:
            parts.append(("item", n.row) if n.kind is NodeKind.ITEM else n.tag)
            n = n.parent
        out[tuple(reversed(parts))] = node
    return out


def _strip_components(text: str) -> list[str]:
    return [v.strip(" \0") for v in text.split("\\")]


def _numbers(text: str) -> list[float]:
    return [float(v) for v in text.split("\\") if v]


def dcmdump_readable() -> list[Path]:
    return FILES


@pytest.mark.peers
@pytest.mark.parametrize("path", FILES, ids=[str(p.relative_to(CORPUS)) for p in FILES])
def test_dump_matches_dcmdump(path: Path) -> None:
    oracle = run_dcmdump(path)
    if oracle is None:
        pytest.skip("dcmdump cannot read this file either (not a readable file of the test set)")
    text, utf8 = oracle
    expected = parse_dcmdump(text)
    result = dump_file(path)
    assert result.stopped is None, "dcmdump read the whole file but we say: " + str(result.stopped)
    ours = our_paths(result.nodes)
    if utf8 and (0x00080005,) not in ours:
        expected.pop((0x00080005,), None)  # dcmdump +U8 inserts Specific Character Set

    assert set(ours) == set(expected), (
        f"tags only in ours: {sorted(map(str, set(ours) - set(expected)))[:10]}; "
        f"only in dcmdump: {sorted(map(str, set(expected) - set(ours)))[:10]}")
    problems = []
    for key, exp in expected.items():
        node = ours[key]
        if node.kind is NodeKind.ITEM:
            continue
        if node.vr != exp["vr"] and not (node.tag == 0x7FE00010 and exp["vr"] == "OB" and node.problems):
            # DCMTK shows encapsulated Pixel Data as OB whatever the file says; we keep the
            # file's VR and flag it (PS3.5 A.4).
            problems.append(f"{node.tag_text} VR {node.vr} != dcmdump {exp['vr']}")
            continue
        # DCMTK prefixes retired keywords with RETIRED_: this checks our retired flag too.
        keyword = ("RETIRED_" if node.retired else "") + node.keyword
        if not node.is_private and keyword != exp["kw"]:
            problems.append(f"{node.tag_text} keyword {keyword} != dcmdump {exp['kw']}")
        ours_len = "u/l" if node.length is None else str(node.length)
        if node.kind is NodeKind.SEQUENCE:
            if exp["len"] != "u/l" and ours_len != exp["len"]:
                problems.append(f"{node.tag_text} SQ length {ours_len} != {exp['len']}")
            continue
        # Without +U8 (ISO 2022 IR 87 files) DCMTK splits values at a 0x5C byte inside a
        # two-byte JIS character; PS3.5 6.1.2.5.3 says it is not a delimiter there.
        if node.vm != int(exp["vm"]) and (utf8 or node.vr not in CHARSET_VRS):
            problems.append(f"{node.tag_text} VM {node.vm} != dcmdump {exp['vm']}")
        if node.vr not in CHARSET_VRS and exp["len"] != ours_len:
            problems.append(f"{node.tag_text} length {ours_len} != dcmdump {exp['len']}")
        value = exp["value"]
        if value.startswith("(no value available)"):
            if node.vm != 0 and node.value.strip(" \\\0"):
                problems.append(f"{node.tag_text} empty in dcmdump but ours is {node.value!r}")
            continue
        if node.tag == 0x00080005 and utf8:
            continue  # dcmdump +U8 rewrites Specific Character Set to ISO_IR 192
        if node.vr in TEXT_VRS and value.startswith("["):
            theirs = value[1:-1]
            if not utf8 and (not theirs.isascii() or "\x1b" in theirs):
                continue  # raw bytes in a charset dcmdump cannot convert: see module docstring
            mine = node.value.replace("\r\n", "\n").strip()
            if _strip_components(mine) != _strip_components(theirs.strip()):
                problems.append(f"{node.tag_text} value {node.value!r} != dcmdump {theirs!r}")
        elif node.vr in ("OB", "OW", "UN", "AT") and not node.value.startswith("(") and "(not loaded)" not in value:
            # Small binary values: hex bytes (OB/UN) or words (OW), tags for AT, as dcmdump.
            if node.value.lower() != value.lower():
                problems.append(f"{node.tag_text} {node.vr} value {node.value!r} != dcmdump {value!r}")
        elif node.vr in NUMBER_VRS and "(not loaded)" not in value:
            try:
                a, b = _numbers(node.value), _numbers(value)
            except ValueError:
                problems.append(f"{node.tag_text} numbers {node.value!r} vs {value!r}")
                continue
            if a != pytest.approx(b, rel=1e-6, abs=1e-30):
                problems.append(f"{node.tag_text} value {node.value!r} != dcmdump {value!r}")
    assert not problems, "\n".join(problems[:20])


TRUNCATED = ["broken/MR_truncated.dcm", "broken/truncated_pixeldata.dcm", "broken/wrong_length_pixeldata.dcm"]


@pytest.mark.peers
@pytest.mark.parametrize("name", TRUNCATED)
def test_partial_file_stops_where_dcmdump_stops(name: str) -> None:
    """A truncated file: we dump what was read, and name the element dcmdump names."""
    import sys

    exe = require_program("dcmdump", "dcmtk")
    oracle = subprocess.run([exe, "+E", str(CORPUS / name)], capture_output=True, text=True, timeout=60)
    assert oracle.returncode != 0
    m = re.search(r"\(([0-9a-f]{4}),([0-9a-f]{4})\) larger \((\d+)\) than remaining bytes", oracle.stderr)
    assert m, oracle.stderr
    tag, declared = f"({m[1]},{m[2]})".upper(), m[3]
    proc = subprocess.run([sys.executable, "-m", "viewer", "dump", str(CORPUS / name)], capture_output=True,
                          text=True, timeout=60, cwd=CORPUS.parents[2])
    assert proc.returncode == 1
    assert "reading stopped" in proc.stderr and tag in proc.stderr and f"declares {declared} bytes" in proc.stderr
    # Everything before the damaged element was dumped.
    dumped = {line.split()[0] for line in proc.stdout.splitlines() if line.startswith("(")}
    before = {f"({ln[1:5]},{ln[6:10]})" for ln in oracle.stdout.splitlines() if ln.startswith("(")}
    assert len(before) > 10 and before <= dumped


@pytest.mark.peers
def test_file_cut_inside_an_element_header(tmp_path: Path) -> None:
    """pydicom drops a partial element header silently; dcmdump and we do not."""
    import sys

    import pydicom

    exe = require_program("dcmdump", "dcmtk")
    src = CORPUS / "ct" / "CT_small.dcm"
    start = pydicom.dcmread(src).get_item(0x00280010).value_tell - 8  # header of (0028,0010)
    cut = tmp_path / "cut.dcm"
    cut.write_bytes(src.read_bytes()[:start + 5])
    assert subprocess.run([exe, str(cut)], capture_output=True, timeout=60).returncode != 0
    proc = subprocess.run([sys.executable, "-m", "viewer", "dump", str(cut)], capture_output=True, text=True,
                          timeout=60, cwd=CORPUS.parents[2])
    assert proc.returncode == 1
    assert f"reading stopped at byte {start}" in proc.stderr
    assert proc.stdout.splitlines()[-1].startswith("(0028,0004)")
