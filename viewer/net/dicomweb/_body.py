"""Bounded readers of HTTP response bodies.

A body is read in steps of at most :data:`CHUNK` bytes, decoded (gzip/deflate) here rather
than by urllib3 so a compression bomb never expands in memory, and bounded in decoded size,
in inflation ratio and in time: a server that floods or trickles is cut off with a
:class:`~viewer.errors.NetError` that says which bound it crossed.
"""

from __future__ import annotations

import time
import zlib
from typing import TYPE_CHECKING, Callable, Iterator

from viewer.cancel import CancelToken, is_cancelled
from viewer.errors import Cancelled, NetError

if TYPE_CHECKING:
    import requests

#: Largest read from the socket, and largest decoded piece yielded at once.
CHUNK = 1 << 20


def preload(rsp: "requests.Response", deadline: float, max_bytes: int) -> None:
    """Read a streamed body within the bounds and keep it as ``rsp.content``."""
    try:
        end = time.monotonic() + deadline
        rsp._content = b"".join(chunks(rsp, None, lambda: end, deadline, max_bytes=max_bytes))
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


def chunks(rsp: "requests.Response", cancel: CancelToken | None,
           deadline_at: Callable[[], float] | None = None, deadline: float | str = 0.0,
           max_bytes: int | None = None) -> Iterator[bytes]:
    """Body bytes as they arrive, decoded (gzip/deflate) here in steps of at most
    :data:`CHUNK`, so a compression bomb never expands in memory; bounded by
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
        chunk = raw.read1(CHUNK, decode_content=False)
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
                out = decoder.decompress(data, CHUNK)
            except zlib.error as exc:
                raise NetError(f"damaged compressed response from {rsp.url}: {exc}", category="http") from None
            data = decoder.unconsumed_tail
            if out:
                check(len(out))
                yield out
            if decoder.eof:
                break
