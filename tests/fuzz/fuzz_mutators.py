"""Seeded mutations of DICOM files and media for the reader fuzz run.

Every mutator is a pure function ``(data, rng) -> bytes`` so an input is fully described
by (seed file, mutator name, seed) and can be regenerated to reproduce a failure.
The mutations target what a hostile or broken CD contains:

* ``truncate``, ``bitflip``, ``bytes``: plain damage anywhere after the preamble;
* ``length``: an element's length field (PS3.5 7.1.1-7.1.3) replaced by a huge value
  (0xFFFFFFF0, 0xFFFFFFFF undefined, 0x7FFFFFFF), zero, or off by one;
* ``vr``: an explicit VR swapped for another (which also changes the 2/4-byte length form);
* ``tsuid``: the Transfer Syntax UID (0002,0010) replaced by another one, or garbage;
* ``nesting``: a sequence nested thousands of items deep (undefined lengths, PS3.5 7.5);
* ``pixel_length``: Pixel Data (7FE0,0010) declared 0xFFFFFFF0 bytes long (4 GB).

DICOMDIR media mutations (see :func:`mutate_dicomdir`) point Referenced File IDs
(0004,1500) outside the medium and make the record offsets (0004,1400)/(0004,1420) loop.
"""

from __future__ import annotations

import random
import struct
from typing import Callable, Iterator

#: VRs whose explicit little endian header has a 2-byte reserved field and a 4-byte length.
LONG_VRS = {b"OB", b"OD", b"OF", b"OL", b"OV", b"OW", b"SQ", b"SV", b"UC", b"UN", b"UR", b"UT", b"UV"}
ALL_VRS = [b"AE", b"AS", b"AT", b"CS", b"DA", b"DS", b"DT", b"FL", b"FD", b"IS", b"LO", b"LT", b"OB", b"OD",
           b"OF", b"OL", b"OV", b"OW", b"PN", b"SH", b"SL", b"SQ", b"SS", b"ST", b"SV", b"TM", b"UC", b"UI",
           b"UL", b"UN", b"UR", b"US", b"UT", b"UV", b"XX", b"\x00\x00"]
TRANSFER_SYNTAXES = ["1.2.840.10008.1.2", "1.2.840.10008.1.2.1", "1.2.840.10008.1.2.2", "1.2.840.10008.1.2.1.99",
                     "1.2.840.10008.1.2.4.50", "1.2.840.10008.1.2.4.70", "1.2.840.10008.1.2.4.90",
                     "1.2.840.10008.1.2.5", "1.2.840.10008.1.2.4.201", "1.2.3.4", "", "\xff\xfe garbage"]
HUGE_LENGTHS = [0xFFFFFFF0, 0xFFFFFFFF, 0x7FFFFFFF, 0x80000000, 0xFFFFFFFE]

Mutator = Callable[[bytes, random.Random], bytes]


def _dataset_start(data: bytes) -> int:
    """Offset after the preamble and ``DICM`` (0 for files without a preamble)."""
    return 132 if data[128:132] == b"DICM" else 0


def elements(data: bytes, start: int | None = None) -> Iterator[tuple[int, bytes | None, int, int]]:
    """Walk explicit-or-implicit VR little endian element headers, tolerantly.

    Yields ``(header_offset, vr_or_None, length_field_offset, length_field_size)``; sequence
    items and undefined lengths are stepped into (so nested elements are found too). Stops
    at the first header that does not parse.
    """
    pos = _dataset_start(data) if start is None else start
    n = len(data)
    while pos + 8 <= n:
        group, elem = struct.unpack_from("<HH", data, pos)
        if group == 0xFFFE:  # item / delimiters: 4-byte length, no VR
            yield pos, None, pos + 4, 4
            length = struct.unpack_from("<I", data, pos + 4)[0]
            pos += 8 if elem != 0xE000 or length == 0xFFFFFFFF else 8  # step into items
            continue
        vr = data[pos + 4:pos + 6]
        if vr.isalpha() and vr.isupper():
            if vr in LONG_VRS:
                if pos + 12 > n:
                    return
                length = struct.unpack_from("<I", data, pos + 8)[0]
                yield pos, vr, pos + 8, 4
                head = 12
            else:
                length = struct.unpack_from("<H", data, pos + 6)[0]
                yield pos, vr, pos + 6, 2
                head = 8
        else:  # implicit VR: 4-byte length
            length = struct.unpack_from("<I", data, pos + 4)[0]
            yield pos, None, pos + 4, 4
            head, vr = 8, None
        if length == 0xFFFFFFFF or vr == b"SQ":
            pos += head  # step into the sequence
        else:
            pos += head + length


