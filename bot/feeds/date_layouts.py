"""Feed dates in layouts feedparser misses or misreads, rewritten as RFC 822 dates.

feedparser reads RFC 822 and ISO 8601. Feeds also write "21.11.2026 14:00" (German and
Russian sites), "2026/11/21 14:00", "November 21, 2026 2:00 PM EST" (US sites) and
12-hour clocks: feedparser gave no date for the first and third (the item was dated at
the fetch), took the second for 1 November and "2:00 PM" for 02:00. This module only
rewrites such a date as "21 Nov 2026 14:00:00 EST"; `bot.feeds.dates` reads the result
as it reads any RFC 822 date, so zone names and offsets mean the same in every layout.
"""

from __future__ import annotations

import re
from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

# What `as_rfc822` returns for a text in one of these layouts that names no date for sure
# (31.02, 13:00 PM, 11/12 with no way to tell the day): the caller's fetch time, never
# another reader's guess at it.
UNREADABLE = ""

_MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)
# US sites write "ET" for Eastern time whatever the season; which offset it is depends on
# the date, so these go through the tz database rather than a fixed table.
_SEASONAL_ZONES = {
    "ET": "America/New_York",
    "CT": "America/Chicago",
    "MT": "America/Denver",
    "PT": "America/Los_Angeles",
}
# Winter offsets, for a system without a tz database (Python on Windows without tzdata).
_STANDARD_OFFSETS = {"ET": "-0500", "CT": "-0600", "MT": "-0700", "PT": "-0800"}

_WEEKDAY = r"(?:(?:mon|tue|wed|thu|fri|sat|sun)[a-z]*\.?,?\s+)?"
_MONTH_NAME = r"[a-z]{3,9}\.?"
_DATE = (
    rf"(?:(?P<dot_day>\d{{1,2}})\.(?P<dot_month>\d{{1,2}})\.(?P<dot_year>\d{{4}})"
    rf"|(?P<ymd_year>\d{{4}})(?P<ymd_sep>[/.-])(?P<ymd_month>\d{{1,2}})(?P=ymd_sep)(?P<ymd_day>\d{{1,2}})"
    rf"|(?P<slash_first>\d{{1,2}})/(?P<slash_second>\d{{1,2}})/(?P<slash_year>\d{{4}})"
    rf"|(?P<dmy_day>\d{{1,2}})(?:st|nd|rd|th)?\s+(?P<dmy_month>{_MONTH_NAME}),?\s+(?P<dmy_year>\d{{4}})"
    rf"|(?P<mdy_month>{_MONTH_NAME})\s+(?P<mdy_day>\d{{1,2}})(?:st|nd|rd|th)?,?\s+(?P<mdy_year>\d{{4}}))"
)
_TIME = (
    r"(?:,?\s+(?:at\s+)?(?P<hour>\d{1,2})(?::(?P<minute>\d\d)(?::(?P<second>\d\d))?)?"
    r"\s*(?P<half>[ap]\.?\s?m\.?)?)?"
)
_ZONE = r"(?:\s*(?P<zone>(?:utc|gmt|ut)?\s*[+-]\d{1,2}(?::?\d\d)?|[a-z]{2,5}))?"
_LAYOUT = re.compile(rf"^{_WEEKDAY}{_DATE}{_TIME}{_ZONE}$", re.IGNORECASE)


def as_rfc822(text: str | None) -> str | None:
    """The date rewritten as "21 Nov 2026 14:00:00[ zone]"; `UNREADABLE` when it is in one
    of these layouts but names no sure date; None when feedparser's reading stands."""
    found = _LAYOUT.match(" ".join((text or "").split()))
    if found is None or _read_right_by_feedparser(found):
        return None
    date = _year_month_day(found)
    clock = _hour_minute_second(found)
    if date is None or clock is None:
        return UNREADABLE
    year, month, day = date
    hour, minute, second = clock
    try:
        local = datetime(year, month, day, hour, minute, second)
    except ValueError:
        return UNREADABLE
    zone = _zone(found["zone"], local)
    stamp = f"{day:02d} {_MONTHS[month - 1][:3]} {year} {hour:02d}:{minute:02d}:{second:02d}"
    return f"{stamp} {zone}" if zone else stamp


