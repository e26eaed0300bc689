"""Platform-neutral commands against a real SQLite store (a fake embedder: no matching here)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.app import App, build_app
from bot.commands import Commands
from bot.feeds.parse import canonical_url
from bot.matching.hashing import HashingEmbedder
from bot.models import Actor, Article, Feed, Position, Route, Statement, Topic, Watchlist
from bot.settings import Settings

TOPICS = (
    Topic("security-guarantees", "Security guarantees for Ukraine", "Guarantees for Kyiv."),
    Topic("nato-membership", "NATO membership for Ukraine", "Ukraine joining NATO."),
    Topic("arms-shipments", "Arms shipments", "Weapons sent to Ukraine."),
)
# Every topic reaches both platforms through a channel, where followers are mentioned.
ROUTES = (Route(("*",), discord_channel="700000000000000001", slack_channel="C0ALERTS"),)


@pytest.fixture
def app(tmp_path: Path) -> Iterator[App]:
    built = build_app(
        Settings(db_path=tmp_path / "c.db"),
        Watchlist(topics=TOPICS, routes=ROUTES),
        embedder=HashingEmbedder(),
        deliveries=[],
    )
    yield built
    built.store.close()


def test_follow_unknown_topic_suggests_the_closest_names(app: App) -> None:
    reply = Commands(app).follow("discord", "guild-1", "u1", "security guarante")
    assert reply.ok is False
    assert "security guarante" in reply.title
    assert "Security guarantees for Ukraine" in reply.text
    assert "Arms shipments" not in reply.text  # not close to what was typed
    assert app.store.following("discord", "guild-1", "u1") == []


def test_follow_following_unfollow_round_trip(app: App) -> None:
    commands = Commands(app)
    first = commands.follow("discord", "guild-1", "u1", "NATO membership for Ukraine")
    assert first.ok and first.title == "You now follow NATO membership for Ukraine."
    again = commands.follow("discord", "guild-1", "u1", "nato-membership")
    assert again.ok and again.title.startswith("You already followed")
    assert commands.follow("discord", "guild-1", "u1", "arms-shipments", dm=True).ok

    listed = commands.following("discord", "guild-1", "u1").text
    assert "NATO membership for Ukraine" in listed
    assert "Arms shipments — by DM" in listed
    assert "Security guarantees" not in listed
    # Follows are per platform, server and user.
    assert commands.following("slack", "guild-1", "u1").title == "You follow no topics yet."
    assert commands.following("discord", "guild-1", "u2").title == "You follow no topics yet."

    gone = commands.unfollow("discord", "guild-1", "u1", "nato-membership")
    assert gone.title == "You no longer follow NATO membership for Ukraine."
    not_followed = commands.unfollow("discord", "guild-1", "u1", "nato-membership")
    assert not_followed.title.startswith("You were not following")
    listed = commands.following("discord", "guild-1", "u1").text
    assert "NATO membership" not in listed and "Arms shipments" in listed


def test_topics_shows_follower_counts_for_this_server(app: App) -> None:
    commands = Commands(app)
    for user in ("u1", "u2"):
        commands.follow("discord", "guild-1", user, "security-guarantees")
    commands.follow("discord", "guild-2", "u3", "security-guarantees")
    commands.follow("discord", "guild-1", "u1", "arms-shipments")
    fields = dict(commands.topics("discord", "guild-1").fields)
    assert set(fields) == {t.name for t in TOPICS}
    assert "(2 following;" in fields["Security guarantees for Ukraine"]
    assert "(1 following;" in fields["Arms shipments"]
    assert "(0 following;" in fields["NATO membership for Ukraine"]


def test_why_on_an_unknown_url_says_so(app: App) -> None:
    reply = Commands(app).why("https://nowhere.example/story?utm_source=x")
    assert reply.ok is False
    assert reply.title == "I have not seen that article."


def test_a_removed_topic_keeps_its_followers_dormant_until_it_returns(app: App) -> None:
    commands = Commands(app)
    assert commands.follow("slack", "T1", "u1", "arms-shipments").ok
    app.use_watchlist(Watchlist(topics=TOPICS[:2]))  # an admin removes the topic
    listed = commands.following("slack", "T1", "u1").text
    assert "arms-shipments (removed from the watchlist; kept in case it returns)" in listed
    app.use_watchlist(Watchlist(topics=TOPICS))  # and puts it back
    assert commands.following("slack", "T1", "u1").text.endswith("• Arms shipments")
    assert app.store.followers("slack", "T1", ["arms-shipments"]) == [("u1", False)]


def test_why_without_a_link_asks_for_one(app: App) -> None:
    reply = Commands(app).why("   ")
    assert reply.ok is False
    assert reply.title == "Give me the article's link."


def test_positions_accepts_an_actor_by_any_alias(app: App) -> None:
    russia = Actor("russia", "Russia", ("Moscow", "Kremlin"))
    app.use_watchlist(Watchlist(actors=(russia,), topics=TOPICS))
    commands = Commands(app)
    for typed in ("russia", "Russia", "kremlin", "  Moscow "):
        assert not commands.positions("security-guarantees", typed).title.startswith("Unknown")
    unknown = commands.positions("security-guarantees", "Atlantis")
    assert unknown.ok is False and unknown.title == "Unknown actor “Atlantis”."


@pytest.mark.parametrize(
    ("typed", "meant"),
    [("Kremln", "Russia"), ("Moskow", "Russia"), ("Washngton", "United States")],
)
def test_a_mistyped_alias_suggests_its_actor(app: App, typed: str, meant: str) -> None:
    # Members type the names the news uses; a typo in one must still point at its actor.
    actors = (
        Actor("russia", "Russia", ("Moscow", "Kremlin")),
        Actor("usa", "United States", ("Washington", "White House")),
        Actor("ukraine", "Ukraine", ("Kyiv",)),
        Actor("germany", "Germany", ("Berlin",)),
        Actor("france", "France", ("Paris",)),
        Actor("nato", "NATO", ("the alliance",)),
    )
    app.use_watchlist(Watchlist(actors=actors, topics=TOPICS))
    reply = Commands(app).positions("security-guarantees", typed)
    assert reply.ok is False and reply.title == f"Unknown actor “{typed}”."
    assert reply.lines[0].startswith(f"Did you mean: {meant}")
    assert reply.lines[0].count(meant) == 1  # one actor, however many of its names were close


def test_a_name_close_to_nothing_is_not_offered_a_guess(app: App) -> None:
    # "Did you mean: Germany, France?" for "Atlantis" sends the member after names that are
    # no closer than any other: they are told what they can type instead.
    actors = (
        Actor("russia", "Russia", ("Moscow", "Kremlin")),
        Actor("germany", "Germany", ("Berlin",)),
        Actor("france", "France", ("Paris",)),
    )
    app.use_watchlist(Watchlist(actors=actors, topics=TOPICS))
    commands = Commands(app)
    actor = commands.positions("security-guarantees", "Atlantis")
    assert actor.title == "Unknown actor “Atlantis”."
    assert actor.lines == ("Actors in the watchlists: France, Germany, Russia.",)
    topic = commands.follow("discord", "guild", "u1", "weather forecasts")
    assert topic.title == "Unknown topic “weather forecasts”."
    assert topic.lines == ("/topics lists every topic.",)


@pytest.mark.parametrize("typed", ["Russia", "kremlin"])
def test_an_actor_typed_as_a_topic_is_told_topics_are_followed(app: App, typed: str) -> None:
    # "/follow Russia" answered "Unknown topic “Russia”" as if the bot had never heard of
    # Russia, whose stances it tracks: the member is told what to type instead.
    app.use_watchlist(
        Watchlist(actors=(Actor("russia", "Russia", ("Kremlin",)),), topics=TOPICS, routes=ROUTES)
    )
    reply = Commands(app).follow("discord", "guild-1", "u1", typed)
    assert reply.ok is False
    assert reply.title == f"“{typed}” is an actor (Russia), not a topic."
    assert reply.lines == (
        "/topics lists every topic.",
        "Where Russia stands on one: /positions <topic> Russia.",
    )
    assert app.store.following("discord", "guild-1", "u1") == []


def test_positions_of_one_actor_with_none_names_that_actor(app: App) -> None:
    russia = Actor("russia", "Russia", ("Moscow",))
    caps = Topic(
        "caps",
        "Production caps",
        "Caps on output.",
        positions=(Position("backs-cap", "backs a cap"), Position("no-cap", "no cap")),
    )
    app.use_watchlist(Watchlist(actors=(russia,), topics=(caps,)))
    reply = Commands(app).positions("caps", "Moscow")
    # Not "No positions recorded yet on …": other actors may well have some.
    assert reply.title == "No position of Russia recorded yet on Production caps."


def test_feeds_never_shows_a_password_or_token_from_a_feed_url(app: App) -> None:
    secret_url = "https://reader:hunter2pass@news.example/rss?token=s3cr3tT0ken&lang=en"
    app.use_watchlist(Watchlist(topics=TOPICS, feeds=(Feed(secret_url, "", 600.0),)))
    reply = Commands(app).feeds()
    shown = reply.text + "".join(name + value for name, value in reply.fields)
    assert "news.example/rss" in shown
    assert "hunter2pass" not in shown and "s3cr3tT0ken" not in shown


def test_feeds_puts_feeds_in_trouble_first_and_drops_none(app: App) -> None:
    from bot.delivery.discord.render import render_reply

    feeds = tuple(Feed(f"https://news{i}.example/rss", f"Outlet {i}", 600.0) for i in range(40))
    app.use_watchlist(Watchlist(topics=TOPICS, feeds=feeds))
    now = datetime.now(UTC)
    app.store.sync_feeds(feeds, now)
    app.store.record_fetch_error(feeds[37].url, now, "HTTP 404", now, "failing")
    reply = Commands(app).feeds()
    assert reply.title == "40 feeds"
    assert len(reply.fields) == 40  # the platform shows what fits and counts the rest
    assert reply.fields[0][0] == "Outlet 37" and "status: failing" in reply.fields[0][1]
    # On Discord: 24 feeds, then a note for the 16 not shown, the failing one among those shown.
    embed = render_reply(reply)
    assert embed["fields"][0]["name"] == "Outlet 37"
    assert embed["fields"][-1]["value"].startswith("… and 16 more not shown: Outlet ")


def test_follow_says_plainly_when_the_platform_gets_no_channel_post(app: App) -> None:
    hook = "https://discord.com/api/webhooks/123456789012345678/" + "t" * 68
    app.use_watchlist(
        Watchlist(
            topics=TOPICS,
            routes=(
                Route(("security-guarantees",), discord_webhook=hook, slack_channel="C0ALERTS"),
                Route(("arms-shipments",), discord_channel="700000000000000001"),
            ),
        )
    )
    commands = Commands(app)
    # Discord gets this topic by webhook only: no mention and no DM can reach a follower.
    for dm in (False, True):
        reply = commands.follow("discord", "guild-1", "u1", "security-guarantees", dm=dm)
        assert reply.ok
        assert reply.title.endswith(
            "Security guarantees for Ukraine, but you will not be notified yet."
        )
        assert reply.lines == (
            "Its alerts reach Discord only through a webhook, which cannot mention you or send"
            " you a direct message.",
            "Your follow is kept: it takes effect once an admin routes the topic to a Discord"
            " channel.",
        )
    # Slack gets the same topic through a channel: the usual answer.
    reply = commands.follow("slack", "T1", "u1", "security-guarantees")
    assert reply.title == "You now follow Security guarantees for Ukraine."
    assert reply.lines == ("You will get its alerts with a mention in the alert channel.",)
    # No route brings arms shipments to Slack at all.
    reply = commands.follow("slack", "T1", "u1", "arms-shipments")
    assert reply.title == "You now follow Arms shipments, but you will not be notified yet."
    assert reply.lines[0] == "Its alerts are not posted on Slack at the moment."
    # Each follow is recorded all the same, ready for a channel route.
    assert app.store.following("discord", "guild-1", "u1") == [("security-guarantees", True)]
    assert app.store.following("slack", "T1", "u1") == [
        ("arms-shipments", False),
        ("security-guarantees", False),
    ]


def test_positions_line_splits_topic_and_actor_as_users_type_them(app: App) -> None:
    russia = Actor("russia", "Russia", ("Moscow", "Kremlin"))
    united = Actor("usa", "United States", ("Washington", "U.S."))
    longer = Topic("arms-to-ukraine", "Arms shipments to Ukraine", "Weapons for Kyiv.")
    app.use_watchlist(Watchlist(actors=(russia, united), topics=(*TOPICS, longer)))
    commands = Commands(app)
    split = commands.split_topic_actor
    assert split("Security guarantees for Ukraine") == ("Security guarantees for Ukraine", None)
    assert split("security guarantees for ukraine  kremlin") == (
        "security guarantees for ukraine",
        "kremlin",
    )
    assert split("nato-membership United States") == ("nato-membership", "United States")
    assert split("security-guarantees Atlantis") == ("security-guarantees", "Atlantis")
    assert split("securty guarantees Moscow") == ("securty guarantees", "Moscow")
    # "Arms shipments" is a topic, but so is the longer name it begins: a typo, not an actor.
    assert split("arms shipments to ukrain") == ("arms shipments to ukrain", None)
    assert split("arms shipments atlantis") == ("arms shipments atlantis", None)
    assert split("arms shipments to ukraine russia") == ("arms shipments to ukraine", "russia")

    # The answers are those of Discord, which gets the topic and the actor apart.
    line = commands.positions_line("security-guarantees Atlantis")
    assert line == commands.positions("security-guarantees", "Atlantis")
    assert line.ok is False and line.title == "Unknown actor “Atlantis”."
    assert line.lines[0].startswith("Actors in the watchlists: ")
    assert commands.positions_line("NATO membership for Ukraine kremlin").title == (
        "NATO membership for Ukraine has no named positions in the watchlist."
    )
    assert commands.positions_line("atlantis talks").title == "Unknown topic “atlantis talks”."


def test_a_topic_can_be_named_by_whole_words_of_its_name_when_only_one_has_them(
    app: App,
) -> None:
    commands = Commands(app)
    reply = commands.follow("slack", "T1", "u1", "nato  Membership")
    assert reply.ok and reply.title == "You now follow NATO membership for Ukraine."
    assert commands.unfollow("slack", "T1", "u1", "nato").ok
    assert app.store.following("slack", "T1", "u1") == []
    # Slack has one line for `positions`: a partial topic name still splits from the actor.
    app.use_watchlist(Watchlist(actors=(Actor("russia", "Russia", ("Kremlin",)),), topics=TOPICS))
    assert commands.split_topic_actor("nato membership kremlin") == ("nato membership", "kremlin")


def test_a_partial_name_that_fits_several_topics_asks_which_one(app: App) -> None:
    commands = Commands(app)
    reply = commands.follow("slack", "T1", "u1", "for ukraine")
    assert reply.ok is False
    assert reply.title == "“for ukraine” is part of 2 topic names."
    assert reply.lines == (
        "Which one: NATO membership for Ukraine, Security guarantees for Ukraine?",
    )
    # Parts of words and bare short words pick nothing.
    assert commands.follow("slack", "T1", "u1", "guarante").title.startswith("Unknown topic")
    assert commands.follow("slack", "T1", "u1", "to").title.startswith("Unknown topic")
    assert app.store.following("slack", "T1", "u1") == []


def test_why_on_a_link_with_an_unbalanced_bracket_says_it_is_unknown(app: App) -> None:
    # urllib refuses "http://[…" (an unclosed IPv6 host): it raised out of the command.
    reply = Commands(app).why("http://[::1/story")
    assert reply.ok is False
    assert reply.title == "I have not seen that article."


@pytest.mark.parametrize(
    ("typed", "topic_id"),
    [
        ("interest rate path", "rate-path"),  # the name says "Interest-rate"
        ("Rate_Path", "rate-path"),
        ("balance sheet", "balance-sheet"),  # part of "Balance-sheet runoff and bond buying"
        ("ｒａｔｅ－ｐａｔｈ", "rate-path"),  # full-width letters, as some keyboards type them
    ],
)
def test_a_hyphen_typed_as_a_space_or_underscore_still_finds_the_topic(
    app: App, typed: str, topic_id: str
) -> None:
    topics = (
        Topic("rate-path", "Interest-rate path", "Rate decisions and guidance."),
        Topic("balance-sheet", "Balance-sheet runoff and bond buying", "QE and QT."),
    )
    app.use_watchlist(Watchlist(topics=topics, routes=ROUTES))
    reply = Commands(app).follow("slack", "T1", "u1", typed)
    assert reply.ok, reply.text
    assert app.store.following("slack", "T1", "u1") == [(topic_id, False)]


def test_positions_shows_a_long_quote_cut_at_a_word_without_stray_quote_marks(
    app: App,
) -> None:
    # A stance is read clause by clause: its quote may be half a quotation, and long.
    topic = Topic(
        "caps",
        "Limits on plastic production",
        "Capping plastic output.",
        positions=(Position("supports-cap", "backs a cap"), Position("opposes-cap", "no cap")),
    )
    quote = (
        '"We do not support caps on production in this agreement, and we will say so at every'
        " session from now until the end of the talks, whatever the other delegations say"
    )
    app.use_watchlist(Watchlist(actors=(Actor("usa", "United States"),), topics=(topic,)))
    app.store.add_statements(
        [
            Statement(
                "usa", "caps", "opposes-cap", quote, 0.9, source="Wire", published=datetime.now(UTC)
            )
        ]
    )
    (_, timeline), *_ = Commands(app).positions("caps").fields
    shown = timeline.split(" — “", 1)[1].split("”", 1)[0]
    assert shown.startswith("We do not support caps") and '"' not in shown
    assert shown.endswith("…") and quote.startswith('"' + shown[:-1])
    assert shown[:-1].split()[-1] in quote.split()  # a whole word, not cut in the middle


def test_positions_marks_a_stance_another_actor_relayed(app: App) -> None:
    # "Rwanda's minister said Saudi Arabia rejects any cap" is Saudi Arabia's stance as
    # Rwanda tells it: the history must say so, as the alert does.
    topic = Topic(
        "caps",
        "Limits on plastic production",
        "Capping plastic output.",
        positions=(Position("supports-cap", "backs a cap"), Position("opposes-cap", "no cap")),
    )
    actors = (Actor("saudi", "Saudi Arabia"), Actor("rwanda", "Rwanda"))
    app.use_watchlist(Watchlist(actors=actors, topics=(topic,)))
    when = datetime.now(UTC)
    app.store.add_statements(
        [
            Statement(
                "saudi", "caps", "opposes-cap", "rejects any cap", 0.9, "rwanda", "a1", "Wire", when
            ),
            Statement(
                "saudi", "caps", "opposes-cap", "a cap has no place", 0.9, None, "a2", "Post", when
            ),
        ]
    )
    (_, timeline), *_ = Commands(app).positions("caps", "saudi").fields
    relayed, own = timeline.splitlines()
    assert "as reported by Rwanda" in relayed
    assert "reported by" not in own


def store_veto_talks(app: App, stored: str) -> None:
    """The article "Envoys trade drafts on a veto over guarantees", stored under `stored`."""
    now = datetime.now(UTC)
    article = Article(
        "guid:veto-talks", "https://wire.example/rss", "wire.example", stored,
        "Envoys trade drafts on a veto over guarantees", "Text.", now, now,
    )  # fmt: skip
    app.store.add_article(article, canonical_url(stored), None, None, False)


@pytest.mark.parametrize(
    "typed",
    [
        "<https://www.wire.example/world/veto-talks/>",  # Discord's no-preview brackets
        "https://wire.example/world/veto-talks?utm_source=chat&utm_medium=share",  # no www.
        "http://www.wire.example/world/veto-talks",  # the other scheme
        "www.wire.example/world/veto-talks/",  # no scheme, as browsers show it
        "https://amp.wire.example/world/veto-talks",  # the AMP copy's own host
        "https://www.wire.example/world/veto-talks.",  # the full stop of a sentence
        "“https://www.wire.example/world/veto-talks”",  # quoted
        "(https://wire.example/world/veto-talks),",  # in brackets, in a sentence
        # Redirect links that search results and mail wrap around the page's own link.
        "https://www.google.com/url?q=https://www.wire.example/world/veto-talks&sa=D",
        "https://www.google.co.uk/url?sa=t&url=https%3A%2F%2Fwire.example%2Fworld%2Fveto-talks",
        "https://eur01.safelinks.protection.outlook.com/?url=https%3A%2F%2Fwww.wire.example"
        "%2Fworld%2Fveto-talks&data=05",
        "https://l.facebook.com/l.php?u=https%3A%2F%2Fwww.wire.example%2Fworld%2Fveto-talks",
    ],
)
def test_why_finds_the_article_however_its_link_was_pasted(app: App, typed: str) -> None:
    store_veto_talks(app, "https://www.wire.example/world/veto-talks/")
    reply = Commands(app).why(typed)
    assert reply.ok and reply.title == "Why: Envoys trade drafts on a veto over guarantees"


@pytest.mark.parametrize(
    "typed",
    [
        "https://www.wire.example/world/veto-talks",  # the link as shared, tracking removed
        "https://www.wire.example/world/veto-talks?CMP=share_btn_tw",  # from another share
    ],
)
def test_why_finds_an_article_stored_with_tracking_parameters(app: App, typed: str) -> None:
    store_veto_talks(
        app, "https://www.wire.example/world/veto-talks?ref=rss&smid=nytcore-ios-share"
    )
    reply = Commands(app).why(typed)
    assert reply.ok and reply.title == "Why: Envoys trade drafts on a veto over guarantees"
    other = Commands(app).why("https://www.wire.example/world/veto-talks?id=2")
    assert other.ok is False


def test_why_on_words_that_are_no_link_says_so(app: App) -> None:
    reply = Commands(app).why("the veto story from this morning")
    assert reply.ok is False
    assert reply.title == "“the veto story from this morning” is not an article link."


def test_a_topic_of_only_spaces_asks_for_a_name(app: App) -> None:
    # Discord requires the option but takes spaces in it: no "did you mean" three topics.
    commands = Commands(app)
    for reply in (
        commands.follow("discord", "guild-1", "u1", "   "),
        commands.recent("  "),
        commands.positions(" "),
    ):
        assert reply.ok is False
        assert reply.text == "Give me the topic's name or id.\n/topics lists every topic."
    assert app.store.following("discord", "guild-1", "u1") == []


def test_a_long_unknown_argument_is_echoed_cut_at_a_word_and_marked(app: App) -> None:
    # A pasted paragraph: the echo of it was sliced at 80 characters, mid-word and unmarked
    # ("… spectrum auc”), as if that were what the member had typed.
    commands = Commands(app)
    typed = "spectrum auction " * 300
    for reply in (
        commands.follow("discord", "guild-1", "u1", typed),
        commands.positions("security-guarantees", typed),
        commands.recent(typed),
    ):
        assert reply.ok is False
        echoed = reply.title.split("“")[1].split("”")[0]
        assert echoed.endswith("…"), reply.title
        assert echoed.removesuffix("…").split()[-1] in ("spectrum", "auction"), reply.title
        assert len(echoed) <= 80


def test_positions_on_a_topic_without_named_positions_says_what_to_do(app: App) -> None:
    reply = Commands(app).positions("nato-membership")
    assert reply.title == "NATO membership for Ukraine has no named positions in the watchlist."
    assert reply.lines, "a member is left with nothing to try"
    assert "/recent" in reply.text and "positions:" in reply.text


@pytest.mark.parametrize(
    "typed", ["arms-shipments", "Arms-Shipments", "arms shipments", " ARMS_SHIPMENTS "]
)
def test_a_removed_topic_is_unfollowed_however_its_id_is_typed(app: App, typed: str) -> None:
    # Live topics are found in any case and with spaces for hyphens; a removed one, listed
    # by its id in /following, needed its id exactly, or the follow could not be dropped.
    commands = Commands(app)
    assert commands.follow("slack", "T1", "u1", "arms-shipments").ok
    app.use_watchlist(Watchlist(topics=TOPICS[:2]))  # an admin removes the topic
    reply = commands.unfollow("slack", "T1", "u1", typed)
    assert reply.ok and reply.title == "You no longer follow arms-shipments.", reply.text
    assert app.store.following("slack", "T1", "u1") == []


def test_topics_on_discord_names_every_topic_of_a_large_watchlist(app: App) -> None:
    from bot.delivery.discord.render import render_reply

    # 32 topics: Discord takes 25 fields, and the eight past the 24th were only counted
    # ("… and 8 more not shown"), so /topics could not tell a member they existed.
    topics = tuple(
        Topic(f"topic-{i}", f"Transport subject {i}", f"News about subject {i}.") for i in range(32)
    )
    app.use_watchlist(Watchlist(topics=topics, routes=ROUTES))
    embed = render_reply(Commands(app).topics("discord", "guild-1"))
    shown = " ".join(f"{f['name']} {f['value']}" for f in embed["fields"])
    for topic in topics:
        assert re.search(rf"\b{topic.name}\b", shown), topic.name
    assert embed["fields"][-1]["value"].startswith("… and 8 more not shown")


@pytest.mark.parametrize(
    "typed",
    [
        '"NATO membership for Ukraine"',
        "“nato-membership”",
        "'nato membership'",
        "NATO membership for Ukraine.",
        "#nato-membership",
        "nato-membership,",
    ],
)
def test_a_topic_typed_in_quotes_or_with_a_stray_mark_is_found(app: App, typed: str) -> None:
    # Slack has no options: members quote a name of several words, end it with a full
    # stop or write it like a channel; each was "Unknown topic", echoing it in two quotes.
    reply = Commands(app).follow("slack", "T1", "u1", typed)
    assert reply.ok and reply.title == "You now follow NATO membership for Ukraine.", reply.text


def test_feeds_says_a_feed_that_never_answered_has_never_succeeded(app: App) -> None:
    # "last success: ?" read as a date the bot had lost, for a feed whose URL was wrong
    # from its first poll.
    feed = Feed("https://news.example/typo.rss", "Typo", 600.0)
    app.use_watchlist(Watchlist(topics=TOPICS, feeds=(feed,)))
    now = datetime.now(UTC)
    app.store.sync_feeds((feed,), now)
    app.store.record_fetch_error(feed.url, now, "HTTP 404", now, "failing")
    (field,) = Commands(app).feeds().fields
    assert "last success: never" in field[1].splitlines()
