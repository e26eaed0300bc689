"""Alerts and command replies as Block Kit blocks plus a plain `text` fallback (pure: no I/O).

Everything that comes from an article is cleaned, escaped (`&`, `<`, `>` and the mrkdwn
markers: asterisk, underscore, tilde, backtick) and cut to size here, so no `<!channel>`-style
token, stray formatting or oversized field can reach Slack.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from bot.commands import Reply
from bot.delivery.base import day_label
from bot.delivery.cuts import safe_cut
from bot.delivery.digest import digest_heading, digest_reason, paginate
from bot.delivery.passages import restated_at, shown_at
from bot.models import Alert, Digest, DigestItem, StanceLine, TopicLine

# The one slash command; Stancewatch's commands are its subcommands.
COMMAND = "/stancewatch"
# The core's answers and admin notices name a command the way Discord has it ("/topics
# lists every topic", "see /feeds"); in Slack each one is a subcommand of /stancewatch. Not
# inside a path or a link.
_COMMAND_NAMED = re.compile(
    r"(?<![\w/.:-])/(follow|unfollow|following|topics|positions|recent|why|feeds|reload)\b"
)


def in_slack_spelling(text: str) -> str:
    """The text with each command it names spelled as Slack members type it
    ("/stancewatch feeds" for "/feeds")."""
    return _COMMAND_NAMED.sub(rf"{COMMAND} \1", text)


Block = dict[str, Any]

# Slack's documented limits.
MAX_BLOCKS = 50
MAX_SECTION = 3000
MAX_HEADER = 150
MAX_CONTEXT_ELEMENTS = 10
# Our own budgets, chosen so a card stays well under the ~12,000 characters Slack accepts in
# one message: block text ≤ 8,000 plus a fallback ≤ 2,500. Per-part caps keep any one
# article field from crowding out the rest; lower-priority blocks are dropped, never cut.
CARD_BUDGET = 8000
MAX_FALLBACK = 2500
MAX_TOPICS = 3
MAX_SHIFTS = 3
MAX_RESTATEMENTS = 4
MAX_ALSO = 5
MAX_MENTIONS = 50  # followers mentioned in the card itself (≈750 chars); the rest, in its thread
# Characters per follow-up message of mentions: the section limit, and under the 4,000 that
# Slack advises for a message's text, so about 200 followers per message.
MAX_FOLLOWUP = 3000
MAX_URL = 600  # a longer URL is shown as text, not linked
# A digest part: its item lines packed into sections of at most DIGEST_SECTION characters,
# DIGEST_LINES in all, which leaves the header, the mentions (≈750) and the context line
# room inside CARD_BUDGET. One line is at most about 1,300 (a 600-character link, a
# 200-character headline, names), so every item fits a part of its own.
DIGEST_SECTION = MAX_SECTION - 100
DIGEST_LINES = CARD_BUDGET - 1500
DIGEST_ITEMS = 40  # lines per part: past that a list is no longer read

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
# Bidirectional embeddings, overrides and isolates: in article text they can reverse how the
# rest of the line reads ("\u202e" makes "gpj.exe" show as "exe.jpg"), so they are dropped.
_BIDI = re.compile(r"[\u202a-\u202e\u2066-\u2069]")
_SPACE = re.compile(r"\s+")
# Slack turns these into pings when a client sends them with link_names; a word joiner
# after "@" keeps them readable but inert.
_BROADCAST = re.compile(r"@(?=(channel|here|everyone)\b)", re.IGNORECASE)
_USER_ID = re.compile(r"^[UW][A-Z0-9]{2,20}$")
# mrkdwn has no escape character. A marker between two letters or digits never formats
# ("SLACK_ADMIN_USERS"), so it is left alone; any other one becomes a look-alike that Slack
# does not read as markup (the look-alikes jsx-slack uses, fullwidth markers included: Slack
# reads those as markup too). Zero-width spaces would not do: around a marker they are what
# *enables* formatting mid-word.
_LOOKALIKE = {
    "*": "\u2217",  # ∗ asterisk operator
    "\uff0a": "\ufe61",  # ＊ → ﹡ small asterisk
    "_": "\u02cd",  # ˍ modifier letter low macron
    "\uff3f": "\u2e0f",  # ＿ → ⸏ paragraphos
    "~": "\u223c",  # ∼ tilde operator
    "`": "\u02cb",  # ˋ modifier letter grave accent
    "\uff40": "\u02cb",  # ｀ → ˋ
}
_MARKER = re.compile("[" + re.escape("".join(_LOOKALIKE)) + "]")
# Links in article text stay as they are: Slack makes links of them, and a look-alike would
# point the link somewhere else.
_URL = re.compile(r"https?://[^\s<>\"']+", re.IGNORECASE)
# "> " at a line start makes a quote; a soft hyphen in front (invisible) stops it.
_QUOTE = re.compile(r"^(?=&gt;|\uff1e)", re.MULTILINE)


@dataclass(frozen=True)
class SlackMessage:
    """A message ready for chat.postMessage, chat.update, a webhook or a response_url."""

    text: str
    blocks: list[Block] = field(default_factory=list)

    def payload(self) -> dict[str, Any]:
        """The keyword arguments Slack's clients take (no `blocks` key when there are none)."""
        return {"text": self.text, "blocks": self.blocks} if self.blocks else {"text": self.text}


