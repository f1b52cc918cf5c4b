"""The pynetdicom fast path (viewer.net.fastpath): its version pin agrees with pyproject.toml
and with the installed pynetdicom, its switch turns it off with one WARNING, and it is
installed only on the associations that retrieve instances (C-GET, C-MOVE, our storage
SCP), never on echo, C-FIND, worklist or print associations."""

from __future__ import annotations

import importlib.metadata
import logging
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pynetdicom
import pytest
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from pydicom.dataset import Dataset
from pynetdicom import AE, evt
from pynetdicom.association import Association
from pynetdicom.sop_class import (ModalityWorklistInformationFind, StudyRootQueryRetrieveInformationModelFind,
                                  StudyRootQueryRetrieveInformationModelMove, Verification)

from tests.helpers.ct import ct_image
from tests.helpers.net import c_get_peer, run_get, store_all
from tests.helpers.peers import free_port
from viewer.config import FASTPATH_ENV, DimseNode, LocalAE, NetworkConfig, Timeouts
from viewer.net import fastpath
from viewer.net.echo import echo
from viewer.net.fastpath import _support
from viewer.net.find import find
from viewer.net.move import move
from viewer.net.print_scp import PrintServer
from viewer.net.print_scu import PrintAssociation, PrinterAddress
from viewer.net.progress import retrieve_identifier
from viewer.net.storage_scp import StorageSCP
from viewer.dicom.local_store import LocalStore
from viewer.net.worklist import worklist

ROOT = Path(__file__).resolve().parents[2]


# ---------------------------------------------------------------- the pin, in one place

def _pyproject_requirement() -> Requirement:
    text = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    found = [Requirement(r) for r in re.findall(r'^\s*"(pynetdicom\b[^"]*)"', text, re.MULTILINE)]
    assert len(found) == 1, found
    return found[0]


def test_pyproject_pins_the_range_the_fast_path_supports() -> None:
    ours = Requirement(fastpath.PYNETDICOM_REQUIREMENT)
    assert _pyproject_requirement().specifier == ours.specifier == SpecifierSet(">=3.0,<3.1")


def test_installed_pynetdicom_is_inside_the_pin() -> None:
    """Fails when the environment holds a pynetdicom the fast path was not written for."""
    installed = importlib.metadata.version("pynetdicom")
    assert installed in _pyproject_requirement().specifier, installed
    assert fastpath.version_supported(installed) and fastpath.version_supported()


@pytest.mark.parametrize("version", ["2.1.0", "2.9.9", "3.1.0", "3.1.0rc1", "4.0.0", "3"])
def test_versions_outside_the_pin_are_refused(version: str) -> None:
    assert not fastpath.version_supported(version)


@pytest.mark.parametrize("version", ["3.0.0", "3.0.4", "3.0.17", "3.0.5.dev0"])
def test_versions_inside_the_pin_are_accepted(version: str) -> None:
    assert fastpath.version_supported(version)


# ---------------------------------------------------------------- the switch

@pytest.fixture
def fresh_warning(monkeypatch: pytest.MonkeyPatch) -> None:
    """The once-per-process WARNING not given yet; the setting back on."""
    monkeypatch.setattr(_support, "_warned", False)
    monkeypatch.setattr(_support, "_setting", True)


def _fastpath_warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records
            if r.name.startswith("viewer.net.fastpath") and r.levelno == logging.WARNING]


