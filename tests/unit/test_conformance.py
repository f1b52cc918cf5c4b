"""docs/conformance.md says what the code does: its checked tables are compared with the code.

Each table after a ``<!-- table: NAME -->`` marker is parsed from the markdown. Where the
statement describes what goes over the wire (the probe's contexts, the print SCU's
proposal), a pynetdicom acceptor on loopback records the A-ASSOCIATE-RQ, so the oracle is
the association request itself, not our constants.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pydicom
import pynetdicom
import pytest
from pydicom.charset import python_encoding
from pydicom.pixels import get_decoder
from pydicom.pixels.decoders.base import _PIXEL_DATA_DECODERS
from pynetdicom import (ALL_TRANSFER_SYNTAXES, AE, DEFAULT_TRANSFER_SYNTAXES, AllStoragePresentationContexts,
                        StoragePresentationContexts,
                        evt)
from pynetdicom._globals import APPLICATION_CONTEXT_NAME
from pynetdicom.sop_class import Verification

from viewer.config import DEFAULT_AE_TITLE, DEFAULT_STORE_PORT, DimseNode, Timeouts
from viewer.dicom.charset import DESCRIPTIONS
from viewer.film.enums import FILM_SIZES_MM, FilmOrientation, Polarity, PresentationLUTShape, PrintPriority
from viewer.film.profile import PrinterProfile as ScuProfile
from viewer.net import association
from viewer.net.find import DEFAULT_KEYS
from viewer.net.get import storage_contexts
from viewer.net.print_scp import PrintServer, load_profile
from viewer.net.print_scu import PrintAssociation, PrinterAddress
from viewer.net.probe import PROBE_CLASSES, ROLE_CLASSES, probe
from viewer.net.storage_scp import StorageSCP
from viewer.dicom.local_store import LocalStore
from viewer.net.storage_scu import _contexts_for

DOC = Path(__file__).resolve().parents[2] / "docs" / "conformance.md"
TEXT = DOC.read_text(encoding="utf-8")


def table(name: str) -> list[dict[str, str]]:
    """Rows of the markdown table following ``<!-- table: name -->``, keyed by header."""
    marker = f"<!-- table: {name} -->"
    assert marker in TEXT, f"no table {name!r} in {DOC.name}"
    lines = TEXT.split(marker, 1)[1].strip().splitlines()
    rows: list[list[str]] = []
    for line in lines:
        if not line.startswith("|"):
            break
        rows.append([c.strip() for c in line.strip().strip("|").split("|")])
    header, body = rows[0], [r for r in rows[2:]]
    return [dict(zip(header, r)) for r in body]


def uids(text: str) -> list[str]:
    return re.findall(r"1\.2\.840\.10008(?:\.\d+)+", text)


def _capture_server(contexts: list[str]) -> tuple[Any, dict[str, Any]]:
    """A pynetdicom acceptor on a free port supporting ``contexts`` (every TS, both roles)
    that records each association request's contexts and role selection items."""
    seen: dict[str, Any] = {"requests": []}
    ae = AE(ae_title="ORACLE")
    for uid in contexts:
        ae.add_supported_context(uid, ALL_TRANSFER_SYNTAXES, scu_role=True, scp_role=True)

    def on_requested(event: Any) -> None:
        rq = event.assoc.requestor
        seen["requests"].append({
            "contexts": [(str(cx.abstract_syntax), [str(t) for t in cx.transfer_syntax])
                         for cx in rq.requested_contexts],
            "roles": {str(uid): (bool(r.scu_role), bool(r.scp_role)) for uid, r in rq.role_selection.items()},
            "max_pdu": rq.maximum_length,
        })

    server = ae.start_server(("127.0.0.1", 0), block=False, evt_handlers=[(evt.EVT_REQUESTED, on_requested)])
    return server, seen


# ----------------------------------------------------------------------------- header and AEs


