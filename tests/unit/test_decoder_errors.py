"""A decoder failure ends in exactly one stderr line that says why (render and dump).

The broken files are pydicom's JPEG, JPEG 2000 and RLE test files with their first
fragment damaged. Oracle for the reason: the plugin's own message, as pydicom's
``pixel_array`` reports it (the lines after "...all available plugins:").
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pydicom
import pytest
from pydicom.data import get_testdata_file
from pydicom.encaps import encapsulate, generate_fragments

ROOT = Path(__file__).resolve().parents[2]
CASES = {"jpeg": "JPEG-lossy.dcm", "j2k": "JPEG2000.dcm", "rle": "SC_rgb_rle.dcm"}


def _broken(kind: str, folder: Path) -> Path:
    ds = pydicom.dcmread(get_testdata_file(CASES[kind]))
    first = next(generate_fragments(ds.PixelData))
    # JPEG/J2K: the start of the code stream, then garbage; RLE: its 64-byte header, then too little.
    bad = first[:64] + b"\x81" * 100 if kind == "rle" else first[:len(first) // 8] + b"\x00\xff" * 50
    ds.PixelData = encapsulate([bad])
    out = folder / f"broken_{kind}.dcm"
    ds.save_as(out)
    return out


def _plugin_reasons(path: Path) -> list[str]:
    with pytest.raises(Exception) as info:
        _ = pydicom.dcmread(path).pixel_array
    lines = [ln.strip() for ln in str(info.value).splitlines()[1:] if ln.strip()]
    assert lines, str(info.value)
    # "pylibjpeg: ValueError: reason" -> "reason"
    return [ln.split(": ", 2)[-1] for ln in lines]


def _viewer(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "viewer", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=120)


@pytest.mark.parametrize("kind", sorted(CASES))
def test_render_prints_one_line_with_the_reason(kind: str, tmp_path: Path) -> None:
    path = _broken(kind, tmp_path)
    r = _viewer("render", str(path), "-o", str(tmp_path / "x.png"))
    assert r.returncode != 0
    lines = r.stderr.splitlines()
    assert len(lines) == 1, r.stderr
    assert "Traceback" not in r.stderr
    assert "all available plugins:" not in lines[0]
    # We ask one plugin (the one the syntax prefers); its reason is among pydicom's.
    assert any(reason in lines[0] for reason in _plugin_reasons(path)), lines[0]


@pytest.mark.parametrize("kind", sorted(CASES))
def test_dump_of_a_broken_file_prints_no_traceback(kind: str, tmp_path: Path) -> None:
    path = _broken(kind, tmp_path)
    r = _viewer("dump", str(path))
    assert r.returncode == 0 and "(7fe0,0010)" in r.stdout.lower(), r.stderr
    assert r.stderr == ""


def test_debug_shows_the_plugin_traceback(tmp_path: Path) -> None:
    path = _broken("rle", tmp_path)
    r = _viewer("render", "-d", str(path), "-o", str(tmp_path / "x.png"))
    assert "Traceback" in r.stderr
