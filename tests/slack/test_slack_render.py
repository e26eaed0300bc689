"""Block Kit rendering: structure, escaping and Slack's limits, on real and hostile alerts."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.commands import Reply
from bot.delivery.slack.render import (
    CARD_BUDGET,
    MAX_FALLBACK,
    block_chars,
    escape,
    fit,
    render_alert,
    render_reply,
    slack_len,
)
from bot.models import Alert, StanceLine, TopicLine

# What our own markup may look like: a user mention or a link to an http(s) URL.
OWN_MARKUP = re.compile(r"^<@[UW][A-Z0-9]{2,20}>$|^<https?://[^\s<>|]+\|[^<>]*>$")
ENTITY = re.compile(r"&(?!amp;|lt;|gt;)")
BIDI = re.compile("[\u202a-\u202e\u2066-\u2069]")
URL = re.compile(r"https?://[^\s<>\"']+")
MARKERS = "*_~`\uff0a\uff3f\uff40"


def texts(blocks: list[dict[str, Any]]) -> list[str]:
    """Every `text` string in the blocks."""
    found: list[str] = []
    stack: list[Any] = list(blocks)
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            for key, value in item.items():
                if key == "text" and isinstance(value, str):
                    found.append(value)
                else:
                    stack.append(value)
        elif isinstance(item, list):
            stack.extend(item)
    return found


def assert_within_limits(blocks: list[dict[str, Any]], fallback: str) -> None:
    """Slack's Block Kit limits, our budget, and no mention tokens from article text."""
    assert 1 <= len(blocks) <= 50
    for block in blocks:
        if block["type"] == "header":
            assert block["text"]["type"] == "plain_text"
            assert 1 <= slack_len(block["text"]["text"]) <= 150
        elif block["type"] == "section":
            assert 1 <= slack_len(block["text"]["text"]) <= 3000
        elif block["type"] == "context":
            assert 1 <= len(block["elements"]) <= 10
            for element in block["elements"]:
                assert 1 <= slack_len(element["text"]) <= 3000
        else:
            raise AssertionError(f"unexpected block {block['type']}")
    total = sum(block_chars(b) for b in blocks)
    assert total <= CARD_BUDGET
    assert slack_len(fallback) <= MAX_FALLBACK
    assert total + slack_len(fallback) < 12_000
    assert len(json.dumps(blocks, ensure_ascii=False)) < 40_000
    assert not any(BIDI.search(text) for text in [fallback, *texts(blocks)])
    for text in [fallback, *texts([b for b in blocks if b["type"] != "header"])]:
        assert "<!" not in text
        for token in re.findall(r"<[^>]*>?", text):
            assert OWN_MARKUP.match(token), token
        assert not ENTITY.search(text), text
        outside_urls = re.sub(r"<https?://[^|>]*\|", "<", text)  # a URL cannot ping
        assert not re.search(r"@(channel|here|everyone)\b", outside_urls, re.IGNORECASE)


def test_card_structure(kit: Any) -> None:
    message = render_alert(kit.make_alert())
    kinds = [b["type"] for b in message.blocks]
    assert kinds == ["header", "section", "section", "section", "section", "context"]
    header, main, passage, shift, restated, context = message.blocks
    assert header["text"]["text"] == "Kremlin demands veto over Western guarantees for Kyiv"
    assert main["text"]["text"].startswith(
        "*<https://example-wire.com/world/kremlin-veto|Kremlin demands veto"
    )
    assert "*Topic:* Security guarantees for Ukraine (0.81)" in main["text"]["text"]
    assert "Russia said on Tuesday" in main["text"]["text"]
    assert "Moscow insists it must be among the guarantors" in passage["text"]["text"]
    assert "*Russia — Security guarantees for Ukraine: position shifted.*" in shift["text"]["text"]
    assert "*Now:* _demands a veto over any guarantee_" in shift["text"]["text"]
    assert (
        "*Before:* _accepts Western security guarantees_ (harbour-post.com, 18 Aug 2025)"
        in (shift["text"]["text"])
    )
    assert "*Ukraine*" in restated["text"]["text"]
    assert context["elements"][0]["text"] == "*example-wire.com* · 20 Aug 2025 09:30 UTC"
    assert message.text.startswith("Kremlin demands veto")
    assert "Russia shifted on Security guarantees for Ukraine" in message.text
    assert_within_limits(message.blocks, message.text)


