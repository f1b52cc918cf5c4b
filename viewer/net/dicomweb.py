"""DICOMweb client (PS3.18): QIDO-RS search, WADO-RS retrieve and metadata, STOW-RS store.

Built on ``requests`` with the small streaming multipart reader in :mod:`._multipart`.
TLS certificates are verified unless the caller says otherwise; HTTP basic and bearer-token
authentication are supported. Every HTTP failure becomes a :class:`~viewer.errors.NetError`
whose ``status`` is the HTTP status and ``category`` is ``"http"`` (or ``"connection"``),
with a message fit for the user. Retrieved instances are streamed part by part to a hidden
temporary file in the store and renamed to their place only once complete, so an
interrupted retrieval leaves no partial file.
"""

from __future__ import annotations

import logging
import os
import re
import time
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Iterable, Iterator, Mapping, Protocol, Sequence
from urllib.parse import quote

from viewer.cancel import CancelToken, is_cancelled
from viewer.errors import Cancelled, NetError, ReadError, UsageError
from viewer.net import _multipart
from viewer.net.storage_scu import Category, StoreItem, StoreResult

if TYPE_CHECKING:
    import requests
    from pydicom.dataset import Dataset

    from viewer.dicom.local_store import PendingFile

    from viewer.config import DicomWebNode

    from viewer.net.progress import RetrieveProgress

log = logging.getLogger(__name__)


class _Store(Protocol):
    """Where retrieved instances go (:class:`viewer.dicom.local_store.LocalStore` is one)."""

    root: Path

    def path_for(self, study: str, series: str, sop: str) -> Path: ...

#: QIDO-RS resources per query level (PS3.18 10.6.1; PATIENT is not a QIDO level).
LEVEL_RESOURCE = {"STUDY": "studies", "SERIES": "series", "IMAGE": "instances", "INSTANCE": "instances"}
#: PS3.18 8.7.3.5.1 / Table 8.7.3-2: ask for every syntax the server has ("*").
ACCEPT_DICOM = 'multipart/related; type="application/dicom"; transfer-syntax=*'
ACCEPT_DICOM_PLAIN = 'multipart/related; type="application/dicom"'
DICOM_JSON = "application/dicom+json"
_CHUNK = 1 << 20
_UNSAFE = re.compile(r"[^0-9A-Za-z.\-]")
TMP_PREFIX = ".partial-"
#: Largest instance a WADO-RS retrieve writes when the destination sets no limit of its own.
MAX_OBJECT_BYTES = 2 * 1024 ** 3
#: Largest QIDO-RS / metadata JSON body read (decoded): a search result is for browsing.
MAX_JSON_BYTES = 64 * 1024 ** 2
#: Largest error response body read (for its first line, shown to the user).
MAX_ERROR_BYTES = 1024 ** 2
#: Nesting of JSON values accepted (the DICOM JSON model nests sequence items only).
MAX_JSON_DEPTH = 64
#: STOW-RS request size bound: many instances per request, bounded memory.
STOW_BATCH_BYTES = 32 << 20


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


def keys_from_identifier(identifier: "Dataset") -> tuple[str, dict[str, str]]:
    """(level, keys) for :meth:`DicomWebClient.search` from a C-FIND identifier.

    Sequence keys have no QIDO-RS form (PS3.18 8.3.4.1 matches top-level attributes) and
    are left out with a log message; multi-valued matching values become lists
    (``\\`` -> ``,``, PS3.18 8.3.4.6.3 UID list matching).
    """
    level = str(identifier.get("QueryRetrieveLevel", "STUDY") or "STUDY")
    keys: dict[str, str] = {}
    for elem in identifier:
        if elem.keyword == "QueryRetrieveLevel" or elem.tag.group in (0x0000, 0x0002):
            continue
        if elem.VR == "SQ":
            log.info("QIDO-RS has no sequence matching: %s left out", elem.keyword or elem.tag)
            continue
        value = elem.value
        if value is None or value == "":
            text = ""
        elif elem.VM > 1:
            text = ",".join(str(v) for v in value)
        else:
            text = str(value)
        keys[elem.keyword or f"{elem.tag:08X}"] = text
    return level, keys


def is_web_url(text: str) -> bool:
    """True when ``text`` looks like a DICOMweb base URL rather than a host name."""
    return text.startswith(("http://", "https://"))


def _safe(uid: object) -> str:
    text = _UNSAFE.sub("_", str(uid or "").strip().strip("\0"))[:64]
    return text if text.strip(".") else "_"


