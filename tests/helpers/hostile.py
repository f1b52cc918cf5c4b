"""Hostile files for the robustness tests and the fuzz suite (generated, nothing copied).

Large ones are sparse: the gap is made with ``seek``/``truncate``, so a "2 GiB" file costs
a few KB of disk and no time to write. The base data set is pydicom's CT_small.dcm.
"""

from __future__ import annotations

import io
import struct
import zlib
from pathlib import Path

import pydicom
from pydicom.data import get_testdata_file
from pydicom.filebase import DicomBytesIO
from pydicom.filewriter import write_file_meta_info
from pydicom.uid import DeflatedExplicitVRLittleEndian, ExplicitVRLittleEndian

GiB = 1024 ** 3


def _ct_explicit(pixels: bool = True) -> pydicom.Dataset:
    ds = pydicom.dcmread(get_testdata_file("CT_small.dcm"))
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    if not pixels:
        del ds.PixelData
    return ds


def _encoded(ds: pydicom.Dataset) -> bytes:
    bio = io.BytesIO()
    ds.save_as(bio, enforce_file_format=True)
    return bio.getvalue()


def big_private_value(out: Path, size: int = 2 * GiB) -> Path:
    """CT_small with a private OB element of ``size`` bytes (a sparse hole) early in the header."""
    ds = _ct_explicit()
    ds.private_block(0x0009, "ACME 1.0", create=True).add_new(0x10, "OB", b"MARK")
    data = _encoded(ds)
    at = data.index(b"OB\x00\x00\x04\x00\x00\x00MARK") - 4
    with open(out, "wb") as fh:
        fh.write(data[:at + 8] + struct.pack("<I", size))
        fh.seek(size, 1)
        fh.write(data[at + 16:])
    return out


def dicm_then_zeros(out: Path, size: int = 2 * GiB) -> Path:
    """A preamble, ``DICM``, then ``size`` zero bytes (sparse)."""
    with open(out, "wb") as fh:
        fh.write(b"\0" * 128 + b"DICM")
        fh.truncate(132 + size)
    return out


def meta_then_zeros(out: Path, size: int = 2 * GiB) -> Path:
    """A valid File Meta group, then ``size`` zero bytes (sparse): endless empty elements."""
    data = _encoded(_ct_explicit())
    glen = struct.unpack_from("<I", data, 140)[0]
    with open(out, "wb") as fh:
        fh.write(data[:144 + glen])
        fh.truncate(144 + glen + size)
    return out


def deflate_bomb(out: Path, size: int = GiB, where: str = "pixels") -> Path:
    """Deflated Explicit VR Little Endian (PS3.5 A.5) whose data set inflates to ``size`` bytes
    more than CT_small's header: as a Pixel Data value (``where="pixels"``) or as a private OB
    before Rows (``where="header"``). About 1 MB per GiB."""
    ds = _ct_explicit(pixels=False)
    data = _encoded(ds)
    glen = struct.unpack_from("<I", data, 140)[0]
    body = data[144 + glen:]
    meta = ds.file_meta
    meta.TransferSyntaxUID = DeflatedExplicitVRLittleEndian
    mb = DicomBytesIO()
    mb.is_little_endian, mb.is_implicit_VR = True, False
    write_file_meta_info(mb, meta, enforce_standard=True)
    comp = zlib.compressobj(9, zlib.DEFLATED, -15)
    zero = bytes(1024 ** 2)
    with open(out, "wb") as fh:
        fh.write(b"\0" * 128 + b"DICM" + mb.getvalue())
        if where == "pixels":
            fh.write(comp.compress(body + struct.pack("<HH2sHI", 0x7FE0, 0x0010, b"OW", 0, size)))
        else:
            at = body.index(b"\x28\x00\x10\x00")  # Rows (0028,0010)
            fh.write(comp.compress(body[:at] + struct.pack("<HH2sH", 0x0027, 0x0010, b"LO", 4) + b"ACME"
                                   + struct.pack("<HH2sHI", 0x0027, 0x1001, b"OB", 0, size)))
        for _ in range(size // len(zero)):
            fh.write(comp.compress(zero))
        if where != "pixels":
            fh.write(comp.compress(body[at:]))
        fh.write(comp.flush())
    return out


def deflated_ct(out: Path) -> Path:
    """CT_small, honestly deflated (a file every reader must still read)."""
    ds = _ct_explicit()
    ds.file_meta.TransferSyntaxUID = DeflatedExplicitVRLittleEndian
    ds.save_as(out, enforce_file_format=True)
    return out


def huge_declared(out: Path, side: int = 16384, bits: int = 16) -> Path:
    """A small file whose header declares ``side`` x ``side`` pixels of ``bits`` bits, with a
    few bytes of Pixel Data."""
    ds = _ct_explicit()
    ds.Rows = ds.Columns = side
    ds.BitsAllocated, ds.BitsStored, ds.HighBit = bits, bits, bits - 1
    ds.PixelData = bytes(64)
    ds.save_as(out, enforce_file_format=True)
    return out
