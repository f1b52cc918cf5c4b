"""Our storage SCP and local store: calling-AE check, UID-named atomic files, no escape
from the store. The oracle for what arrives is pynetdicom's C-STORE SCU and pydicom."""

from __future__ import annotations

import numpy as np
import pydicom
import pytest
from pydicom.dataset import Dataset

from tests.helpers.ct import ct_dataset
from tests.helpers.net import store_all
from tests.helpers.peers import free_port
from viewer.config import (NetworkConfig, DimseNode, LocalAE, load_config, save_config, ConfigError,
                           validate_ae_title)
from viewer.errors import UsageError
from viewer.net.storage_scp import StorageSCP
from viewer.dicom.local_store import LocalStore, sanitize_uid


def _ct(study: str, series: str, sop: str) -> Dataset:
    return ct_dataset(sop, study, series, size=4)


def _send(port: int, calling: str, ds: Dataset) -> int | None:
    statuses = store_all(port, [ds], calling=calling)
    return None if statuses is None else statuses[0]


@pytest.fixture
def scp(tmp_path):
    server = StorageSCP(LocalStore(tmp_path / "store"), "VIEWER", free_port(), allowed_calling=["PACS"]).start()
    yield server
    server.stop()


def test_accepts_only_expected_calling_aes(scp) -> None:
    ds = _ct("1.2.3", "1.2.3.4", "1.2.3.4.5")
    assert _send(scp.port, "INTRUDER", ds) is None
    assert scp.store.instances() == []
    scp.allow("OTHERPACS")
    assert _send(scp.port, "OTHERPACS", ds) == 0x0000


def test_stored_file_is_the_sent_data_set(scp) -> None:
    ds = _ct("1.2.3", "1.2.3.4", "1.2.3.4.5")
    got = []
    scp.add_listener(lambda path, calling: got.append((path, calling)))
    assert _send(scp.port, "PACS", ds) == 0x0000
    (path, calling), = got
    assert calling == "PACS"
    assert path == scp.store.root / "1.2.3" / "1.2.3.4" / "1.2.3.4.5.dcm"
    back = pydicom.dcmread(path)
    assert back.file_meta.MediaStorageSOPInstanceUID == "1.2.3.4.5"
    np.testing.assert_array_equal(back.pixel_array, ds.pixel_array)


@pytest.mark.filterwarnings("ignore:Invalid value for VR UI")
def test_hostile_uids_stay_inside_the_store(scp) -> None:
    ds = _ct("../../..", "/etc", "..")
    assert _send(scp.port, "PACS", ds) == 0x0000
    (path,) = scp.store.instances()
    assert scp.store.root in path.resolve().parents


@pytest.mark.parametrize("value, expected", [("1.2.840.10008", "1.2.840.10008"), ("..", "_"), ("", "_"),
                                             ("a/b\\c", "a_b_c"), ("1" * 80, "1" * 64)])
def test_sanitize_uid(value: str, expected: str) -> None:
    assert sanitize_uid(value) == expected


def test_stale_partial_files_are_cleaned(tmp_path) -> None:
    store = LocalStore(tmp_path)
    (tmp_path / "x").mkdir()
    (tmp_path / "x" / ".partial-abc.dcm").write_bytes(b"half")
    assert store.clean_partial() == 1 and store.instances() == []


def test_config_round_trip(tmp_path) -> None:
    cfg = NetworkConfig(local=LocalAE("MYVIEWER", 11999),
                        nodes=[DimseNode("pacs", "ORTHANC", "127.0.0.1", 4242, retrieve="get")])
    save_config(cfg, tmp_path)
    assert load_config(tmp_path) == cfg
    assert load_config(tmp_path / "missing") == NetworkConfig()


def test_config_errors_are_clear(tmp_path) -> None:
    (tmp_path / "network.json").write_text("{not json")
    with pytest.raises(ConfigError, match="network.json"):
        load_config(tmp_path)
    (tmp_path / "network.json").write_text('{"nodes": [{"name": "x", "ae_title": "A\\\\B", "host": "h", "port": 1}]}')
    with pytest.raises(ConfigError, match="backslash"):
        load_config(tmp_path)
    with pytest.raises(UsageError, match="16"):
        validate_ae_title("A" * 17)


def test_port_in_use_is_a_net_error(scp, tmp_path) -> None:
    from viewer.errors import NetError

    other = StorageSCP(LocalStore(tmp_path / "other"), "VIEWER", scp.port)
    with pytest.raises(NetError, match=f"cannot listen on port {scp.port}"):
        other.start()
