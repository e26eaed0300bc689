"""Alert and Reply → Discord message payloads (embed dict + content), within every limit.

Pure: no client, no network. The delivery turns the dict into `discord.Embed.from_dict`.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from bot.commands import Reply
from bot.delivery.base import day_label
from bot.delivery.cuts import safe_cut
from bot.delivery.digest import digest_heading, digest_reason, paginate
from bot.delivery.discord.text import ELLIPSIS, fit, fit_keeping_links, one_line, tidy
from bot.delivery.passages import restated_at, shown_at
from bot.models import Alert, Digest, DigestItem, StanceLine

# Discord's limits (https://discord.com/developers/docs/resources/message#embed-object-embed-limits).
CONTENT_MAX = 2000
TITLE_MAX = 256
DESCRIPTION_MAX = 4096
FIELDS_MAX = 25
FIELD_NAME_MAX = 256
FIELD_VALUE_MAX = 1024
FOOTER_MAX = 2048
AUTHOR_MAX = 256
EMBED_TOTAL_MAX = 6000
URL_MAX = 2048  # longer embed URLs are refused with a 400

# Our own shares of those limits, so one long part cannot starve the others.
QUOTE_MAX = 400
# A shift's quote keeps at least this much: a link to the earlier report long enough to
# squeeze it further is left out (the outlet's name stays), never the quote or the date.
SHIFT_QUOTE_MIN = 100
LABEL_MAX = 200
PASSAGE_TOPICS_SHOWN = 3
DESCRIPTION_MIN = 300  # fields are dropped before the summary shrinks below this

# A digest's lines all go in its description; the rest (title, footer) is short, so a part
# stays far under the 6000 total. One item's line is at most about 2,700 characters (the
# longest link Discord takes is 2,048), so any item fits a part of its own.
DIGEST_LINES_MAX = DESCRIPTION_MAX - 96
DIGEST_ITEMS_MAX = 50  # lines per part: past that a list is no longer read
DIGEST_COLOUR = 0x95A5A6

OK_COLOUR = 0x2ECC71
REFUSED_COLOUR = 0xE74C3C
EMPTY = "\u200b"  # Discord refuses empty field names and values

_SNOWFLAKE = re.compile(r"^\d{15,21}$")
_LEFT_OUT = re.compile(r"… and (\d+) more")  # the last line of a list that was shortened


@dataclass(frozen=True)
class RenderedAlert:
    """One Discord message for an alert, plus follow-up messages for extra mentions."""

    embed: dict[str, Any]
    content: str | None  # the follower mentions (never article text)
    mentioned: tuple[str, ...]  # the user ids in `content`: the only mentions allowed
    more: tuple[tuple[str, tuple[str, ...]], ...] = ()  # (content, user ids) beyond 2000 chars


def topic_colour(topic_id: str) -> int:
    """A stable colour per topic (the same on every run and every machine)."""
    return int(hashlib.sha256(topic_id.encode()).hexdigest()[:6], 16)


def usable_url(url: str) -> bool:
    """True when Discord accepts this as an embed or link URL."""
    return (
        url.lower().startswith(("http://", "https://")) and len(url) <= URL_MAX and " " not in url
    )


def _link_target(url: str) -> str | None:
    """The URL as a markdown link target, or None when Discord would not take it."""
    # A ")" or space would end the markdown link early; "@" is encoded so no "@here" shows.
    safe = quote(url.strip(), safe=":/?#[]!$&'*+,;=%~-._")
    return safe if usable_url(safe) else None


def _link(name: str, url: str, name_max: int = 100) -> str:
    label = fit(tidy(name, keep_newlines=False) or "link", name_max)
    target = _link_target(url)
    return f"[{label}]({target})" if target else label


def mention_chunks(user_ids: list[str]) -> list[tuple[str, tuple[str, ...]]]:
    """Mentions of these users as message contents of at most 2000 characters each."""
    chunks: list[tuple[str, tuple[str, ...]]] = []
    ids: list[str] = []
    for user_id in dict.fromkeys(u for u in user_ids if _SNOWFLAKE.match(u)):
        if ids and len(" ".join(f"<@{u}>" for u in [*ids, user_id])) > CONTENT_MAX:
            chunks.append((" ".join(f"<@{u}>" for u in ids), tuple(ids)))
            ids = []
        ids.append(user_id)
    if ids:
        chunks.append((" ".join(f"<@{u}>" for u in ids), tuple(ids)))
    return chunks


def _when(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _before_line(stance: StanceLine, *, linked: bool = True) -> str:
    """A shift's "Before" line: the earlier position, where it was reported (linked to
    that report unless `linked` is False), and when."""
    before = fit(tidy(stance.before_label or "", keep_newlines=False), LABEL_MAX)
    when = day_label(stance.before_date, "earlier")
    name = stance.before_source or "an earlier report"
    source = (
        _link(name, stance.before_url)
        if stance.before_url and linked
        else fit(tidy(name, keep_newlines=False), 100)
    )
    return f"**Before:** *{before}* ({source}, {when})"


def _stance_value(stance: StanceLine, place: str | None = None) -> str:
    """The stance as a field value. A shift's "Before" line is kept whole (its date is
    what makes it a shift): the quote gets the room the value's 1,024 characters leave.
    A restated quote the card already shows (at `place`) is pointed to, not repeated."""
    label = fit(tidy(stance.now_label, keep_newlines=False), LABEL_MAX)
    relayed = ""
    if stance.reported_by:
        relayed = f" (as reported by {fit(tidy(stance.reported_by), 100)})"
    if place and not stance.is_shift:
        return f"*{label}*{relayed} ({place})"
    lead = "**Now:** " if stance.is_shift else ""
    before = "\n" + _before_line(stance) if stance.is_shift else ""
    frame = len(f"{lead}*{label}*{relayed} — “”{before}")
    if frame > FIELD_VALUE_MAX - SHIFT_QUOTE_MIN and stance.is_shift:
        before = "\n" + _before_line(stance, linked=False)
        frame = len(f"{lead}*{label}*{relayed} — “”{before}")
    quote_room = min(QUOTE_MAX, FIELD_VALUE_MAX - frame)
    quote_text = fit(tidy(stance.now_quote, keep_newlines=False), quote_room)
    return f"{lead}*{label}*{relayed} — “{quote_text}”{before}"


def _stance_name(stance: StanceLine) -> str:
    who = f"{one_line(stance.actor_name)} — {one_line(stance.topic_name)}"
    if stance.is_shift:
        return fit(f"Position shifted: {who}", FIELD_NAME_MAX)
    return fit(who, FIELD_NAME_MAX)


def _also_reported(alert: Alert) -> str:
    """The other outlets, linked; one whose link has no room left is named without it."""
    links: list[str] = []
    for index, (source, url) in enumerate(alert.also_reported_by):
        rest = len(alert.also_reported_by) - index - 1
        tail = f", and {rest} more" if rest else ""
        # A name is at most 100 characters, so an outlet whose link is too long for the
        # field is still named rather than counted.
        link = next(
            (
                shown
                for shown in (_link(source, url), _link(source, ""))
                if len(", ".join([*links, shown])) + len(tail) <= FIELD_VALUE_MAX
            ),
            None,
        )
        if link is None:
            left = len(alert.also_reported_by) - index
            return ", ".join(links) + f", and {left} more"
        links.append(link)
    return ", ".join(links)


# Fields carry a priority: when the 6000-character total forces a choice, the
# highest number goes first (restatements before passages, passages before shifts).
_KEEP_TOPICS, _KEEP_SHIFT, _KEEP_PASSAGE, _KEEP_ALSO, _KEEP_RESTATED = range(5)


def _alert_fields(alert: Alert) -> list[tuple[int, str, str]]:
    fields: list[tuple[int, str, str]] = []
    places = {t.topic_id: shown_at(alert, t) for t in alert.topics}
    lines = [
        f"**{fit(tidy(t.topic_name, keep_newlines=False), 150)}** · score {t.score:.2f}"
        + (f" · matched {places[t.topic_id]}" if places[t.topic_id] else "")
        for t in alert.topics[:10]
    ]
    topics = _lines_within(lines, FIELD_VALUE_MAX, left_out=max(0, len(alert.topics) - 10))
    fields.append((_KEEP_TOPICS, "Topics" if len(alert.topics) > 1 else "Topic", topics or EMPTY))
    for topic in alert.topics[:PASSAGE_TOPICS_SHOWN]:
        if topic.passage.strip() and places[topic.topic_id] is None:
            name = fit(f"Matched passage · {one_line(topic.topic_name)}", FIELD_NAME_MAX)
            passage = fit(tidy(topic.passage, keep_newlines=False), QUOTE_MAX * 2)
            fields.append((_KEEP_PASSAGE, name, f"“{passage}”"))
    for stance in alert.shifts:
        fields.append((_KEEP_SHIFT, _stance_name(stance), _stance_value(stance)))
    for stance in alert.stances:
        if not stance.is_shift:
            value = _stance_value(stance, restated_at(alert, stance))
            fields.append((_KEEP_RESTATED, _stance_name(stance), value))
    if alert.also_reported_by:
        fields.append((_KEEP_ALSO, "Also reported by", _also_reported(alert)))
    return fields


def _size(parts: list[str]) -> int:
    return sum(len(p) for p in parts)


def _lines_within(lines: list[str], limit: int, left_out: int = 0) -> str:
    """As many whole lines as fit in `limit`, then "… and N more" for the ones left out."""
    for shown in range(len(lines), -1, -1):
        rest = len(lines) - shown + left_out
        text = "\n".join([*lines[:shown], f"… and {rest} more"] if rest else lines[:shown])
        if len(text) <= limit:
            return text
    return _recut(f"… and {len(lines) + left_out} more", limit)


def _cut_value(value: str, limit: int = FIELD_VALUE_MAX) -> str:
    """A field value within `limit`: cut at a word, with "…". A list ending in
    "… and N more" loses whole lines instead, and that last line counts them."""
    if len(value) <= limit:
        return value
    *lines, last = value.split("\n")
    left_out = _LEFT_OUT.fullmatch(last)
    if lines and left_out:
        return _lines_within(lines, limit, int(left_out.group(1)))
    return _recut(value, limit)


def _cut_name(name: str) -> str:
    """A field name within Discord's 256, cut at a word."""
    return name if len(name) <= FIELD_NAME_MAX else _recut(name, FIELD_NAME_MAX)


