"""An item's date as feeds write it, read in UTC.

feedparser reads most dates; this module mends what it reads wrong or not at all (zone
names and written offsets it does not know, dates without a zone, other layouts as
`bot.feeds.date_layouts` rewrites them) and refuses dates no news item has (placeholders,
far future), which become the fetch time.
"""

from __future__ import annotations

import email.utils
import re
from datetime import UTC, datetime, timedelta
from typing import Any

from bot.feeds.date_layouts import UNREADABLE, as_rfc822

# Publishers' clocks and time zones drift; beyond a day ahead a date is a mistake, and
# trusting it would pin the article to the top of every "recent" list.
MAX_FUTURE = timedelta(days=1)
# No news feed dates an item before feeds existed: such a date is a placeholder (Go's zero
# time 0001-01-01 from Hugo sites, the Unix epoch from an empty CMS field, a Unix timestamp
# feedparser read as the year 1763). Trusted, it would make the item "too old to alert".
EARLIEST = datetime(1995, 1, 1, tzinfo=UTC)
# Time zone names that news feeds write ("Sat, 21 Nov 2026 14:00:00 MSK") and feedparser
# does not know: it knows UT, GMT, Z, the US zones, MET/MEST and some military letters, and
# reads any other name as UTC, so a Moscow item was dated three hours late. Offsets are
# those of the IANA tz database's zones that use each name today. Each name already says
# standard or summer time (CET in winter, CEST in summer), so one fixed offset is right
# whatever the date. (MSK was +04 from 2011 to 2014; older items are off by an hour.)
# Left out, and read as feedparser reads them: names that mean zones far apart, where a
# guess can be further off than UTC. IST is India (+05:30), Ireland (+01) or Israel (+02);
# CST and AST are US Central and Atlantic to feedparser, China (+08) and Arabia (+03) to
# others. BST is kept as British Summer Time: where it means Bangladesh (+06), +01 is
# still nearer than UTC was.
_ZONE_OFFSETS = {
    "MSK": "+0300",  # Moscow
    "EET": "+0200",  # Eastern Europe (Kyiv, Helsinki, Athens, Bucharest), winter
    "EEST": "+0300",  # Eastern Europe, summer
    "CET": "+0100",  # Central Europe, winter
    "CEST": "+0200",  # Central Europe, summer
    "BST": "+0100",  # British Summer Time
    "JST": "+0900",  # Japan
    "KST": "+0900",  # Korea
    "HKT": "+0800",  # Hong Kong
    "SGT": "+0800",  # Singapore
    "AEST": "+1000",  # Eastern Australia, winter
    "AEDT": "+1100",  # Eastern Australia, summer
}
# An RFC 822 date ending in a time and then a zone name: "… 14:00:00 MSK".
_ZONE_NAME = re.compile(r"^(.*\d)\s+([A-Za-z]{3,4})$")
# An RFC 822 date ending in a time and then an offset written after UTC or GMT ("UTC+3",
# "GMT-05:00", "UT+3"), or a short one ("+3", "+03"). feedparser reads the first as UTC and
# drops the offset, and the mail date reader takes "+3" for three minutes. Four digits
# ("+0300", "GMT+0300") were read right and read the same here.
_WRITTEN_OFFSET = re.compile(
    r"^(.*\d:\d\d(?::\d\d)?)\s*"
    r"(?:(?:UTC|GMT|UT)\s*([+-])(\d{1,2})(?::?(\d\d))?|([+-])(\d{1,2}))$",
    re.IGNORECASE,
)


def published_date(entry: Any, fetched: datetime) -> datetime:
    """The entry's date in UTC; missing, unreadable, placeholder or far-future dates become
    fetch time."""
    field = "published" if dict.get(entry, "published_parsed") is not None else "updated"
    stamp = dict.get(entry, f"{field}_parsed")
    if stamp is not None:
        text = dict.get(entry, field)
    else:
        text = dict.get(entry, "published") or dict.get(entry, "updated")
    rewritten = as_rfc822(text)
    if rewritten is not None:
        # Another layout: feedparser read it wrong or not at all, so its reading is not
        # a fallback. One that names no sure date (11/12/2026) is the fetch time.
        when = None if rewritten == UNREADABLE else _read_rfc822(rewritten)
    else:
        when = _with_written_zone(text)
        if when is None:
            when = _from_struct(stamp) if stamp is not None else _rfc822_without_zone(text)
    if when is None or when < EARLIEST:
        return fetched
    return fetched if when > fetched + MAX_FUTURE else when


def _read_rfc822(text: str) -> datetime | None:
    """An RFC 822 date read as feeds' dates are: zone names and written offsets first."""
    return _with_written_zone(text) or _rfc822_without_zone(text)


def _from_struct(stamp: Any) -> datetime | None:
    """feedparser's parsed date (a UTC struct_time) as an aware datetime; None if invalid."""
    try:
        year, month, day, hour, minute, second = stamp[:6]
        return datetime(year, month, day, hour, minute, second, tzinfo=UTC)
    except (TypeError, ValueError):
        return None


def _with_written_zone(text: str | None) -> datetime | None:
    """An RFC 822 date that ends in a zone name of `_ZONE_OFFSETS`, or in an offset as
    `_WRITTEN_OFFSET` finds it, in UTC; else None.

    feedparser has read such a date already, as UTC (it knows no other offset for the
    name). The name becomes its offset and the date is read again. None leaves the date to
    feedparser's reading: no such name, or a date that does not read with the offset.
    """
    rewritten = _numeric_zone((text or "").strip())
    if rewritten is None:
        return None
    try:
        when = email.utils.parsedate_to_datetime(rewritten)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    return None if when.tzinfo is None else when.astimezone(UTC)


def _numeric_zone(text: str) -> str | None:
    """The date with its zone name or written offset as "+HHMM"; None if it has neither."""
    named = _ZONE_NAME.match(text)
    offset = _ZONE_OFFSETS.get(named.group(2).upper()) if named else None
    if named is not None and offset is not None:
        return f"{named.group(1)} {offset}"
    written = _WRITTEN_OFFSET.match(text)
    if written is None:
        return None
    date, after_name, hours, minutes, short_sign, short_hours = written.groups()
    sign = after_name or short_sign
    return f"{date} {sign}{int(hours or short_hours):02d}{minutes or '00'}"


def _rfc822_without_zone(text: str | None) -> datetime | None:
    """An RSS date feedparser gave up on, such as one without a time zone, read as UTC.

    feedparser returns no date for "Sun, 22 Nov 2026 05:00:00" (a weekday and no zone),
    which would date the item at the fetch. Without a zone the offset is unknown; UTC is
    the usual intent, and a wrong guess is off by hours, where the fetch time can be years.
    """
    if not text:
        return None
    try:
        when = email.utils.parsedate_to_datetime(text.strip())
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)


def as_utc(when: datetime) -> datetime:
    """Aware UTC; a naive datetime is taken to be UTC already."""
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)