def slack_len(text: str) -> int:
    """Length as Slack may count it (UTF-16 code units: an emoji counts two)."""
    return len(text.encode("utf-16-le")) // 2


def clean(text: str, keep_newlines: bool = False) -> str:
    """Drop control and bidi characters and collapse whitespace (one line, unless asked)."""
    text = _CONTROL.sub(" ", _BIDI.sub("", text))
    if keep_newlines:
        return "\n".join(_SPACE.sub(" ", line).strip() for line in text.split("\n")).strip()
    return _SPACE.sub(" ", text).strip()


def _lookalike(match: re.Match[str]) -> str:
    """The look-alike for a matched marker, or the marker itself inside a word."""
    text, at = match.string, match.start()
    before = text[at - 1] if at > 0 else ""
    after = text[at + 1] if at + 1 < len(text) else ""
    if before.isalnum() and after.isalnum():
        return match.group(0)  # inside a word: never a marker
    return _LOOKALIKE[match.group(0)]


def _unmark(text: str) -> str:
    """Text whose mrkdwn markers show as written, links left intact."""
    parts: list[str] = []
    last = 0
    for url in _URL.finditer(text):
        parts += [_MARKER.sub(_lookalike, text[last : url.start()]), url.group(0)]
        last = url.end()
    parts.append(_MARKER.sub(_lookalike, text[last:]))
    return "".join(parts)


