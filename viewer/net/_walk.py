"""Walk a received data set's element headers to the end: is it whole? (PS3.5 7.1, 7.5)

Why: a C-STORE data set whose last P-DATA fragment (PS3.8 E.2) arrives flagged "last" may
still end inside an element (a peer cut short inside Pixel Data). Such an object is one we
cannot understand (0xC000, PS3.4 B.2.3), not one to store. The walk reads only element
headers and skips values (a file seek), so it costs a few reads per object.

For Deflated Explicit VR Little Endian (PS3.5 A.5) the data set is inflated as it is walked,
in small pieces that are dropped once passed, within :data:`viewer.dicom.bounded_io.MAX_INFLATED`
bytes and :data:`~viewer.dicom.bounded_io.MAX_RATIO` times the deflated size: memory stays
bounded whatever the stream inflates to (a "deflate bomb" is refused, not inflated). The
walk also picks up the Study and Series Instance UIDs on the way (top level only).
"""

from __future__ import annotations

import os
import struct
import zlib
from typing import BinaryIO

from viewer.dicom.bounded_io import MAX_INFLATED, MAX_RATIO, RATIO_GRACE, InflateLimit

_DEFLATED = "1.2.840.10008.1.2.1.99"
_IMPLICIT = "1.2.840.10008.1.2"
_BIG = "1.2.840.10008.1.2.2"
_ITEM, _ITEM_END, _SEQ_END = 0xFFFEE000, 0xFFFEE00D, 0xFFFEE0DD
_UNDEFINED = 0xFFFFFFFF
_LONG_VRS = {b"OB", b"OD", b"OF", b"OL", b"OV", b"OW", b"SQ", b"SV", b"UC", b"UN", b"UR", b"UT", b"UV"}
_STUDY, _SERIES = 0x0020000D, 0x0020000E
#: Deepest nesting of sequences walked; deeper data sets are not understood.
MAX_DEPTH = 64


class Incomplete(ValueError):
    """The data set ends inside an element, item or sequence, or is malformed."""


class _File:
    """Reads and skips in a file from ``start`` to its end."""

    def __init__(self, fh: BinaryIO, start: int) -> None:
        self._fh = fh
        self._size = os.fstat(fh.fileno()).st_size
        fh.seek(start)

    def read(self, n: int) -> bytes:
        return self._fh.read(n)

    def skip(self, n: int) -> bool:
        pos = self._fh.tell() + n
        if pos > self._size:
            return False
        self._fh.seek(pos)
        return True


class _Inflating:
    """Raw-inflates a file from ``start`` piece by piece, keeping only what is not read yet."""

    def __init__(self, fh: BinaryIO, start: int) -> None:
        self._fh = fh
        fh.seek(start)
        self._z = zlib.decompressobj(-zlib.MAX_WBITS)
        self._buf = b""
        self._pos = 0  # read up to here in _buf
        self._out = 0  # bytes inflated so far
        self._in = 0
        self._done = False

    def _more(self) -> bool:
        while not self._done:
            if self._z.unconsumed_tail:
                chunk = self._z.unconsumed_tail
            else:
                chunk = self._fh.read(64 * 1024)
                self._in += len(chunk)
                if not chunk:
                    self._done = True
                    break
            try:
                got = self._z.decompress(chunk, 1024 * 1024)
            except zlib.error as exc:
                raise Incomplete(f"damaged deflate stream: {exc}") from None
            if self._z.eof:
                self._done = True
            self._out += len(got)
            if self._out > MAX_INFLATED:
                raise InflateLimit(f"the deflated data set inflates to more than {MAX_INFLATED} bytes")
            if self._out > RATIO_GRACE and self._out > MAX_RATIO * max(self._in, 1):
                raise InflateLimit(f"the deflated data set inflates more than {MAX_RATIO} times")
            if got:
                self._buf = self._buf[self._pos:] + got  # what was read is dropped
                self._pos = 0
                return True
        return False

    def read(self, n: int) -> bytes:
        while len(self._buf) - self._pos < n and self._more():
            pass
        out = self._buf[self._pos:self._pos + n]
        self._pos += len(out)
        return out

    def skip(self, n: int) -> bool:
        while n > 0:
            if self._pos >= len(self._buf) and not self._more():
                return False
            take = min(n, len(self._buf) - self._pos)
            self._pos += take
            n -= take
        return True


