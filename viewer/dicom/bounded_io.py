"""Reading untrusted files and streams within stated bounds (no Qt, no network).

- :class:`BudgetFile` hands pydicom a file that refuses to read more than a budget of
  bytes and of read calls: a header of gigabytes of zeros parses at 8 bytes per empty
  element and would keep pydicom busy for minutes.
- :class:`BoundedInflate` inflates a Deflated Explicit VR Little Endian data set (PS3.5
  A.5, raw deflate, RFC 1951) as it is read, never more than asked for, with an absolute
  cap and a compression-ratio cap: a 1 MB deflate bomb declaring 1 GiB is refused
  after a few MB instead of being inflated whole, as ``zlib.decompress`` would.
- :func:`read_deflated` reads a deflated Part 10 file through it; with
  ``stop_before_pixels`` only the bytes up to Pixel Data are ever inflated.
- :func:`inflate` is the same bound for bytes in memory (e.g. a data set received over
  the network).
"""

from __future__ import annotations

import os
import struct
import zlib
from typing import TYPE_CHECKING, BinaryIO

from viewer.errors import Cancelled

if TYPE_CHECKING:
    from pydicom.dataset import FileDataset

    from viewer.cancel import CancelToken

#: Deflated Explicit VR Little Endian (PS3.5 A.5).
DEFLATED = "1.2.840.10008.1.2.1.99"
#: Most bytes a deflated data set may inflate to (whole data set, pixels included).
MAX_INFLATED = 512 * 1024 ** 2
#: Most bytes inflated for a header read (everything before Pixel Data).
MAX_INFLATED_HEADER = 64 * 1024 ** 2
#: Most inflated bytes per compressed byte, checked once :data:`RATIO_GRACE` bytes are out.
#: Deflate itself tops out near 1032:1 (all zeros); real DICOM data sets stay far below.
MAX_RATIO = 200
RATIO_GRACE = 4 * 1024 ** 2
_CHUNK = 64 * 1024
_STEP = 1024 ** 2


class InflateLimit(ValueError):
    """Inflating went past :data:`MAX_INFLATED` (or the cap given) or :data:`MAX_RATIO`."""


class BudgetExceeded(Exception):
    """A :class:`BudgetFile` read past its byte or read-call budget."""


class NoFileMeta(BudgetExceeded):
    """``DICM`` followed by neither File Meta (group 0002) nor a data set's first element."""


def meta_start_ok(head: bytes) -> bool:
    """After ``DICM`` comes File Meta (group 0002, PS3.10 7.1), or at least a data set's first
    element (group 0008 with a small element number), not zeros or noise."""
    if len(head) < 136 or head[128:132] != b"DICM":
        return True
    group: int
    element: int
    group, element = struct.unpack_from("<HH", head, 132)
    return group == 0x0002 or (group == 0x0008 and element < 0x0200)


class BudgetFile:
    """A read-only binary file that raises :class:`BudgetExceeded` past a budget.

    ``max_bytes`` counts bytes actually read (values skipped with ``seek`` are free);
    ``max_reads`` counts calls to :meth:`read`.
    """

    def __init__(self, fh: BinaryIO, name: str, *, max_bytes: int | None, max_reads: int,
                 cancel: CancelToken | None = None) -> None:
        self._fh = fh
        self._cancel = cancel
        self.name = name
        self._left = max_bytes
        self._max_bytes = max_bytes
        self._reads = max_reads
        self._max_reads = max_reads

    def read(self, size: int | None = -1) -> bytes:
        self._reads -= 1
        if self._reads < 0:
            raise BudgetExceeded(f"more than {self._max_reads} elements to parse")
        if self._cancel is not None and self._reads % 4096 == 0 and self._cancel.cancelled:
            raise Cancelled("cancelled while reading a file")  # the GUI's cancel, inside one file
        if self._left is not None and (size is None or size < 0 or size > self._left):
            size = self._left + 1
        data = self._fh.read(-1 if size is None else size)
        if self._left is not None:
            self._left -= len(data)
            if self._left < 0:
                raise BudgetExceeded(f"more than {self._max_bytes} bytes to parse")
        return data

    def seek(self, offset: int, whence: int = 0) -> int:
        return self._fh.seek(offset, whence)

    def tell(self) -> int:
        return self._fh.tell()

    @property
    def closed(self) -> bool:
        return self._fh.closed

    def close(self) -> None:
        self._fh.close()


