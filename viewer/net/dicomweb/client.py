"""The DICOMweb client (PS3.18): :class:`DicomWebClient`, QIDO-RS, WADO-RS and STOW-RS in one."""

from __future__ import annotations

from viewer.net.dicomweb.stow import StowClient
from viewer.net.dicomweb.wado import WadoClient


class DicomWebClient(WadoClient, StowClient):
    """Blocking DICOMweb client for one service.

    Search is :meth:`~.qido.QidoClient.search`; retrieve, metadata and thumbnails are
    :class:`~.wado.WadoClient`'s; store is :meth:`~.stow.StowClient.store`.

    Constructed as :class:`~._http.HttpClient` (``target``, an optional injected
    ``requests.Session``, ``max_json_bytes``); a context manager that closes its
    connections on exit.
    """

    def __enter__(self) -> "DicomWebClient":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