def test_implementation_identity() -> None:
    head = table("sop-classes")  # ensure the doc parses
    assert head
    assert f"| Implementation Class UID | {pynetdicom.PYNETDICOM_IMPLEMENTATION_UID} " in TEXT
    assert f"| Implementation Version Name | {pynetdicom.PYNETDICOM_IMPLEMENTATION_VERSION} |" in TEXT
    import viewer

    assert f"| Version | {viewer.__version__} |" in TEXT


def test_application_entities() -> None:
    rows = {r["Application Entity"]: r for r in table("aes")}
    assert rows["Viewer AE (SCU)"]["Default AE title"] == DEFAULT_AE_TITLE
    assert rows["Storage SCP"]["Default AE title"] == DEFAULT_AE_TITLE
    assert int(rows["Storage SCP"]["Default port"]) == DEFAULT_STORE_PORT
    server = PrintServer(on_print=lambda req: None)
    assert rows["Print SCP (virtual printer)"]["Default AE title"] == server.aet
    assert int(rows["Print SCP (virtual printer)"]["Default port"]) == server.requested_port


# ----------------------------------------------------------------------------- SOP classes


def test_probe_table_is_what_the_probe_proposes() -> None:
    rows = table("probe")
    expected = list(PROBE_CLASSES) + list(ROLE_CLASSES)
    assert [(r["Name in the report"], r["Abstract syntax"]) for r in rows] == [(n, str(u)) for n, u in expected]
    server, seen = _capture_server([str(u) for _, u in expected])
    try:
        node = DimseNode("oracle", "ORACLE", "127.0.0.1", server.server_address[1], timeouts=Timeouts.uniform(10))
        results = probe(node, "VIEWER")
    finally:
        server.shutdown()
    assert all(r.accepted for r in results)
    (request,) = seen["requests"]
    assert [uid for uid, _ in request["contexts"]] == [r["Abstract syntax"] for r in rows]
    with_role = {r["Abstract syntax"] for r in rows if r["Role selection"] == "SCP"}
    assert set(request["roles"]) == with_role
    assert all(roles == (False, True) for roles in request["roles"].values())


def test_sop_class_table_matches_scu_and_scp_code() -> None:
    rows = [r for r in table("sop-classes") if r["UID"].startswith("1.2")]
    scu = {r["UID"] for r in rows if r["SCU"] == "Yes"}
    scp = {r["UID"] for r in rows if r["SCP"] == "Yes"}
    assert scu == {str(u) for _, u in PROBE_CLASSES}
    print_scp = {str(cx.abstract_syntax) for cx in PrintServer(on_print=lambda r: None)._make_ae().supported_contexts}
    assert scp == print_scp
    names = {r["UID"]: r["SOP Class"] for r in rows}
    for uid, name in names.items():
        assert pydicom.uid.UID(uid).name.lower().replace(" sop class", "") in name.lower() \
            or name.lower().startswith(pydicom.uid.UID(uid).name.lower()[:20]), (uid, name)


# ----------------------------------------------------------------------------- association policy


def test_association_parameters() -> None:
    rows = {r["Parameter"]: r["Value"] for r in table("association")}
    assert rows["Application Context Name"] == APPLICATION_CONTEXT_NAME
    assert int(rows["Maximum PDU length received (Q/R, storage, echo, worklist, send)"]) == association.MAX_PDU
    assert int(rows["Maximum PDU length received (print SCU, default; per printer profile)"]) == \
        PrinterAddress("h", 1, "X").max_pdu == ScuProfile.__dataclass_fields__["max_pdu"].default
    assert int(rows["Maximum presentation contexts per association"]) == association.MAX_CONTEXTS
    t = Timeouts()
    assert float(rows["Connection timeout, s (per node)"]) == t.connect
    assert float(rows["ACSE timeout, s (per node)"]) == t.acse
    assert float(rows["DIMSE timeout, s (per node)"]) == t.dimse
    assert float(rows["Network (idle) timeout, s (per node)"]) == t.network
    assert float(rows["Print SCU timeout (ACSE, DIMSE, network), s"]) == PrinterAddress("h", 1, "X").timeout
    print_ae = PrintServer(on_print=lambda r: None)._make_ae()
    assert float(rows["Print SCP timeout (ACSE, DIMSE, network), s"]) == print_ae.dimse_timeout == print_ae.acse_timeout
    assert int(rows["Concurrent associations accepted by the print SCP (default, `--max-associations`)"]) == \
        print_ae.maximum_associations


