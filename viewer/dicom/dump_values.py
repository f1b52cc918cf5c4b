"""Display text of one element's value for the dump (no Qt).

Text VRs are shown decoded (pydicom applies the Specific Character Set, PS3.5 6.1) with
values of a multi-valued element joined by ``\\`` as in the encoding (PS3.5 6.4). Binary
values follow dcmdump: numbers for US/SS/UL/SL/FL/FD..., hex bytes for OB/UN, hex words for
OW; anything larger than :data:`SUMMARY_THRESHOLD` bytes (Pixel Data, LUT Data, long
OB/OW) is summarised instead of printed.
"""

from __future__ import annotations

import logging
from typing import Any, Literal

from pydicom.dataelem import DataElement
from pydicom.filebase import DicomBytesIO
from pydicom.multival import MultiValue
from pydicom.valuerep import PersonName

log = logging.getLogger(__name__)

#: Binary values longer than this (bytes) are summarised.
SUMMARY_THRESHOLD = 256
#: Text values longer than this (characters) are cut with an ellipsis in the display.
TEXT_LIMIT = 65536

TEXT_VRS = frozenset({"AE", "AS", "CS", "DA", "DS", "DT", "IS", "LO", "LT", "PN", "SH", "ST", "TM",
                      "UC", "UI", "UR", "UT"})
#: VRs whose text is affected by Specific Character Set (PS3.5 6.1.2.3).
CHARSET_VRS = frozenset({"LO", "LT", "PN", "SH", "ST", "UC", "UT"})
NUMBER_VRS = frozenset({"US", "SS", "UL", "SL", "UV", "SV", "FL", "FD"})
BULK_VRS = frozenset({"OB", "OW", "OF", "OD", "OL", "OV", "UN"})
PIXEL_DATA = 0x7FE00010


def _number(v: Any) -> str:
    if isinstance(v, float):
        if v.is_integer() and abs(v) < 1e15:
            return str(int(v))
        return repr(v)
    return str(v)


def _values(value: Any) -> list[Any]:
    if value is None or value == "":
        return []
    if isinstance(value, (list, tuple, MultiValue)):
        return list(value)
    return [value]


def format_pn(pn: PersonName) -> str:
    """``Family^Given^Middle^Prefix^Suffix`` for each of up to three component groups.

    PS3.5 6.2.1: groups are alphabetic, ideographic, phonetic, separated by ``=``; this
    returns the decoded text as stored (trailing empty components are not padded).
    """
    return str(pn)


def pn_components(pn: PersonName) -> dict[str, dict[str, str]]:
    """The five components of each non-empty group of a Person Name (PS3.5 6.2.1.1)."""
    names = ("family", "given", "middle", "prefix", "suffix")
    out: dict[str, dict[str, str]] = {}
    for group in ("alphabetic", "ideographic", "phonetic"):
        text = getattr(pn, group)
        if text:
            parts = text.split("^") + [""] * 5
            out[group] = dict(zip(names, parts[:5]))
    return out


def _pn_group_counts(raw: bytes) -> list[int]:
    # Component groups stored per value, trailing empty ones included (PS3.5 6.2.1.1);
    # pydicom's PersonName drops trailing empty groups.
    return [v.rstrip(b" \0").count(b"=") + 1 for v in raw.split(b"\\")]


def format_value(elem: DataElement, length: int | None = None, raw: bytes | None = None) -> str:
    """Display text of ``elem``'s value (empty string when it has no value).

    ``raw`` is the value as stored, when known; it keeps trailing empty PN groups.
    """
    vr = elem.VR
    value = elem.value
    if vr == "SQ":
        return f"{len(value)} items"
    if elem.tag == PIXEL_DATA or vr in BULK_VRS or vr in ("OB or OW", "US or OW", "US or SS or OW"):
        return _format_bulk(elem, length)
    if vr == "AT":
        return "\\".join(f"({int(t) >> 16:04x},{int(t) & 0xFFFF:04x})" for t in _values(value))
    if vr in NUMBER_VRS or vr in ("US or SS",):
        vals = _values(value)
        if isinstance(value, (bytes, bytearray)):
            return _hex(value)
        text = "\\".join(_number(v) for v in vals)
        return text
    vals = _values(value)
    if vr == "PN":
        texts = [format_pn(v) if isinstance(v, PersonName) else str(v) for v in vals]
        if raw:
            counts = _pn_group_counts(raw)
            if len(counts) == len(texts):
                texts = [t + "=" * max(0, n - 1 - t.count("=")) for t, n in zip(texts, counts)]
        text = "\\".join(texts)
    else:
        text = "\\".join("" if v is None else str(v) for v in vals)
    if len(text) > TEXT_LIMIT:
        return text[:TEXT_LIMIT] + f"... ({len(text)} characters)"
    return text


def _hex(data: bytes | bytearray, word: bool = False, little: bool = True) -> str:
    if word:
        n = len(data) // 2
        order: Literal["little", "big"] = "little" if little else "big"
        return "\\".join(f"{int.from_bytes(data[2 * i:2 * i + 2], order):04x}" for i in range(n))
    return "\\".join(f"{b:02x}" for b in data)


def _format_bulk(elem: DataElement, length: int | None) -> str:
    value = elem.value
    if elem.tag == PIXEL_DATA:
        if getattr(elem, "is_undefined_length", False) or length is None:
            n = len(value) if isinstance(value, (bytes, bytearray)) else 0
            return f"(encapsulated Pixel Data, {n} bytes)"
        return f"(Pixel Data, {length} bytes)"
    if value is None:
        return ""
    if not isinstance(value, (bytes, bytearray)):
        # OF/OD/OL may already be numbers after a JSON round trip.
        vals = _values(value)
        return "\\".join(_number(v) for v in vals[:64]) + ("..." if len(vals) > 64 else "")
    n = len(value)
    if n > SUMMARY_THRESHOLD:
        return f"({n} bytes of {elem.VR} data)"
    return _hex(value, word=elem.VR == "OW")


def encoded_length(elem: DataElement) -> int | None:
    """Value length of an in-memory element, by encoding it (implicit VR LE, even length)."""
    if elem.VR == "SQ":
        return None
    if elem.tag == PIXEL_DATA and isinstance(elem.value, (bytes, bytearray)):
        return len(elem.value) + (len(elem.value) & 1)
    try:
        from pydicom.filewriter import write_data_element

        fp = DicomBytesIO()
        fp.is_little_endian = True
        fp.is_implicit_VR = True
        write_data_element(fp, elem)
        return len(fp.getvalue()) - 8  # tag (4) + 32-bit length (4), PS3.5 7.1.3
    except Exception as exc:  # noqa: BLE001 - a length we cannot compute is shown blank
        log.debug("cannot encode %s: %s", elem.tag, exc)
        return None
