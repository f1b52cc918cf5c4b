"""Damaged media never crash the scanner: every file ends as an instance or an error.

Random byte damage (seeded) in headers and in a DICOMDIR; the only oracle here is the
scanner's contract ("nothing raises past the scanner"), checked on both header readers.
"""

from __future__ import annotations

import random
import shutil
from pathlib import Path

import pytest

from viewer.dicom.headers import read_instance
from viewer.dicom.model import Instance
from viewer.dicom.scan import load_tree, scan
from viewer.errors import ReadError

SOURCES = ["series/ct_stack_40/IMG0001.dcm", "mr/MR_small.dcm", "ts/MR_small_implicit.dcm",
           "synthetic/enhanced_mr_diffusion_12f.dcm", "charset/chrH31.dcm"]


def _damaged(src: Path, dst: Path, rng: random.Random) -> None:
    data = bytearray(src.read_bytes())
    limit = min(len(data), 2048)
    for _ in range(rng.randint(1, 8)):
        data[rng.randrange(132, limit)] = rng.randrange(256)
    if rng.random() < 0.3:
        data = data[: rng.randrange(132, len(data))]
    dst.write_bytes(bytes(data))


@pytest.mark.parametrize("seed", range(4))
def test_damaged_headers_give_instances_or_read_errors(corpus: Path, tmp_path: Path, seed: int) -> None:
    rng = random.Random(seed)
    paths = []
    for n in range(60):
        dst = tmp_path / f"f{n:03d}.dcm"
        _damaged(corpus / SOURCES[n % len(SOURCES)], dst, rng)
        paths.append(dst)
    for path in paths:
        for fast in (True, False):
            try:
                assert isinstance(read_instance(path, fast=fast), Instance)
            except ReadError as exc:
                assert str(exc)
    events = list(scan(tmp_path))
    kinds = {e.kind for e in events}
    assert kinds <= {"progress", "instance", "error", "done"}
    assert events[-1].kind == "done" and events[-1].done == len(paths)
    handled = sum(e.kind in ("instance", "error") for e in events)
    assert handled <= len(paths)  # duplicates by SOP UID are merged later, errors are one per file


def test_damaged_dicomdir_still_lists_something(corpus: Path, tmp_path: Path) -> None:
    rng = random.Random(7)
    for n in range(25):
        media = tmp_path / f"cd{n}"
        shutil.copytree(corpus / "dicomdir_media", media)
        data = bytearray((media / "DICOMDIR").read_bytes())
        for _ in range(rng.randint(1, 12)):
            data[rng.randrange(132, len(data))] = rng.randrange(256)
        (media / "DICOMDIR").write_bytes(bytes(data))
        tree = load_tree(media)  # must not raise
        # Either the DICOMDIR still names (some of) the files, or the folder was scanned.
        assert len(tree) + len(tree.errors) > 0
        for series in tree.iter_series():
            assert all(Path(i.path).is_file() for i in series.instances)
