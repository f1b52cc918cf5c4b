"""Dates as people type them -> DICOM DA values and ranges (PS3.5 6.2, PS3.4 C.2.2.2.5.1).

The viewer shows dates as ``2003-05-05``; a query form or ``library list --date`` takes
them the same way, and also DICOM's own ``20030505``, ranges (``2003-05-01..2003-05-31``,
``2003-05-01 - 2003-05-31``, ``20030501-20030531``, open ends ``2003-05-01..`` or
``..2003-05-31``) and words (``today``, ``yesterday``, ``last 7 days``, ``last 2 weeks``).
:func:`parse_date_range` returns a :class:`DateRange` whose :meth:`DateRange.dicom` is the
matching value for a C-FIND request: ``YYYYMMDD``, ``YYYYMMDD-YYYYMMDD``, ``YYYYMMDD-`` or
``-YYYYMMDD``. Pure functions: "today" is a parameter.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

_ISO = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")
_DOTTED = re.compile(r"^(\d{4})\.(\d{1,2})\.(\d{1,2})$")  # ACR-NEMA, still on old media
_DA = re.compile(r"^(\d{4})(\d{2})(\d{2})$")
_LAST = re.compile(r"^(?:last|past)\s+(?:(\d+)\s+)?(day|week|month|year)s?$")
_DICOM_RANGE = re.compile(r"^(\d{8})?-(\d{8})?$")
_SEPARATORS = re.compile(r"\s*(?:\.\.|\s-\s|\s+to\s+|–)\s*")


@dataclass(frozen=True)
class DateRange:
    """Inclusive range of DA values (``YYYYMMDD``); an empty end is open."""

    start: str = ""
    end: str = ""

    def dicom(self) -> str:
        """The DA matching value (PS3.4 C.2.2.2.5.1): single date, range or open range."""
        if not self.start and not self.end:
            return ""
        if self.start == self.end:
            return self.start
        return f"{self.start}-{self.end}"

    def __bool__(self) -> bool:
        return bool(self.start or self.end)

    def contains(self, da: str) -> bool:
        """Whether the DA value ``da`` is inside the range (an empty ``da`` never is)."""
        if not da:
            return False
        return (not self.start or da >= self.start) and (not self.end or da <= self.end)


def _da(day: dt.date) -> str:
    return day.strftime("%Y%m%d")


def _months_back(day: dt.date, months: int) -> dt.date:
    month = day.month - 1 - months
    year = day.year + month // 12
    month = month % 12 + 1
    # The same day of the month, or the month's last day (31 March - 1 month = 28/29 February).
    for d in (day.day, 30, 29, 28):
        try:
            return dt.date(year, month, d)
        except ValueError:
            continue
    raise ValueError(f"no date {months} months before {day}")  # unreachable


def parse_date(text: str, today: dt.date) -> dt.date:
    """One date: ``2003-05-05``, ``20030505``, ``2003.05.05``, ``today``, ``yesterday``.

    Raises
    ------
    ValueError
        With a message saying what is accepted.
    """
    word = text.strip().lower()
    if word == "today":
        return today
    if word == "yesterday":
        return today - dt.timedelta(days=1)
    for pattern in (_ISO, _DOTTED, _DA):
        m = pattern.match(word)
        if m:
            try:
                return dt.date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
            except ValueError:
                raise ValueError(f"no such date: {text.strip()!r}") from None
    raise ValueError(f"not a date: {text.strip()!r} (use 2003-05-05, 20030505, today or yesterday)")


def parse_date_range(text: str, today: dt.date | None = None) -> DateRange:
    """A date or range as typed -> :class:`DateRange` (see the module's description).

    Parameters
    ----------
    text
        ``""`` (no restriction), a date, ``last N days|weeks|months|years`` (today
        included), or two of those joined by ``..``, `` - ``, `` to `` or a DICOM ``-``.
    today
        The day ``today`` means (defaults to the local date).

    Raises
    ------
    ValueError
        Text that is none of these, or a range that ends before it starts.
    """
    today = today or dt.date.today()
    raw = text.strip()
    if not raw:
        return DateRange()
    word = " ".join(raw.lower().split())
    m = _LAST.match(word)
    if m:
        n, unit = int(m.group(1) or 1), m.group(2)
        if n < 1:
            raise ValueError(f"{raw!r}: the number of {unit}s must be at least 1")
        if unit == "day":
            start = today - dt.timedelta(days=n - 1)
        elif unit == "week":
            start = today - dt.timedelta(days=7 * n - 1)
        else:
            start = _months_back(today, n if unit == "month" else 12 * n) + dt.timedelta(days=1)
        return DateRange(_da(start), _da(today))
    m = _DICOM_RANGE.match(raw)
    if m and (m.group(1) or m.group(2)):
        first = _da(parse_date(m.group(1), today)) if m.group(1) else ""
        last = _da(parse_date(m.group(2), today)) if m.group(2) else ""
        return _checked(DateRange(first, last), raw)
    parts = _SEPARATORS.split(raw, maxsplit=1)
    if len(parts) == 2:
        first = _da(parse_date(parts[0], today)) if parts[0].strip() else ""
        last = _da(parse_date(parts[1], today)) if parts[1].strip() else ""
        return _checked(DateRange(first, last), raw)
    if raw.startswith(".."):
        return DateRange("", _da(parse_date(raw[2:], today)))
    if raw.endswith(".."):
        return DateRange(_da(parse_date(raw[:-2], today)), "")
    day = _da(parse_date(raw, today))
    return DateRange(day, day)


def _checked(rng: DateRange, raw: str) -> DateRange:
    if rng.start and rng.end and rng.end < rng.start:
        raise ValueError(f"{raw!r}: the range ends before it starts")
    return rng
