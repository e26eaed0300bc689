"""Rendering without a client: escaping, cutting, colours, and every Discord limit (hypothesis)."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import discord
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.commands import Reply
from bot.delivery.discord.render import (
    embed_size,
    mention_chunks,
    render_alert,
    render_reply,
    topic_colour,
    usable_url,
)
from bot.delivery.discord.text import ELLIPSIS, escape, fit, fit_keeping_links
from bot.models import Alert, StanceLine, TopicLine

PINGS = re.compile(r"@(everyone|here)|<@[!&]?\d+>", re.IGNORECASE)
SPECIAL = re.compile(r"<[#@/:]|<[at]:", re.IGNORECASE)
BIDI_CONTROLS = re.compile("[\u202a-\u202e\u2066-\u2069]")
WHEN_2025 = datetime(2025, 8, 18, tzinfo=UTC)


def texts_of(embed: dict[str, Any]) -> list[str]:
    """Every string Discord shows from an embed (not the URL, which it does not render)."""
    out = [embed.get("title", ""), embed.get("description", "")]
    out += [embed.get("footer", {}).get("text", ""), embed.get("author", {}).get("name", "")]
    for item in embed.get("fields", []):
        out += [item["name"], item["value"]]
    return out


def assert_within_limits(embed: dict[str, Any]) -> None:
    """Discord's embed limits, each of them."""
    assert 1 <= len(embed["title"]) <= 256
    assert len(embed.get("description", "")) <= 4096
    assert len(embed.get("footer", {}).get("text", "")) <= 2048
    assert len(embed.get("author", {}).get("name", "")) <= 256
    fields = embed.get("fields", [])
    assert len(fields) <= 25
    for item in fields:
        assert 1 <= len(item["name"]) <= 256
        assert 1 <= len(item["value"]) <= 1024
    assert embed_size(embed) <= 6000
    discord.Embed.from_dict(embed)  # discord.py accepts it as is


def assert_names_on_one_line(embed: dict[str, Any]) -> None:
    """Author and field names: no newline, no bidirectional control."""
    names = [embed.get("author", {}).get("name", "")]
    names += [item["name"] for item in embed.get("fields", [])]
    for name in names:
        assert "\n" not in name and not BIDI_CONTROLS.search(name), repr(name)


def alert_with(**changes: Any) -> Alert:
    """A small alert, with these fields changed."""
    alert = Alert("a", "T", "https://e.example/a", "Src", WHEN_2025, (), "Summary.")
    return replace(alert, **changes)


def assert_no_pings(embed: dict[str, Any]) -> None:
    """No @everyone, @here, role, user or channel token survives unescaped."""
    for text in texts_of(embed):
        assert not PINGS.search(text), text
        assert not SPECIAL.search(text), text


# --- examples --------------------------------------------------------------------------


def test_escape_markdown_but_not_links() -> None:
    text = "**bold** _it_ ~~s~~ `code` ||spoiler|| [x](https://evil.example) see https://a.example/b_c*d"
    assert escape(text) == (
        r"\*\*bold\*\* \_it\_ \~\~s\~\~ \`code\` \|\|spoiler\|\| \[x\](https://evil.example)"
        " see https://a.example/b_c*d"
    )
    assert escape("# Heading\n> quote\n- item\n1. first") == (
        "\\# Heading\n\\> quote\n\\- item\n1\\. first"
    )


def test_escape_defuses_every_mention() -> None:
    text = "@everyone @here <@123456789012345678> <@!123456789012345678> <@&123456789012345678>"
    escaped = escape(text + " <#123456789012345678> <t:1700000000:R> </follow:1>")
    assert not PINGS.search(escaped)
    assert not SPECIAL.search(escaped)
    assert escaped.replace("\u200b", "").replace("\\", "") == (
        text + " <#123456789012345678> <t:1700000000:R> </follow:1>"
    )


def test_fit_cuts_at_a_sentence_end() -> None:
    text = "The first sentence is here. The second one is a bit longer. The third never fits."
    assert fit(text, 70) == "The first sentence is here. The second one is a bit longer." + ELLIPSIS
    assert fit(text, 200) == text
    assert fit("word " * 100, 30).endswith(ELLIPSIS) and len(fit("word " * 100, 30)) <= 30
    assert len(fit("x" * 5000, 100)) == 100
    # An escape is never cut in half (a lone backslash would escape the ellipsis).
    assert not fit("*" * 300, 100).endswith("\\" + ELLIPSIS)


def test_fit_keeping_links_never_loses_the_link() -> None:
    url = "https://example.org/articles/" + "a" * 80
    value = "Example Wire · 20 Aug 09:00 UTC · " + "long words " * 200 + url
    fitted = fit_keeping_links(value, 300)
    assert len(fitted) <= 300 and fitted.endswith(url)