@pytest.mark.parametrize("value", ["0", "false", "OFF", " no "])
def test_environment_variable_turns_it_off_with_one_warning(value: str, fresh_warning: None,
                                                            monkeypatch: pytest.MonkeyPatch,
                                                            caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.setenv(FASTPATH_ENV, value)
    with caplog.at_level(logging.WARNING):
        assert [fastpath.enabled() for _ in range(5)] == [False] * 5
    warnings = _fastpath_warnings(caplog)
    assert len(warnings) == 1 and "switched off" in warnings[0]


def test_setting_turns_it_off(fresh_warning: None, monkeypatch: pytest.MonkeyPatch,
                              caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.delenv(FASTPATH_ENV, raising=False)
    assert fastpath.enabled()
    config = NetworkConfig.from_dict({"local": {"fast_path": False}})
    assert config.local.fast_path is False and LocalAE().fast_path is True
    fastpath.configure(config.local.fast_path)
    with caplog.at_level(logging.WARNING):
        assert not fastpath.enabled() and not fastpath.enabled()
    assert len(_fastpath_warnings(caplog)) == 1
    fastpath.configure(True)
    assert fastpath.enabled()


def test_another_pynetdicom_version_turns_it_off(fresh_warning: None, monkeypatch: pytest.MonkeyPatch,
                                                 caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.delenv(FASTPATH_ENV, raising=False)
    monkeypatch.setattr(pynetdicom, "__version__", "3.1.0")
    with caplog.at_level(logging.WARNING):
        assert not fastpath.enabled() and not fastpath.enabled()
    warnings = _fastpath_warnings(caplog)
    assert len(warnings) == 1 and "3.1.0" in warnings[0] and fastpath.PYNETDICOM_REQUIREMENT in warnings[0]


def test_off_means_pynetdicom_as_shipped(fresh_warning: None, monkeypatch: pytest.MonkeyPatch) -> None:
    """Switched off, install() leaves a real association untouched."""
    monkeypatch.setenv(FASTPATH_ENV, "0")
    assoc = Association(AE(), "requestor")
    before = type(assoc.dul.socket), dict(vars(assoc.dul)).keys(), assoc.dimse.msg_queue
    assert not fastpath.install(assoc)
    assert (type(assoc.dul.socket), dict(vars(assoc.dul)).keys(), assoc.dimse.msg_queue) == before


# ---------------------------------------------------------------- where it is installed

@pytest.fixture
def installs(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[tuple[str, bool, bool]]]:
    """Every fastpath.install call: (role, returned, DUL reader patched on the association)."""
    monkeypatch.delenv(FASTPATH_ENV, raising=False)
    monkeypatch.setattr(_support, "_setting", True)
    seen: list[tuple[str, bool, bool]] = []
    real = fastpath.install

    def spy(assoc: Association) -> bool:
        done = real(assoc)
        seen.append(("acceptor" if assoc.is_acceptor else "requestor", done,
                     "_read_pdu_data" in vars(assoc.dul)))
        return done

    monkeypatch.setattr(fastpath, "install", spy)
    yield seen


def _node(port: int, aet: str = "PEER") -> DimseNode:
    return DimseNode("peer", aet, "127.0.0.1", port, timeouts=Timeouts(5, 5, 10, 10))


def _qr_peer(model: Any, handler: Any, event: Any) -> Any:
    ae = AE(ae_title="PEER")
    ae.add_supported_context(Verification)
    ae.add_supported_context(model)
    server = ae.start_server(("127.0.0.1", free_port()), block=False, evt_handlers=[(event, handler)])
    assert server is not None
    return server


def test_not_on_echo_find_or_worklist(installs: list[tuple[str, bool, bool]]) -> None:
    def answer(event: Any) -> Iterator[Any]:
        yield 0xFF00, event.identifier

    for model in (StudyRootQueryRetrieveInformationModelFind, ModalityWorklistInformationFind):
        server = _qr_peer(model, answer, evt.EVT_C_FIND)
        try:
            node = _node(server.server_address[1])
            assert echo(node, "VIEWER").status == 0x0000
            query = Dataset()
            query.QueryRetrieveLevel = "STUDY"
            query.StudyInstanceUID = ""
            if model == ModalityWorklistInformationFind:
                assert len(list(worklist(node, "VIEWER", query))) == 1
            else:
                assert len(list(find(node, "VIEWER", query, model))) == 1
        finally:
            server.shutdown()
    assert installs == []


def test_not_on_print_associations(installs: list[tuple[str, bool, bool]]) -> None:
    server = PrintServer(lambda request: None, host="127.0.0.1", port=0, timeout=5)
    server.start()
    try:
        with PrintAssociation(PrinterAddress("127.0.0.1", server.port, server.aet, timeout=5)) as printer:
            assert printer.get_printer(["PrinterStatus"]) is not None
    finally:
        server.stop()
    assert installs == []


def test_on_c_get(installs: list[tuple[str, bool, bool]], tmp_path: Path) -> None:
    data = [ct_image(n, "fastpath-switch-get") for n in range(3)]
    with c_get_peer(data) as port:
        final = run_get(port, LocalStore(tmp_path), data)[-1]
    assert final.completed == 3
    assert installs == [("requestor", True, True)]


def test_on_our_storage_scp(installs: list[tuple[str, bool, bool]], tmp_path: Path) -> None:
    with StorageSCP(LocalStore(tmp_path), "VIEWER", 0, allowed_calling=["PACS"], host="127.0.0.1") as scp:
        assert store_all(scp.port, [ct_image(n, "fastpath-switch-scp") for n in range(2)]) == [0, 0]
    assert installs == [("acceptor", True, True)]


def test_on_c_move_and_its_storage_scp(installs: list[tuple[str, bool, bool]], tmp_path: Path) -> None:
    data = [ct_image(n, "fastpath-switch-move") for n in range(2)]
    scp = StorageSCP(LocalStore(tmp_path), "VIEWER", 0, allowed_calling=["PEER"], host="127.0.0.1").start()

    def on_move(event: Any) -> Iterator[Any]:
        yield "127.0.0.1", scp.port
        yield len(data)
        for ds in data:
            yield 0xFF00, ds

    ae = AE(ae_title="PEER")
    ae.add_supported_context(StudyRootQueryRetrieveInformationModelMove)
    ae.add_requested_context(data[0].SOPClassUID, data[0].file_meta.TransferSyntaxUID)
    server = ae.start_server(("127.0.0.1", free_port()), block=False, evt_handlers=[(evt.EVT_C_MOVE, on_move)])
    assert server is not None
    try:
        ident = retrieve_identifier("STUDY", {"StudyInstanceUID": str(data[0].StudyInstanceUID)})
        final = list(move(_node(server.server_address[1]), "VIEWER", ident, "VIEWER",
                          StudyRootQueryRetrieveInformationModelMove, scp=scp))[-1]
    finally:
        server.shutdown()
        scp.stop()
    assert final.completed == 2
    assert sorted(installs) == [("acceptor", True, True), ("requestor", True, True)]