def truncate(data: bytes, rng: random.Random) -> bytes:
    return data[: rng.randrange(0, max(1, len(data)))]


def bitflip(data: bytes, rng: random.Random) -> bytes:
    out = bytearray(data)
    lo = _dataset_start(data)
    for _ in range(rng.randint(1, 16)):
        i = rng.randrange(lo, len(out)) if len(out) > lo else 0
        if out:
            out[i] ^= 1 << rng.randrange(8)
    return bytes(out)


def random_bytes(data: bytes, rng: random.Random) -> bytes:
    """Overwrite a few bytes in the header area, where damage matters most."""
    out = bytearray(data)
    lo = _dataset_start(data)
    hi = min(len(out), lo + 4096)
    for _ in range(rng.randint(1, 8)):
        if hi > lo:
            out[rng.randrange(lo, hi)] = rng.randrange(256)
    return bytes(out)


def _pick_length(old: int, size: int, rng: random.Random) -> int:
    if size == 2:
        return rng.choice([0xFFFF, 0xFFFE, 0, (old + 1) & 0xFFFF, max(old - 1, 0), rng.randrange(0x10000)])
    return rng.choice(HUGE_LENGTHS + [0, (old + 1) & 0xFFFFFFFF, max(old - 1, 0), rng.randrange(1 << 32)])


def length(data: bytes, rng: random.Random) -> bytes:
    fields = list(elements(data))
    if not fields:
        return bitflip(data, rng)
    out = bytearray(data)
    for _ in range(rng.randint(1, 3)):
        _, _, off, size = rng.choice(fields)
        fmt = "<H" if size == 2 else "<I"
        old = struct.unpack_from(fmt, out, off)[0]
        struct.pack_into(fmt, out, off, _pick_length(old, size, rng))
    return bytes(out)


def vr_swap(data: bytes, rng: random.Random) -> bytes:
    explicit = [(pos, vr) for pos, vr, _, _ in elements(data) if vr is not None]
    if not explicit:
        return length(data, rng)
    out = bytearray(data)
    for _ in range(rng.randint(1, 3)):
        pos, _ = rng.choice(explicit)
        out[pos + 4:pos + 6] = rng.choice(ALL_VRS)
    return bytes(out)


def tsuid(data: bytes, rng: random.Random) -> bytes:
    """Replace (0002,0010) with another transfer syntax; keep the group length consistent."""
    key = b"\x02\x00\x10\x00UI"
    i = data.find(key)
    if i < 0:
        return bitflip(data, rng)
    old_len = struct.unpack_from("<H", data, i + 6)[0]
    uid = rng.choice(TRANSFER_SYNTAXES).encode("latin-1")
    if len(uid) % 2:
        uid += b"\x00"
    out = data[:i + 6] + struct.pack("<H", len(uid)) + uid + data[i + 8 + old_len:]
    g = out.find(b"\x02\x00\x00\x00UL\x04\x00")
    if g >= 0:
        glen = struct.unpack_from("<I", out, g + 8)[0] + len(uid) - old_len
        out = out[:g + 8] + struct.pack("<I", glen & 0xFFFFFFFF) + out[g + 12:]
    return out


def pixel_length(data: bytes, rng: random.Random) -> bytes:
    """Declare Pixel Data 0xFFFFFFF0 (or another huge) bytes long."""
    for pos, _vr, off, size in elements(data):
        if data[pos:pos + 4] == b"\xe0\x7f\x10\x00" and size == 4:
            out = bytearray(data)
            struct.pack_into("<I", out, off, rng.choice([0xFFFFFFF0, 0x7FFFFFF0, 0xFFFFFFFE]))
            return bytes(out)
    return length(data, rng)


def _explicit_el(group: int, elem: int, vr: bytes, value: bytes) -> bytes:
    if vr in LONG_VRS:
        return struct.pack("<HH2sHI", group, elem, vr, 0, len(value)) + value
    return struct.pack("<HH2sH", group, elem, vr, len(value)) + value


