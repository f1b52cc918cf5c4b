"""Specific Character Set (0008,0005): names and checks (PS3.3 C.12.1.1.2, PS3.5 6.1). No Qt.

Decoding itself is pydicom's (``pydicom.charset``), which handles single-byte sets,
ISO 2022 code extensions with escape sequences (IR 87, IR 13, IR 149, ...), UTF-8 and
GB18030. This module names the defined terms for people and flags the mistakes found
in the wild: unknown terms, a multi-valued set whose terms cannot use code extensions,
and non-ASCII bytes in a data set that declares no character set.
"""

from __future__ import annotations

from typing import Iterable

from pydicom.charset import python_encoding

#: Human names of the defined terms (PS3.3 Table C.12-2, C.12-3, C.12-4, C.12-5).
DESCRIPTIONS: dict[str, str] = {
    "": "Default repertoire (ISO-IR 6, ASCII)",
    "ISO_IR 6": "Default repertoire (ASCII)",
    "ISO_IR 100": "Latin alphabet No. 1", "ISO_IR 101": "Latin alphabet No. 2",
    "ISO_IR 109": "Latin alphabet No. 3", "ISO_IR 110": "Latin alphabet No. 4",
    "ISO_IR 144": "Cyrillic", "ISO_IR 127": "Arabic", "ISO_IR 126": "Greek", "ISO_IR 138": "Hebrew",
    "ISO_IR 148": "Latin alphabet No. 5", "ISO_IR 203": "Latin alphabet No. 9",
    "ISO_IR 13": "Japanese (JIS X 0201 Katakana/Romaji)", "ISO_IR 166": "Thai",
    "ISO_IR 192": "Unicode in UTF-8", "GB18030": "Chinese GB 18030", "GBK": "Chinese GBK",
    "ISO 2022 IR 6": "ASCII (code extensions)", "ISO 2022 IR 100": "Latin-1 (code extensions)",
    "ISO 2022 IR 101": "Latin-2 (code extensions)", "ISO 2022 IR 109": "Latin-3 (code extensions)",
    "ISO 2022 IR 110": "Latin-4 (code extensions)", "ISO 2022 IR 144": "Cyrillic (code extensions)",
    "ISO 2022 IR 127": "Arabic (code extensions)", "ISO 2022 IR 126": "Greek (code extensions)",
    "ISO 2022 IR 138": "Hebrew (code extensions)", "ISO 2022 IR 148": "Latin-5 (code extensions)",
    "ISO 2022 IR 203": "Latin-9 (code extensions)", "ISO 2022 IR 13": "Japanese Katakana (code extensions)",
    "ISO 2022 IR 166": "Thai (code extensions)", "ISO 2022 IR 87": "Japanese Kanji (JIS X 0208)",
    "ISO 2022 IR 159": "Japanese supplementary Kanji (JIS X 0212)", "ISO 2022 IR 149": "Korean (KS X 1001)",
    "ISO 2022 IR 58": "Simplified Chinese (GB 2312)",
}
#: Terms that forbid code extensions, so may not be combined with others (PS3.3 C.12.1.1.2).
NO_EXTENSIONS = frozenset({"ISO_IR 192", "GB18030", "GBK"})


def terms(value: str | Iterable[str] | None) -> list[str]:
    """The defined terms of a Specific Character Set value (a leading empty term is kept)."""
    if value is None:
        return []
    if isinstance(value, str):
        return [v.strip() for v in value.split("\\")]
    return [str(v).strip() for v in value]


def describe(value: str | Iterable[str] | None) -> str:
    """``"ISO 2022 IR 13\\ISO 2022 IR 87"`` -> ``"Japanese Katakana (code extensions) + Japanese Kanji ..."``."""
    names = [DESCRIPTIONS.get(t, f"unknown term {t!r}") for t in terms(value)]
    return " + ".join(names) if names else DESCRIPTIONS[""]


def check_charset(value: str | Iterable[str] | None) -> list[str]:
    """Problems with a Specific Character Set value; empty when every term is usable."""
    found = terms(value)
    problems = []
    for t in found:
        if t and t not in python_encoding:
            problems.append(f"unknown Specific Character Set term {t!r} (PS3.3 C.12.1.1.2)")
    if len(found) > 1:
        bad = [t for t in found if t in NO_EXTENSIONS]
        if bad:
            problems.append(f"{', '.join(bad)} cannot be combined with other terms (no code extensions)")
        if any(t and not t.startswith("ISO 2022") for t in found):
            problems.append("a multi-valued Specific Character Set must use ISO 2022 terms")
    return problems


def undeclared_non_ascii(raw: bytes | None, declared: bool) -> str | None:
    """A message when ``raw`` holds bytes above 0x7F but no character set was declared."""
    if declared or not raw:
        return None
    if any(b > 0x7F for b in raw):
        return "non-ASCII bytes but no Specific Character Set (default repertoire is ASCII, PS3.5 6.1.2.2)"
    return None