class DicomWebClient:
    """Blocking DICOMweb client for one service.

    Parameters
    ----------
    target : WebTarget
    session : requests.Session, optional
        Injected for tests; one is created otherwise.
    """

    def __init__(self, target: WebTarget, session: "requests.Session | None" = None) -> None:
        import requests

        if not is_web_url(target.url):
            raise UsageError(f"not a DICOMweb URL (http:// or https://): {target.url}")
        self.target = target
        self.base = target.url.rstrip("/")
        self.session = session or requests.Session()
        self.session.verify = target.verify
        if target.token:
            self.session.headers["Authorization"] = f"Bearer {target.token}"
        elif target.username is not None:
            self.session.auth = (target.username, target.password or "")

    def close(self) -> None:
        """Close pooled connections."""
        self.session.close()

    def __enter__(self) -> "DicomWebClient":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------ HTTP
    def _request(self, method: str, url: str, *, params: Sequence[tuple[str, str]] = (),
                 headers: Mapping[str, str] | None = None, data: "bytes | _StowBody | None" = None,
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
            raise NetError(f"TLS verification failed for {self.base}: {_reason(exc)}",
                           category="connection") from exc
        except requests.exceptions.ConnectionError as exc:
            raise NetError(f"cannot connect to {self.base}: {_reason(exc)}", category="connection") from exc
        except requests.exceptions.Timeout as exc:
            raise NetError(f"no answer from {self.base} within {self.target.timeout:g} s",
                           category="connection") from exc
        except requests.exceptions.RequestException as exc:
            raise NetError(f"HTTP request to {url} failed: {exc}", category="connection") from exc
        if rsp.status_code >= 400:
            try:
                _preload(rsp, self.target.deadline, MAX_ERROR_BYTES)
            except NetError:
                rsp._content = b""  # the body is only a hint
            _raise_for(rsp, method, url)
        elif not stream:
            _preload(rsp, self.target.deadline, MAX_JSON_BYTES)
        return rsp

    # ------------------------------------------------------------------ QIDO-RS
    def search(self, level: str, keys: Mapping[str, str] | None = None, *, study_uid: str | None = None,
               series_uid: str | None = None, limit: int | None = None,
               fuzzy: bool = False) -> list["Dataset"]:
        """QIDO-RS search (PS3.18 10.6) with the same keys as a C-FIND identifier.

        Parameters
        ----------
        level : {"STUDY", "SERIES", "IMAGE"}
            Query/Retrieve level; "INSTANCE" is accepted for "IMAGE".
        keys : mapping of str to str
            Keyword (or ``ggggeeee`` tag) -> value. A non-empty value is a matching key
            (with DICOM wildcards ``*``/``?`` and date ranges, PS3.18 8.3.4); an empty value
            is a return key, asked for with ``includefield``.
        study_uid, series_uid : str, optional
            Hierarchical search inside a study / series (``studies/{uid}/series``).
        limit : int, optional
        fuzzy : bool
            ``fuzzymatching=true`` for person names.

        Returns
        -------
        list of pydicom.dataset.Dataset
            One per match, as the server returned it (bulk data left out).
        """
        from pydicom.datadict import keyword_for_tag, tag_for_keyword

        level = level.upper()
        if level not in LEVEL_RESOURCE:
            raise UsageError(f"QIDO-RS has no level {level!r}: use STUDY, SERIES or IMAGE")
        keys = dict(keys or {})
        study_uid = study_uid or keys.pop("StudyInstanceUID", None) or None
        if level in ("IMAGE", "INSTANCE"):
            series_uid = series_uid or keys.pop("SeriesInstanceUID", None) or None
        params: list[tuple[str, str]] = []
        post: list[tuple[str, re.Pattern[str]]] = []
        for key, value in keys.items():
            if key == "QueryRetrieveLevel":
                continue
            name = key
            if re.fullmatch(r"[0-9A-Fa-f]{8}", key):
                name = keyword_for_tag(int(key, 16)) or key.upper()
            elif tag_for_keyword(key) is None:
                raise UsageError(f"unknown DICOM keyword in query: {key}")
            if value in ("", None):
                params.append(("includefield", name))
                continue
            text = str(value)
            sent = _wire_value(text)
            if sent != text and not fuzzy:  # matched locally on the exact pattern, see _wire_value
                post.append((name, _wildcard_pattern(text)))
                params.append(("includefield", name))
            params.append((name, sent))
        if limit:
            params.append(("limit", str(limit)))
        if fuzzy:
            params.append(("fuzzymatching", "true"))
        # PS3.18 10.6.1.2: the resource path narrows the search by study (and series).
        if level == "STUDY":
            url = f"{self.base}/studies"
            if study_uid:
                params.append(("StudyInstanceUID", study_uid))
        elif level == "SERIES":
            url = f"{self.base}/studies/{quote(study_uid)}/series" if study_uid else f"{self.base}/series"
        elif study_uid and series_uid:
            url = f"{self.base}/studies/{quote(study_uid)}/series/{quote(series_uid)}/instances"
        else:
            url = f"{self.base}/studies/{quote(study_uid)}/instances" if study_uid else f"{self.base}/instances"
            if series_uid:
                params.append(("SeriesInstanceUID", series_uid))
        rsp = self._request("GET", url, params=params, headers={"Accept": DICOM_JSON}, stream=True)
        found = _datasets(rsp, self.target.deadline)
        return [d for d in found if all(_matches(d, name, pat) for name, pat in post)]

    # ------------------------------------------------------------------ WADO-RS
    def _resource(self, study_uid: str, series_uid: str | None = None, instance_uid: str | None = None) -> str:
        url = f"{self.base}/studies/{quote(study_uid)}"
        if series_uid:
            url += f"/series/{quote(series_uid)}"
            if instance_uid:
                url += f"/instances/{quote(instance_uid)}"
        return url

    def metadata(self, study_uid: str, series_uid: str | None = None,
                 instance_uid: str | None = None) -> list["Dataset"]:
        """WADO-RS metadata (PS3.18 10.4.1.1.2): headers of every instance, no bulk data."""
        rsp = self._request("GET", self._resource(study_uid, series_uid, instance_uid) + "/metadata",
                            headers={"Accept": DICOM_JSON}, stream=True)
        return _datasets(rsp, self.target.deadline)

    def thumbnail(self, study_uid: str, series_uid: str | None = None, instance_uid: str | None = None,
                  size: int = 128) -> bytes | None:
        """A rendered JPEG (PS3.18 10.4.1.1.4 ``/thumbnail`` or 10.4.1.1.3 ``/rendered``).

        Tried at the level asked; for a study or series the server cannot render, the first
        instance found by QIDO-RS is rendered instead. Returns None when the server offers
        neither (404/406/501...).
        """
        base = self._resource(study_uid, series_uid, instance_uid)
        for suffix in ("/thumbnail", "/rendered"):
            try:
                # image/jpeg alone: Orthanc 1.10 answers 400 to a list of media types.
                rsp = self._request("GET", base + suffix, params=[("viewport", f"{size},{size}")],
                                    headers={"Accept": "image/jpeg"})
            except NetError as exc:
                if exc.category == "http" and exc.status not in (401, 403):
                    continue
                raise
            ctype = rsp.headers.get("Content-Type", "")
            if ctype.startswith("image/"):
                return rsp.content
            if ctype.startswith("multipart/"):  # some servers wrap the image
                for body in _collect_parts(rsp):
                    return body
        if instance_uid is None:
            keys = {"SeriesInstanceUID": "", "SOPInstanceUID": ""}
            found = self.search("IMAGE", keys, study_uid=study_uid, series_uid=series_uid, limit=1)
            if found and "SeriesInstanceUID" in found[0] and "SOPInstanceUID" in found[0]:
                return self.thumbnail(study_uid, str(found[0].SeriesInstanceUID), str(found[0].SOPInstanceUID),
                                      size)
        return None

    def retrieve(self, dest: Path | _Store, study_uid: str, series_uid: str | None = None,
                 instance_uid: str | None = None, *,
                 progress: Callable[[Path, int], None] | None = None,
                 cancel: CancelToken | None = None) -> list[Path]:
        """WADO-RS retrieve (PS3.18 10.4) of a study, series or instance into ``dest``.

        Parameters
        ----------
        dest : Path or LocalStore
            A folder (files go to ``dest/<study>/<series>/<sop>.dcm``) or an object with
            ``root`` and a ``path_for(study, series, sop)`` method.
        study_uid, series_uid, instance_uid : str
        progress : callable, optional
            ``progress(path, count)`` after each instance is complete on disk.
        cancel : viewer.cancel.CancelToken, optional
            Checked between chunks; the response is closed and :class:`Cancelled` raised.

        Returns
        -------
        list of Path
            The files written, in the order received.

        Raises
        ------
        NetError
            HTTP error, connection cut or malformed response; files completed before the
            failure stay, the one in flight is removed.
        """
        written: list[Path] = []
        for path in self.iter_retrieve(dest, study_uid, series_uid, instance_uid, cancel=cancel):
            written.append(path)
            if progress is not None:
                progress(path, len(written))
        return written

    def iter_retrieve(self, dest: Path | _Store, study_uid: str, series_uid: str | None = None,
                      instance_uid: str | None = None, *, cancel: CancelToken | None = None) -> Iterator[Path]:
        """As :meth:`retrieve`, yielding each file as soon as it is complete on disk."""
        import requests
        import urllib3

        url = self._resource(study_uid, series_uid, instance_uid)
        try:
            rsp = self._request("GET", url, headers={"Accept": ACCEPT_DICOM}, stream=True)
        except NetError as exc:
            # A server that does not know "transfer-syntax=*" (PS3.18 8.7.3.5.2) may answer
            # 406 or 400: ask again for its default syntax (Explicit VR Little Endian).
            if exc.status not in (400, 406):
                raise
            log.info("WADO-RS %s: %s; asking without transfer-syntax=*", url, exc)
            rsp = self._request("GET", url, headers={"Accept": ACCEPT_DICOM_PLAIN}, stream=True)
        from viewer.dicom.local_store import LocalStore, StoreLimitError

        count = 0
        # Every instance goes through the local store, as a C-STORE does: its free-space
        # floor and object limit hold, and a different object with the same UIDs is kept
        # beside the existing one, never over it.
        store = dest if hasattr(dest, "open_pending") else LocalStore(Path(dest) if isinstance(
            dest, (str, os.PathLike)) else Path(dest.root))
        pending = None
        # The store's limit for one object, else 2 GiB.
        max_part = int(getattr(store, "max_object_bytes", None) or MAX_OBJECT_BYTES)
        size = 0
        part_deadline = time.monotonic() + self.target.deadline
        total_end = time.monotonic() + self.target.retrieve_deadline
        try:
            boundary = _multipart.boundary_of(rsp.headers.get("Content-Type", ""))
            limit = f"{self.target.deadline:g} s per instance, {self.target.retrieve_deadline:g} s in all"
            events = _multipart.iter_events(_chunks(rsp, cancel, lambda: min(part_deadline, total_end), limit),
                                            boundary)
            for kind, value in events:
                if kind == "headers":
                    if is_cancelled(cancel):  # do not start a file we would not finish
                        raise Cancelled("retrieve cancelled")
                    headers = value if isinstance(value, dict) else {}
                    ctype, _ = _multipart.parse_params(headers.get("content-type", "application/dicom"))
                    if ctype != "application/dicom":
                        raise NetError(f"unexpected part type {ctype!r} in WADO-RS response", category="http")
                    pending = store.open_pending()  # refuses when the disk is at the floor
                    size = 0
                    part_deadline = time.monotonic() + self.target.deadline
                elif kind == "data" and isinstance(value, bytes):
                    size += len(value)
                    if size > max_part:  # an endless part must not fill the disk
                        raise NetError(f"WADO-RS {url}: an instance larger than {max_part} bytes; stopped",
                                       category="http")
                    assert pending is not None  # iter_events: a part's headers come before its data
                    pending.write([value])
                    if pending.error is not None:
                        raise pending.error
                elif kind == "end":  # part complete: its close delimiter has arrived
                    assert pending is not None
                    path = _commit_part(pending)
                    pending = None
                    count += 1
                    yield path
                    part_deadline = time.monotonic() + self.target.deadline
        except _multipart.MultipartError as exc:
            raise NetError(f"WADO-RS {url}: {exc}", category="connection") from exc
        except StoreLimitError as exc:
            raise NetError(f"WADO-RS {url}: the local store refused the instance: {exc}", category="store") from exc
        except (requests.exceptions.RequestException, urllib3.exceptions.HTTPError, OSError) as exc:
            raise NetError(f"WADO-RS {url}: connection lost: {_reason(exc)}", category="connection") from exc
        finally:
            if pending is not None:
                pending.discard()
            rsp.close()
        log.info("WADO-RS %s: %d instance(s)", url, count)

    # ------------------------------------------------------------------ STOW-RS
    def store(self, items: Sequence[StoreItem], *, study_uid: str | None = None,
              progress: Callable[[StoreResult, int, int], None] | None = None,
              cancel: CancelToken | None = None,
              modify: Callable[[Dataset], Dataset] | None = None,
              batch_bytes: int = STOW_BATCH_BYTES) -> Iterator[StoreResult]:
        """STOW-RS (PS3.18 10.5): POST instances in batches, one result per instance.

        Parameters
        ----------
        items : sequence of StoreItem
        study_uid : str, optional
            POST to ``studies/{uid}`` (the server then refuses other studies).
        progress, cancel, modify
            As in :func:`viewer.net.storage_scu.send`.
        batch_bytes : int
            Bound on the size of one request.

        Yields
        ------
        StoreResult
            ``status`` is 0 on success, the Warning/Failure Reason (0008,1196)/(0008,1197)
            otherwise, None when the server did not list the instance.
        """
        url = f"{self.base}/studies" + (f"/{quote(study_uid)}" if study_uid else "")
        total, done = len(items), 0
        for batch in _batches(items, batch_bytes):
            if is_cancelled(cancel):
                raise Cancelled("send cancelled")
            bodies: list[Path | bytes] = []
            ready: list[StoreItem] = []
            for item in batch:
                try:
                    if modify is None and item.has_meta:  # sent as it is, read while sending
                        if not os.access(item.path, os.R_OK):
                            raise OSError("not readable")
                        bodies.append(item.path)
                    else:
                        bodies.append(_file_bytes(item, modify))
                    ready.append(item)
                except Exception as exc:  # noqa: BLE001 - a broken file fails only itself
                    done += 1
                    r = StoreResult(item, None, Category.FAILURE, f"cannot read {item.path}: {exc}")
                    if progress:
                        progress(r, done, total)
                    yield r
            if not ready:
                continue
            boundary = _multipart.new_boundary()
            body = _StowBody(bodies, boundary)
            headers = {"Content-Type": f'multipart/related; type="application/dicom"; boundary={boundary}',
                       "Accept": DICOM_JSON}
            try:
                rsp = self._request("POST", url, data=body, headers=headers)
                reply = _datasets(rsp) if rsp.content else []
            except NetError as exc:
                # 409 Conflict: every instance failed, the body still says why (PS3.18 10.5.3).
                if isinstance(exc, _Conflict):
                    reply = exc.response_json
                else:
                    raise
            for r in _stow_results(ready, reply[0] if reply else None):
                done += 1
                if progress:
                    progress(r, done, total)
                yield r


# ---------------------------------------------------------------------- helpers
class _StowBody:
    """The multipart body of one STOW-RS request, read file by file while it is sent.

    Memory holds one instance at a time, and the length is known up front, so the request
    carries a Content-Length rather than chunked transfer coding (which not every DICOMweb
    server accepts on upload).
    """

    def __init__(self, parts: Sequence[Path | bytes], boundary: str) -> None:
        self.parts = list(parts)
        self.boundary = boundary
        self.sizes = [p.stat().st_size if isinstance(p, Path) else len(p) for p in self.parts]
        framing = sum(len(piece) for piece in _multipart.encode([b""] * len(self.parts), boundary))
        self.length = framing + sum(self.sizes)

    def __len__(self) -> int:
        return self.length

    def _bodies(self) -> Iterator[bytes]:
        for part, size in zip(self.parts, self.sizes):
            data = part.read_bytes() if isinstance(part, Path) else part
            if len(data) != size:
                raise NetError(f"{part if isinstance(part, Path) else 'a part'} changed while it was being sent")
            yield data

    def __iter__(self) -> Iterator[bytes]:
        return _multipart.encode(self._bodies(), self.boundary)


#: Characters that go into a query value as they are (see _wire_value): RFC 3986 unreserved,
#: sub-delims other than '&', '=', '+', and ':@/?' -- what urllib3 never percent-encodes.


def _wire_value(text: str) -> str:
    """A matching value that needs no percent-encoding: other characters become '*'.

    Orthanc 1.10 with DICOMweb plugin 1.7 does not percent-decode query values
    (``PatientName=A%5EB`` matches nothing, ``A^B`` would, but urllib3 always encodes '^'),
    so a '^' (PN component separator), a space, or a non-ASCII letter could never match.
    '*' is the wildcard (PS3.18 8.3.4.6.1, PS3.4 C.2.2.2.4) -- not '?', which a server
    comparing UTF-8 bytes would match against one byte of a multi-byte letter: the server
    returns a superset, and :func:`_matches` keeps only the true matches.
    """
    return re.sub(r"\*{2,}", "*", re.sub(r"[^A-Za-z0-9\-._~!$'()*,;:@/?]+", "*", text))


def _wildcard_pattern(text: str) -> re.Pattern[str]:
    """DICOM wildcard matching (PS3.4 C.2.2.2.4) as a regex; case-insensitive as PN often is."""
    rx = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in text)
    return re.compile(rx, re.IGNORECASE | re.DOTALL)


