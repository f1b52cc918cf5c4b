"""Which DICOMweb service to talk to, and how: :class:`WebTarget`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from viewer.config import DicomWebNode


@dataclass(frozen=True)
class WebTarget:
    """A DICOMweb service.

    Attributes
    ----------
    url : str
        Base URL of the service (``https://pacs.example/dicom-web``).
    username, password : str, optional
        HTTP basic authentication.
    token : str, optional
        Bearer token (RFC 6750); used instead of basic auth when both are given.
    verify : bool or str
        TLS verification: True (default), False, or a CA bundle path.
    timeout : float
        Seconds to connect and between received bytes.
    deadline : float
        Seconds a whole QIDO-RS / metadata response may take, and each instance of a
        WADO-RS response: a server trickling a byte now and then is cut off.
    retrieve_deadline : float
        Seconds a whole WADO-RS response may take (6 hours by default).
    """

    url: str
    username: str | None = None
    password: str | None = None
    token: str | None = None
    verify: bool | str = True
    timeout: float = 30.0
    deadline: float = 300.0
    retrieve_deadline: float = 6 * 3600.0

    @classmethod
    def from_node(cls, node: DicomWebNode) -> "WebTarget":
        """Build from a :class:`viewer.config.DicomWebNode` (``base_url``, ``auth`` of
        none/basic/bearer, ``verify_tls``, ``ca_file``, ``timeout``)."""
        auth = node.auth
        verify: bool | str = (node.ca_file or True) if node.verify_tls else False
        return cls(url=str(node.base_url),
                   username=node.username if auth == "basic" else None,
                   password=node.password if auth == "basic" else None,
                   token=node.token if auth == "bearer" else None,
                   verify=verify, timeout=float(node.timeout),
                   deadline=float(getattr(node, "deadline", 300.0) or 300.0))


def is_web_url(text: str) -> bool:
    """True when ``text`` looks like a DICOMweb base URL rather than a host name."""
    return text.startswith(("http://", "https://"))