def escape(text: str) -> str:
    """Escape for mrkdwn, so the text shows as written: `&`, `<`, `>` become entities,
    formatting markers look-alikes, a leading quote mark is defused and @channel-style words
    stay inert."""
    text = _unmark(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _BROADCAST.sub("@\u2060", _QUOTE.sub("\u00ad", text))


def _cut(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    room = text[: safe_cut(text, limit - 1)]  # never inside a flag or an accented letter
    space = room.rfind(" ")
    if space >= limit * 0.6:
        room = room[:space]
    return room.rstrip(" ,;:-") + "…"


def _clean_prefix(raw: str, limit: int, keep_newlines: bool = False) -> str:
    # Cleaning a whole 100 kB article to keep 300 characters is wasted work: clean a prefix
    # long enough for any realistic whitespace, and mark the cut.
    cap = limit * 8 + 64
    if len(raw) <= cap:
        return clean(raw, keep_newlines)
    return clean(raw[:cap], keep_newlines) + "…"


def fit(raw: str, limit: int, keep_newlines: bool = False) -> str:
    """Clean, shorten at a word and escape, so the escaped text is at most `limit` long."""
    text = _clean_prefix(raw, limit, keep_newlines)
    size = min(len(text), limit)  # escaping never shortens, so more raw text cannot fit
    while True:
        out = escape(_cut(text, size))
        over = slack_len(out) - limit
        if over <= 0:
            return out
        size -= max(1, over // 5)  # an entity is up to 5 characters for 1 of text


def plain(raw: str, limit: int) -> str:
    """Clean and shorten text for a plain_text field (Slack shows it literally)."""
    text = _clean_prefix(raw, limit)
    size = min(len(text), limit)
    while (over := slack_len(_cut(text, size)) - limit) > 0:
        # An emoji is two units for one character: shortening by the whole excess emptied
        # a header of emoji ("…" alone), so by half of it, as often as needed.
        size -= max(1, over // 2)
    return _cut(text, size)


def link(url: str, label: str, max_url: int = MAX_URL) -> str:
    """A mrkdwn link to an http(s) URL with an escaped label; just the label otherwise."""
    # Bidi controls are percent-encoded, as a browser would send them anyway.
    url = _BIDI.sub(lambda m: quote(m.group(0)), url.strip())
    if not re.match(r"^https?://\S+$", url):
        return label
    safe = url.replace("&", "&amp;").replace("<", "%3C").replace(">", "%3E").replace("|", "%7C")
    # Measured as sent: each "&" is five characters then, so a 600-character URL of "&"s
    # was 3,000 and pushed its section past Slack's limit (the whole card was refused).
    if slack_len(safe) > max_url:
        return label
    # Slack does not link a URL inside a label, so markers `escape` left in one would format.
    return f"<{safe}|{_MARKER.sub(_lookalike, label)}>"


def _valid_users(user_ids: Iterable[str]) -> list[str]:
    """The distinct, well-formed Slack user ids, in order."""
    return [u for u in dict.fromkeys(user_ids) if _USER_ID.match(u)]


def mentions(user_ids: Iterable[str], limit: int = MAX_MENTIONS) -> str:
    """`<@U…>` for each valid user id (at most `limit`; the rest are pinged in the thread)."""
    valid = _valid_users(user_ids)
    shown = " ".join(f"<@{u}>" for u in valid[:limit])
    extra = len(valid) - limit
    return f"{shown} and {extra} more in the thread" if extra > 0 else shown


def followup_mentions(alert: Alert | Digest) -> list[SlackMessage]:
    """Messages that ping the followers the card had no room for, each within MAX_FOLLOWUP.

    Like Discord's extra mention messages: everyone who asked for a mention gets one.
    """
    lead = "*Following:*"
    messages: list[SlackMessage] = []
    text = lead
    for user in _valid_users(alert.mentions)[MAX_MENTIONS:]:
        token = f" <@{user}>"
        if text != lead and slack_len(text + token) > MAX_FOLLOWUP:
            messages.append(SlackMessage(text=text))
            text = lead
        text += token
    if text != lead:
        messages.append(SlackMessage(text=text))
    return messages


def section(text: str) -> Block:
    """A mrkdwn section (callers keep `text` within MAX_SECTION)."""
    return {"type": "section", "text": {"type": "mrkdwn", "text": text or " "}}


def _italic(text: str) -> str:
    return f"_{text}_" if text else "?"


def _relayed(stance: StanceLine) -> str:
    return f" (as reported by {fit(stance.reported_by, 60)})" if stance.reported_by else ""


def _main(alert: Alert) -> Block:
    title = fit(alert.title, 200) or "(untitled)"
    lines = [f"*{link(alert.url, title)}*"]
    if alert.topics:
        shown = ", ".join(
            f"{fit(t.topic_name, 70)} ({t.score:.2f}{_matched_where(alert, t)})"
            for t in alert.topics[:MAX_TOPICS]
        )
        more = len(alert.topics) - MAX_TOPICS
        label = "Topics" if len(alert.topics) > 1 else "Topic"
        lines.append(f"*{label}:* {shown}" + (f" and {more} more" if more > 0 else ""))
    if alert.summary.strip():
        lines.append(fit(alert.summary, 1000))
    return section("\n".join(lines))


def _matched_where(alert: Alert, topic: TopicLine) -> str:
    place = shown_at(alert, topic)
    return f", matched {place}" if place else ""


def _passages(alert: Alert) -> Block | None:
    lines = [
        f"• _{fit(t.topic_name, 70)}_ ({t.score:.2f}): “{fit(t.passage, 300)}”"
        for t in alert.topics[:MAX_TOPICS]
        if t.passage.strip() and shown_at(alert, t) is None
    ]
    return section("*Matched passage*\n" + "\n".join(lines)) if lines else None


def _shift(stance: StanceLine) -> Block:
    who = f"{fit(stance.actor_name, 60)} — {fit(stance.topic_name, 80)}"
    now = f"*Now:* {_italic(fit(stance.now_label, 150))}{_relayed(stance)}"
    if stance.now_quote.strip():
        now += f" — “{fit(stance.now_quote, 300)}”"
    source = fit(stance.before_source or "", 80) or "an earlier report"
    if stance.before_url:
        source = link(stance.before_url, source, max_url=200)
    before = (
        f"*Before:* {_italic(fit(stance.before_label or '', 150))}"
        f" ({source}, {day_label(stance.before_date, 'earlier')})"
    )
    return section(
        f":arrows_counterclockwise: *{who}: position shifted.*\n{now} (this article)\n{before}"
    )


def _restatements(alert: Alert, stances: Sequence[StanceLine]) -> Block | None:
    if not stances:
        return None
    lines = []
    for stance in stances[:MAX_RESTATEMENTS]:
        line = (
            f"• *{fit(stance.actor_name, 60)}* — {fit(stance.topic_name, 80)}:"
            f" {_italic(fit(stance.now_label, 150))}{_relayed(stance)}"
        )
        place = restated_at(alert, stance)
        if place:
            line += f" ({place})"
        elif stance.now_quote.strip():
            line += f" — “{fit(stance.now_quote, 200)}”"
        lines.append(line)
    more = len(stances) - MAX_RESTATEMENTS
    if more > 0:
        lines.append(f"…and {more} more")
    return section("*Positions restated*\n" + "\n".join(lines))


def _context(alert: Alert, hidden_shifts: int) -> Block:
    when = f"{alert.published:%d %b %Y %H:%M} UTC"
    elements = [
        {"type": "mrkdwn", "text": f"*{fit(alert.source, 80) or 'unknown source'}* · {when}"}
    ]
    if alert.also_reported_by:
        others = ", ".join(
            link(url, fit(source, 50) or "another outlet", max_url=200)
            for source, url in alert.also_reported_by[:MAX_ALSO]
        )
        more = len(alert.also_reported_by) - MAX_ALSO
        others += f" and {more} more" if more > 0 else ""
        elements.append({"type": "mrkdwn", "text": f"Also reported by: {others}"})
    if hidden_shifts > 0:
        elements.append({"type": "mrkdwn", "text": f"…and {hidden_shifts} more position shifts"})
    return {"type": "context", "elements": elements[:MAX_CONTEXT_ELEMENTS]}


def block_chars(block: Block) -> int:
    """Characters of text a block carries (what the card budget counts)."""
    total = 0
    stack: list[Any] = [block]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            for key, value in item.items():
                if key == "text" and isinstance(value, str):
                    total += slack_len(value)
                else:
                    stack.append(value)
        elif isinstance(item, list):
            stack.extend(item)
    return total


def _fallback(alert: Alert) -> str:
    parts = [fit(alert.title, 200) or "News alert"]
    if alert.topics:
        parts.append("Topics: " + fit(", ".join(t.topic_name for t in alert.topics), 250))
    for stance in alert.shifts[:2]:
        parts.append(
            fit(f"{stance.actor_name} shifted on {stance.topic_name}: now {stance.now_label}", 200)
        )
    if alert.url.startswith(("http://", "https://")) and len(alert.url) <= 400:
        parts.append(escape(clean(alert.url)))
    text = " — ".join(parts)
    pinged = mentions(alert.mentions)
    return f"{text}\n{pinged}" if pinged else text


def render_alert(alert: Alert) -> SlackMessage:
    """The alert as a Block Kit card (within Slack's limits) and a plain fallback."""
    shifts = alert.shifts
    restated = [s for s in alert.stances if not s.is_shift]
    # (position in the card, block, required): required blocks always go in; the others are
    # added by priority (the order of this list) while the budget lasts.
    candidates: list[tuple[int, Block | None, bool]] = [
        (
            0,
            {
                "type": "header",
                "text": {
                    "type": "plain_text",
                    "text": plain(alert.title, MAX_HEADER) or "News alert",
                    "emoji": True,
                },
            },
            True,
        ),
        (1, _main(alert), True),
        (9, _context(alert, max(0, len(shifts) - MAX_SHIFTS)), True),
    ]
    pinged = mentions(alert.mentions)
    if pinged:
        candidates.append((8, section(f"*Following:* {pinged}"), True))
    candidates += [(3 + i, _shift(s), False) for i, s in enumerate(shifts[:MAX_SHIFTS])]
    candidates.append((2, _passages(alert), False))
    candidates.append((7, _restatements(alert, restated), False))
    chosen: list[tuple[int, Block]] = []
    used = 0
    for order, block, required in candidates:
        if block is None:
            continue
        size = block_chars(block)
        if required or used + size <= CARD_BUDGET:
            chosen.append((order, block))
            used += size
    blocks = [block for _, block in sorted(chosen, key=lambda pair: pair[0])]
    return SlackMessage(text=_fallback(alert), blocks=blocks[:MAX_BLOCKS])


def render_text(text: str) -> SlackMessage:
    """A short notice (admin messages): escaped, one section."""
    body = fit(text, MAX_SECTION - 100, keep_newlines=True) or " "
    return SlackMessage(text=fit(text, MAX_FALLBACK), blocks=[section(body)])


# Room kept for the note that ends a reply too long for one message, naming what it left
# out (a topic, a feed or an actor found nowhere else in the answer), as Discord's does.
MORE_NOTE_ROOM = 1200


def render_reply(reply: Reply) -> SlackMessage:
    """A command reply: the title in bold, its lines, then one paragraph per field."""
    icon = "" if reply.ok else ":warning: "
    title = f"{icon}*{fit(reply.title, 300) or 'Stancewatch'}*"
    chunks = [fit(line, 1000, keep_newlines=True) for line in reply.lines]
    chunks += [
        f"*{fit(name, 200)}*\n{fit(value, 1500, keep_newlines=True)}"
        for name, value in reply.fields
    ]
    sections, shown = _packed(title, chunks, CARD_BUDGET)
    if shown < len(chunks):
        sections, shown = _packed(title, chunks, CARD_BUDGET - MORE_NOTE_ROOM)
        # Lines left out are counted; fields are named, as far as the note's room allows.
        names = [name for name, _ in reply.fields[max(0, shown - len(reply.lines)) :]]
        listed = f": {', '.join(names)}" if names else "."
        note = f"…and {len(chunks) - shown} more not shown{listed}"
        sections.append(fit(note, MORE_NOTE_ROOM - 1))
    fallback = fit(reply.title, 300) or "Stancewatch"
    return SlackMessage(text=fallback, blocks=[section(s) for s in sections])


def _packed(title: str, chunks: list[str], budget: int) -> tuple[list[str], int]:
    """The title and as many chunks as fit `budget`, packed into sections of at most
    MAX_SECTION with one block to spare; and how many chunks that is."""
    sections: list[str] = [title]
    used = slack_len(title)
    shown = 0
    for chunk in chunks:
        size = slack_len(chunk) + 1
        if used + size > budget or (
            slack_len(sections[-1]) + size > MAX_SECTION and len(sections) >= MAX_BLOCKS - 1
        ):
            break
        if slack_len(sections[-1]) + size > MAX_SECTION:
            sections.append(chunk)
        else:
            sections[-1] += "\n" + chunk
        used += size
        shown += 1
    return sections, shown


def _names(names: Sequence[str], shown: int, each: int) -> str:
    """Up to `shown` names, escaped, then "and N more"."""
    text = ", ".join(fit(name, each) for name in names[:shown])
    more = len(names) - shown
    return text + (f" and {more} more" if more > 0 else "")


def digest_line(item: DigestItem) -> str:
    """One held alert as a digest line: the linked headline, source, topics, markers.

    The link is checked as an alert's is (http(s) only, not too long); else the headline
    shows unlinked.
    """
    title = fit(item.title, 200) or "(untitled)"
    parts = [f"• {link(item.url, title)}", fit(item.source, 60) or "unknown source"]
    if item.topic_names:
        parts.append(_names(item.topic_names, 3, 60))
    if item.shifted:
        parts.append(":arrows_counterclockwise: *position shift*")
    if item.also_reported_by:
        parts.append("also " + _names(item.also_reported_by, 3, 40))
    return " · ".join(parts)


def digest_parts(digest: Digest) -> list[Digest]:
    """The digest as parts that each fit one message, none left out."""
    return paginate(digest, lambda item: slack_len(digest_line(item)), DIGEST_LINES, DIGEST_ITEMS)


def render_digest(digest: Digest) -> SlackMessage:
    """One digest part (as `digest_parts` cut it) as blocks, mentioning `digest.mentions`."""
    heading = digest_heading(digest)
    sections: list[str] = []
    for line in (digest_line(item) for item in digest.items):
        if sections and slack_len(sections[-1]) + 1 + slack_len(line) <= DIGEST_SECTION:
            sections[-1] += "\n" + line
        else:
            sections.append(line)
    blocks: list[Block] = [
        {"type": "header", "text": {"type": "plain_text", "text": plain(heading, MAX_HEADER)}}
    ]
    blocks += [section(text) for text in sections]
    pinged = mentions(digest.mentions)
    if pinged:
        blocks.append(section(f"*Following:* {pinged}"))
    reason = fit(digest_reason(digest), 300)
    blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": reason}]})
    names = dict.fromkeys(name for item in digest.items for name in item.topic_names)
    text = fit(f"{heading}: {', '.join(names)}", 1000)
    return SlackMessage(text=f"{text}\n{pinged}" if pinged else text, blocks=blocks)
