"""Native (uncompressed) Pixel Data: geometry, length checks and one-frame reads.

The fast path here reads exactly one frame's bytes (from memory or, for a file read with a
deferred Pixel Data value, by seeking in the file), then masks the bits above High Bit and
sign-extends signed values (PS3.5 8.1.1 and PS3.3 C.7.6.3.1: only Bits Stored bits, ending at
High Bit, are the pixel value; the rest may hold overlays or junk). Cases it does not handle
(1-bit packed data, native YBR_FULL_422, 8-bit OW in big endian) go to pydicom's native
decoder through :mod:`viewer.dicom.frames`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from math import ceil
from typing import TYPE_CHECKING

import numpy as np

from viewer.errors import DecodeError

if TYPE_CHECKING:
    from pydicom.dataset import Dataset

log = logging.getLogger(__name__)

#: Transfer syntaxes whose Pixel Data is native (not encapsulated), PS3.5 A.1-A.3, A.5.
NATIVE_SYNTAXES = {
    "1.2.840.10008.1.2",  # Implicit VR Little Endian
    "1.2.840.10008.1.2.1",  # Explicit VR Little Endian
    "1.2.840.10008.1.2.1.99",  # Deflated Explicit VR Little Endian
    "1.2.840.10008.1.2.2",  # Explicit VR Big Endian (retired)
}
BIG_ENDIAN = "1.2.840.10008.1.2.2"
DEFLATED = "1.2.840.10008.1.2.1.99"


@dataclass(frozen=True)
class Geometry:
    """Image Pixel module values that shape the stored frames (PS3.3 C.7.6.3)."""

    rows: int
    columns: int
    samples: int
    planar: int
    bits_allocated: int
    bits_stored: int
    high_bit: int
    signed: bool
    photometric: str
    num_frames: int

    @property
    def frame_bits(self) -> int:
        """Bits of one frame in native encoding.

        Native YBR_FULL_422 stores two pixels in Y1 Y2 Cb Cr, i.e. 2/3 of the samples
        (PS3.3 C.7.6.3.1.2).
        """
        bits = self.rows * self.columns * self.samples * self.bits_allocated
        return bits // 3 * 2 if self.photometric == "YBR_FULL_422" and self.samples == 3 else bits

    @property
    def expected_bytes(self) -> int:
        """Native Pixel Data length for all frames, without the even-length pad byte."""
        return ceil(self.frame_bits * self.num_frames / 8)


def _int(ds: Dataset, keyword: str, default: int | None = None) -> int | None:
    value = ds.get(keyword, None)
    if value is None or value == "":
        return default
    try:
        return int(value)
    except (TypeError, ValueError):
        raise DecodeError(f"invalid {keyword} value {value!r}") from None


def geometry(ds: Dataset) -> Geometry:
    """Read the :class:`Geometry` of ``ds``, raising :class:`DecodeError` for missing values.

    Parameters
    ----------
    ds : pydicom.dataset.Dataset
        A dataset with the Image Pixel module.

    Returns
    -------
    Geometry
    """
    missing = [k for k in ("Rows", "Columns", "BitsAllocated") if ds.get(k, None) in (None, "")]
    if missing:
        raise DecodeError(f"cannot decode the image: missing {', '.join(missing)}")
    rows, cols, ba = _int(ds, "Rows"), _int(ds, "Columns"), _int(ds, "BitsAllocated")
    assert rows is not None and cols is not None and ba is not None
    bs = _int(ds, "BitsStored", ba) or ba
    hb = _int(ds, "HighBit", bs - 1)
    hb = bs - 1 if hb is None else hb
    samples = _int(ds, "SamplesPerPixel", 1) or 1
    frames = _int(ds, "NumberOfFrames", 1) or 1
    if rows <= 0 or cols <= 0:
        raise DecodeError(f"cannot decode the image: Rows x Columns is {rows} x {cols}")
    if samples not in (1, 3):
        # PS3.3 C.7.6.3.1.1: 1 for monochrome and palette, 3 for RGB and YBR
        raise DecodeError(f"unsupported Samples per Pixel {samples} (only 1 or 3 are defined for images)")
    if ba not in (1, 8, 16, 32, 64):
        raise DecodeError(f"unsupported Bits Allocated {ba}")
    if not 1 <= bs <= ba or hb < bs - 1 or hb >= ba:
        raise DecodeError(f"inconsistent Bits Stored {bs} / High Bit {hb} / Bits Allocated {ba}")
    pi = str(ds.get("PhotometricInterpretation", "") or ("MONOCHROME2" if samples == 1 else "RGB")).strip()
    return Geometry(rows=rows, columns=cols, samples=samples, planar=_int(ds, "PlanarConfiguration", 0) or 0,
                    bits_allocated=ba, bits_stored=bs, high_bit=hb,
                    signed=(_int(ds, "PixelRepresentation", 0) == 1), photometric=pi.upper(),
                    num_frames=frames)


def fast_path_ok(geom: Geometry) -> bool:
    """Whether :func:`read_native_frame` handles this geometry (else use pydicom)."""
    if geom.bits_allocated not in (8, 16, 32):
        return False
    return geom.photometric != "YBR_FULL_422"  # native 4:2:2 needs resampling (PS3.3 C.7.6.3.1.2)


def mask_stored(arr: np.ndarray, geom: Geometry) -> np.ndarray:
    """Keep only the Bits Stored bits ending at High Bit; sign-extend signed values.

    PS3.5 8.1.1: the pixel value is the Bits Stored bits with the most significant at High
    Bit; bits outside may hold overlay planes or junk and must be ignored.
    """
    ba, bs, hb = geom.bits_allocated, geom.bits_stored, geom.high_bit
    if bs == ba:
        return arr
    unsigned = arr.view(np.dtype(f"u{arr.dtype.itemsize}"))
    low = hb + 1 - bs
    if low:
        unsigned = unsigned >> low
    if not geom.signed:
        masked: np.ndarray = np.bitwise_and(unsigned, (1 << bs) - 1)
        return masked
    shift = ba - bs
    signed: np.ndarray = np.left_shift(unsigned, shift).view(np.dtype(f"i{arr.dtype.itemsize}"))
    np.right_shift(signed, shift, out=signed)  # arithmetic shift: sign extension
    return signed


def read_native_frame(chunk: bytes | bytearray | memoryview, geom: Geometry, big_endian: bool) -> np.ndarray:
    """Turn one frame's bytes (already length-checked and padded) into stored values.

    Returns ``(rows, cols)`` or ``(rows, cols, samples)`` in the native byte order.
    """
    kind = "i" if geom.signed else "u"
    size = geom.bits_allocated // 8
    dtype = np.dtype(f"{'>' if big_endian else '<'}{kind}{size}")
    arr = np.frombuffer(chunk, dtype=dtype, count=geom.rows * geom.columns * geom.samples)
    if big_endian and size > 1:
        arr = arr.astype(dtype.newbyteorder("="))
    if geom.samples == 1:
        arr = arr.reshape(geom.rows, geom.columns)
    elif geom.planar == 1:  # PS3.3 C.7.6.3.1.3: colour-by-plane
        arr = np.ascontiguousarray(arr.reshape(geom.samples, geom.rows, geom.columns).transpose(1, 2, 0))
    else:
        arr = arr.reshape(geom.rows, geom.columns, geom.samples)
    out = mask_stored(arr, geom)
    if out is arr and not out.flags.writeable:
        out = out.copy()
    return out


def frame_byte_range(index: int, geom: Geometry) -> tuple[int, int]:
    """Start and length in bytes of frame ``index`` (byte-aligned formats only)."""
    length = geom.frame_bits // 8
    return index * length, length


def length_warning(actual: int, geom: Geometry) -> str | None:
    """A message if the native Pixel Data length differs from the Image Pixel module."""
    expected = geom.expected_bytes
    if actual < expected:
        per_frame = geom.frame_bits / 8
        complete = int(actual // per_frame) if per_frame else 0
        return (f"Pixel Data is shorter than expected ({actual} of {expected} bytes for "
                f"{geom.num_frames} frame(s) of {geom.rows}x{geom.columns}x{geom.samples} at "
                f"{geom.bits_allocated} bits): {complete} complete frame(s); missing pixels are shown as 0")
    if actual > expected + (expected % 2):
        return f"Pixel Data is longer than expected ({actual} vs {expected} bytes); the extra bytes are ignored"
    return None


def encapsulated_warning(value: bytes) -> str | None:
    """A message if encapsulated Pixel Data ends inside an item (PS3.5 A.4: items of
    (FFFE,E000) tag + 32-bit length), i.e. the file was cut short; else ``None``.

    Only the item headers are walked; the fragments are not decoded.
    """
    import struct

    pos, end = 0, len(value)
    while pos + 8 <= end:
        group, elem, length = struct.unpack_from("<HHL", value, pos)
        if (group, elem) == (0xFFFE, 0xE0DD):  # sequence delimiter
            return None
        if (group, elem) != (0xFFFE, 0xE000):
            return f"encapsulated Pixel Data is malformed at byte {pos} (item tag ({group:04X},{elem:04X}))"
        pos += 8
        if pos + length > end:
            return (f"encapsulated Pixel Data is truncated: the last fragment has {end - pos} of {length} "
                    "bytes; the image may be incomplete")
        pos += length
    return None