def test_also_reported_by_and_mentions(kit: Any) -> None:
    alert = kit.make_alert(
        also_reported_by=(("harbour-post.com", "https://harbour-post.com/a?x=1&y=<2>"),),
        mentions=("U0ANN", "bogus id", "W0BOB"),
    )
    message = render_alert(alert)
    context = message.blocks[-1]
    assert context["elements"][1]["text"] == (
        "Also reported by: <https://harbour-post.com/a?x=1&amp;y=%3C2%3E|harbour-post.com>"
    )
    following = [b for b in message.blocks if "*Following:*" in b.get("text", {}).get("text", "")]
    assert following[0]["text"]["text"] == "*Following:* <@U0ANN> <@W0BOB>"
    assert message.text.endswith("<@U0ANN> <@W0BOB>")
    assert_within_limits(message.blocks, message.text)


def test_mass_mentions_in_articles_are_escaped(kit: Any) -> None:
    hostile = "<!channel> <!here|here> <!everyone> <!subteam^S0123|@ops> <@U0EVIL> @here & co"
    alert = kit.make_alert(
        title=hostile,
        summary=hostile,
        source=hostile,
        url="javascript:alert(1)",
        topics=(TopicLine("x", hostile, 0.5, hostile),),
    )
    message = render_alert(alert)
    assert_within_limits(message.blocks, message.text)
    main = message.blocks[1]["text"]["text"]
    assert "&lt;!channel&gt; &lt;!here|here&gt;" in main
    assert "&lt;@U0EVIL&gt;" in main
    assert "@\u2060here &amp; co" in main
    assert "javascript" not in main  # not linked


def assert_no_live_markers(escaped: str) -> None:
    """Outside links, a mrkdwn marker is left only inside a word (where it never formats),
    and no line opens a quote."""
    prose = URL.sub(" ", escaped)
    for at, char in enumerate(prose):
        if char in MARKERS:
            before, after = prose[at - 1 : at], prose[at + 1 : at + 2]
            assert before.isalnum() and after.isalnum(), (char, prose[at - 10 : at + 10])
    assert not re.search(r"^(&gt;|\uff1e)", escaped, re.MULTILINE)


def test_article_markdown_and_bidi_controls_show_literally(kit: Any) -> None:
    markup = "*bold* _it_ ~strike~ `tick` ```code``` \uff0awide\uff0a"
    hostile = f"> {markup} \u202eevil\u202c \u2066iso\u2069 snake_case https://example.org/a_b*c~d"
    stance = StanceLine(
        hostile,
        hostile,
        hostile,
        hostile,
        before_label=hostile,
        before_source=hostile,
        before_date=datetime(2025, 8, 18, tzinfo=UTC),
        reported_by=hostile,
    )
    alert = kit.make_alert(
        title=hostile,
        summary=hostile,
        source=hostile,
        topics=(TopicLine("security-guarantees", hostile, 0.8, hostile),),
        stances=(stance, replace(stance, before_label=None)),
        also_reported_by=((hostile, "https://harbour-post.com/a_b"),),
    )
    message = render_alert(alert)
    assert_within_limits(message.blocks, message.text)
    literal = "∗bold∗ ˍitˍ ∼strike∼ ˋtickˋ ˋˋˋcodeˋˋˋ ﹡wide﹡ evil iso snake_case"
    header, main, *_ = message.blocks
    assert header["text"]["text"].startswith(f"> {markup} evil iso")  # plain_text: as is
    lines = main["text"]["text"].split("\n")
    # The renderer's own markup still works: the bold, linked title and the topic label.
    assert lines[0].startswith("*<https://example-wire.com/world/kremlin-veto|")
    assert lines[0].endswith(">*") and f"&gt; {literal}" in lines[0]
    assert lines[1].startswith("*Topic:* ")
    # The summary starts a line: an invisible soft hyphen keeps it from becoming a quote.
    assert lines[2] == f"\u00ad&gt; {literal} https://example.org/a_b*c~d"
    shown = [message.text, *texts(message.blocks[1:])]
    assert all(markup not in text for text in shown)
    assert sum(text.count("∗bold∗ ˍitˍ ∼strike∼") for text in shown) >= 15  # each field
    assert "*Now:* _" in str(message.blocks) and "*Before:* _" in str(message.blocks)
    assert "<https://harbour-post.com/a_b|" in message.blocks[-1]["elements"][1]["text"]


