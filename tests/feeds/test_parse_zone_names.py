"""Dates written with a time zone name feedparser does not know ("14:00:00 MSK")."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.feeds.parse import parse_feed
from bot.models import Feed

FETCHED = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
FEED = Feed(url="https://feeds.example/x", name="X", interval_s=600)


def published_rss(date: str) -> datetime:
    body = (
        '<?xml version="1.0"?><rss version="2.0"><channel><title>T</title>'
        f"<item><guid>g</guid><title>Dated</title><pubDate>{date}</pubDate></item>"
        "</channel></rss>"
    )
    (article,) = parse_feed(body.encode(), FEED, FETCHED)
    return article.published


def published_atom(updated: str) -> datetime:
    body = (
        '<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom"><title>T</title>'
        f"<entry><id>g</id><title>Dated</title><updated>{updated}</updated></entry></feed>"
    )
    (article,) = parse_feed(body.encode(), FEED, FETCHED)
    return article.published


def at(hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, 21, hour, minute, tzinfo=UTC)


def test_moscow_time_is_three_hours_ahead_of_utc() -> None:
    # Read as UTC before: three hours late, so "too old to alert" came three hours late.
    assert published_rss("Sat, 21 Nov 2026 14:00:00 MSK") == at(11)


def test_eastern_european_summer_time_is_three_hours_ahead() -> None:
    assert published_rss("Sat, 21 Nov 2026 14:00:00 EEST") == at(11)


@pytest.mark.parametrize(
    ("zone", "read"),
    [
        ("EET", at(12)),
        ("CET", at(13)),
        ("CEST", at(12)),
        ("BST", at(13)),
        ("JST", at(5)),
        ("KST", at(5)),
        ("HKT", at(6)),
        ("SGT", at(6)),
        ("AEST", at(4)),
        ("AEDT", at(3)),
        ("msk", at(11)),  # feeds are not careful about case
    ],
)
def test_common_zone_names_are_read_as_their_offsets(zone: str, read: datetime) -> None:
    assert published_rss(f"Sat, 21 Nov 2026 14:00:00 {zone}") == read


@pytest.mark.parametrize(
    "date", ["21 Nov 2026 14:00:00 MSK", "Sat, 21 Nov 2026 14:00 MSK", "Sat, 21 Nov 26 14:00 MSK"]
)
def test_the_zone_name_is_read_in_the_shorter_forms_feeds_write(date: str) -> None:
    assert published_rss(date) == at(11)


def test_a_numeric_offset_is_unaffected() -> None:
    assert published_atom("2026-11-21T14:00:00+03:00") == at(11)
    assert published_rss("Sat, 21 Nov 2026 14:00:00 +0300 (MSK)") == at(11)
    assert published_rss("Sat, 21 Nov 2026 14:00:00 +0000") == at(14)


@pytest.mark.parametrize(
    ("zone", "read"),
    [
        ("XYZ", at(14)),  # unknown: read as UTC, as before
        ("IST", at(14)),  # India, Ireland or Israel: left as feedparser reads it (UTC)
        ("CST", at(20)),  # feedparser's US Central, not China
        ("MET", at(13)),  # feedparser's own table
    ],
)
def test_unknown_and_ambiguous_names_keep_their_old_reading(zone: str, read: datetime) -> None:
    assert published_rss(f"Sat, 21 Nov 2026 14:00:00 {zone}") == read


def test_a_date_read_through_its_zone_is_still_clamped_when_far_ahead() -> None:
    assert published_rss("Sat, 28 Nov 2026 14:00:00 MSK") == FETCHED