def _matches(ds: "Dataset", keyword: str, pattern: re.Pattern[str]) -> bool:
    value = ds.get(keyword)
    if value is None:
        return True  # not returned: trust the server
    values = list(value) if isinstance(value, (list, tuple)) or type(value).__name__ == "MultiValue" else [value]
    return any(pattern.fullmatch(str(v)) for v in values)


def query_string(params: Sequence[tuple[str, str]]) -> str:
    """``a=1&b=x*``; values are already wire-safe (:func:`_wire_value`) or UIDs and numbers."""
    safe = "*?-,.:_~/!$'();@"
    return "&".join(f"{quote(k, safe='')}={quote(v, safe=safe)}" for k, v in params)


def _reason(exc: BaseException) -> str:
    """The innermost useful text of a requests/urllib3 exception chain."""
    text = str(exc)
    m = (re.search(r"\[Errno -?\d+\] ([^')\]]+)", text)
         or re.search(r"(Connection refused|certificate verify failed[^')]*)", text))
    if m:
        return m.group(1).strip()
    return text[:200]


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
            err = _Conflict(str(err), _datasets(rsp))
        except NetError:
            pass
    rsp.close()
    raise err


class _Conflict(NetError):
    """HTTP 409 to a STOW-RS: every instance refused; the body (PS3.18 10.5.3) says why."""

    def __init__(self, message: str, response_json: list[Dataset]) -> None:
        super().__init__(message, status=409, category="http")
        self.response_json = response_json


