"""Modality Worklist C-FIND against DCMTK wlmscpfs; the oracle is the .wl files it serves."""

from __future__ import annotations

import json
import subprocess
import sys

import pydicom
import pytest
from pydicom.dataset import Dataset

from viewer.config import DimseNode
from viewer.net.worklist import WorklistFilter, build_worklist_query, group_by_procedure, worklist

pytestmark = pytest.mark.peers


@pytest.fixture(scope="module")
def entries(wlmscpfs) -> list[Dataset]:
    return [pydicom.dcmread(p) for p in sorted(wlmscpfs.folder.glob("*.wl"))]


@pytest.fixture(scope="module")
def node(wlmscpfs) -> DimseNode:
    return DimseNode("wl", wlmscpfs.aet, "127.0.0.1", wlmscpfs.port)


def test_all_items(node, entries) -> None:
    items = list(worklist(node, "VIEWER", build_worklist_query()))
    assert sorted(str(d.AccessionNumber) for d in items) == sorted(str(e.AccessionNumber) for e in entries)
    by_acc = {str(e.AccessionNumber): e for e in entries}
    for d in items:
        src = by_acc[str(d.AccessionNumber)]
        assert d.PatientID == src.PatientID
        sps, src_sps = d.ScheduledProcedureStepSequence[0], src.ScheduledProcedureStepSequence[0]
        for kw in ("Modality", "ScheduledStationAETitle", "ScheduledProcedureStepStartDate",
                   "ScheduledProcedureStepID"):
            assert sps.get(kw) == src_sps.get(kw)


@pytest.mark.parametrize("flt_field", ["modality", "station_aet", "date"])
def test_filters(node, entries, flt_field: str) -> None:
    first = entries[0].ScheduledProcedureStepSequence[0]
    value = {"modality": first.Modality, "station_aet": first.ScheduledStationAETitle,
             "date": f"{first.ScheduledProcedureStepStartDate}-{first.ScheduledProcedureStepStartDate}"}[flt_field]
    items = list(worklist(node, "VIEWER", build_worklist_query(WorklistFilter(**{flt_field: value}))))
    kw = {"modality": "Modality", "station_aet": "ScheduledStationAETitle",
          "date": "ScheduledProcedureStepStartDate"}[flt_field]
    expected = {str(e.AccessionNumber) for e in entries
                if e.ScheduledProcedureStepSequence[0].get(kw) == first.get(kw)}
    assert {str(d.AccessionNumber) for d in items} == expected


def test_requested_procedure_is_parent_of_steps(node, entries) -> None:
    groups = group_by_procedure(list(worklist(node, "VIEWER", build_worklist_query())))
    assert len(groups) == len({str(e.StudyInstanceUID) for e in entries})
    assert all(g.steps and g.item.get("RequestedProcedureID") for g in groups)


def test_cli_worklist_json(wlmscpfs, entries) -> None:
    r = subprocess.run([sys.executable, "-m", "viewer", "worklist", "127.0.0.1", str(wlmscpfs.port),
                        "--aec", wlmscpfs.aet, "--modality", "MR", "--json"], capture_output=True, text=True,
                       timeout=60)
    assert r.returncode == 0, r.stderr
    got = [Dataset.from_json(o) for o in json.loads(r.stdout)]
    expected = {str(e.PatientID) for e in entries if e.ScheduledProcedureStepSequence[0].Modality == "MR"}
    assert {str(d.PatientID) for d in got} == expected


def test_wrong_called_ae_is_a_clear_error(wlmscpfs) -> None:
    r = subprocess.run([sys.executable, "-m", "viewer", "worklist", "127.0.0.1", str(wlmscpfs.port),
                        "--aec", "NOSUCHAE"], capture_output=True, text=True, timeout=60)
    assert r.returncode == 1
    # wlmscpfs usually rejects an unknown called AE; when busy it may abort the negotiation.
    # Either way the user gets one clear line naming the AE, never a traceback.
    assert len(r.stderr.strip().splitlines()) == 1 and "Traceback" not in r.stderr
    assert "NOSUCHAE" in r.stderr and ("rejected" in r.stderr or "aborted" in r.stderr)


def test_procedure_label_shows_names_formatted_and_leaves_out_empty_parts(node, entries) -> None:
    """The panel's worklist rows: the name as the viewer shows names (``Family, Given``, not
    the PN value's carets), from what wlmscpfs answered for the entries written."""
    groups = group_by_procedure(list(worklist(node, "VIEWER", build_worklist_query())))
    by_study = {str(e.StudyInstanceUID): e for e in entries}
    assert groups
    for g in groups:
        e = by_study[g.key]
        pn = e.PatientName  # pydicom's reading of the PN's components
        given = " ".join(x for x in (pn.given_name, pn.middle_name) if x)
        name = f"{pn.family_name}, {given}" if given else pn.family_name
        assert g.label.startswith(f"{name} ({e.PatientID})"), g.label
        assert "^" not in g.label
        assert (f" acc {e.AccessionNumber}" in g.label) == bool(e.get("AccessionNumber"))
        assert g.label.endswith(f"{e.RequestedProcedureID} {e.get('RequestedProcedureDescription', '')}".strip())
