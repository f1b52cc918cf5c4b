#!/usr/bin/env python
"""Tag-inspector speed: tree fill and search on a generated 2,000-element data set.

Usage::

    QT_QPA_PLATFORM=offscreen .venv/bin/python bench/dump.py [--rounds N]

Prints median times and ratios (never asserts timings; tests do not time anything):

* ``dump``: read + build the dump model, against pydicom's own text dump ``str(ds)`` of the
  same bytes (the reference) and a bare ``dcmread`` (the floor);
* ``fill``: read + dump + show in the inspector's tree (lazy children) + process events, as
  a ratio to a 100 ms budget for showing a 2,000-element data set;
* ``search``: one filter pass of the 2,000-element tree for typical keystrokes, as a ratio to
  a 50 ms "no visible stall" budget.

Timing as in ``shared/bench/bench_baseline.py``: candidates interleaved per round, median
per call.
"""

from __future__ import annotations

import argparse
import io
import os
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import pydicom
from pydicom.datadict import DicomDictionary
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.sequence import Sequence
from pydicom.uid import UID, ExplicitVRLittleEndian, generate_uid

perf = time.perf_counter
FILL_BUDGET_MS = 100.0
SEARCH_BUDGET_MS = 50.0
_SAMPLE = {"CS": "VALUE_1", "LO": "Long string value", "SH": "short", "DS": "1.25", "IS": "42",
           "US": 7, "UL": 70000, "FD": 3.5, "DA": "20240102", "TM": "101500", "UI": "1.2.3.4.5",
           "PN": "Doe^John", "LT": "some text"}


def make_dataset(n_elements: int = 2000) -> Dataset:
    """A data set with ``n_elements`` elements in all: standard, private and nested."""
    ds = Dataset()
    nested_items, per_item = 20, 5
    private = 150
    flat = n_elements - private - 4 * (1 + nested_items * per_item) // 1
    tags = [t for t, (vr, vm, _n, retired, kw) in sorted(DicomDictionary.items())
            if vr in _SAMPLE and vm == "1" and not retired and kw and (t >> 16) not in (0x0002, 0x0000)
            and (t >> 16) < 0x7FE0]
    for tag in tags[:flat]:
        vr = DicomDictionary[tag][0]
        ds.add_new(tag, vr, _SAMPLE[vr])
    ds.add_new(0x00090010, "LO", "BENCH_PRIVATE")
    for i in range(private - 1):
        ds.add_new(0x00091000 + i, "LO", f"private value {i}")
    seq_tags = [0x00081115, 0x00081140, 0x00400275, 0x00082218]
    for st in seq_tags:
        items = []
        for k in range(nested_items):
            item = Dataset()
            item.ReferencedSOPClassUID = "1.2.840.10008.5.1.4.1.1.2"
            item.ReferencedSOPInstanceUID = f"1.2.3.{k}"
            item.CodeValue = f"C{k}"
            item.CodeMeaning = f"meaning {k}"
            item.CodingSchemeDesignator = "DCM"
            items.append(item)
        ds.add_new(st, "SQ", Sequence(items))
    return ds


def count_elements(ds: Dataset) -> int:
    return sum(1 for _ in ds.iterall())


def to_bytes(ds: Dataset) -> bytes:
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.file_meta.MediaStorageSOPClassUID = UID("1.2.840.10008.5.1.4.1.1.7")
    ds.file_meta.MediaStorageSOPInstanceUID = generate_uid()
    buf = io.BytesIO()
    ds.save_as(buf, enforce_file_format=True)
    return buf.getvalue()