def deep_nesting(depth: int, explicit: bool = True) -> bytes:
    """A small Secondary Capture header whose (0008,1115) sequence nests ``depth`` items."""
    def ui(v: str) -> bytes:
        b = v.encode()
        return b + b"\x00" if len(b) % 2 else b

    ts = "1.2.840.10008.1.2.1" if explicit else "1.2.840.10008.1.2"
    meta = b"".join([_explicit_el(2, 1, b"OB", b"\x00\x01"), _explicit_el(2, 2, b"UI", ui("1.2.840.10008.5.1.4.1.1.7")),
                     _explicit_el(2, 3, b"UI", ui("1.2.3.4.5")), _explicit_el(2, 0x10, b"UI", ui(ts))])
    head = b"\x00" * 128 + b"DICM" + _explicit_el(2, 0, b"UL", struct.pack("<I", len(meta))) + meta
    if explicit:
        sq_open = struct.pack("<HH2sHI", 8, 0x1115, b"SQ", 0, 0xFFFFFFFF)
    else:
        sq_open = struct.pack("<HHI", 8, 0x1115, 0xFFFFFFFF)
    item_open = struct.pack("<HHI", 0xFFFE, 0xE000, 0xFFFFFFFF)
    item_close = struct.pack("<HHI", 0xFFFE, 0xE00D, 0)
    sq_close = struct.pack("<HHI", 0xFFFE, 0xE0DD, 0)
    if explicit:
        body = (_explicit_el(8, 0x16, b"UI", ui("1.2.840.10008.5.1.4.1.1.7"))
                + _explicit_el(8, 0x18, b"UI", ui("1.2.3.4.5")))
    else:
        body = (struct.pack("<HHI", 8, 0x16, 26) + ui("1.2.840.10008.5.1.4.1.1.7")
                + struct.pack("<HHI", 8, 0x18, 10) + ui("1.2.3.4.5"))
    nest = (sq_open + item_open) * depth + (item_close + sq_close) * depth
    return head + body + nest


def nesting(data: bytes, rng: random.Random) -> bytes:
    return deep_nesting(rng.choice([50, 150, 180, 200, 2000, 20000, 100000]), explicit=rng.random() < 0.5)


MUTATORS: dict[str, Mutator] = {
    "truncate": truncate, "bitflip": bitflip, "bytes": random_bytes, "length": length, "vr": vr_swap,
    "tsuid": tsuid, "pixel_length": pixel_length, "nesting": nesting,
}


def mutate(data: bytes, name: str, seed: int) -> bytes:
    """Apply mutator ``name`` with ``seed``; deterministic."""
    return MUTATORS[name](data, random.Random(seed))


# --- DICOMDIR media --------------------------------------------------------------------------

def _cs(value: str, size: int) -> bytes:
    raw = value.encode("latin-1")[:size]
    return raw + b" " * (size - len(raw))


def mutate_dicomdir(data: bytes, rng: random.Random, outside: str) -> tuple[bytes, str]:
    """Point file IDs outside the medium and/or make record offsets loop.

    ``outside`` is a file ID (with ``\\`` separators, relative to the medium) of a real DICOM
    file that lies outside the medium; no reader may list it. Lengths are kept, so offsets
    stay valid unless deliberately changed. Returns the bytes and what was done.
    """
    out = bytearray(data)
    fids = []  # (value offset, length)
    offsets = []  # (value offset) of (0004,1400)/(0004,1420)/(0004,1200)/(0004,1202)
    items = []  # offsets of item tags (record starts) relative to the file start
    for pos, vr, off, _size in elements(data):
        tag = data[pos:pos + 4]
        if tag == b"\x04\x00\x00\x15" and vr == b"CS":
            fids.append((off + 2, struct.unpack_from("<H", data, off)[0]))
        elif tag in (b"\x04\x00\x00\x14", b"\x04\x00\x20\x14", b"\x04\x00\x00\x12",
                     b"\x04\x00\x02\x12") and vr == b"UL":
            offsets.append(off + 2)
        elif tag == b"\xfe\xff\x00\xe0":
            items.append(pos)
    what = rng.choice(["escape", "absolute", "loop", "self", "both", "huge"])
    if what in ("escape", "absolute", "both") and fids:
        for off, n in rng.sample(fids, k=min(len(fids), rng.randint(1, 4))):
            value = {"escape": outside, "both": outside,
                     "absolute": rng.choice(["\\etc\\passwd", "/etc/passwd", "C:\\Windows\\x"])}[what]
            if len(value) > n:  # keep the length: try a shorter escape
                value = "..\\" * max(1, n // 3)
            out[off:off + n] = _cs(value, n)
    if what in ("loop", "self", "both", "huge") and offsets and items:
        for off in rng.sample(offsets, k=min(len(offsets), rng.randint(1, 3))):
            if what == "huge":
                target = rng.choice([0xFFFFFFF0, len(data) + 1000, 1])
            elif what == "self":
                target = max(i for i in items if i <= off) if any(i <= off for i in items) else items[0]
            else:
                target = rng.choice(items)
            struct.pack_into("<I", out, off, target)
    return bytes(out), what