def _assemble(
    embed: dict[str, Any],
    description: str,
    fields: list[tuple[int, str, str]],
    note: Callable[[list[tuple[int, str, str]]], tuple[int, str, str] | None] | None = None,
) -> dict[str, Any]:
    """Fit the description and fields into what the rest of the embed leaves of 6000.

    `note`, given the fields that fit, may add one saying what had no room; fields are
    dropped until it fits too.
    """
    fields = [(p, _cut_name(n) or EMPTY, _cut_value(v) or EMPTY) for p, n, v in fields]
    fixed = _size([embed.get("title", ""), embed.get("footer", {}).get("text", "")])
    fixed += len(embed.get("author", {}).get("name", ""))

    def room() -> int:
        return EMBED_TOTAL_MAX - fixed - _size([n + v for _, n, v in fields])

    wanted = min(len(description), DESCRIPTION_MIN)

    def drop_past_limits(count_max: int, extra: int) -> None:
        while fields and len(fields) > count_max:
            fields.remove(max(reversed(fields), key=lambda f: f[0]))
        while fields and room() - extra < wanted:
            fields.remove(max(reversed(fields), key=lambda f: f[0]))

    drop_past_limits(FIELDS_MAX, 0)
    added = note(fields) if note else None
    while added is not None:
        extra = len(added[1]) + len(added[2])
        if len(fields) < FIELDS_MAX and room() - extra >= wanted:
            fields.append(added)
            break
        drop_past_limits(len(fields) - 1, extra)  # make room, then say so again
        added = note(fields) if note else None
    desc = description if len(description) <= room() else _recut(description, max(0, room()))
    if desc:
        embed["description"] = desc
    if fields:
        embed["fields"] = [{"name": n, "value": v, "inline": False} for _, n, v in fields]
    return embed