class BoundedInflate:
    """A seekable, read-only view of the raw-deflate stream read from ``raw``.

    Bytes are inflated on demand (:meth:`read`, forward :meth:`seek`) and kept, so small
    backward seeks work; at most ``max_output`` bytes are ever produced, and never more
    than ``max_ratio`` per compressed byte (after ``RATIO_GRACE``).
    """

    def __init__(self, raw: BinaryIO, *, max_output: int = MAX_INFLATED, max_ratio: float = MAX_RATIO,
                 name: str | None = None, wbits: int = -zlib.MAX_WBITS, cancel: CancelToken | None = None) -> None:
        self._raw = raw
        self._cancel = cancel
        self._inflater = zlib.decompressobj(wbits)
        self._out = bytearray()
        self._pos = 0
        self._consumed = 0
        self._eof = False
        self.max_output = max_output
        self.max_ratio = max_ratio
        self.name = name

    def _fill(self, upto: int) -> None:
        """Inflate until ``upto`` bytes are out (or the stream ends)."""
        while len(self._out) < upto and not self._eof:
            if self._cancel is not None and self._cancel.cancelled:
                raise Cancelled("cancelled while inflating a file")
            want = min(upto, self.max_output + 1) - len(self._out)
            if want <= 0:
                break
            pending = self._inflater.unconsumed_tail
            if not pending:
                pending = self._raw.read(_CHUNK)
                self._consumed += len(pending)
                if not pending:
                    self._out += self._inflater.flush()
                    self._eof = True
                    break
            try:
                # At most 1 MiB per call, so the ratio is checked before memory grows.
                self._out += self._inflater.decompress(pending, min(want, _STEP))
            except zlib.error as exc:
                raise InflateLimit(f"damaged deflate stream: {exc}") from None
            if self._inflater.eof:
                self._eof = True
            self._check()

    def _check(self) -> None:
        produced = len(self._out)
        if produced > self.max_output:
            raise InflateLimit(f"the deflated data set inflates to more than {self.max_output} bytes")
        if produced > RATIO_GRACE and produced > self.max_ratio * max(self._consumed, 1):
            raise InflateLimit(f"the deflated data set inflates more than {self.max_ratio:g} times "
                               f"({self._consumed} bytes gave {produced}): a deflate bomb?")

    def read(self, size: int | None = -1) -> bytes:
        if size is None or size < 0:
            self._fill(self.max_output + 1)
            end = len(self._out)
        else:
            end = self._pos + size
            self._fill(end)
        data = bytes(self._out[self._pos:end])
        self._pos += len(data)
        return data

    def seek(self, offset: int, whence: int = 0) -> int:
        target = offset if whence == 0 else self._pos + offset if whence == 1 else None
        if target is None:  # from the end: the whole stream
            self._fill(self.max_output + 1)
            target = len(self._out) + offset
        if target < 0:
            raise ValueError("negative seek position")
        self._fill(target)
        self._pos = target
        return target

    def tell(self) -> int:
        return self._pos

    def close(self) -> None:
        self._out = bytearray()


def inflate(data: bytes, *, max_output: int = MAX_INFLATED, max_ratio: float = MAX_RATIO) -> bytes:
    """Raw-inflate ``data`` (PS3.5 A.5) within the bounds, or raise :class:`InflateLimit`."""
    import io

    return BoundedInflate(io.BytesIO(data), max_output=max_output, max_ratio=max_ratio).read()


def is_deflated(path: str | os.PathLike[str]) -> bool:
    """Whether ``path``'s File Meta names Deflated Explicit VR Little Endian (cheap sniff)."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(1024)
    except OSError:
        return False
    return head[128:132] == b"DICM" and DEFLATED.encode() in head


def read_deflated(path: str | os.PathLike[str], *, stop_before_pixels: bool = False,
                  max_output: int = MAX_INFLATED, max_ratio: float = MAX_RATIO,
                  cancel: CancelToken | None = None) -> "FileDataset":
    """Read a Deflated Explicit VR Little Endian Part 10 file within the inflate bounds.

    pydicom inflates the whole data set with ``zlib.decompress`` before parsing it; here
    the data set is inflated as it is parsed, and with ``stop_before_pixels`` nothing
    after Pixel Data's tag is inflated.

    Raises
    ------
    InflateLimit
        The data set inflates past ``max_output`` or ``max_ratio``.
    """
    from pydicom.dataset import FileDataset
    from pydicom.filereader import _read_file_meta_info, read_dataset, read_preamble

    name = os.fspath(path)
    with open(name, "rb") as fh:
        preamble = read_preamble(fh, False)
        meta = _read_file_meta_info(fh)
        stream = BoundedInflate(fh, max_output=max_output, max_ratio=max_ratio, name=name, cancel=cancel)

        def at_pixels(tag: object, vr: object, length: object) -> bool:
            return stop_before_pixels and int(tag) in (0x7FE00010, 0x7FE00009, 0x7FE00008)  # type: ignore[call-overload]

        dataset = read_dataset(stream, False, True, stop_when=at_pixels)  # type: ignore[arg-type]
    ds = FileDataset(name, dataset, preamble, meta, False, True)
    ds.set_original_encoding(False, True, dataset._character_set)
    return ds


#: Read calls allowed for a whole file (an element costs one or two; an encapsulated Pixel
#: Data value is scanned in 8 KiB reads, so 2 million reads cover 16 GiB of fragments).
MAX_FILE_READS = 2_000_000


def dcmread_bounded(path: str | os.PathLike[str], *, defer_size: int | None = None,
                    stop_before_pixels: bool = False, force: bool = False,
                    max_inflated: int = MAX_INFLATED, max_reads: int = MAX_FILE_READS,
                    max_bytes: int | None = None, cancel: CancelToken | None = None) -> "FileDataset":
    """``pydicom.dcmread`` of a path within bounds: deflated files through
    :func:`read_deflated`, others through a :class:`BudgetFile`.

    Raises
    ------
    InflateLimit, BudgetExceeded
        Past a bound (the message says which).
    """
    import pydicom

    name = os.fspath(path)
    if is_deflated(name):
        return read_deflated(name, stop_before_pixels=stop_before_pixels, max_output=max_inflated, cancel=cancel)
    with open(name, "rb") as raw:
        if not meta_start_ok(raw.read(136)):
            raise NoFileMeta("no File Meta Information after the DICM prefix (PS3.10 7.1)")
        raw.seek(0)
        budget = BudgetFile(raw, name, max_bytes=max_bytes, max_reads=max_reads, cancel=cancel)
        ds = pydicom.dcmread(budget, defer_size=defer_size, stop_before_pixels=stop_before_pixels, force=force)
    ds.filename = name
    ds.buffer = None
    ds.fileobj_type = open  # deferred values are read again from the path, not the budget
    return ds