def test_a_reply_too_long_for_one_message_names_what_it_left_out() -> None:
    # /stancewatch topics of a 60-topic watchlist showed the first 36 and then "…and 24
    # more not shown.": a member could not learn those topics existed (Discord names them).
    fields = tuple(
        (f"Transport subject {i}", f"News about subject {i}, " + "port and rail " * 12)
        for i in range(60)
    )
    message = render_reply(Reply("60 tracked topics", fields=fields))
    shown = "\n".join(texts(message.blocks))
    for name, _ in fields:
        assert re.search(rf"\b{name}\b", shown), name
    last = message.blocks[-1]["text"]["text"]
    assert re.match(r"…and \d+ more not shown: Transport subject \d+, ", last)
    assert_within_limits(message.blocks, message.text)


def test_escape_and_fit() -> None:
    assert escape("a & b < c > d") == "a &amp; b &lt; c &gt; d"
    assert escape("&lt;!channel&gt;") == "&amp;lt;!channel&amp;gt;"
    cut = fit("<" * 1000, 150)
    assert slack_len(cut) <= 150 and cut.endswith("…")
    assert "&l" not in cut.replace("&lt;", "")  # no entity cut in half
    assert slack_len(fit("😀" * 500, 100)) <= 100


def test_reply_rendering_is_escaped_and_bounded() -> None:
    fields = tuple((f"Topic <{i}>", "line one\nline two & <!channel>") for i in range(200))
    message = render_reply(Reply("Topics & more", ("a <b>",), fields=fields))
    assert message.blocks[0]["text"]["text"].startswith("*Topics &amp; more*\na &lt;b&gt;")
    assert "line one\nline two &amp; &lt;!channel&gt;" in message.blocks[0]["text"]["text"]
    assert "more not shown: Topic &lt;" in message.blocks[-1]["text"]["text"]
    assert_within_limits(message.blocks, message.text)


hostile_piece = st.sampled_from(
    [
        "<!channel>",
        "<!here>",
        "<!everyone>",
        "<!subteam^S0123|@team>",
        "<@U0123ABC>",
        "<#C0123|general>",
        "<https://evil.example|click>",
        "&",
        "&lt;!here&gt;",
        "<",
        ">",
        "|",
        "*",
        "_",
        "~",
        "`",
        "```",
        "\uff0a",
        "> ",
        "\n> quote",
        "\u2066",
        "@here",
        "@channel",
        "😀",
        "\u202e",
        "\n",
        "\x00",
        "Ω",
        "ﷺ",
    ]
)
# Hypothesis is slow at drawing long strings, so long text is a short messy one repeated.
messy = st.lists(st.one_of(hostile_piece, st.text(max_size=20)), max_size=12).map("".join)
long_text = st.one_of(messy, st.tuples(messy, st.integers(1, 400)).map(lambda p: p[0] * p[1]))
urls = st.one_of(
    st.just("https://example.org/a"),
    messy.map(lambda s: "https://example.org/" + s),
    messy,
    long_text.map(lambda s: "https://x.org/" + s),
)
dates = st.one_of(st.none(), st.just(datetime(2025, 8, 18, tzinfo=UTC)))
topic_lines = st.builds(
    TopicLine, messy, long_text, st.floats(allow_nan=True, allow_infinity=True), long_text
)
stance_lines = st.builds(
    StanceLine,
    long_text,
    long_text,
    long_text,
    long_text,
    before_label=st.one_of(st.none(), long_text),
    before_source=st.one_of(st.none(), long_text),
    before_date=dates,
    reported_by=st.one_of(st.none(), long_text),
)
alerts = st.builds(
    Alert,
    id=st.just("story"),
    title=long_text,
    url=urls,
    source=long_text,
    published=st.just(datetime(2025, 8, 20, 9, 30, tzinfo=UTC)),
    topics=st.lists(topic_lines, max_size=6).map(tuple),
    summary=long_text,
    stances=st.lists(stance_lines, max_size=8).map(tuple),
    also_reported_by=st.tuples(st.tuples(long_text, urls), st.integers(0, 40)).map(
        lambda p: (p[0],) * p[1]
    ),
    mentions=st.tuples(st.integers(0, 200), st.lists(messy, max_size=3)).map(
        lambda p: tuple(f"U{i:08d}" for i in range(p[0])) + tuple(p[1])
    ),
)


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(alerts)
def test_any_alert_fits_slack_limits(alert: Alert) -> None:
    message = render_alert(alert)
    assert_within_limits(message.blocks, message.text)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(long_text, st.integers(1, 3000))