@pytest.fixture
def storage_scp(tmp_path: Path):
    scp = StorageSCP(LocalStore(tmp_path / "store"), "VIEWER", 0, host="127.0.0.1").start()
    yield scp
    scp.stop()


def test_storage_scp_limits(storage_scp: StorageSCP) -> None:
    rows = {r["Parameter"]: r["Value"] for r in table("association")}
    ae = storage_scp._server.ae
    assert int(rows["Concurrent associations accepted by the storage SCP"]) == ae.maximum_associations
    assert ae.maximum_pdu_size == association.MAX_PDU
    assert float(rows["Storage SCP ACSE (ARTIM) timeout, s"]) == ae.acse_timeout
    assert float(rows["Storage SCP network (idle) timeout, s"]) == ae.network_timeout


# ----------------------------------------------------------------------------- transfer syntaxes


def _proposed() -> dict[str, list[str]]:
    return {r["Service"]: uids(r["Transfer syntaxes proposed, in order"]) for r in table("ts-proposed")}


def test_default_proposal_is_pynetdicoms() -> None:
    """find/move/echo/worklist pass no transfer syntaxes, so pynetdicom's defaults go out."""
    rows = _proposed()
    assert rows["Verification, C-FIND, C-MOVE, Modality Worklist"] == [str(t) for t in DEFAULT_TRANSFER_SYNTAXES]
    assert association.Context("1.2.840.10008.1.1").transfer_syntaxes == ()


def test_c_get_context_choice() -> None:
    rows = _proposed()
    unknown = storage_contexts(None, association.MAX_CONTEXTS - 1)
    assert [c.abstract_syntax for c in unknown] == [c.abstract_syntax for c in StoragePresentationContexts]
    assert f"pynetdicom's list of {len(StoragePresentationContexts)} common storage classes" in " ".join(TEXT.split())
    assert all(list(c.transfer_syntaxes) == rows["C-GET storage contexts, classes unknown"] for c in unknown)
    assert all((c.scu_role, c.scp_role) == (False, True) for c in unknown)
    ct = "1.2.840.10008.5.1.4.1.1.2"
    (known,) = storage_contexts([ct], 127)
    row = {r["Service"]: r["Transfer syntaxes proposed, in order"] for r in table("ts-proposed")}[
        "C-GET storage contexts, classes known"]
    assert list(known.transfer_syntaxes[:4]) == uids(row)
    assert sorted(known.transfer_syntaxes) == sorted(str(t) for t in ALL_TRANSFER_SYNTAXES)
    assert f"({len(ALL_TRANSFER_SYNTAXES)} in all)" in row
    many = [cx.abstract_syntax for cx in AllStoragePresentationContexts][:130]
    assert len(storage_contexts(many, 127)) == 127


def test_c_store_proposal() -> None:
    rows = _proposed()
    ct = "1.2.840.10008.5.1.4.1.1.2"
    native = rows["C-STORE (send)"]
    assert _contexts_for(ct, {"1.2.840.10008.1.2.1"}) == [(ct, native)]
    assert _contexts_for(ct, {"1.2.840.10008.1.2.4.90"}) == [(ct, native), (ct, ["1.2.840.10008.1.2.4.90"])]


