"""The hostile inputs of the fuzz suite: a FIFO, a link leading out of the folder, nested
ZIPs, huge declared sizes, sparse 2 GiB files and deflate bombs, each run alone through
header reading, scan, dump and render (files) or scan, send's collection and export
(folders) in a worker capped at 1 GiB of address space; the worker's peak RSS is recorded.

Contract: a result or one of our errors, no hang, nothing listed outside the folder, and a
peak memory under the bound of docs/conformance.md section 5.
"""

from __future__ import annotations

import json
from pathlib import Path

from tests.fuzz.fuzz_runner import HOSTILE, make_hostile, run_hostile

PEAK_MIB = 300


def test_hostile_inputs_end_in_a_result_or_our_error(corpus: Path, tmp_path: Path, record_property) -> None:
    report = run_hostile(make_hostile(corpus, tmp_path / "hostile"), timeout=60.0)
    print("\n" + "\n".join(f"{k}: peak {v:.0f} MiB" for k, v in sorted(report.peaks.items())))
    record_property("hostile_peaks_mib", json.dumps(report.peaks))
    assert not report.failures, json.dumps(report.failures, indent=1)
    assert set(report.peaks) == set(HOSTILE)
    assert max(report.peaks.values()) < PEAK_MIB, report.peaks