def test_any_article_text_shows_literally(text: str, limit: int) -> None:
    escaped = fit(text, limit, keep_newlines=True)
    assert slack_len(escaped) <= limit
    assert not BIDI.search(escaped)
    assert_no_live_markers(escaped)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    long_text,
    st.lists(long_text, max_size=8),
    st.tuples(st.tuples(long_text, long_text), st.integers(0, 60)).map(lambda p: [p[0]] * p[1]),
    st.booleans(),
)
def test_any_reply_fits_slack_limits(
    title: str, lines: list[str], fields: list[tuple[str, str]], ok: bool
) -> None:
    message = render_reply(Reply(title, tuple(lines), ok=ok, fields=tuple(fields)))
    assert_within_limits(message.blocks, message.text)


def test_a_shifts_before_line_links_the_earlier_report(kit: Any) -> None:
    alert = kit.make_alert()
    [shift, *rest] = alert.stances
    earlier = replace(shift, before_url="https://harbour-post.com/2025/08/18/guarantees")
    message = render_alert(replace(alert, stances=(earlier, *rest)))
    assert (
        "(<https://harbour-post.com/2025/08/18/guarantees|harbour-post.com>, 18 Aug 2025)"
        in str(message.blocks)
    )


CLUSTERS = [
    "\U0001f1fa\U0001f1e6",
    "\U0001f468\u200d\U0001f469\u200d\U0001f467",
    "e\u0301",
    "\U0001f44d\U0001f3fd",
]


@pytest.mark.parametrize("unit", CLUSTERS)
def test_a_cut_title_never_splits_a_flag_an_emoji_sequence_or_an_accent(
    kit: Any, unit: str
) -> None:
    # With no space to cut at, the header and the linked title were cut at any code point:
    # half a flag showed as a boxed letter, a family lost its members, a letter its accent.
    message = render_alert(kit.make_alert(title=unit * 300))
    assert_within_limits(message.blocks, message.text)
    header = message.blocks[0]["text"]["text"]
    linked = re.fullmatch(r"\*<[^|]+\|(.*)>\*", message.blocks[1]["text"]["text"].split("\n")[0])
    assert linked
    for shown in (header, linked.group(1), message.text.split(" — ")[0]):
        assert shown.endswith("…")
        kept = shown.removesuffix("…")
        assert kept and kept == unit * (len(kept) // len(unit)), ascii(shown[-6:])


def test_a_long_header_of_emoji_keeps_as_many_as_fit(kit: Any) -> None:
    # An emoji is two UTF-16 units: the header was shortened by its whole excess in
    # characters at once, so a title of emoji past 150 units showed as "…" alone.
    message = render_alert(kit.make_alert(title="\U0001f525" * 200))
    assert message.blocks[0]["text"]["text"] == "\U0001f525" * 74 + "…"
