"""Generated news for `stancewatch bench`: varied topical and off-topic items as RSS.

Sentences are built from templates in our own words, with varied actors, places, weapons
and numbers, so the model sees realistic, non-repeating text.
"""

from __future__ import annotations

import email.utils
import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from xml.sax.saxutils import escape

_SPEAKERS = (
    "Kremlin spokesman Dmitry Peskov",
    "Ukraine's foreign minister",
    "President Zelensky",
    "the US secretary of state",
    "a senior White House official",
    "Britain's defence secretary",
    "the French president",
    "Germany's chancellor",
    "NATO's secretary general",
    "Hungary's foreign minister",
    "a Russian deputy foreign minister",
    "a Pentagon spokeswoman",
)
_PLACES = (
    "Brussels", "Kyiv", "Moscow", "Washington", "London", "Paris", "Berlin", "Warsaw",
    "Geneva", "Istanbul", "Riyadh", "Helsinki", "Vilnius", "Budapest", "Rome", "Madrid",
)  # fmt: skip
_DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_WEAPONS = (
    "air-defence interceptors", "artillery shells", "long-range missiles", "armoured vehicles",
    "attack drones", "Patriot batteries", "anti-tank missiles", "F-16 spare parts",
)  # fmt: skip

_TOPICAL = {
    "security-guarantees": (
        "{who} said in {place} on {day} that Ukraine needs binding security guarantees"
        " before any ceasefire.",
        "{who} told reporters that {n} countries were ready to join a reassurance force in"
        " Ukraine after a truce.",
        "{who} rejected any deployment of Western troops on Ukrainian soil as part of a"
        " settlement.",
        "Officials meeting in {place} discussed an Article 5-style guarantee for Kyiv, {who} said.",
        "{who} insisted Moscow must have a say over which states act as guarantors.",
        "Plans for air policing over Ukraine after a deal involve {n} aircraft, according to"
        " {who}.",
    ),
    "arms-shipments": (
        "{who} announced a new aid package of {n} {weapon} for Ukraine on {day}.",
        "Deliveries of {weapon} to Kyiv were paused for {n} days while stocks were reviewed,"
        " {who} said.",
        "{who} said in {place} that Western arms supplies to Ukraine must stop.",
        "The first {weapon} from the latest package reached Ukrainian units on {day}, {who}"
        " confirmed.",
        "{who} pledged to speed up shipments of {weapon} worth {n} million euros.",
    ),
    "nato-membership": (
        "{who} said on {day} that Ukraine's path to NATO membership is irreversible.",
        "{who} demanded in {place} that Kyiv formally drop its bid to join the alliance.",
        "Allies meeting in {place} were split over inviting Ukraine into NATO, {who} said.",
        "{who} argued that neutrality for Ukraine could be written into a peace deal.",
    ),
}
_OFF_TOPIC = (
    "{team} beat {team2} {a}-{b} in {place} on {day} to stay top of the league.",
    "Heavy rain is forecast for {place}, with up to {n} millimetres expected by {day}.",
    "The central bank in {place} held its main interest rate at {a}.{b} percent on {day}.",
    "A new high-speed rail link between {place} and {place2} will open in {year}.",
    "The film festival in {place} opened on {day} with a record {n} screenings.",
    "Researchers in {place} reported a battery that charges in {a} minutes.",
    "Shares in {company} rose {a}.{b} percent after quarterly profit beat forecasts.",
    "Museum attendance in {place} climbed to {n} thousand visitors last year.",
    "Firefighters in {place} contained a blaze that burned {n} hectares of forest.",
    "The marathon in {place} drew {n} runners despite temperatures of {a} degrees.",
)
_TEAMS = ("Rovers", "United", "Athletic", "City", "Wanderers", "Dynamo", "Sporting", "Rangers")
_COMPANIES = ("Nordvik Systems", "Helio Foods", "Carrow Motors", "Bluefin Energy", "Tessaro")
NEW_ITEM = (
    "Pentagon announces new package of air-defence interceptors for Ukraine",
    "The Pentagon announced a new package of artillery shells and air-defence interceptors"
    " for Ukraine on Friday. Washington said the first deliveries of the missiles would reach"
    " Kyiv's armed forces within weeks. Officials added that further military aid to Ukraine"
    " was being prepared.",
)


@dataclass(frozen=True)
class Item:
    """One generated feed item."""

    guid: str
    title: str
    text: str
    published: datetime


def _fill(template: str, rng: random.Random) -> str:
    values = {
        "who": rng.choice(_SPEAKERS),
        "place": rng.choice(_PLACES),
        "place2": rng.choice(_PLACES),
        "day": rng.choice(_DAYS),
        "weapon": rng.choice(_WEAPONS),
        "n": rng.randint(2, 9_999),
        "a": rng.randint(1, 9),
        "b": rng.randint(0, 9),
        "year": rng.randint(2026, 2035),
        "team": rng.choice(_TEAMS),
        "team2": rng.choice(_TEAMS),
        "company": rng.choice(_COMPANIES),
    }
    text = template.format(**values)
    return text[0].upper() + text[1:]


def generate_items(n: int, rng: random.Random, prefix: str) -> list[Item]:
    """`n` varied news items: about 40% on a tracked topic, the rest off-topic."""
    now = datetime.now(UTC).replace(microsecond=0)
    items = []
    for i in range(n):
        if rng.random() < 0.4:
            pool: Sequence[str] = _TOPICAL[rng.choice(sorted(_TOPICAL))]
        else:
            pool = _OFF_TOPIC
        sentences = [_fill(rng.choice(pool), rng) for _ in range(rng.randint(3, 6))]
        if rng.random() < 0.5:  # a stray off-topic line, as real articles have
            sentences.append(_fill(rng.choice(_OFF_TOPIC), rng))
        title = sentences[0].rstrip(".")
        published = now - timedelta(minutes=5 * i + rng.randint(0, 4))
        items.append(Item(f"{prefix}-{i}", title, " ".join(sentences[1:]), published))
    return items


def render_rss(name: str, link: str, items: Sequence[Item]) -> bytes:
    """An RSS 2.0 document for the items."""
    parts = [
        '<?xml version="1.0" encoding="utf-8"?>\n<rss version="2.0"><channel>',
        f"<title>{escape(name)}</title><link>{escape(link)}</link>",
        "<description>Generated by stancewatch bench</description>",
    ]
    for item in items:
        url = f"{link}/{item.guid}"
        parts.append(
            f"<item><title>{escape(item.title)}</title><link>{escape(url)}</link>"
            f'<guid isPermaLink="false">{escape(item.guid)}</guid>'
            f"<pubDate>{email.utils.format_datetime(item.published)}</pubDate>"
            f"<description>{escape(item.text)}</description></item>"
        )
    parts.append("</channel></rss>")
    return "".join(parts).encode()