def _recut(rendered: str, limit: int) -> str:
    """Shorten already-escaped text at a sentence or word end."""
    if limit <= len(ELLIPSIS):
        return ""
    cut = rendered[: safe_cut(rendered, limit - len(ELLIPSIS))]
    for boundary in (". ", "\n", " "):
        at = cut.rfind(boundary)
        if at >= len(cut) // 2:
            cut = cut[: at + 1]
            break
    cut = cut.rstrip()
    if cut.endswith("\\") and not cut.endswith("\\\\"):
        cut = cut[:-1]
    return cut + ELLIPSIS


def render_alert(alert: Alert, *, plain: bool = False) -> RenderedAlert:
    """The embed for an alert, and content mentioning `alert.mentions` (the followers to ping).

    `plain` is the form sent after Discord refused the full one (a 400): no title link
    (the link is a line of text instead), no author line and no timestamp, the parts
    Discord checks beyond their length.
    """
    first_topic = alert.topics[0].topic_id if alert.topics else alert.id
    published = _when(alert.published)
    source = tidy(alert.source, keep_newlines=False) or "unknown source"
    embed: dict[str, Any] = {
        "type": "rich",
        "title": fit(tidy(alert.title, keep_newlines=False) or "(untitled)", TITLE_MAX),
        "color": topic_colour(first_topic),
        "footer": {
            "text": fit(f"{source} · {published:%d %b %Y %H:%M} UTC", FOOTER_MAX, markdown=False)
        },
    }
    if not plain:
        embed["timestamp"] = published.isoformat()
    if alert.shifts and not plain:
        actors = ", ".join(dict.fromkeys(one_line(s.actor_name) for s in alert.shifts))
        embed["author"] = {"name": fit(f"Position shifted: {actors}", AUTHOR_MAX, markdown=False)}
    summary = tidy(alert.summary)
    link_line = ""
    if usable_url(alert.url) and not plain:
        embed["url"] = alert.url
    elif alert.url.strip():
        # Not a link Discord accepts in the title: keep it readable in the text instead.
        # Escaped like any article text: it is shown in the description, which renders
        # markdown ("https://a.example/x [Reuters](https://evil.example)" was a masked link).
        link_line = fit(tidy(alert.url, keep_newlines=False), 512)
    fields = _alert_fields(alert)
    room = DESCRIPTION_MAX - (len(link_line) + 2 if link_line else 0)
    description = fit(summary, room) if summary else ""
    if link_line:
        description = f"{description}\n\n{link_line}".strip()
    embed = _assemble(embed, description, fields, lambda kept: _hidden_shifts(alert, kept))
    chunks = mention_chunks(list(alert.mentions))
    content, mentioned = chunks[0] if chunks else (None, ())
    return RenderedAlert(embed, content, mentioned, tuple(chunks[1:]))