def _read_right_by_feedparser(found: re.Match[str]) -> bool:
    """True for an RFC 822 ("21 Nov 2026 14:00 GMT") or ISO ("2026-11-21 14:00") date on a
    24-hour clock: feedparser reads them, and knows a few zone names (MET) the mail date
    reader does not. Not for an ISO date followed by a zone name ("2026-11-21 14:00 UTC"),
    which feedparser reads as midnight."""
    if found["half"]:
        return False
    if found["ymd_sep"] == "-":
        return not re.search(r"[a-z]", found["zone"] or "", re.IGNORECASE)
    return bool(found["dmy_year"])


def _year_month_day(found: re.Match[str]) -> tuple[int, int, int] | None:
    """The date's year, month and day; None for a month name that is none, or a slashed
    date whose order cannot be told."""
    if found["dot_year"]:
        # Dotted dates are day first wherever they are written (Germany, Russia, Ukraine).
        return int(found["dot_year"]), int(found["dot_month"]), int(found["dot_day"])
    if found["ymd_year"]:
        return int(found["ymd_year"]), int(found["ymd_month"]), int(found["ymd_day"])
    if found["slash_year"]:
        return _slashed(int(found["slash_first"]), int(found["slash_second"]), found)
    name, day, year = (
        (found["dmy_month"], found["dmy_day"], found["dmy_year"])
        if found["dmy_year"]
        else (found["mdy_month"], found["mdy_day"], found["mdy_year"])
    )
    month = _month_number(name)
    return None if month is None else (int(year), month, int(day))


def _slashed(first: int, second: int, found: re.Match[str]) -> tuple[int, int, int] | None:
    """A day/month or month/day date, read only when one order alone makes a date.

    11/12/2026 is 11 December in Europe and 12 November in the US, and a feed's language
    does not settle it (English feeds are written both ways): a guess could be a month
    off, while the fetch time is off by the feed's delay.
    """
    year = int(found["slash_year"])
    if first == second or second > 12:
        return year, first, second
    if first > 12:
        return year, second, first
    return None


def _month_number(name: str) -> int | None:
    """1-12 for an English month name or its abbreviation ("Nov", "Sept."), else None."""
    word = name.rstrip(".").lower()
    for number, month in enumerate(_MONTHS, start=1):
        if word in (month.lower(), month[:3].lower()) or (number == 9 and word == "sept"):
            return number
    return None


def _hour_minute_second(found: re.Match[str]) -> tuple[int, int, int] | None:
    """The time on a 24-hour clock (midnight when none is given); None for one that is no
    time on its clock (13:00 PM) or an hour without minutes and without AM or PM."""
    if found["hour"] is None:
        return 0, 0, 0
    hour, half = int(found["hour"]), (found["half"] or "").lower()
    minute, second = int(found["minute"] or 0), int(found["second"] or 0)
    if not half:
        return None if found["minute"] is None else (hour, minute, second)
    if not 1 <= hour <= 12:
        return None
    # 12 AM is midnight and 12 PM noon: the hour counts from 12, not from 0.
    return hour % 12 + (12 if half.startswith("p") else 0), minute, second


def _zone(written: str | None, local: datetime) -> str:
    """The zone as the RFC 822 reader takes it: a name as written, an offset as "+HHMM",
    and a US seasonal name ("ET") as the offset it had on that date."""
    if not written:
        return ""
    zone = "".join(written.split()).upper()
    if zone in _SEASONAL_ZONES:
        return _seasonal_offset(zone, local)
    offset = re.fullmatch(r"(?:UTC|GMT|UT)?([+-])(\d{1,2}):?(\d\d)?", zone)
    if offset is None:
        return zone
    sign, hours, minutes = offset.groups()
    return f"{sign}{int(hours):02d}{minutes or '00'}"


def _seasonal_offset(zone: str, local: datetime) -> str:
    """The offset of a US zone at this local time, as "-0500"."""
    try:
        tz = ZoneInfo(_SEASONAL_ZONES[zone])
    except ZoneInfoNotFoundError:
        return _STANDARD_OFFSETS[zone]
    return local.replace(tzinfo=tz).strftime("%z")
