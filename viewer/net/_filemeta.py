"""Fast pieces of the C-STORE receive path: the File Meta Information header (PS3.10 7.1)
encoded directly, and the Study/Series Instance UIDs read without parsing the whole data set.

pydicom's general encoder and reader cost a few milliseconds per instance, which is a good
part of the per-instance time when a PACS streams hundreds of small images.
"""

from __future__ import annotations

import struct
from io import BytesIO

from pydicom import dcmread
from pydicom.filereader import read_dataset

_PREAMBLE = b"\x00" * 128 + b"DICM"
_STUDY, _SERIES = 0x0020000D, 0x0020000E
_LITTLE = {"1.2.840.10008.1.2": True, "1.2.840.10008.1.2.1": False}  # value: implicit VR
_BIG = "1.2.840.10008.1.2.2"


def _element(tag: int, vr: bytes, value: bytes) -> bytes:
    """One explicit VR little endian element (PS3.5 7.1.2); file meta is always so (PS3.10 7.1)."""
    group, elem = tag >> 16, tag & 0xFFFF
    if vr in (b"OB", b"OW", b"SQ", b"UN", b"UT"):
        return struct.pack("<HH2sHI", group, elem, vr, 0, len(value)) + value
    return struct.pack("<HH2sH", group, elem, vr, len(value)) + value


def _ui(value: str) -> bytes:
    raw = value.encode("ascii")
    return raw + b"\x00" if len(raw) % 2 else raw  # UI pads with NUL (PS3.5 6.2)


def _text(value: str) -> bytes:
    raw = value.encode("ascii")
    return raw + b" " if len(raw) % 2 else raw


def file_header(sop_class: str, sop_instance: str, transfer_syntax: str, implementation_uid: str,
                implementation_version: str = "") -> bytes:
    """Preamble, ``DICM`` and the File Meta Information group (PS3.10 7.1) as bytes."""
    body = b"".join((
        _element(0x00020001, b"OB", b"\x00\x01"),
        _element(0x00020002, b"UI", _ui(sop_class)),
        _element(0x00020003, b"UI", _ui(sop_instance)),
        _element(0x00020010, b"UI", _ui(transfer_syntax)),
        _element(0x00020012, b"UI", _ui(implementation_uid)),
        _element(0x00020013, b"SH", _text(implementation_version)) if implementation_version else b"",
    ))
    return _PREAMBLE + _element(0x00020000, b"UL", struct.pack("<I", len(body))) + body


def study_series_uids(dataset: bytes, transfer_syntax: str) -> tuple[str, str]:
    """Study and Series Instance UID of an encoded data set (no file meta).

    Reads elements only up to (0020,000E): elements are in ascending tag order (PS3.5 7.1).
    A deflated data set (PS3.5 A.5) is read by pydicom as a whole.
    """
    ts = str(transfer_syntax)
    if ts in _LITTLE or ts == _BIG:
        ds = read_dataset(BytesIO(dataset), _LITTLE.get(ts, False), ts != _BIG,
                          stop_when=lambda tag, vr, length: tag > _SERIES)
    else:
        fp = BytesIO(file_header("1.2", "1.2", ts, "1.2") + dataset)
        ds = dcmread(fp, stop_before_pixels=True, force=True)
    return str(ds.get("StudyInstanceUID", "") or ""), str(ds.get("SeriesInstanceUID", "") or "")


def study_series_uids_early(head: bytes, transfer_syntax: str) -> tuple[str, str] | None:
    """As :func:`study_series_uids` from the first bytes of a data set still arriving, or
    None when they do not yet reach past (0020,000E) (then the values might be cut short).

    Only for the uncompressed transfer syntaxes; a deflated data set is read when complete.
    """
    ts = str(transfer_syntax)
    if ts not in _LITTLE and ts != _BIG:
        return None
    passed = []

    def stop(tag: int, vr: object, length: int) -> bool:
        if tag > _SERIES:
            passed.append(tag)
            return True
        return False

    try:
        ds = read_dataset(BytesIO(head), _LITTLE.get(ts, False), ts != _BIG, stop_when=stop)
    except Exception:  # noqa: BLE001 - cut inside an element: wait for more
        return None
    if not passed:
        return None
    return str(ds.get("StudyInstanceUID", "") or ""), str(ds.get("SeriesInstanceUID", "") or "")


__all__ = ["file_header", "study_series_uids", "study_series_uids_early"]
