"""Dates written in layouts feedparser misses or misreads: day.month.year as German and
Russian feeds write them, year/month/day, US month-first dates and 12-hour clocks."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tests.feeds.test_parse_zone_names import FETCHED
from tests.feeds.test_parse_zone_names import published_rss as published


def at(hour: int, minute: int = 0, day: int = 21, month: int = 11) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=UTC)


@pytest.mark.parametrize(
    ("date", "read"),
    [
        # The fetch time before: a day late on a feed polled once a day.
        ("21.11.2026 14:00", at(14)),
        ("21.11.2026", at(0)),
        ("21.11.2026 14:00:30", datetime(2026, 11, 21, 14, 0, 30, tzinfo=UTC)),
        # Dots are always day first: no feed writes month.day.year with dots.
        ("05.11.2026 14:00", at(14, day=5)),
        # feedparser read this as 1 November, midnight.
        ("2026/11/21 14:00", at(14)),
        ("2026-11-21 14:00:00", at(14)),
        ("21 November 2026 14:00 GMT", at(14)),
        # feedparser read these as midnight: a zone name after an ISO date drops its time.
        ("2026-11-21 14:00 UTC", at(14)),
        ("2026-11-21 14:00:00 GMT", at(14)),
        ("2026-11-21 14:00 MSK", at(11)),
    ],
)
def test_numeric_and_day_first_layouts_are_read(date: str, read: datetime) -> None:
    assert published(date) == read


@pytest.mark.parametrize(
    ("date", "read"),
    [
        # The fetch time before (feedparser reads no US month-first date).
        ("November 21, 2026 2:00 PM EST", at(19)),
        ("Nov 21, 2026, 2:00 p.m. ET", at(19)),
        ("November 21, 2026 at 9:30 a.m. PT", at(17, 30)),
        ("Nov 21, 2026", at(0)),
        # Read as 02:00 before: "PM" was dropped.
        ("Sat, 21 Nov 2026 2:00 PM GMT", at(14)),
        ("Sat, 21 Nov 2026 02:00:00 pm +0000", at(14)),
        ("Sat, 21 Nov 2026 12:30 AM GMT", at(0, 30)),
        ("Sat, 21 Nov 2026 12:05 PM GMT", at(12, 5)),
    ],
)
def test_us_layouts_and_twelve_hour_clocks_are_read(date: str, read: datetime) -> None:
    assert published(date) == read


def test_eastern_time_follows_daylight_saving() -> None:
    # "ET" is EDT (-4) in summer and EST (-5) in winter.
    assert published("Jul 21, 2026, 2:00 p.m. ET") == at(18, month=7)


@pytest.mark.parametrize(
    ("date", "read"),
    [
        ("21.11.2026 14:00 MSK", at(11)),
        ("21.11.2026 14:00 CET", at(13)),
        ("2026/11/21 14:00 +0300", at(11)),
        ("2026/11/21 14:00 UTC+3", at(11)),
        ("21.11.2026 14:00 IST", at(14)),  # India, Ireland or Israel: UTC, as elsewhere
    ],
)
def test_zone_names_and_offsets_are_read_as_in_other_dates(date: str, read: datetime) -> None:
    assert published(date) == read


@pytest.mark.parametrize(
    ("date", "read"),
    [
        ("21/11/2026 14:00", at(14)),  # 21 can only be the day
        ("11/21/2026 2:00 PM", at(14)),
        ("11/11/2026", at(0, day=11)),  # the same either way
    ],
)
def test_a_slashed_date_is_read_when_only_one_order_makes_sense(date: str, read: datetime) -> None:
    assert published(date) == read


@pytest.mark.parametrize(
    "date",
    [
        "11/12/2026 14:00",  # 11 December in Berlin, 12 November in New York
        "31.02.2026 14:00",  # no such day
        "21.11.2026 25:00",
        "Nov 21, 2026 13:00 PM EST",
        "soon",
    ],
)
def test_a_date_that_cannot_be_read_for_sure_is_the_fetch_time(date: str) -> None:
    assert published(date) == FETCHED