@pytest.mark.parametrize("implicit_only", [False, True])
def test_print_scu_proposal_on_the_wire(implicit_only: bool) -> None:
    rows = _proposed()
    want = rows["Print, printer profile \"implicit VR only\""] if implicit_only else \
        rows["Print (meta, Presentation LUT, Print Job, Annotation)"]
    print_classes = ["1.2.840.10008.5.1.1.9", "1.2.840.10008.5.1.1.18", "1.2.840.10008.5.1.1.23",
                     "1.2.840.10008.5.1.1.14", "1.2.840.10008.5.1.1.15"]
    server, seen = _capture_server(print_classes)
    try:
        scu = PrintAssociation(PrinterAddress("127.0.0.1", server.server_address[1], "ORACLE", timeout=10,
                                              implicit_only=implicit_only),
                               grayscale=True, color=True, presentation_lut=True, print_job=True, annotation=True)
        scu.open()
        scu.release()
    finally:
        server.shutdown()
    (request,) = seen["requests"]
    assert sorted(uid for uid, _ in request["contexts"]) == sorted(print_classes)
    assert all(ts == want for _, ts in request["contexts"])
    assert request["max_pdu"] == PrinterAddress("h", 1, "X").max_pdu


def test_storage_scp_accepts_exactly_the_tables(storage_scp: StorageSCP) -> None:
    supported = {str(cx.abstract_syntax): [str(t) for t in cx.transfer_syntax]
                 for cx in storage_scp._server.ae.supported_contexts}
    accepted_ts = [r["UID"] for r in table("ts-accepted")]
    classes = {r["UID"] for r in table("storage-scp")}
    assert set(supported) == classes | {str(Verification)}
    for uid in classes:
        assert supported[uid] == accepted_ts, uid
    assert supported[str(Verification)] == [str(t) for t in DEFAULT_TRANSFER_SYNTAXES]
    for r in table("ts-accepted"):
        assert pydicom.uid.UID(r["UID"]).name == r["Transfer syntax"]
    for r in table("storage-scp"):
        assert pydicom.uid.UID(r["UID"]).name == r["SOP Class"]


def test_print_scp_classes_and_syntaxes() -> None:
    ae = PrintServer(on_print=lambda r: None)._make_ae()
    supported = {str(cx.abstract_syntax): [str(t) for t in cx.transfer_syntax] for cx in ae.supported_contexts}
    assert set(supported) == {r["UID"] for r in table("print-scp-classes")}
    ts = [r["UID"] for r in table("ts-print-scp")]
    assert all(v == ts for v in supported.values())


# ----------------------------------------------------------------------------- services


def test_find_default_keys() -> None:
    rows = {r["Level"]: [k.strip() for k in r["Keys"].split(",")] for r in table("find-keys")}
    assert {lvl: list(keys) for lvl, keys in ((k.value, v) for k, v in DEFAULT_KEYS.items())} == rows


def test_print_scu_attribute_values() -> None:
    rows = {r["Attribute"]: r["Values"] for r in table("print-scu-attributes")}
    assert [v.strip() for v in rows["Film Size ID"].split(",")] == list(FILM_SIZES_MM)
    assert [v.strip() for v in rows["Print Priority"].split(",")] == [str(p) for p in PrintPriority]
    assert [v.strip() for v in rows["Film Orientation"].split(",")] == [str(p) for p in FilmOrientation]
    assert [v.strip() for v in rows["Polarity"].split(",")] == [str(p) for p in Polarity]
    assert [v.strip() for v in rows["Presentation LUT Shape"].split(",")] == [str(p) for p in PresentationLUTShape]


def _split(value: str) -> list[str]:
    return [v.strip() for v in value.split(",")]