def test_topic_colour_is_stable_and_distinct() -> None:
    assert topic_colour("security-guarantees") == topic_colour("security-guarantees")
    assert topic_colour("security-guarantees") != topic_colour("arms-shipments")
    assert topic_colour("security-guarantees") == 0xDD8FB0
    assert 0 <= topic_colour("anything") <= 0xFFFFFF


def test_mentions_split_at_2000_characters() -> None:
    ids = [str(300000000000000000 + i) for i in range(200)]
    chunks = mention_chunks([*ids, "not-an-id", ids[0]])
    assert [u for _, users in chunks for u in users] == ids
    assert all(len(content) <= 2000 for content, _ in chunks)
    assert chunks[0][0].startswith(f"<@{ids[0]}> <@{ids[1]}>")


def test_unusable_url_stays_visible_in_the_description() -> None:
    alert = Alert(
        "a", "Title", "ftp://example.org/x", "Src", datetime(2025, 1, 1, tzinfo=UTC), (), "Sum."
    )
    embed = render_alert(alert).embed
    assert "url" not in embed
    assert embed["description"].endswith("ftp://example.org/x")


def test_a_long_topic_list_loses_whole_lines_and_says_how_many() -> None:
    name = (
        "Topic {} on a policy area the admins described in full: " + "who, what, when, " * 3 + "why"
    )
    topics = tuple(TopicLine(f"t{i}", name.format(i), 0.6, "") for i in range(20))
    value = render_alert(alert_with(topics=topics)).embed["fields"][0]["value"]
    assert len(value) <= 1024
    *lines, last = value.split("\n")
    assert lines == [f"**{name.format(i)}** · score 0.60" for i in range(len(lines))]
    assert last == f"… and {20 - len(lines)} more"  # counts every topic not shown


def test_a_long_shift_keeps_its_before_line_with_the_date() -> None:
    stance = StanceLine(
        actor_name="Russia",
        topic_name="Security guarantees for Ukraine",
        now_label="demands a veto over any guarantee " + "and much more detail " * 12,
        now_quote="quote word " * 45,
        before_label="accepts guarantees " + "with lots of nuance " * 10,
        before_source="Harbour Post International Edition " * 3,
        before_date=WHEN_2025,
        reported_by="Foreign Ministry spokesperson Maria Zakharova in Moscow " * 2,
    )
    fields = render_alert(alert_with(stances=(stance,))).embed["fields"]
    value = next(f["value"] for f in fields if f["name"].startswith("Position shifted"))
    assert len(value) <= 1024
    now, before = value.split("\n")
    assert now.startswith("**Now:** *demands a veto") and now.endswith("word…”")
    assert before.startswith("**Before:** *accepts guarantees with lots of nuance")
    assert before.endswith("Harbour Post International…, 18 Aug 2025)")


def test_names_are_one_line_without_bidirectional_controls() -> None:
    sneaky = "Rus\u202esia\u202c\nand\u2066 friends\u2069"
    stance = StanceLine(sneaky, sneaky, "now", "quote", "before", "src", None)
    alert = alert_with(topics=(TopicLine("t", sneaky, 0.5, "passage"),), stances=(stance,))
    embed = render_alert(alert).embed
    assert embed["author"]["name"] == "Position shifted: Russia and friends"
    assert [f["name"] for f in embed["fields"]] == [
        "Topic",
        "Matched passage · Russia and friends",
        "Position shifted: Russia and friends — Russia and friends",
    ]


def test_the_plainer_form_keeps_the_link_as_text() -> None:
    stance = StanceLine("Russia", "Topic", "now", "quote", "before", "src", WHEN_2025)
    alert = alert_with(stances=(stance,), topics=(TopicLine("t", "Topic", 0.5, "p"),))
    full, plain = render_alert(alert).embed, render_alert(alert, plain=True).embed
    assert full["url"] == "https://e.example/a" and "url" not in plain
    assert "author" in full and "author" not in plain
    assert "timestamp" in full and "timestamp" not in plain
    assert plain["description"] == "Summary.\n\nhttps://e.example/a"
    assert plain["fields"] == full["fields"] and plain["title"] == full["title"]


def test_reply_with_many_fields_says_how_many_are_hidden() -> None:
    reply = Reply("40 tracked topics", fields=tuple((f"T{i}", "x" * 900) for i in range(40)))
    embed = render_reply(reply)
    assert_within_limits(embed)
    assert embed["fields"][-1]["value"].startswith("… and ")
    shown = len(embed["fields"]) - 1
    names = ", ".join(f"T{i}" for i in range(shown, 40))
    assert embed["fields"][-1]["value"] == f"… and {40 - shown} more not shown: {names}"