def _hidden_shifts(alert: Alert, kept: list[tuple[int, str, str]]) -> tuple[int, str, str] | None:
    """The field naming the shifts that had no field of their own, or None if none.

    A shift is the news the alert exists for: one left out is at least named, so a
    reader knows to ask `/positions` about it.
    """
    shown = sum(1 for priority, _, _ in kept if priority == _KEEP_SHIFT)
    hidden = alert.shifts[shown:]  # shift fields are dropped from the end
    if not hidden:
        return None
    return (_KEEP_SHIFT, "More position shifts", _not_shown([s.actor_name for s in hidden]))


def render_reply(reply: Reply) -> dict[str, Any]:
    """A command's `Reply` as an embed: title, lines as the description, fields as fields."""
    embed: dict[str, Any] = {
        "type": "rich",
        "title": fit(tidy(reply.title, keep_newlines=False) or EMPTY, TITLE_MAX),
        "color": OK_COLOUR if reply.ok else REFUSED_COLOUR,
    }
    lines = [fit_keeping_links(tidy(line), DESCRIPTION_MAX) for line in reply.lines]
    description = "\n".join(lines)
    if len(description) > DESCRIPTION_MAX:
        description = _recut(description, DESCRIPTION_MAX)
    shown = list(reply.fields)
    if len(shown) > FIELDS_MAX:
        shown = shown[: FIELDS_MAX - 1]  # the last field says what is left out
    fields = [
        (
            index,
            fit(tidy(name, keep_newlines=False), FIELD_NAME_MAX) or EMPTY,
            fit_keeping_links(tidy(value), FIELD_VALUE_MAX) or EMPTY,
        )
        for index, (name, value) in enumerate(shown)
    ]
    embed = _assemble(embed, description, fields)
    kept: list[dict[str, Any]] = embed.get("fields", [])
    # Fields are dropped from the end only, so the ones not shown are those past `kept`.
    if len(kept) < len(reply.fields):
        embed["fields"] = kept
        note = _not_shown([name for name, _ in reply.fields[len(kept) :]])
        while kept and (
            len(kept) >= FIELDS_MAX
            or embed_size(embed) + len(EMPTY) + len(note) + 4 > EMBED_TOTAL_MAX
        ):
            kept.pop()
            note = _not_shown([name for name, _ in reply.fields[len(kept) :]])
        kept.append({"name": EMPTY, "value": note, "inline": False})
    return embed


