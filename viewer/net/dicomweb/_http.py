"""HTTP transport of the DICOMweb client: the session, its authentication, and requests whose
failures become :class:`~viewer.errors.NetError` (``status`` the HTTP status, ``category``
``"http"`` or ``"connection"``) with a message fit for the user.

Every response is streamed; a body the caller does not stream is read here within the size
and time bounds of :mod:`._body` (requests would read it unbounded).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Iterable, Mapping, Sequence
from urllib.parse import quote

from viewer.errors import NetError, UsageError
from viewer.net.dicomweb._body import preload
from viewer.net.dicomweb._json import MAX_JSON_BYTES, datasets
from viewer.net.dicomweb.target import WebTarget, is_web_url

if TYPE_CHECKING:
    import requests
    from pydicom.dataset import Dataset

DICOM_JSON = "application/dicom+json"
#: Largest error response body read (for its first line, shown to the user).
MAX_ERROR_BYTES = 1024 ** 2


class HttpClient:
    """Blocking HTTP access to one DICOMweb service; the QIDO/WADO/STOW clients build on it.

    Parameters
    ----------
    target : WebTarget
    session : requests.Session, optional
        Injected for tests; one is created otherwise.
    max_json_bytes : int
        Largest JSON body (QIDO-RS, metadata, STOW-RS reply) or rendered image read,
        decoded; kept as the attribute of the same name.
    """

    def __init__(self, target: WebTarget, session: "requests.Session | None" = None, *,
                 max_json_bytes: int = MAX_JSON_BYTES) -> None:
        import requests

        if not is_web_url(target.url):
            raise UsageError(f"not a DICOMweb URL (http:// or https://): {target.url}")
        self.target = target
        self.base = target.url.rstrip("/")
        self.max_json_bytes = max_json_bytes
        self.session = session or requests.Session()
        self.session.verify = target.verify
        if target.token:
            self.session.headers["Authorization"] = f"Bearer {target.token}"
        elif target.username is not None:
            self.session.auth = (target.username, target.password or "")

    def close(self) -> None:
        """Close pooled connections."""
        self.session.close()

    def _request(self, method: str, url: str, *, params: Sequence[tuple[str, str]] = (),
                 headers: Mapping[str, str] | None = None, data: "bytes | Iterable[bytes] | None" = None,
                 stream: bool = False) -> "requests.Response":
        import requests

        if params:
            url = f"{url}?{query_string(params)}"
        try:
            prep = self.session.prepare_request(requests.Request(method, url, headers=dict(headers or {}),
                                                                 data=data))
            prep.url = url  # keep our minimal quoting: requests would re-quote '^' (see query_string)
            # Always streamed: a body the caller does not stream is read here, within the
            # size, deadline and decompression bounds (requests would read it unbounded).
            rsp = self.session.send(prep, timeout=self.target.timeout, stream=True)
        except requests.exceptions.SSLError as exc:
            raise NetError(f"TLS verification failed for {self.base}: {reason(exc)}",
                           category="connection") from exc
        except requests.exceptions.ConnectionError as exc:
            raise NetError(f"cannot connect to {self.base}: {reason(exc)}", category="connection") from exc
        except requests.exceptions.Timeout as exc:
            raise NetError(f"no answer from {self.base} within {self.target.timeout:g} s",
                           category="connection") from exc
        except requests.exceptions.RequestException as exc:
            raise NetError(f"HTTP request to {url} failed: {exc}", category="connection") from exc
        if rsp.status_code >= 400:
            try:
                preload(rsp, self.target.deadline, MAX_ERROR_BYTES)
            except NetError:
                rsp._content = b""  # the body is only a hint
            _raise_for(rsp, method, url)
        elif not stream:
            preload(rsp, self.target.deadline, self.max_json_bytes)
        return rsp

    def _datasets(self, rsp: "requests.Response") -> list["Dataset"]:
        """The DICOM JSON model of a response, within this client's bounds."""
        return datasets(rsp, self.target.deadline, self.max_json_bytes)


def query_string(params: Sequence[tuple[str, str]]) -> str:
    """``a=1&b=x*``; values are already wire-safe (:func:`.qido.wire_value`) or UIDs and numbers."""
    safe = "*?-,.:_~/!$'();@"
    return "&".join(f"{quote(k, safe='')}={quote(v, safe=safe)}" for k, v in params)


def reason(exc: BaseException) -> str:
    """The innermost useful text of a requests/urllib3 exception chain."""
    text = str(exc)
    m = (re.search(r"\[Errno -?\d+\] ([^')\]]+)", text)
         or re.search(r"(Connection refused|certificate verify failed[^')]*)", text))
    if m:
        return m.group(1).strip()
    return text[:200]


class Conflict(NetError):
    """HTTP 409 to a STOW-RS: every instance refused; the body (PS3.18 10.5.3) says why."""

    def __init__(self, message: str, response_json: list["Dataset"]) -> None:
        super().__init__(message, status=409, category="http")
        self.response_json = response_json


def _raise_for(rsp: "requests.Response", method: str, url: str) -> None:
    code = rsp.status_code
    what = {400: "bad request", 401: "authentication required or refused (check user/password or token)",
            403: "access forbidden", 404: "not found", 406: "no acceptable representation",
            409: "conflict (every instance refused)", 413: "request too large",
            415: "unsupported media type", 501: "not implemented by the server",
            503: "service unavailable"}.get(code, "server error" if code >= 500 else "request refused")
    detail = ""
    try:
        detail = rsp.text.strip().splitlines()[0][:200] if rsp.text.strip() else ""
    except Exception:  # noqa: BLE001 - the body is only a hint
        detail = ""
    err = NetError(f"HTTP {code} {what}: {method} {url}" + (f" ({detail})" if detail and code != 401 else ""),
                   status=code, category="http")
    if code == 409 and rsp.headers.get("Content-Type", "").startswith(DICOM_JSON):
        try:
            # The body was read (at most MAX_ERROR_BYTES) before this is called.
            err = Conflict(str(err), datasets(rsp, 300.0, MAX_ERROR_BYTES))
        except NetError:
            pass
    rsp.close()
    raise err
