"""Text carried inside encapsulated pixel data, removed for de-identification.

JPEG code streams (ISO/IEC 10918-1 B.2.4: APPn FFE0-FFEF and COM FFFE marker segments;
JPEG-LS, ISO/IEC 14495-1, uses the same markers) and JPEG 2000 code streams (ISO/IEC
15444-1 A.9.2: COM FF64 in the main header) may hold free text a modality wrote: the
patient's name, birth date or ID. PS3.15 E.1.1 asks for identity to be removed wherever
it is; these segments are not needed to decode the image, so they are dropped. Kept: a
JFIF APP0 without thumbnail (JFIF density only) and the Adobe APP14 (its colour
transform flag changes how the pixels decode); neither holds free text.

The entropy-coded data (after SOS, or after the first SOT) is copied unchanged, so the
pixels decode exactly as before.
"""

from __future__ import annotations

import logging
import struct

log = logging.getLogger(__name__)

#: Transfer syntaxes whose fragments are JPEG / JPEG-LS code streams (PS3.5 A.4.1, A.4.3).
JPEG_SYNTAXES = frozenset({"1.2.840.10008.1.2.4.50", "1.2.840.10008.1.2.4.51", "1.2.840.10008.1.2.4.57",
                           "1.2.840.10008.1.2.4.70", "1.2.840.10008.1.2.4.80", "1.2.840.10008.1.2.4.81"})
#: JPEG 2000 and HTJ2K (PS3.5 A.4.4, A.4.11).
J2K_SYNTAXES = frozenset({"1.2.840.10008.1.2.4.90", "1.2.840.10008.1.2.4.91", "1.2.840.10008.1.2.4.201",
                          "1.2.840.10008.1.2.4.202", "1.2.840.10008.1.2.4.203"})

_u16 = struct.Struct(">H").unpack_from


def _keep_app(marker: int, body: bytes) -> bool:
    if marker == 0xE0:
        # JFIF APP0: "JFIF\0", version, units, densities, thumbnail size 0 x 0 (16 bytes, no thumbnail)
        return body[:5] == b"JFIF\x00" and len(body) == 14 and body[12:14] == b"\x00\x00"
    if marker == 0xEE:
        return body[:5] == b"Adobe" and len(body) == 12
    return False


def strip_jpeg(stream: bytes) -> tuple[bytes, int]:
    """``stream`` without APPn / COM segments before the first SOS; (bytes, segments removed).

    Raises ValueError when the stream is not a JPEG code stream (no SOI).
    """
    if stream[:2] != b"\xff\xd8":
        raise ValueError("no SOI marker")
    out = bytearray(b"\xff\xd8")
    pos, removed, end = 2, 0, len(stream)
    while pos + 4 <= end:
        if stream[pos] != 0xFF:
            raise ValueError(f"no marker at byte {pos}")
        marker = stream[pos + 1]
        if marker == 0xFF:  # fill byte
            pos += 1
            continue
        if marker == 0xDA or marker in (0xD8, 0xD9) or 0xD0 <= marker <= 0xD7:  # SOS, SOI/EOI, RSTn
            break
        length = _u16(stream, pos + 2)[0]
        seg_end = pos + 2 + length
        if length < 2 or seg_end > end:
            raise ValueError(f"segment at byte {pos} runs past the end")
        body = stream[pos + 4:seg_end]
        if marker == 0xFE or (0xE0 <= marker <= 0xEF and not _keep_app(marker, body)):
            removed += 1
        else:
            out += stream[pos:seg_end]
        pos = seg_end
    out += stream[pos:]
    return bytes(out), removed


def strip_j2k(stream: bytes) -> tuple[bytes, int]:
    """``stream`` without COM segments of the main header; (bytes, segments removed)."""
    if stream[:2] != b"\xff\x4f":
        raise ValueError("no SOC marker")
    out = bytearray(b"\xff\x4f")
    pos, removed, end = 2, 0, len(stream)
    while pos + 4 <= end:
        marker = _u16(stream, pos)[0]
        if marker == 0xFF90:  # SOT: the first tile-part, the main header ends
            break
        length = _u16(stream, pos + 2)[0]
        seg_end = pos + 2 + length
        if length < 2 or seg_end > end:
            raise ValueError(f"segment at byte {pos} runs past the end")
        if marker == 0xFF64:
            removed += 1
        else:
            out += stream[pos:seg_end]
        pos = seg_end
    out += stream[pos:]
    return bytes(out), removed


def strip_pixel_text(pixel_data: bytes, transfer_syntax: str, number_of_frames: int) -> tuple[bytes, int]:
    """Encapsulated ``pixel_data`` with the text segments of every frame removed.

    Returns the (re-encapsulated) value and the number of segments removed; the value is
    returned unchanged when nothing was removed or the syntax is not JPEG / JPEG 2000.

    Raises
    ------
    ValueError
        A frame is not a code stream of its syntax (the caller refuses the export rather
        than writing text it could not check).
    """
    if transfer_syntax in JPEG_SYNTAXES:
        strip = strip_jpeg
    elif transfer_syntax in J2K_SYNTAXES:
        strip = strip_j2k
    else:
        return pixel_data, 0
    from pydicom.encaps import encapsulate, generate_frames

    frames, total = [], 0
    for frame in generate_frames(pixel_data, number_of_frames=max(1, number_of_frames)):
        if transfer_syntax in J2K_SYNTAXES and frame[:4] == b"\x00\x00\x00\x0c":
            raise ValueError("JP2 file format in a frame: cannot check it for text")
        cleaned, removed = strip(frame)
        frames.append(cleaned)
        total += removed
    if not total:
        return pixel_data, 0
    return encapsulate(frames, has_bot=len(frames) > 1), total