def test_print_scp_default_profile_values() -> None:
    p = load_profile("default")
    rows = {r["Attribute"]: r["Values (default profile)"] for r in table("print-scp-values")}
    assert _split(rows["Film Size ID"]) == list(p.film_sizes)
    assert _split(rows["Medium Type"]) == list(p.medium_types)
    assert _split(rows["Film Destination"]) == list(p.film_destinations)
    assert _split(rows["Magnification Type"]) == list(p.magnification_types)
    assert _split(rows["Smoothing Type"]) == list(p.smoothing_types)
    assert _split(rows["Requested Resolution ID"]) == list(p.resolution_ids)
    assert _split(rows["Border Density"]) == list(p.border_densities)
    assert _split(rows["Empty Image Density"]) == list(p.empty_image_densities)
    formats = re.findall(r"\d+,\d+", rows["Image Display Format STANDARD\\C,R"])
    assert formats == list(p.standard_formats)
    assert f"up to {p.row_col_max} rows/columns of up to {p.row_col_max}" == rows["Image Display Format ROW\\ / COL\\"]
    assert int(rows["Min Density"]) == p.min_density and int(rows["Max Density"]) == p.max_density
    assert _split(rows["Annotation Display Format ID"]) == list(p.annotation_formats)


# ----------------------------------------------------------------------------- media, charsets


def test_decoded_transfer_syntaxes_are_pydicoms_available_decoders() -> None:
    rows = table("ts-decoded")
    listed = [r["UID"] for r in rows]
    available = [str(uid) for uid in _PIXEL_DATA_DECODERS if get_decoder(uid).is_available]
    assert sorted(listed) == sorted(available)
    for r in rows:
        assert pydicom.uid.UID(r["UID"]).name == r["Transfer syntax"]


def test_character_sets() -> None:
    rows = {r["Defined term"] for r in table("charsets")}
    # every term we name and pydicom decodes is listed; every listed one pydicom decodes
    assert rows == {t for t in DESCRIPTIONS if t and t in python_encoding}
    unsupported = {t for t in DESCRIPTIONS if t and t not in python_encoding}
    for term in unsupported:
        assert term in TEXT.split("**Not supported**", 1)[1].split("\n\n", 1)[0], term


# ----------------------------------------------------------------------------- acceptance policy


def _associate(port: int, calling: str, called: str, uid: str = "1.2.840.10008.1.1") -> tuple[bool, Any]:
    ae = AE(ae_title=calling)
    ae.acse_timeout = ae.network_timeout = 10
    ae.add_requested_context(uid)
    reasons: list[Any] = []
    assoc = ae.associate("127.0.0.1", port, ae_title=called,
                         evt_handlers=[(evt.EVT_ACSE_RECV, lambda e: reasons.append(
                             getattr(e.primitive, "reason_str", None)))])
    ok = assoc.is_established
    if ok:
        assoc.release()
    return ok, [r for r in reasons if r]


def test_storage_scp_accepts_known_calling_aes_only(storage_scp: StorageSCP) -> None:
    assert "accepts only calling AE titles of configured\nnodes" in TEXT or \
        "accepts only calling AE titles of configured nodes" in " ".join(TEXT.split())
    assert "calling AE title not recognized" in " ".join(TEXT.split())
    storage_scp.allow("KNOWNPACS")
    ok, _ = _associate(storage_scp.port, "KNOWNPACS", "VIEWER")
    assert ok
    ok, reasons = _associate(storage_scp.port, "STRANGER", "VIEWER")
    assert not ok and any("Calling AE title not recognised" in r or "calling AE" in r.lower() for r in reasons), \
        reasons


def test_print_scp_requires_its_called_ae_title() -> None:
    assert "requires its own called AE title and accepts any calling AE" in " ".join(TEXT.split())
    server = PrintServer(on_print=lambda r: None, host="127.0.0.1", port=0)
    server.start()
    try:
        ok, _ = _associate(server.port, "ANYONE", server.aet)
        assert ok
        ok, reasons = _associate(server.port, "ANYONE", "SOMEONEELSE")
        assert not ok and reasons
    finally:
        server.stop()


def test_cancel_grace_period() -> None:
    assert f"within {association.CANCEL_GRACE:g} s" in " ".join(TEXT.split())
