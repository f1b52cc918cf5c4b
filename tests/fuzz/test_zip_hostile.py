"""Hostile ZIP archives given to the scanner: member names that climb out of the
unpack folder, a zip bomb whose members expand far beyond the disk, and byte damage.

Oracle: Python's ``zipfile`` (the archive really declares those names and sizes); the
contract: a result or one of our errors, nothing written outside the unpack folder, and no
more unpacked than the limits allow.
"""

from __future__ import annotations

import random
import zipfile
from pathlib import Path

import pytest

from viewer.dicom import _media_zip
from viewer.dicom.scan import scan


def _events(path: Path) -> list:
    return list(scan([path]))


def test_member_names_cannot_climb_out(corpus: Path, tmp_path: Path) -> None:
    z = tmp_path / "evil.zip"
    data = (corpus / "mr" / "MR_small.dcm").read_bytes()
    with zipfile.ZipFile(z, "w") as zf:
        for name in ("../../escaped.dcm", "/abs/escaped2.dcm", "a/../../../escaped3.dcm", "ok/MR.dcm"):
            zf.writestr(name, data)
    assert any(".." in n for n in zipfile.ZipFile(z).namelist())
    before = set(tmp_path.rglob("*"))
    events = _events(z)
    instances = [e.instance for e in events if e.instance is not None]
    assert instances
    assert set(tmp_path.rglob("*")) == before  # nothing appeared next to the archive
    assert not any(Path(p).name.startswith("escaped") and not str(p).startswith(str(_media_zip._folders[-1]))
                   for p in (i.path for i in instances))


def test_zip_bomb_is_refused(tmp_path: Path, monkeypatch) -> None:
    z = tmp_path / "bomb.zip"
    with zipfile.ZipFile(z, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for n in range(4):
            zf.writestr(f"f{n}.dcm", b"\0" * (8 << 20))  # 32 MiB of zeros, a few KiB compressed
    assert z.stat().st_size < 200_000
    monkeypatch.setattr(_media_zip, "MAX_UNPACKED_BYTES", 16 << 20)
    events = _events(z)
    errors = [e for e in events if str(e.kind) == "error"]
    assert errors and "unpack" in str(errors[0].error).lower()
    unpacked = sum(p.stat().st_size for p in Path(_media_zip._folders[-1]).rglob("*") if p.is_file()) \
        if _media_zip._folders else 0
    assert unpacked <= 16 << 20


@pytest.mark.parametrize("seed", range(3))
def test_damaged_zip_archives(corpus: Path, tmp_path: Path, seed: int) -> None:
    good = tmp_path / "good.zip"
    with zipfile.ZipFile(good, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for p in sorted((corpus / "series" / "ct_stack_40").iterdir())[:5]:
            zf.write(p, f"CD/{p.name}")
    rng = random.Random(seed)
    for n in range(15):
        data = bytearray(good.read_bytes())
        for _ in range(rng.randint(1, 20)):
            data[rng.randrange(len(data))] = rng.randrange(256)
        if rng.random() < 0.3:
            data = data[: rng.randrange(len(data))]
        bad = tmp_path / f"bad{n}.zip"
        bad.write_bytes(bytes(data))
        events = _events(bad)  # must not raise
        assert str(events[-1].kind) == "done"