def walk_file(path: str | os.PathLike[str], start: int, transfer_syntax: str) -> dict[int, str]:
    """Walk the data set of ``path`` from byte ``start`` to its end.

    Returns
    -------
    dict
        Study (0020,000D) and Series (0020,000E) Instance UID values found at the top level.

    Raises
    ------
    Incomplete
        The data set ends inside an element, item or sequence, or is malformed.
    InflateLimit
        A deflated data set inflates past the bounds.
    """
    ts = str(transfer_syntax)
    with open(path, "rb") as fh:
        stream: _File | _Inflating = _Inflating(fh, start) if ts == _DEFLATED else _File(fh, start)
        found: dict[int, str] = {}
        _Walker(stream, implicit=ts == _IMPLICIT, little=ts != _BIG, found=found).elements(None, 0)
        return found


class _Walker:
    def __init__(self, stream: _File | _Inflating, *, implicit: bool, little: bool, found: dict[int, str]) -> None:
        self.s = stream
        self.implicit = implicit
        self.e = "<" if little else ">"
        self.found = found

    def _u32(self) -> int:
        raw = self.s.read(4)
        if len(raw) < 4:
            raise Incomplete("the data set ends inside an element header")
        return int(struct.unpack(self.e + "L", raw)[0])

    def elements(self, until: int | None, depth: int) -> None:
        """Elements up to the end of the data (``until`` None) or the delimiter ``until``."""
        if depth > MAX_DEPTH:
            raise Incomplete(f"sequences nested deeper than {MAX_DEPTH}")
        while True:
            head = self.s.read(4)
            if not head:
                if until is not None:
                    raise Incomplete("the data set ends inside a sequence item")
                return
            if len(head) < 4:
                raise Incomplete("the data set ends inside an element header")
            group, elem = struct.unpack(self.e + "HH", head)
            tag = group << 16 | elem
            if tag in (_ITEM_END, _SEQ_END):
                self._u32()
                if tag == until:
                    return
                raise Incomplete(f"unexpected delimiter ({group:04X},{elem:04X})")
            if self.implicit or group == 0xFFFE:
                vr = b""
                length = self._u32()
            else:
                vr = self.s.read(2)
                if len(vr) < 2:
                    raise Incomplete("the data set ends inside an element header")
                if vr in _LONG_VRS:
                    if len(self.s.read(2)) < 2:
                        raise Incomplete("the data set ends inside an element header")
                    length = self._u32()
                else:
                    raw = self.s.read(2)
                    if len(raw) < 2:
                        raise Incomplete("the data set ends inside an element header")
                    length = int(struct.unpack(self.e + "H", raw)[0])
            if length == _UNDEFINED:
                self.items(depth + 1)
            elif depth == 0 and tag in (_STUDY, _SERIES) and length <= 64:
                value = self.s.read(length)
                if len(value) < length:
                    raise Incomplete(f"the data set ends inside ({group:04X},{elem:04X})")
                self.found[tag] = value.rstrip(b"\0 ").decode("ascii", "replace")
            elif not self.s.skip(length):
                raise Incomplete(f"the data set ends inside ({group:04X},{elem:04X}), "
                                 f"whose value is {length} bytes long")

    def items(self, depth: int) -> None:
        """Items of an undefined-length sequence or encapsulated Pixel Data, to its delimiter."""
        while True:
            head = self.s.read(4)
            if len(head) < 4:
                raise Incomplete("the data set ends inside a sequence")
            group, elem = struct.unpack(self.e + "HH", head)
            tag = group << 16 | elem
            length = self._u32()
            if tag == _SEQ_END:
                return
            if tag != _ITEM:
                raise Incomplete(f"({group:04X},{elem:04X}) where a sequence item was expected")
            if length == _UNDEFINED:
                self.elements(_ITEM_END, depth)
            elif not self.s.skip(length):
                raise Incomplete("the data set ends inside a sequence item or Pixel Data fragment")


__all__ = ["Incomplete", "MAX_DEPTH", "walk_file"]
