"""Every real peer starts from its fixture and answers a C-ECHO from pynetdicom."""

from __future__ import annotations

import pytest

from tests.helpers.peers import c_echo

pytestmark = pytest.mark.peers


@pytest.mark.parametrize("fixture", ["print_scp", "orthanc", "dcmqrscp", "wlmscpfs"])
def test_peer_answers_c_echo(request: pytest.FixtureRequest, fixture: str) -> None:
    peer = request.getfixturevalue(fixture)
    assert peer.alive(), peer.log_tail()
    assert c_echo(peer.port, peer.aet) == 0x0000


def test_wrong_called_ae_is_rejected_by_worklist(wlmscpfs) -> None:
    # wlmscpfs serves one folder per called AE: an unknown AE gets no association.
    assert c_echo(wlmscpfs.port, "NOSUCHAE") is None


@pytest.mark.parametrize("profile", ["RESTRICTED", "GRAY8"])
def test_print_scp_profiles_start(print_scp_factory, profile: str) -> None:
    peer = print_scp_factory(profile)
    assert peer.profile == profile
    assert c_echo(peer.port, peer.aet) == 0x0000


def test_orthanc_http_and_dicomweb(orthanc) -> None:
    import requests

    assert requests.get(f"{orthanc.url}/system", timeout=10).json()["DicomAet"] == orthanc.aet
    r = requests.get(f"{orthanc.dicomweb}/studies", timeout=10)
    assert r.status_code in (200, 204)
