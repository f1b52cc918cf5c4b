"""Text folding for search: person names, case, accents and wildcards.

A Person Name (PN) value has up to three component groups separated by ``=`` (alphabetic,
ideographic, phonetic; PS3.5 6.2.1.1), each of five components separated by ``^``.
Search matches any group, ignoring case (Unicode case folding) and accents (canonical
decomposition, combining marks dropped), so ``muller`` finds ``Müller^Hans`` and
``やまだ`` finds the phonetic group of ``Yamada^Tarou=山田^太郎=やまだ^たろう``.
"""

from __future__ import annotations

import unicodedata


def fold(text: str) -> str:
    """Case- and accent-insensitive form of ``text`` (NFKD, combining marks dropped, casefolded)."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


def name_groups(value: str) -> tuple[str, str, str]:
    """The alphabetic, ideographic and phonetic component groups of a PN value."""
    groups = (value.split("=") + ["", ""])[:3]
    return groups[0], groups[1], groups[2]


def fold_name(value: str) -> str:
    """The words of every component group of a PN value, folded, each preceded by a space.

    ``"Müller^Hans=ミュラー"`` -> ``" muller hans ミュラー"``; a word-prefix search is then
    ``LIKE '% hans%'``.
    """
    words = fold(value).replace("=", " ").replace("^", " ").replace(",", " ").split()
    return "".join(" " + w for w in words)


def _like_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def word_patterns(query: str) -> list[str]:
    """SQL ``LIKE`` patterns (escape ``\\``) for a name query, one per word; all must match.

    Each word matches the start of a word of the name; ``*`` and ``?`` inside a word are
    wildcards (any run of characters, one character; the DICOM C-FIND wildcards, PS3.4
    C.2.2.2.4). ``"smi jo"`` matches ``Smith^John``; ``"*son"`` matches ``Johnson``.
    """
    words = fold(query).replace("^", " ").replace("=", " ").replace(",", " ").split()
    patterns = []
    for word in words:
        body = _like_escape(word).replace("*", "%").replace("?", "_")
        patterns.append(f"% {body}%")
    return patterns


def like_pattern(text: str) -> str:
    """``LIKE`` pattern (escape ``\\``) matching ``text`` anywhere, with ``*``/``?`` wildcards."""
    body = _like_escape(text.strip()).replace("*", "%").replace("?", "_")
    return f"%{body}%"
