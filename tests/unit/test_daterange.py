"""Dates as typed in the query form and ``library list --date`` -> DICOM DA ranges (PS3.4 C.2.2.2.5.1)."""

from __future__ import annotations

import datetime as dt

import pytest

from viewer.dicom.daterange import DateRange, parse_date_range

TODAY = dt.date(2026, 3, 31)


@pytest.mark.parametrize("text, expected", [
    ("", ""),
    ("2003-05-05", "20030505"),
    ("20030505", "20030505"),
    ("2003.05.05", "20030505"),
    ("2003-5-5", "20030505"),
    ("today", "20260331"),
    ("Yesterday", "20260330"),
    ("last 7 days", "20260325-20260331"),
    ("last 1 day", "20260331"),
    ("last 2 weeks", "20260318-20260331"),
    ("last month", "20260301-20260331"),
    ("last week", "20260325-20260331"),
    ("last 1 month", "20260301-20260331"),
    ("past 1 year", "20250401-20260331"),
    ("2003-05-01..2003-05-31", "20030501-20030531"),
    ("2003-05-01 - 2003-05-31", "20030501-20030531"),
    ("2003-05-01 to 2003-05-31", "20030501-20030531"),
    ("20030501-20030531", "20030501-20030531"),
    ("20030501-", "20030501-"),
    ("-20030531", "-20030531"),
    ("2003-05-01..", "20030501-"),
    ("..2003-05-31", "-20030531"),
    ("2003-05-01..today", "20030501-20260331"),
])
def test_parse(text: str, expected: str | None) -> None:
    if expected is None:
        with pytest.raises(ValueError):
            parse_date_range(text, TODAY)
    else:
        assert parse_date_range(text, TODAY).dicom() == expected


@pytest.mark.parametrize("text", ["2003-02-30", "05/05/2003", "tomorrowish", "2003-05-31..2003-05-01", "last 0 days"])
def test_refused_with_a_message(text: str) -> None:
    with pytest.raises(ValueError, match=r"\S"):
        parse_date_range(text, TODAY)


def test_month_end_clamped() -> None:
    # 31 March minus one month is the end of February (leap year 2024: the 29th).
    assert parse_date_range("last 1 month", dt.date(2024, 3, 31)).dicom() == "20240301-20240331"


def test_contains() -> None:
    rng = DateRange("20030501", "")
    assert rng.contains("20030501") and rng.contains("20991231")
    assert not rng.contains("20030430") and not rng.contains("")
