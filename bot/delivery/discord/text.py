"""Discord-safe text: escape markdown and mention syntax, cut at sentence boundaries.

Article text is untrusted: it must not format itself, mention anyone, or overflow a limit.
Every function here is pure, so the property tests can hammer it without a client.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from bot.delivery.cuts import clusters

ELLIPSIS = "…"
ZWSP = "\u200b"  # a zero-width space breaks mention syntax without changing what people read

# Links are left as they are (escaping them would break them); everything else is escaped.
# Only what Discord itself autolinks counts as a link: a lowercase scheme (its URL rule is
# case-sensitive), ended by any character JavaScript's \s matches. U+FEFF is whitespace to
# JavaScript but not to Python: kept inside a "link" here, it ended Discord's link early and
# left the rest raw ("https://a.example/\ufeff[Reuters](https://evil.example)" showed a
# masked link). U+180E was whitespace in older engines.
_URL = re.compile(r"https?://[^\s<>\"'\ufeff\u180e]+")
# Characters Discord reads as markdown anywhere in a line (bold, italics, strike, code,
# spoilers, masked links) and at the start of a line (quotes, headings, lists).
_INLINE = re.compile(r"([\\*_~`|\[\]])")
_LINE_START = re.compile(r"^(\s*)(?:([>#-])|(\d+)\.)", re.MULTILINE)
# @everyone, @here, <@id>, <@!id>, <@&role>: a ZWSP after the @ defuses each of them.
_AT = re.compile(r"@(?=everyone|here|[!&]?\d)", re.IGNORECASE)
# <#channel>, </command:id>, <t:timestamp>, <:emoji:id>, <a:emoji:id>, <@…>, <id:…>.
_ANGLE = re.compile(r"<(?=[@#/:]|[at]:|id:)", re.IGNORECASE)
_SENTENCE_END = re.compile(r"(?<=[.!?…])[\"'”’)\]]*\s+")
_SPACES = re.compile(r"[ \t\r\f\v]+")
# Bidirectional embeddings, overrides and isolates (U+202A-U+202E, U+2066-U+2069): in a
# name, an unclosed U+202E reverses the rest of Discord's line, our own words included.
_BIDI_CONTROLS = re.compile("[\u202a-\u202e\u2066-\u2069]")


def defuse_mentions(text: str) -> str:
    """Break every mention, channel, timestamp and emoji token (for plain-text places)."""
    return _AT.sub("@" + ZWSP, _ANGLE.sub("<" + ZWSP, text))


def _escape_markdown(text: str) -> str:
    text = _INLINE.sub(r"\\\1", text)
    return _LINE_START.sub(_escape_line_start, text)


def _escape_line_start(match: re.Match[str]) -> str:
    indent, mark, number = match.group(1), match.group(2), match.group(3)
    # "\#" defuses a heading; a numbered list needs the backslash before its dot ("1\.").
    return indent + ("\\" + mark if mark else number + "\\.")


def escape(text: str) -> str:
    """Escape markdown (outside links) and defuse mention syntax (everywhere)."""
    parts: list[str] = []
    last = 0
    for link in _URL.finditer(text):
        parts.append(_escape_markdown(text[last : link.start()]))
        parts.append(link.group(0))
        last = link.end()
    parts.append(_escape_markdown(text[last:]))
    return defuse_mentions("".join(parts))


def tidy(text: str, *, keep_newlines: bool = True) -> str:
    """Collapse runs of spaces (and newlines too, unless kept)."""
    if not keep_newlines:
        return " ".join(text.split())
    lines = (_SPACES.sub(" ", line).strip() for line in text.splitlines())
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def one_line(text: str) -> str:
    """Text for a name Discord shows on one line (author, field name): no newlines, no
    bidirectional controls, runs of spaces collapsed."""
    return tidy(_BIDI_CONTROLS.sub("", text), keep_newlines=False)


def _pieces(text: str, pattern: re.Pattern[str]) -> list[str]:
    """The complete pieces of `text`, each ending after a match of `pattern`.

    What follows the last match is left out: `fit` only cuts text that is too long as a
    whole, so the tail is either cut off already or could never be kept.
    """
    out: list[str] = []
    start = 0
    for match in pattern.finditer(text):
        out.append(text[start : match.end()])
        start = match.end()
    return out


def _longest_prefix(pieces: list[str], budget: int, render: Callable[[str], str]) -> str:
    """The longest join of leading pieces whose rendering fits the budget."""
    lo, hi = 0, len(pieces)
    while lo < hi:  # binary search: rendering a longer prefix is (almost always) longer
        mid = (lo + hi + 1) // 2
        if len(render("".join(pieces[:mid]).rstrip())) <= budget:
            lo = mid
        else:
            hi = mid - 1
    while lo and len(render("".join(pieces[:lo]).rstrip())) > budget:
        lo -= 1  # the rare non-monotonic case (a cut that changes what looks like a link)
    return "".join(pieces[:lo]).rstrip()


def fit(text: str, limit: int, *, markdown: bool = True) -> str:
    """Escape `text` and cut it to `limit` chars: at a sentence end, else a word, else anywhere.

    `markdown=False` is for places Discord shows as plain text (footer, author, choices):
    only mention syntax is defused there, since backslashes would show.
    """
    render: Callable[[str], str] = escape if markdown else defuse_mentions
    if len(text) <= limit:  # escaping never shortens, so longer text cannot fit as it is
        full = render(text)
        if len(full) <= limit:
            return full
    budget = limit - len(ELLIPSIS)
    if budget <= 0:
        return ELLIPSIS[:limit]
    # Only a prefix of at most `budget` characters can fit; one more shows where a word ends.
    text = text[: budget + 1]
    for pattern in (_SENTENCE_END, re.compile(r"\s+")):
        kept = _longest_prefix(_pieces(text, pattern), budget, render)
        # A cut that keeps under a third of the room reads worse than a cut mid-sentence.
        if kept and len(render(kept)) >= budget // 3:
            return _close(render(kept), budget) + ELLIPSIS
    # Anywhere, but never inside a flag, an emoji sequence or a letter with its accent.
    kept = _longest_prefix(clusters(text), budget, render)
    return _close(render(kept), budget) + ELLIPSIS


def _close(rendered: str, budget: int) -> str:
    """Drop a dangling escape so the ellipsis is not escaped by it."""
    rendered = rendered[:budget]
    if rendered.endswith("\\") and not rendered.endswith("\\\\"):
        rendered = rendered[:-1]
    return rendered


def fit_keeping_links(text: str, limit: int) -> str:
    """Like `fit`, but the links in `text` survive the cut (moved to the end when needed)."""
    full = escape(text)
    if len(full) <= limit:
        return full
    links = [m.group(0) for m in _URL.finditer(text)]
    kept_links: list[str] = []
    room = limit
    for link in links:
        if len(link) + 1 <= room // 2 or (not kept_links and len(link) + 1 <= room):
            kept_links.append(link)
            room -= len(link) + 1
    prose = _URL.sub(" ", text)
    prose = " ".join(prose.split())
    # Separators like "·" left dangling by a removed link are dropped.
    prose = re.sub(r"(\s*[·|,;:-])+\s*$", "", prose)
    head = fit(prose, room) if room > 0 else ""
    tail = " ".join(defuse_mentions(link) for link in kept_links)
    joined = f"{head} {tail}".strip() if head else tail
    return joined if len(joined) <= limit else fit(text, limit)