def test_crowded_alert_keeps_shifts_and_drops_restatements_first() -> None:
    restated = tuple(StanceLine(f"Actor {i}", "Topic", "label", "quote") for i in range(40))
    shift = StanceLine("Russia", "Topic", "now", "q" * 2000, "before", "src", None)
    alert = Alert(
        "a",
        "T",
        "https://e.example/a",
        "Src",
        datetime(2025, 1, 1, tzinfo=UTC),
        (TopicLine("t", "Topic", 0.5, "p" * 3000),),
        "Summary. " * 1000,
        (*restated, shift),
    )
    embed = render_alert(alert).embed
    assert_within_limits(embed)
    names = [f["name"] for f in embed["fields"]]
    assert len(names) == 25
    assert names[:3] == ["Topic", "Matched passage · Topic", "Position shifted: Russia — Topic"]
    assert names[3:] == [f"Actor {i} — Topic" for i in range(22)]
    assert len(embed["description"]) >= 300


# --- properties ------------------------------------------------------------------------

HOSTILE = st.sampled_from(
    [
        "@everyone",
        "@here",
        "@EVERYONE",
        "<@&123456789012345678>",
        "<@123456789012345678>",
        "<@!123456789012345678>",
        "<#123456789012345678>",
        "**",
        "__",
        "`",
        "```",
        "||",
        "\n> ",
        "\n# ",
        "\n- ",
        "\n1. ",
        "[click](https://evil.example)",
        "\\",
        "https://example.org/a_b*c",
        ". ",
        "! ",
        "。",
        "😀",
        "\u200b",
        "e\u0301",
        "\n",
        "\u202e",
        "\u2067",
        "x" * 300,
    ]
)
TEXT = st.lists(st.one_of(HOSTILE, st.text(max_size=60)), max_size=25).map("".join)
LONG_TEXT = st.one_of(TEXT, st.builds(lambda t, n: t * n, TEXT, st.integers(1, 200)))
URL = st.one_of(
    st.just("https://example.org/story?id=1"),
    st.builds(lambda s: "https://example.org/" + s, st.text(max_size=3000)),
    TEXT,
)
WHEN = st.datetimes(
    min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)
)
TOPIC = st.builds(TopicLine, TEXT, TEXT, st.floats(0, 1), LONG_TEXT)
STANCE = st.builds(
    StanceLine,
    TEXT,
    TEXT,
    LONG_TEXT,
    LONG_TEXT,
    st.one_of(st.none(), LONG_TEXT),
    st.one_of(st.none(), TEXT),
    st.one_of(st.none(), WHEN),
    st.one_of(st.none(), TEXT),
)
ALERT = st.builds(
    Alert,
    id=TEXT,
    title=LONG_TEXT,
    url=URL,
    source=LONG_TEXT,
    published=WHEN,
    topics=st.lists(TOPIC, max_size=12).map(tuple),
    summary=LONG_TEXT,
    stances=st.lists(STANCE, max_size=30).map(tuple),
    also_reported_by=st.lists(st.tuples(TEXT, URL), max_size=60).map(tuple),
)
FOLLOWERS = st.lists(st.integers(10**16, 10**19).map(str), max_size=300)
FAST = settings(
    max_examples=100,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@FAST
@given(ALERT, FOLLOWERS)
def test_any_alert_renders_within_limits_and_pings_only_followers(
    alert: Alert, followers: list[str]
) -> None:
    rendered = render_alert(replace(alert, mentions=tuple(followers)))
    assert_within_limits(rendered.embed)
    assert_no_pings(rendered.embed)
    assert_names_on_one_line(rendered.embed)
    plain = render_alert(alert, plain=True).embed
    assert_within_limits(plain)
    assert_no_pings(plain)
    assert "url" not in plain and "author" not in plain
    if usable_url(alert.url):
        assert rendered.embed["url"] == alert.url  # the link is never lost
    wanted = list(dict.fromkeys(f for f in followers if re.fullmatch(r"\d{15,21}", f)))
    messages = [(rendered.content, rendered.mentioned), *rendered.more] if rendered.content else []
    assert [u for _, users in messages for u in users] == wanted
    for content, users in messages:
        assert content is not None and len(content) <= 2000
        assert content == " ".join(f"<@{u}>" for u in users)  # nothing but the mentions


@FAST
@given(
    st.builds(
        Reply,
        title=LONG_TEXT,
        lines=st.lists(LONG_TEXT, max_size=20).map(tuple),
        ok=st.booleans(),
        ephemeral=st.booleans(),
        fields=st.lists(st.tuples(TEXT, LONG_TEXT), max_size=40).map(tuple),
    )
)
def test_any_reply_renders_within_limits(reply: Reply) -> None:
    embed = render_reply(reply)
    assert_within_limits(embed)
    assert_no_pings(embed)


def test_a_shifts_before_line_links_the_earlier_report() -> None:
    # The evidence for "before" is an article too: a reader should be able to open it.
    stance = StanceLine(
        actor_name="Russia",
        topic_name="Security guarantees for Ukraine",
        now_label="demands a veto",
        now_quote="Russia must have a veto.",
        before_label="accepts guarantees",
        before_source="Harbour Post",
        before_date=WHEN_2025,
        before_url="https://harbourpost.example/news/guarantees",
    )
    fields = render_alert(alert_with(stances=(stance,))).embed["fields"]
    value = next(f["value"] for f in fields if f["name"].startswith("Position shifted"))
    before = value.split("\n")[1]
    assert before.endswith(
        "([Harbour Post](https://harbourpost.example/news/guarantees), 18 Aug 2025)"
    )


def test_a_long_link_to_the_earlier_report_leaves_the_before_line_whole() -> None:
    # A 1,500-character link (tracking parameters, a redirector) took the whole value: the
    # quote was emptied and the "Before" line cut mid-link, so the date was lost and the
    # half link showed as raw markdown.
    stance = StanceLine(
        actor_name="Russia",
        topic_name="Security guarantees for Ukraine",
        now_label="demands a veto",
        now_quote="Russia must have a veto over any deployment.",
        before_label="accepts guarantees",
        before_source="Harbour Post",
        before_date=WHEN_2025,
        before_url="https://harbourpost.example/news?ref=" + "a" * 1500,
    )
    embed = render_alert(alert_with(stances=(stance,))).embed
    assert_within_limits(embed)
    value = next(f["value"] for f in embed["fields"] if f["name"].startswith("Position shifted"))
    now, before = value.split("\n")
    assert now == "**Now:** *demands a veto* — “Russia must have a veto over any deployment.”"
    assert before == "**Before:** *accepts guarantees* (Harbour Post, 18 Aug 2025)"


def test_an_outlet_with_a_long_link_is_still_named_among_the_others() -> None:
    # The first outlet's link did not fit the field, so the field read ", and 2 more":
    # no outlet named, and a short link that fitted was dropped with it.
    also = (
        ("Reuters", "https://reuters.example/world?ref=" + "b" * 1100),
        ("AP", "https://ap.example/x"),
    )
    embed = render_alert(alert_with(also_reported_by=also)).embed
    assert_within_limits(embed)
    value = next(f["value"] for f in embed["fields"] if f["name"] == "Also reported by")
    assert value == "Reuters, [AP](https://ap.example/x)"


def test_shifts_beyond_the_room_are_named_not_dropped_silently() -> None:
    # Twenty-five fields and 6,000 characters hold about ten shift fields; the rest vanished
    # without a word while the author line still named every actor.
    shifts = tuple(
        StanceLine(
            f"Actor {i}", "Topic", "now " * 20, "quoted words " * 30, "before", "Wire", WHEN_2025
        )
        for i in range(30)
    )
    embed = render_alert(alert_with(stances=shifts)).embed
    assert_within_limits(embed)
    names = [f["name"] for f in embed["fields"]]
    shown = [n for n in names if n.startswith("Position shifted: ")]
    assert 0 < len(shown) < 30
    assert shown == [f"Position shifted: Actor {i} — Topic" for i in range(len(shown))]
    note = embed["fields"][-1]
    hidden = ", ".join(f"Actor {i}" for i in range(len(shown), 30))
    assert note["name"] == "More position shifts"
    assert note["value"] == f"… and {30 - len(shown)} more not shown: {hidden}"


CLUSTERS = [
    "\U0001f1fa\U0001f1e6",
    "\U0001f468\u200d\U0001f469\u200d\U0001f467",
    "e\u0301",
    "\U0001f44d\U0001f3fd",
]


@pytest.mark.parametrize("unit", CLUSTERS)
def test_a_cut_title_never_splits_a_flag_an_emoji_sequence_or_an_accent(unit: str) -> None:
    # With no space to cut at, the title was cut at any code point: half a flag showed as
    # a boxed letter, a family lost its members, a letter its accent.
    embed = render_alert(alert_with(title=unit * 300)).embed
    title = embed["title"]
    assert len(title) <= 256 and title.endswith(ELLIPSIS)
    kept = title.removesuffix(ELLIPSIS)
    assert kept and kept == unit * (len(kept) // len(unit))