def _depth(value: object, limit: int) -> int:
    """Nesting depth of a parsed JSON value, counted up to ``limit + 1`` (no recursion)."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        node, d = stack.pop()
        deepest = max(deepest, d)
        if deepest > limit:
            return deepest
        if isinstance(node, dict):
            stack.extend((v, d + 1) for v in node.values())
        elif isinstance(node, list):
            stack.extend((v, d + 1) for v in node)
    return deepest


def _datasets(rsp: "requests.Response", deadline: float = 300.0) -> list["Dataset"]:
    """The DICOM JSON model (PS3.18 F.2) of a response: at most :data:`MAX_JSON_BYTES`
    decoded, within ``deadline`` seconds, of the expected shape (a list of objects whose
    values are objects), else a :class:`NetError` that says what was wrong."""
    import json

    from pydicom.dataset import Dataset

    url = rsp.url
    already = getattr(rsp, "_content", False)  # requests' body, when it was read (not streamed)
    if isinstance(already, bytes):
        body = already
    else:
        try:
            end = time.monotonic() + deadline
            body = b"".join(_chunks(rsp, None, lambda: end, deadline, max_bytes=MAX_JSON_BYTES))
        finally:
            rsp.close()
    if not body.strip():
        return []  # PS3.18 8.3.4.2: 204 No Content = no matches
    try:
        items = json.loads(body)
    except RecursionError:
        raise NetError(f"JSON from {url} nests deeper than Python can parse; not a DICOM JSON model",
                       category="http") from None
    except ValueError as exc:
        raise NetError(f"invalid JSON from {url}: {exc}", category="http") from exc
    if isinstance(items, dict):
        items = [items]
    where = f"JSON from {url} is not a DICOM JSON model (PS3.18 F.2)"
    if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
        raise NetError(f"{where}: expected a list of objects, got {type(items).__name__}", category="http")
    if _depth(items, MAX_JSON_DEPTH) > MAX_JSON_DEPTH:
        raise NetError(f"{where}: nested more than {MAX_JSON_DEPTH} levels", category="http")
    out = []
    for n, item in enumerate(items):
        if not all(isinstance(v, dict) for v in item.values()):
            raise NetError(f"{where}: result {n + 1} has an attribute that is not an object", category="http")
        try:
            # Bulk data URIs are not fetched: a search or metadata result is for browsing.
            out.append(Dataset.from_json(item, bulk_data_uri_handler=lambda *a: b""))
        except (TypeError, AttributeError, ValueError, KeyError, IndexError, RecursionError) as exc:
            raise NetError(f"{where}: result {n + 1}: {type(exc).__name__}: {exc}", category="http") from None
    return out


def _preload(rsp: "requests.Response", deadline: float, max_bytes: int) -> None:
    """Read a streamed body within the bounds and keep it as ``rsp.content``."""
    try:
        end = time.monotonic() + deadline
        rsp._content = b"".join(_chunks(rsp, None, lambda: end, deadline, max_bytes=max_bytes))
    finally:
        rsp.close()


def _decoder(rsp: "requests.Response") -> "zlib._Decompress | None":
    encoding = rsp.headers.get("Content-Encoding", "").strip().lower()
    if encoding in ("", "identity"):
        return None
    if encoding in ("gzip", "x-gzip"):
        return zlib.decompressobj(16 + zlib.MAX_WBITS)
    if encoding == "deflate":
        return zlib.decompressobj(zlib.MAX_WBITS)
    raise NetError(f"unsupported Content-Encoding {encoding!r} from {rsp.url}", category="http")


def _chunks(rsp: "requests.Response", cancel: CancelToken | None,
            deadline_at: Callable[[], float] | None = None, deadline: float | str = 0.0,
            max_bytes: int | None = None) -> Iterator[bytes]:
    """Body bytes as they arrive, decoded (gzip/deflate) here in steps of at most
    :data:`_CHUNK`, so a compression bomb never expands in memory; bounded by
    ``max_bytes`` (decoded) and the time ``deadline_at()`` returns.

    ``read1`` returns what is there instead of waiting for a full chunk, so the parts
    completed before a cut connection are not lost with it.
    """
    from viewer.dicom.bounded_io import MAX_RATIO, RATIO_GRACE

    raw = rsp.raw
    decoder = _decoder(rsp)
    consumed = produced = 0

    def check(n: int) -> None:
        nonlocal produced
        produced += n
        if max_bytes is not None and produced > max_bytes:
            raise NetError(f"response from {rsp.url} is larger than {max_bytes} bytes; stopped", category="http")
        if decoder is not None and produced > RATIO_GRACE and produced > MAX_RATIO * max(consumed, 1):
            raise NetError(f"response from {rsp.url} inflates more than {MAX_RATIO} times "
                           f"({consumed} bytes gave {produced}): a compression bomb?", category="http")

    while True:
        if is_cancelled(cancel):
            raise Cancelled("retrieve cancelled")
        if deadline_at is not None and time.monotonic() > deadline_at():
            within = f"{deadline:g} s" if isinstance(deadline, (int, float)) else deadline
            raise NetError(f"response from {rsp.url} not complete within {within}; stopped",
                           category="connection")
        chunk = raw.read1(_CHUNK, decode_content=False)
        if not chunk:
            if decoder is not None:
                tail = decoder.flush()
                if tail:
                    check(len(tail))
                    yield tail
            return
        consumed += len(chunk)
        if decoder is None:
            check(len(chunk))
            yield chunk
            continue
        data = chunk
        while data:
            try:
                out = decoder.decompress(data, _CHUNK)
            except zlib.error as exc:
                raise NetError(f"damaged compressed response from {rsp.url}: {exc}", category="http") from None
            data = decoder.unconsumed_tail
            if out:
                check(len(out))
                yield out
            if decoder.eof:
                break


def _collect_parts(rsp: "requests.Response") -> Iterator[bytes]:
    boundary = _multipart.boundary_of(rsp.headers.get("Content-Type", ""))
    body = bytearray()
    for kind, value in _multipart.iter_events([rsp.content], boundary):
        if kind == "data" and isinstance(value, bytes):
            body.extend(value)
        elif kind == "end":
            yield bytes(body)
            body.clear()


def _commit_part(pending: "PendingFile") -> Path:
    """Check a received file and give it its name in the store (never over another object)."""
    from viewer.dicom.headers import read_header

    pending._close()  # flushed before it is read back
    try:
        ds = read_header(pending.tmp)
        study, series, sop = ds.StudyInstanceUID, ds.SeriesInstanceUID, ds.SOPInstanceUID
    except (ReadError, AttributeError) as exc:
        pending.discard()
        raise NetError(f"server sent a part that is not a DICOM instance: {exc}", category="http") from exc
    try:
        return pending.commit(study, series, sop)
    finally:
        pending.discard()  # the object is linked under its name; the temporary name goes


def _batches(items: Sequence[StoreItem], limit: int) -> Iterator[list[StoreItem]]:
    batch: list[StoreItem] = []
    size = 0
    for item in items:
        n = item.path.stat().st_size if item.path.exists() else 0
        if batch and size + n > limit:
            yield batch
            batch, size = [], 0
        batch.append(item)
        size += n
    if batch:
        yield batch


def _file_bytes(item: StoreItem, modify: Callable[[Dataset], Dataset] | None) -> bytes:
    """The PS3.10 file to send: the file itself, or re-encoded after ``modify``."""
    if modify is None and item.has_meta:
        return item.path.read_bytes()
    import io

    from viewer.net.storage_scu import read_dataset

    ds = read_dataset(item)
    if modify is not None:
        ds = modify(ds)
    buf = io.BytesIO()
    ds.save_as(buf, enforce_file_format=True)
    return buf.getvalue()


def _stow_results(items: Iterable[StoreItem], reply: "Dataset | None") -> Iterator[StoreResult]:
    """Map a STOW-RS response (PS3.18 Table 10.5.3-1) onto the items sent."""
    ok: dict[str, int] = {}
    failed: dict[str, int] = {}
    for ref in (reply.get("ReferencedSOPSequence", []) if reply is not None else []):
        ok[str(ref.get("ReferencedSOPInstanceUID", ""))] = int(ref.get("WarningReason", 0) or 0)
    for ref in (reply.get("FailedSOPSequence", []) if reply is not None else []):
        failed[str(ref.get("ReferencedSOPInstanceUID", ""))] = int(ref.get("FailureReason", 0xC000) or 0xC000)
    for item in items:
        uid = item.sop_instance_uid
        if uid in failed:
            yield StoreResult(item, failed[uid], Category.FAILURE, f"refused, reason 0x{failed[uid]:04X}")
        elif uid in ok:
            code = ok[uid]
            if code:
                yield StoreResult(item, code, Category.WARNING, f"stored with warning 0x{code:04X}",
                                  item.transfer_syntax_uid)
            else:
                yield StoreResult(item, 0, Category.SUCCESS, "", item.transfer_syntax_uid)
        else:
            yield StoreResult(item, None, Category.FAILURE, "not listed in the STOW-RS response")


# ---------------------------------------------------------------------- node-level use
def search_node(node: DicomWebNode, level: str, keys: Mapping[str, str],
                token: CancelToken | None = None) -> Iterator[Dataset]:
    """QIDO-RS search on a configured ``DicomWebNode``, as an iterator (like C-FIND).

    ``keys`` is the C-FIND key mapping of the PACS panel (empty values are return keys).
    """
    with DicomWebClient(WebTarget.from_node(node)) as client:
        results = client.search(level, keys)
    for ds in results:
        if is_cancelled(token):
            raise Cancelled("query cancelled")
        yield ds


def ping_node(node: DicomWebNode, token: CancelToken | None = None) -> float:
    """Round-trip time (s) of a minimal QIDO-RS search (``studies?limit=1``): the DICOMweb
    counterpart of C-ECHO. Raises :class:`NetError` as :meth:`DicomWebClient.search`."""
    import time

    with DicomWebClient(WebTarget.from_node(node)) as client:
        t0 = time.perf_counter()
        client.search("STUDY", {}, limit=1)
        return time.perf_counter() - t0


def retrieve_node(node: DicomWebNode, level: str, uids: Mapping[str, str], store: Path | _Store,
                  token: CancelToken | None = None) -> Iterator["RetrieveProgress"]:
    """WADO-RS retrieve on a ``DicomWebNode`` of the study/series/instance named by ``uids``.

    Yields :class:`viewer.net.progress.RetrieveProgress` steps (one per instance written,
    then a final one), as the DIMSE retrieve does, so the panel shows both alike. At
    PATIENT level (``PatientID`` only) every study of the patient is retrieved.
    """
    from viewer.net.progress import RetrieveProgress

    level = level.upper()
    study = uids.get("StudyInstanceUID") or None
    series = uids.get("SeriesInstanceUID") if level in ("SERIES", "IMAGE") else None
    sop = uids.get("SOPInstanceUID") if level == "IMAGE" else None
    received = 0
    with DicomWebClient(WebTarget.from_node(node)) as client:
        if study:
            studies = [study]
        elif uids.get("PatientID"):
            studies = [str(d.StudyInstanceUID) for d in client.search("STUDY", {"PatientID": uids["PatientID"]})
                       if "StudyInstanceUID" in d]
        else:
            raise UsageError("nothing to retrieve: no Study Instance UID or Patient ID")
        for uid in studies:
            for path in client.iter_retrieve(store, uid, series, sop, cancel=token):
                received += 1
                yield RetrieveProgress(completed=received, files=[path], received=received)
    yield RetrieveProgress(completed=received, status=0x0000, final=True, received=received)