def group(name: str, cands: dict, rounds: int, ref: str | None = None,
          budget: float | None = None) -> dict[str, float]:
    for fn in cands.values():
        fn()
    samples: dict[str, list[float]] = {k: [] for k in cands}
    keys = list(cands)
    for r in range(rounds):
        for k in keys[r % len(keys):] + keys[:r % len(keys)]:
            t0 = perf()
            cands[k]()
            samples[k].append(perf() - t0)
    med = {k: 1e3 * statistics.median(v) for k, v in samples.items()}
    print(f"\n== {name}")
    for k in keys:
        line = f"  {k:<44s} {med[k]:9.2f} ms"
        if ref:
            line += f"  x{med[k] / med[ref]:6.2f} vs {ref}"
        if budget:
            line += f"  {med[k] / budget:5.2f} of the {budget:.0f} ms budget"
        print(line)
    sys.stdout.flush()
    return med


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=9)
    ap.add_argument("--elements", type=int, default=2000)
    args = ap.parse_args()

    from PySide6.QtWidgets import QApplication

    from viewer.dicom.dump import dump_dataset, read_dataset
    from viewer.dicom.dump_search import Query, visible_nodes
    from viewer.ui.tag_inspector import TagInspector

    data = to_bytes(make_dataset(args.elements))
    path = Path(os.environ.get("TMPDIR", "/tmp")) / "bench_dump_2000.dcm"
    path.write_bytes(data)
    n = count_elements(pydicom.dcmread(path))
    print(f"data set: {n} elements ({path}, {len(data)} bytes)")

    app = QApplication.instance() or QApplication([])
    w = TagInspector()
    w.resize(1000, 700)
    w.show()
    app.processEvents()

    group("dump model (read + build nodes)", {
        "dcmread only (floor)": lambda: pydicom.dcmread(io.BytesIO(data)),
        "pydicom str(ds) (reference)": lambda: str(pydicom.dcmread(io.BytesIO(data))),
        "read_dataset + dump_dataset": lambda: dump_dataset(read_dataset(path)[0]),
    }, args.rounds, ref="pydicom str(ds) (reference)")

    def fill() -> None:
        # background=False times the whole job on one thread; in the GUI the read and the
        # node building run in a worker and only set_nodes + paint happen on the GUI thread.
        w.show_file(path, background=False)
        app.processEvents()

    def gui_part() -> None:
        ds, _ = read_dataset(path)
        nodes = dump_dataset(ds)
        t0 = perf()
        w._show(ds, nodes, None, str(path), None)
        app.processEvents()
        gui_times.append(perf() - t0)

    gui_times: list[float] = []

    group("tree fill (show_file + paint, lazy children)", {"TagInspector.show_file (one thread)": fill},
          args.rounds, budget=FILL_BUDGET_MS)
    for _ in range(args.rounds):
        gui_part()
    med = 1e3 * statistics.median(gui_times)
    print(f"  {'GUI-thread part (set nodes + paint)':<44s} {med:9.2f} ms  "
          f"{med / FILL_BUDGET_MS:5.2f} of the {FILL_BUDGET_MS:.0f} ms budget")

    w.show_file(path, background=False)
    app.processEvents()
    nodes = w.model.roots
    queries = ["m", "mo", "modalit", "0008,0060", "meaning 1", "private value 9"]
    cands = {}
    for q in queries:
        cands[f"core filter {q!r}"] = (lambda q=q: visible_nodes(nodes, Query(q)))
    for q in ("mo", "modalit", "meaning 1"):
        def ui(q: str = q) -> None:
            w.set_search(q)
            app.processEvents()
        cands[f"inspector set_search {q!r} + paint"] = ui
    group("search over the tree (per keystroke, values already decoded)", cands, args.rounds,
          budget=SEARCH_BUDGET_MS)

    cold: list[float] = []
    for _ in range(args.rounds):
        w.set_search("")
        w.show_file(path, background=False)
        app.processEvents()
        t0 = perf()
        w.set_search("mo")  # the first search decodes every value once
        app.processEvents()
        cold.append(perf() - t0)
    med = 1e3 * statistics.median(cold)
    print(f"  {'first search after a synchronous load':<44s} {med:9.2f} ms  "
          f"{med / SEARCH_BUDGET_MS:5.2f} of the {SEARCH_BUDGET_MS:.0f} ms budget")

    from PySide6.QtCore import QEventLoop

    bg_load: list[float] = []
    bg_search: list[float] = []
    for _ in range(args.rounds):
        w.set_search("")
        loop = QEventLoop()
        w.loaded.connect(loop.quit)
        t0 = perf()
        w.show_file(path)  # the GUI's path: reader thread decodes ahead
        loop.exec()
        app.processEvents()
        bg_load.append(perf() - t0)
        w.loaded.disconnect(loop.quit)
        t0 = perf()
        w.set_search("mo")
        app.processEvents()
        bg_search.append(perf() - t0)
    for label, vals, budget in (("background load until shown (wall)", bg_load, FILL_BUDGET_MS),
                                ("first search after a background load", bg_search, SEARCH_BUDGET_MS)):
        med = 1e3 * statistics.median(vals)
        print(f"  {label:<44s} {med:9.2f} ms  {med / budget:5.2f} of the {budget:.0f} ms budget")
    w.set_search("")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