def _not_shown(names: Sequence[str]) -> str:
    """The "… and N more not shown: …" field value, naming them as far as one value allows:
    a topic, feed or shift left out would otherwise be found nowhere in the message."""
    # Escaped like any field: the names are the watchlist's or a feed's text.
    listed = ", ".join(one_line(name) for name in names)
    return fit(f"… and {len(names)} more not shown: {listed}", FIELD_VALUE_MAX)


def notice_content(text: str) -> str:
    """An admin notice as message content (escaped, within 2000 characters)."""
    return fit(f"Stancewatch: {tidy(text)}", CONTENT_MAX)


def embed_size(embed: dict[str, Any]) -> int:
    """The characters Discord counts toward the 6000 total of one embed."""
    total = len(embed.get("title", "")) + len(embed.get("description", ""))
    total += len(embed.get("footer", {}).get("text", "")) + len(
        embed.get("author", {}).get("name", "")
    )
    return total + sum(len(f["name"]) + len(f["value"]) for f in embed.get("fields", []))


def _names(names: tuple[str, ...], shown: int, limit: int) -> str:
    """Up to `shown` names, escaped, then "and N more", within `limit`."""
    text = ", ".join(one_line(n) for n in names[:shown])
    more = len(names) - shown
    return fit(text + (f" and {more} more" if more > 0 else ""), limit)


def digest_line(item: DigestItem) -> str:
    """One held alert as a digest line: the linked headline, source, topics, markers.

    The link is checked as an alert's is; one Discord would refuse shows as text instead.
    """
    title = fit(tidy(item.title, keep_newlines=False) or "(untitled)", 200)
    target = _link_target(item.url)
    headline = f"[{title}]({target})" if target else title
    if not target and item.url.strip():
        headline += f" ({fit(tidy(item.url, keep_newlines=False), 300)})"
    parts = [f"• {headline}", fit(one_line(item.source) or "unknown source", 80)]
    if item.topic_names:
        parts.append(_names(item.topic_names, 3, 200))
    if item.shifted:
        parts.append("**position shift**")
    if item.also_reported_by:
        parts.append("also " + _names(item.also_reported_by, 3, 150))
    return " · ".join(parts)


def digest_parts(digest: Digest) -> list[Digest]:
    """The digest as parts whose lines fit one embed's description, none left out."""
    return paginate(digest, lambda item: len(digest_line(item)), DIGEST_LINES_MAX, DIGEST_ITEMS_MAX)


def render_digest(digest: Digest) -> RenderedAlert:
    """One digest part (as `digest_parts` cut it) as an embed, mentioning `digest.mentions`."""
    embed: dict[str, Any] = {
        "type": "rich",
        "title": fit(digest_heading(digest), TITLE_MAX, markdown=False),
        "color": DIGEST_COLOUR,
        "description": "\n".join(digest_line(item) for item in digest.items),
        "footer": {"text": fit(digest_reason(digest), FOOTER_MAX, markdown=False)},
    }
    chunks = mention_chunks(list(digest.mentions))
    content, mentioned = chunks[0] if chunks else (None, ())
    return RenderedAlert(embed, content, mentioned, tuple(chunks[1:]))
