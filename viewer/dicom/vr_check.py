"""Check element values against the rules of their VR (PS3.5 6.2, Table 6.2-1).

The dump flags values that break their VR's rules (too long, invalid characters, bad
dates) instead of hiding them; a file in the wild often has such values and a PACS
administrator needs to see them. No Qt.
"""

from __future__ import annotations

import datetime
import re
from typing import Any, Iterable

from pydicom.dataelem import DataElement
from pydicom.multival import MultiValue

#: Maximum length of one value (PS3.5 Table 6.2-1). Counted in characters for the VRs
#: whose definition says "chars" (LO, SH, PN, LT, ST, UC counts are per value).
MAX_LENGTH: dict[str, int] = {
    "AE": 16, "AS": 4, "CS": 16, "DA": 8, "DS": 16, "DT": 26, "IS": 12, "LO": 64,
    "LT": 10240, "SH": 16, "ST": 1024, "TM": 14, "UI": 64,
}
#: PN: 64 characters per component group (PS3.5 Table 6.2-1, PN).
PN_GROUP_MAX = 64

_CS = re.compile(r"[A-Z0-9 _]*\Z")
_DS = re.compile(r" *[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)? *\Z")
_IS = re.compile(r" *[+-]?\d+ *\Z")
_UI = re.compile(r"(0|[1-9]\d*)(\.(0|[1-9]\d*))*\Z")
_AS = re.compile(r"\d{3}[DWMY]\Z")
_TM = re.compile(r"([01]\d|2[0-3])([0-5]\d([0-5]\d|60)?)?(\.\d{1,6})?\Z")
_DT = re.compile(r"\d{4}(\d{2}(\d{2}(\d{2}(\d{2}(\d{2}(\.\d{1,6})?)?)?)?)?)?([+-]\d{4})?\Z")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1a\x1c-\x1f]")  # ESC (1B) allowed for ISO 2022


def _strings(value: Any) -> list[str]:
    if value is None or value == "":
        return []
    if isinstance(value, (list, tuple, MultiValue)):
        return [str(v) for v in value]
    return [str(value)]


def _original(v: Any) -> str:
    # DS/IS keep the string they were read from (pydicom ``original_string``).
    return str(getattr(v, "original_string", None) or v)


def _check_date(text: str) -> str | None:
    if not re.fullmatch(r"\d{8}", text):
        # ACR-NEMA "YYYY.MM.DD" is retired but tolerated (PS3.5 6.2 DA note); flag anyway.
        return f"date {text!r} is not YYYYMMDD"
    try:
        datetime.date(int(text[:4]), int(text[4:6]), int(text[6:]))
    except ValueError:
        return f"date {text!r} does not exist"
    return None


def check_values(vr: str, values: Iterable[str]) -> list[str]:
    """Problems with ``values`` (one string per value) for ``vr``; empty when valid.

    Parameters
    ----------
    vr : str
        Two-letter VR.
    values : iterable of str
        Decoded values (no backslashes inside).
    """
    problems: list[str] = []
    limit = MAX_LENGTH.get(vr)
    for i, text in enumerate(values):
        where = f"value {i + 1}: " if i else ""
        if text == "":
            continue
        if vr == "PN":
            for g, group in enumerate(text.split("=")):
                if len(group) > PN_GROUP_MAX:
                    problems.append(f"{where}PN component group {g + 1} is {len(group)} characters "
                                    f"(max {PN_GROUP_MAX})")
            if text.count("=") > 2:
                problems.append(f"{where}PN has more than 3 component groups")
        elif limit is not None and len(text.rstrip(" ")) > limit:
            problems.append(f"{where}{len(text.rstrip(' '))} characters exceed the {vr} maximum of {limit}")
        if vr in ("LT", "ST", "UT"):
            if _CONTROL.search(text):
                problems.append(f"{where}control character in {vr}")
            continue
        if _CONTROL.search(text):
            problems.append(f"{where}control character in {vr}")
        stripped = text.strip(" ")
        if vr == "CS" and not _CS.match(text.rstrip(" ").lstrip(" ")):
            problems.append(f"{where}CS allows only A-Z, 0-9, space and underscore: {text!r}")
        elif vr == "DA":
            msg = _check_date(stripped)
            if msg:
                problems.append(where + msg)
        elif vr == "TM" and not _TM.match(stripped.replace(":", "")):
            problems.append(f"{where}time {text!r} is not HHMMSS.FFFFFF")
        elif vr == "DT" and not _DT.match(stripped):
            problems.append(f"{where}date-time {text!r} is not YYYYMMDDHHMMSS.FFFFFF&ZZXX")
        elif vr == "DS" and not _DS.match(text):
            problems.append(f"{where}{text!r} is not a decimal string")
        elif vr == "IS":
            if not _IS.match(text):
                problems.append(f"{where}{text!r} is not an integer string")
            elif not -(2**31) <= int(stripped) <= 2**31 - 1:
                problems.append(f"{where}IS {stripped} is out of range")
        elif vr == "UI":
            if not _UI.match(text.rstrip("\0")):
                problems.append(f"{where}UID {text!r} has invalid characters or a leading zero component")
        elif vr == "AS" and not _AS.match(text):
            problems.append(f"{where}age {text!r} is not nnnD/W/M/Y")
        elif vr == "AE" and ("\\" in text or not stripped):
            problems.append(f"{where}invalid AE title {text!r}")
    return problems


def check_element(elem: DataElement) -> tuple[str, ...]:
    """Problems with the value of ``elem`` (see :func:`check_values`)."""
    vr = elem.VR
    if vr not in MAX_LENGTH and vr not in ("PN", "UC", "UR", "UT"):
        return ()
    try:
        values = [_original(v) for v in _strings(elem.value)] if vr in ("DS", "IS") else _strings(elem.value)
        return tuple(check_values(vr, values))
    except Exception as exc:  # noqa: BLE001 - a check must never break the dump
        return (f"cannot check value: {exc}",)
