"""DICOMweb client (PS3.18): QIDO-RS search, WADO-RS retrieve and metadata, STOW-RS store.

Built on ``requests`` with the small streaming multipart reader in :mod:`viewer.net._multipart`.
TLS certificates are verified unless the caller says otherwise; HTTP basic and bearer-token
authentication are supported. Every HTTP failure becomes a :class:`~viewer.errors.NetError`
whose ``status`` is the HTTP status and ``category`` is ``"http"`` (or ``"connection"``),
with a message fit for the user.

* :mod:`.target`: :class:`WebTarget`, the service and how to reach it;
* :mod:`._http`: the transport (session, authentication, HTTP errors as ``NetError``);
* :mod:`._body`: bounded body readers (size, inflation ratio, deadline);
* :mod:`._json`: the DICOM JSON model (PS3.18 F.2) of a response, checked for shape;
* :mod:`.qido`: QIDO-RS search with C-FIND keys;
* :mod:`.wado`: WADO-RS retrieve into the local store, metadata and thumbnails;
* :mod:`.stow`: STOW-RS in size-bounded batches;
* :mod:`.client`: :class:`DicomWebClient`, all of the above on one service;
* :mod:`.nodes`: the same on a configured ``DicomWebNode``, shaped as the DIMSE calls.
"""

from __future__ import annotations

from viewer.net.dicomweb.client import DicomWebClient
from viewer.net.dicomweb.nodes import ping_node, retrieve_node, search_node
from viewer.net.dicomweb.qido import keys_from_identifier
from viewer.net.dicomweb.target import WebTarget, is_web_url

__all__ = ["DicomWebClient", "WebTarget", "is_web_url", "keys_from_identifier", "ping_node", "retrieve_node",
           "search_node"]
