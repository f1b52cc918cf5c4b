"""Bounded fuzz run of the readers: mutated corpus files and DICOMDIR media
through header reading, scan, ``dump`` (text and JSON) and ``render``.

Every input runs in a subprocess whose address space is capped at 1 GiB (a declared
4 GB length that gets allocated is a MemoryError, counted as a failure) with a time
bound per input; the contract checked is "a result or one of our ``ViewerError`` s".
The number of inputs tried is printed (``-s``) and recorded in the test's report section.
The longer run is ``python -m tests.fuzz.run_long``.
"""

from __future__ import annotations

import json
from pathlib import Path


from tests.fuzz.fuzz_mutators import deep_nesting, elements
from tests.fuzz.fuzz_runner import make_inputs, run_inputs

#: Sized for well under a minute on a shared 2-core machine (about 25 inputs/s).
FILES, MEDIA = 800, 100


def test_mutated_inputs_end_in_a_result_or_our_error(corpus: Path, tmp_path: Path, record_property) -> None:
    inputs = make_inputs(corpus, tmp_path / "inputs", FILES, seed=20261127, media=MEDIA)
    report = run_inputs(inputs, timeout=10.0)
    record_property("fuzz_inputs", report.tried)
    print(f"\nfuzz: {report.summary()}")
    assert report.tried == FILES + FILES // 20 + MEDIA  # files, damaged ZIPs, DICOMDIR media
    assert report.viewer_errors > 0  # the damage was seen and reported, not silently ignored
    assert not report.failures, json.dumps(report.failures, indent=1)


def test_mutator_walker_finds_nested_elements(corpus: Path) -> None:
    """The length/VR mutators reach elements inside sequences (else they test little)."""
    import pydicom

    path = corpus / "synthetic" / "enhanced_mr_diffusion_12f.dcm"
    data = path.read_bytes()
    found = {data[pos:pos + 4] for pos, *_ in elements(data)}
    ds = pydicom.dcmread(path)
    nested = {t for item in ds.SharedFunctionalGroupsSequence for t in item.keys()}
    as_bytes = {int(t).to_bytes(4, "big") for t in nested}
    wire = {b[1::-1] + b[3:1:-1] for b in as_bytes}  # (gggg,eeee) little endian on the wire
    assert wire & found


def test_deep_nesting_generator_is_what_pydicom_sees(tmp_path: Path) -> None:
    import pydicom

    path = tmp_path / "deep.dcm"
    path.write_bytes(deep_nesting(5))
    ds = pydicom.dcmread(path)
    depth, seq = 0, ds.ReferencedSeriesSequence
    while True:
        depth += 1
        item = seq[0]
        if "ReferencedSeriesSequence" not in item:
            break
        seq = item.ReferencedSeriesSequence
    assert depth == 5
