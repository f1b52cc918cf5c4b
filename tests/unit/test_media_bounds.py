"""Bounded reading of hostile files: sparse giants, endless empty elements, deflate bombs.

Each case runs the real command in a child process, which reports its peak RSS
(``VmHWM``, see tests/helpers/rss.py); the bounds asserted are those of docs/conformance.md section 5. A hang
shows as a timeout. Oracles: pydicom (what the honest parts of the files contain) and
``zlib.decompress`` (what an inflate must give).
"""

from __future__ import annotations

import io
import zlib
from pathlib import Path

import pydicom
import pytest
from pydicom.data import get_testdata_file

from tests.helpers import hostile
from tests.helpers.rss import run_viewer

#: Peak memory allowed for one command on one hostile file (conformance statement, 5).
PEAK_MIB = 300
CT_SERIES = str(pydicom.dcmread(get_testdata_file("CT_small.dcm"), stop_before_pixels=True).SeriesInstanceUID)


def _one_line(stderr: str) -> str:
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    return lines[0]


# ------------------------------------------------------------------ sparse files (item 10)


def test_scan_skips_a_2gib_private_value_without_reading_it(tmp_path: Path) -> None:
    path = hostile.big_private_value(tmp_path / "big.dcm")
    run = run_viewer("scan", "--json", str(path))
    assert not run.hung and run.returncode == 0, run.stderr
    assert CT_SERIES in run.stdout  # the header after the 2 GiB value was read
    assert run.peak_mib < PEAK_MIB, f"scan peaked at {run.peak_mib:.0f} MiB"


@pytest.mark.parametrize("command", ["render", "dump"])
def test_render_and_dump_skip_a_2gib_private_value(command: str, tmp_path: Path) -> None:
    path = hostile.big_private_value(tmp_path / "big.dcm")
    args = [command, str(path)] + (["-o", str(tmp_path / "x.png")] if command == "render" else [])
    run = run_viewer(*args)
    assert not run.hung and run.returncode == 0, run.stderr
    assert run.peak_mib < PEAK_MIB


@pytest.mark.parametrize("maker", [hostile.dicm_then_zeros, hostile.meta_then_zeros])
@pytest.mark.parametrize("command", ["scan", "render", "dump"])
def test_gigabytes_of_zeros_end_with_one_line(command: str, maker, tmp_path: Path) -> None:
    path = maker(tmp_path / "zeros.dcm")
    args = [command, str(path)] + (["-o", str(tmp_path / "x.png")] if command == "render" else [])
    run = run_viewer(*args, timeout=90)
    assert not run.hung, f"{command} on 2 GiB of zeros did not finish in 90 s"
    assert run.peak_mib < PEAK_MIB
    if command == "scan":
        assert "refused" in run.stdout or "no File Meta" in run.stdout, run.stdout
    else:
        assert run.returncode == 1
        assert "refused" in _one_line(run.stderr)


# ------------------------------------------------------------------ deflate (item 2, read side)


def test_inflate_matches_zlib_and_refuses_a_bomb() -> None:
    from viewer.dicom import bounded_io

    honest = bytes(range(256)) * 4000
    comp = zlib.compressobj(6, zlib.DEFLATED, -15)
    raw = comp.compress(honest) + comp.flush()
    assert bounded_io.inflate(raw) == zlib.decompress(raw, -15)
    bomb = zlib.compressobj(9, zlib.DEFLATED, -15)
    data = bomb.compress(bytes(64 * 1024 ** 2)) + bomb.flush()
    with pytest.raises(bounded_io.InflateLimit, match="deflate bomb"):
        bounded_io.inflate(data)
    with pytest.raises(bounded_io.InflateLimit, match="more than 1000 bytes"):
        bounded_io.inflate(raw, max_output=1000)


def test_bounded_inflate_streams_and_seeks() -> None:
    from viewer.dicom import bounded_io

    honest = bytes(range(256)) * 4000
    comp = zlib.compressobj(6, zlib.DEFLATED, -15)
    stream = bounded_io.BoundedInflate(io.BytesIO(comp.compress(honest) + comp.flush()))
    assert stream.read(10) == honest[:10]
    stream.seek(5000, 1)
    assert stream.read(3) == honest[5010:5013]
    stream.seek(-13, 1)
    assert stream.read(4) == honest[5000:5004]


def test_an_honest_deflated_file_reads_as_pydicom_reads_it(tmp_path: Path) -> None:
    from viewer.dicom.frames import read_dataset
    from viewer.dicom.headers import read_instance

    path = hostile.deflated_ct(tmp_path / "dfl.dcm")
    ref = pydicom.dcmread(path)
    assert read_instance(path).sop_instance_uid == ref.SOPInstanceUID
    ours = read_dataset(path)
    assert ours.PixelData == ref.PixelData
    assert ours.to_json_dict() == ref.to_json_dict()


def test_scan_reads_the_header_of_a_deflate_bomb_without_inflating_its_pixels(tmp_path: Path) -> None:
    path = hostile.deflate_bomb(tmp_path / "bomb.dcm", size=hostile.GiB)
    run = run_viewer("scan", "--json", str(path))
    assert run.returncode == 0 and CT_SERIES in run.stdout, run.stderr
    assert run.peak_mib < PEAK_MIB


@pytest.mark.parametrize("where", ["pixels", "header"])
@pytest.mark.parametrize("command", ["render", "dump"])
def test_render_and_dump_refuse_a_deflate_bomb(command: str, where: str, tmp_path: Path) -> None:
    path = hostile.deflate_bomb(tmp_path / "bomb.dcm", size=hostile.GiB, where=where)
    args = [command, str(path)] + (["-o", str(tmp_path / "x.png")] if command == "render" else [])
    run = run_viewer(*args)
    assert run.returncode == 1
    assert "deflate bomb" in _one_line(run.stderr)
    assert run.peak_mib < PEAK_MIB, f"{command} peaked at {run.peak_mib:.0f} MiB"


def test_scan_refuses_a_deflate_bomb_in_the_header(tmp_path: Path) -> None:
    path = hostile.deflate_bomb(tmp_path / "bomb.dcm", size=hostile.GiB, where="header")
    run = run_viewer("scan", "--json", str(path))
    assert "deflate bomb" in run.stdout
    assert run.peak_mib < PEAK_MIB


def test_cancel_reaches_inside_a_file(tmp_path: Path) -> None:
    """The GUI's cancel stops a scan inside one slow file (2 GiB of empty elements), not after it."""
    import threading

    from viewer.cancel import CancelToken
    from viewer.dicom.scan import scan

    path = hostile.meta_then_zeros(tmp_path / "zeros.dcm")
    token = CancelToken()
    timer = threading.Timer(0.3, token.cancel)
    timer.start()
    try:
        events = list(scan([path], cancel=token))
    finally:
        timer.cancel()
    assert events[-1].kind == "done" and events[-1].cancelled
    # the read was interrupted: it never ran into its element budget
    assert not [e for e in events if e.error and "refused" in e.error]
