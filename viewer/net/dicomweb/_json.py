"""The DICOM JSON model (PS3.18 F.2) of a response, read within bounds and checked for shape."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from viewer.errors import NetError
from viewer.net.dicomweb._body import chunks

if TYPE_CHECKING:
    import requests
    from pydicom.dataset import Dataset

#: Largest QIDO-RS / metadata JSON body read (decoded) by default: a search result is for
#: browsing. A client's own bound is its ``max_json_bytes``.
MAX_JSON_BYTES = 64 * 1024 ** 2
#: Nesting of JSON values accepted (the DICOM JSON model nests sequence items only).
MAX_JSON_DEPTH = 64


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


def datasets(rsp: "requests.Response", deadline: float, max_bytes: int) -> list["Dataset"]:
    """The DICOM JSON model (PS3.18 F.2) of a response: at most ``max_bytes`` decoded (when
    the body was not read already), within ``deadline`` seconds, of the expected shape (a
    list of objects whose values are objects), else a :class:`NetError` that says what was
    wrong."""
    import json

    from pydicom.dataset import Dataset

    url = rsp.url
    already = getattr(rsp, "_content", False)  # requests' body, when it was read (not streamed)
    if isinstance(already, bytes):
        body = already
    else:
        try:
            end = time.monotonic() + deadline
            body = b"".join(chunks(rsp, None, lambda: end, deadline, max_bytes=max_bytes))
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
