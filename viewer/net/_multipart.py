"""Streaming reader and writer for ``multipart/related`` bodies (RFC 2046 5.1, RFC 2387).

DICOMweb (PS3.18 8.6.1.2) carries instances in multipart/related messages. The reader is
incremental: it is fed chunks as they arrive from the socket and emits part headers, body
bytes and part ends, so an instance is written to disk as it streams in and never held
whole in memory. A body that stops before its close delimiter raises
:class:`MultipartError`: the last part cannot be known complete.
"""

from __future__ import annotations

import uuid
from typing import Iterable, Iterator, Union

#: Events: ("headers", dict), ("data", bytes), ("end", None).
Event = tuple[str, Union[dict[str, str], bytes, None]]


class MultipartError(ValueError):
    """The body is not a well-formed, complete multipart message."""


def boundary_of(content_type: str) -> bytes:
    """The ``boundary`` parameter of a Content-Type header.

    Raises
    ------
    MultipartError
        When the header is not multipart or has no boundary.
    """
    main, _, params = content_type.partition(";")
    if not main.strip().lower().startswith("multipart/"):
        raise MultipartError(f"expected a multipart response, got '{main.strip() or 'nothing'}'")
    for param in _split_params(params):
        key, _, value = param.partition("=")
        if key.strip().lower() == "boundary":
            value = value.strip()
            if value.startswith('"') and value.endswith('"'):
                value = value[1:-1]
            if value:
                return value.encode("latin-1")
    raise MultipartError("multipart response without a boundary")


def _split_params(params: str) -> list[str]:
    """Split ``a=1; b="x;y"`` on semicolons outside quotes."""
    out: list[str] = []
    cur: list[str] = []
    quoted = False
    for ch in params:
        if ch == '"':
            quoted = not quoted
        if ch == ";" and not quoted:
            out.append("".join(cur))
            cur = []
        else:
            cur.append(ch)
    out.append("".join(cur))
    return [p for p in (s.strip() for s in out) if p]


def parse_params(header: str) -> tuple[str, dict[str, str]]:
    """``'application/dicom; transfer-syntax=1.2'`` -> ``('application/dicom', {...})``."""
    main, _, rest = header.partition(";")
    params = {}
    for p in _split_params(rest):
        k, _, v = p.partition("=")
        params[k.strip().lower()] = v.strip().strip('"')
    return main.strip().lower(), params


def iter_events(chunks: Iterable[bytes], boundary: bytes) -> Iterator[Event]:
    """Parse a multipart body fed as ``chunks``.

    Parameters
    ----------
    chunks : iterable of bytes
        The raw body as it arrives.
    boundary : bytes
        From :func:`boundary_of`.

    Yields
    ------
    tuple
        ``("headers", {lower-case name: value})`` at the start of each part, then
        ``("data", bytes)`` pieces of its body, then ``("end", None)``.

    Raises
    ------
    MultipartError
        The body ended before the close delimiter, or is malformed.
    """
    # RFC 2046 5.1.1: a delimiter is CRLF "--" boundary; the CRLF belongs to the delimiter.
    # Prefixing CRLF lets the first boundary (at the very start) match the same pattern.
    delim = b"\r\n--" + boundary
    keep = len(delim) + 4
    buf = bytearray(b"\r\n")
    it = iter(chunks)
    state = "preamble"
    closed = False

    def more() -> bool:
        for chunk in it:
            if chunk:
                buf.extend(chunk)
                return True
        return False

    while True:
        if state == "preamble":
            i = buf.find(delim)
            if i < 0:
                del buf[: max(0, len(buf) - keep)]
                if not more():
                    raise MultipartError("no multipart boundary found in the response")
                continue
            del buf[: i + len(delim)]
            state = "after-delim"
        elif state == "after-delim":
            if len(buf) < 2 and not more():
                raise MultipartError("response ended inside a boundary line")
            if len(buf) < 2:
                continue
            if buf[:2] == b"--":
                closed = True
                break
            j = buf.find(b"\r\n")
            if j < 0:
                if not more():
                    raise MultipartError("response ended inside a boundary line")
                continue
            del buf[: j + 2]  # transport padding (whitespace) + CRLF
            state = "headers"
        elif state == "headers":
            j = buf.find(b"\r\n\r\n") if not buf.startswith(b"\r\n") else -2
            if j == -1:
                if len(buf) > 65536:
                    raise MultipartError("part headers too long")
                if not more():
                    raise MultipartError("response ended inside part headers")
                continue
            raw = bytes(buf[: max(j, 0)])
            del buf[: (j + 4) if j >= 0 else 2]
            headers: dict[str, str] = {}
            for line in raw.decode("latin-1").split("\r\n"):
                name, sep, value = line.partition(":")
                if sep:
                    headers[name.strip().lower()] = value.strip()
            yield ("headers", headers)
            state = "body"
        else:  # body
            i = buf.find(delim)
            if i >= 0:
                if i:
                    yield ("data", bytes(buf[:i]))
                del buf[: i + len(delim)]
                yield ("end", None)
                state = "after-delim"
                continue
            safe = len(buf) - len(delim)
            if safe > 0:
                yield ("data", bytes(buf[:safe]))
                del buf[:safe]
            if not more():
                raise MultipartError("response ended in the middle of a part (connection cut?)")
    if not closed:  # pragma: no cover - loop only exits on the close delimiter
        raise MultipartError("missing close delimiter")


def new_boundary() -> str:
    """A boundary that will not occur in DICOM data by chance."""
    return f"dicomviewer-{uuid.uuid4().hex}"


def part_header(content_type: str) -> bytes:
    """Bytes that open a part: CRLF is part of the delimiter (RFC 2046 5.1.1)."""
    return f"Content-Type: {content_type}\r\n\r\n".encode("latin-1")


def encode(parts: Iterable[bytes], boundary: str, content_type: str = "application/dicom") -> Iterator[bytes]:
    """Yield a multipart body whose parts are ``parts`` (each of ``content_type``)."""
    b = boundary.encode("latin-1")
    first = True
    for body in parts:
        yield (b"--" if first else b"\r\n--") + b + b"\r\n" + part_header(content_type)
        yield body
        first = False
    yield (b"--" if first else b"\r\n--") + b + b"--\r\n"
