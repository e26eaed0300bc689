"""Platform-neutral commands: follow, unfollow, following, topics, positions, recent, why, …

Discord and Slack adapters translate a platform request into one of these calls and
render the `Reply` natively. Nothing here knows about either platform.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Collection
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from bot.article_links import link_spellings, typed_link
from bot.delivery.base import day_label
from bot.dm_notice import SWITCHED_MARK, DmNotice, given, pending_notice
from bot.feeds.parse import strip_controls
from bot.feeds.reliability import failures, read_polls
from bot.logs import counted, redact_urls, safe_url
from bot.models import Alert, Article, Statement, Topic
from bot.positions import THRESHOLDS
from bot.routing import PLATFORM_KINDS, channel_targets, platform_reach
from bot.store.rows import MatchRow, StoredArticle
from bot.summarize import cut_at_word
from bot.text import without_unpaired_quotes

if TYPE_CHECKING:
    from collections.abc import Iterable

    from bot.app import App
    from bot.store.protocol import Store
    from bot.watchlists.source import Problem

MAX_ARGUMENT_CHARS = 200
# A refused /reload lists this many errors: a chat answer, not the `check` report.
RELOAD_ERRORS_LISTED = 20
# A feed's health line when its items are not in English and the model reads English only.
NOT_ENGLISH = "not in English: the model reads English only; articles are stored but rarely match"


@dataclass(frozen=True)
class Reply:
    """A command's answer: plain text (no markup); each platform renders it natively."""

    title: str
    lines: tuple[str, ...] = ()
    ok: bool = True  # False: the user asked for something we cannot do (unknown topic, not admin)
    ephemeral: bool = True  # personal replies are seen only by the caller
    fields: tuple[tuple[str, str], ...] = ()  # (name, value) pairs: one per topic, feed, actor

    @property
    def text(self) -> str:
        """The reply as plain text, for fallbacks and logs."""
        parts = [self.title, *self.lines, *(f"{name}: {value}" for name, value in self.fields)]
        return "\n".join(p for p in parts if p)


# How alike a typed word and a name must be to offer the name (difflib's ratio, the bar its
# own `get_close_matches` uses): "Kremln" and "Kremlin" score 0.92, "Moskow" and "Moscow"
# 0.83, while "Atlantis" comes no nearer than 0.4 to any actor of our watchlists. Below it,
# a suggestion is a name picked at random.
SUGGESTION_CUTOFF = 0.6
# How many names a reply lists when nothing typed is close to any of them.
NAMES_LISTED = 15
# The chat answer to an unknown topic points at /topics, which lists them with who follows
# what; the terminal has no /topics, so `stancewatch` replaces this line (`topics_listed`).
TOPICS_HINT = "/topics lists every topic."


def closest(typed: str, names: dict[str, str], limit: int = 3) -> list[str]:
    """The display names close to what the user typed (by id or name), closest first;
    none when nothing is close (`SUGGESTION_CUTOFF`)."""
    import difflib

    typed = typed.strip().lower()
    best: dict[str, float] = {}
    for key, name in names.items():
        ratio = max(
            difflib.SequenceMatcher(None, typed, key.lower()).ratio(),
            difflib.SequenceMatcher(None, typed, name.lower()).ratio(),
        )
        if typed and (typed in key.lower() or typed in name.lower()):
            ratio += 1.0
        # Several keys may spell one name (an actor's aliases): it is shown once, at its best.
        best[name] = max(ratio, best.get(name, 0.0))
    ranked = sorted(best.items(), key=lambda s: -s[1])
    return [name for name, ratio in ranked[:limit] if ratio >= SUGGESTION_CUTOFF]


def _listed(names: Iterable[str]) -> str:
    """Names in alphabetical order, at most `NAMES_LISTED` of them, with how many are left."""
    ordered = sorted(set(names))
    shown = ", ".join(ordered[:NAMES_LISTED])
    more = len(ordered) - NAMES_LISTED
    return f"{shown} and {more} more" if more > 0 else shown


def choices(
    typed: str, names: dict[str, str], limit: int = 25, aliases: dict[str, str] | None = None
) -> list[tuple[str, str]]:
    """Autocomplete: (display name, id) pairs whose id, name or alias (`aliases`: alias ->
    id) contains what was typed."""
    typed = typed.strip().lower()
    spellings = {key: [key, name] for key, name in names.items()}
    for alias, key in (aliases or {}).items():
        spellings[key].append(alias)
    ranked = []
    for key, spelled in spellings.items():
        lowered = [spelling.lower() for spelling in spelled]
        if typed and not any(typed in spelling for spelling in lowered):
            continue
        # The platform shows `limit` choices: what was typed in full, then names that start
        # with it, come before names that merely hold it (with 200 topics, "ukraine" is
        # in many names).
        rank = 0 if typed in lowered else 1 if any(s.startswith(typed) for s in lowered) else 2
        ranked.append((rank, names[key], key))
    return [(name, key) for _, name, key in sorted(ranked)[:limit]]


# Quote marks around a typed name, and marks after it, that are no part of any name.
_AROUND_NAMES = "\"'“”‘’«»„‚`"
_AFTER_NAMES = ".,;:!?" + _AROUND_NAMES


def _as_typed(text: str) -> str:
    """Text as names and arguments are compared: compatibility forms folded (full-width
    letters), hyphens and underscores read as spaces, spaces collapsed, capped, lower case.

    Members remember "interest rate path", not whether the name said "Interest-rate".
    """
    # Text copied from a page or a chat brings invisible marks (a soft hyphen in a word, a
    # zero-width space after it) that the member cannot see and no name holds.
    visible = strip_controls(text)
    folded = unicodedata.normalize("NFKC", visible).replace("-", " ").replace("_", " ")
    # Slack passes one line of text: a name of several words comes quoted, ends with a
    # full stop or is written like a channel ("#nato"). The marks around it name nothing.
    bare = " ".join(folded.split()).strip(_AROUND_NAMES).rstrip(_AFTER_NAMES).lstrip("#")
    return " ".join(bare.split())[:MAX_ARGUMENT_CHARS].lower()


# A shorter fragment ("to", "of") would pick a topic by a word that says nothing about it.
MIN_PARTIAL_CHARS = 3


def _holding(typed: str, names: dict[str, str]) -> list[str]:
    """Keys whose id or name holds `typed` (lower case, spaces collapsed) as whole words."""
    if len(typed.replace(" ", "")) < MIN_PARTIAL_CHARS:
        return []
    pattern = re.compile(rf"(?<!\w){re.escape(typed)}(?!\w)")
    return [
        key
        for key, name in names.items()
        if pattern.search(_as_typed(key)) or pattern.search(_as_typed(name))
    ]


# /positions shows each actor's last TIMELINE_SHOWN stances, read from its last
# TIMELINE_READ statements: wire copy printed by several outlets is one stance.
TIMELINE_SHOWN = 5
TIMELINE_READ = 15
# An actor's timeline is one field, and a platform cuts a field past its limit at the end,
# where the newest stance is: Discord's 1,024 is the smallest, less room for the
# backslashes its markdown escaping adds. Older stances are left out first instead.
TIMELINE_CHARS = 900


_UPDATES_SHOWN = 5


def _update_news(alert: Alert) -> str:
    """What a live page's update alert said: its shifts, else the topics it brought."""
    if alert.shifts:
        return "; ".join(f"{s.actor_name} shifted on {s.topic_name}" for s in alert.shifts)
    return "now on " + ", ".join(t.topic_name for t in alert.topics)


def _date(moment: datetime | None) -> str:
    return day_label(moment, "?")


# What is echoed of a member's argument: a pasted paragraph is shown by its start.
ECHOED_CHARS = 80


def _echoed(typed: str) -> str:
    """What the member typed, as an answer repeats it: its start, cut at a word and marked."""
    return cut_at_word(typed, ECHOED_CHARS)


def _quoted(text: str, limit: int) -> str:
    """A quote or passage to set between quotation marks: whole words, no stray marks."""
    # Quotes are clauses, sometimes half a quotation; a hard slice cut words in two.
    return cut_at_word(without_unpaired_quotes(text), limit)


class Commands:
    """The commands every platform offers, answering with platform-neutral `Reply`s."""

    def __init__(self, app: App, store: Store | None = None) -> None:
        self.app = app
        self._store = store

    @property
    def store(self) -> Store:
        """The connection the commands read and write through: the app's own unless they
        were given one (the command thread's, see `bot.command_thread`)."""
        return self._store if self._store is not None else self.app.store

    @property
    def _topics(self) -> dict[str, str]:
        return {t.id: t.name for t in self.app.watchlist.topics}

    @property
    def _actors(self) -> dict[str, str]:
        return {a.id: a.name for a in self.app.watchlist.actors}

    def _resolve(
        self, typed: str, names: dict[str, str], former: dict[str, str] | None = None
    ) -> str | None:
        """The id typed by id or name, or by a `former` id (old id -> id); else the one name
        that holds what was typed as whole words ("nato membership" for "NATO membership
        for Ukraine"), since Slack has no autocomplete and members type what they
        remember. Several such names: None."""
        typed = _as_typed(typed)
        for key, name in names.items():
            if typed in (_as_typed(key), _as_typed(name)):
                return key
        for old, key in (former or {}).items():
            if typed == _as_typed(old):
                return key
        partial = _holding(typed, names)
        return partial[0] if len(partial) == 1 else None

    def _topic_id(self, typed: str) -> str | None:
        """The topic typed by id, name or words of its name, or by an id it had before a
        rename: members keep typing the id they used before an admin renamed it."""
        former = {old: t.id for t in self.app.watchlist.topics for old in t.former_ids}
        return self._resolve(typed, self._topics, former)

    def _actor_id(self, typed: str) -> str | None:
        """The actor typed by id, name, any alias or an id it had before a rename: members
        type what the news says ("Kremlin", "Moscow"), not our ids."""
        typed = _as_typed(typed)
        for actor in self.app.watchlist.actors:
            spellings = (actor.id, actor.name, *actor.aliases, *actor.former_ids)
            if typed in {_as_typed(n) for n in spellings}:
                return actor.id
        return None

    @property
    def _actor_spellings(self) -> dict[str, str]:
        """Each actor's id, name and aliases, each giving its name: what suggestions compare
        a mistyped actor with ("Kremln" is close to an alias of Russia, not to "Russia")."""
        return {
            spelling: actor.name
            for actor in self.app.watchlist.actors
            for spelling in (actor.id, actor.name, *actor.aliases)
        }

    def _unknown(
        self, kind: str, typed: str, names: dict[str, str], spellings: dict[str, str] | None = None
    ) -> Reply:
        shown = _echoed(typed)
        if not typed.strip():
            # Only spaces (Discord requires the option, not that it holds a word): the
            # closest names to nothing would be any three, offered as if they were near.
            where = TOPICS_HINT if kind == "topic" else "For example: Russia."
            return Reply(f"Give me the {kind}'s name or id.", (where,), ok=False)
        several = _holding(_as_typed(typed), names)
        if len(several) > 1:
            listed = ", ".join(sorted(names[key] for key in several)[:5])
            return Reply(
                f"“{shown}” is part of {len(several)} {kind} names.",
                (f"Which one: {listed}?",),
                ok=False,
            )
        actor_id = self._actor_id(typed) if kind == "topic" else None
        if actor_id is not None:
            # Members follow the news about someone: the bot knows them, as an actor.
            actor = self._actors[actor_id]
            return Reply(
                f"“{shown}” is an actor ({actor}), not a topic.",
                (TOPICS_HINT, f"Where {actor} stands on one: /positions <topic> {actor}."),
                ok=False,
            )
        suggestions = closest(typed[:MAX_ARGUMENT_CHARS], spellings or names)
        if suggestions:
            hint = f"Did you mean: {', '.join(suggestions)}?"
        elif not names:
            hint = f"No {kind}s yet."
        elif kind == "topic":
            hint = TOPICS_HINT
        else:
            hint = f"{kind.capitalize()}s in the watchlists: {_listed(names.values())}."
        return Reply(f"Unknown {kind} “{shown}”.", (hint,), ok=False)

    def topics_listed(self) -> str:
        """Every topic's name on one line: what the terminal says in place of `TOPICS_HINT`."""
        return f"Topics in the watchlists: {_listed(self._topics.values())}."

    def topic_choices(self, typed: str) -> list[tuple[str, str]]:
        """Autocomplete choices for a topic argument (at most 25)."""
        return choices(typed, self._topics)

    def actor_choices(self, typed: str) -> list[tuple[str, str]]:
        """Autocomplete choices for an actor argument (at most 25)."""
        # Members type what the news says ("Moscow"), which the command reads as the actor.
        aliases = {alias: a.id for a in self.app.watchlist.actors for alias in a.aliases}
        return choices(typed, self._actors, aliases=aliases)

    def follow(
        self,
        platform: str,
        scope: str,
        user_id: str,
        topic: str,
        dm: bool = False,
        channels_here: Collection[str] | None = None,
    ) -> Reply:
        """Follow a topic: be mentioned in (or sent by DM) every alert for it.

        `channels_here`: the topic's alert channels (`channel_targets`) that are in the
        caller's server, when the platform could tell; None when it could not.
        """
        topic_id = self._topic_id(topic)
        if topic_id is None:
            return self._unknown("topic", topic, self._topics)
        new = self.store.follow(platform, scope, user_id, topic_id, dm, datetime.now(UTC))
        verb = "You now follow" if new else "You already followed"
        name = self._topics[topic_id]
        unheard = self._unheard(platform, topic_id, channels_here)
        if unheard:
            # Kept all the same: the follow starts to work once a channel route exists.
            return Reply(f"{verb} {name}, but you will not be notified yet.", unheard)
        how = "by direct message" if dm else "with a mention in the alert channel"
        return Reply(f"{verb} {name}.", (f"You will get its alerts {how}.",))

    def _unheard(
        self, platform: str, topic_id: str, channels_here: Collection[str] | None = None
    ) -> tuple[str, ...]:
        """Why a follower on this platform would hear nothing of the topic; () when they will.

        Mentions and DMs go out only with channel posts, to the followers of the server the
        channel is in: a topic that reaches the platform through webhooks alone, or not at
        all, or only in other servers' channels, never notifies its followers here.
        """
        if platform not in PLATFORM_KINDS:
            return ()
        by_channel, by_webhook = platform_reach(topic_id, self.app.watchlist, platform)
        where = platform.capitalize()
        later = "Your follow is kept: it takes effect once an admin routes the topic to a"
        if by_channel and channels_here is not None and not channels_here:
            why = (
                f"Its alerts are posted only in other {where} servers' channels: followers"
                " are mentioned, or sent a direct message, by the alerts posted in their own"
                " server."
            )
            return why, f"{later} channel of this server."
        if by_channel:
            return ()
        why = (
            f"Its alerts reach {where} only through a webhook, which cannot mention you"
            " or send you a direct message."
            if by_webhook
            else f"Its alerts are not posted on {where} at the moment."
        )
        return why, f"{later} {where} channel."

    def channel_targets(self, platform: str, topic: str) -> list[str]:
        """The channel ids a typed topic's alerts are posted to on a platform ([] for an
        unknown topic): what a platform checks against the caller's server."""
        topic_id = self._topic_id(topic)
        if topic_id is None or platform not in PLATFORM_KINDS:
            return []
        return channel_targets(topic_id, self.app.watchlist, platform)

    def unfollow(self, platform: str, scope: str, user_id: str, topic: str) -> Reply:
        """Stop following a topic."""
        topic_id = self._topic_id(topic)
        if topic_id is None:
            # A topic removed from the watchlist can still be unfollowed by its id, typed as
            # any live topic may be (any case, spaces for hyphens).
            followed = self.store.following(platform, scope, user_id)
            topic_id = self._resolve(topic, {key: key for key, _ in followed})
            if topic_id is None:
                return self._unknown("topic", topic, self._topics)
        if self.store.unfollow(platform, scope, user_id, topic_id):
            return Reply(f"You no longer follow {self._topics.get(topic_id, topic_id)}.")
        return Reply(f"You were not following {self._topics.get(topic_id, topic_id)}.")

    def following(self, platform: str, scope: str, user_id: str) -> Reply:
        """The topics the caller follows here."""
        rows = self.store.following(platform, scope, user_id)
        if not rows:
            return Reply("You follow no topics yet.", ("Try /follow with a topic name.",))
        switched = self.store.dm_refusals(platform, scope, user_id)
        lines = []
        for topic_id, dm in rows:
            name = self._topics.get(topic_id)
            status = "" if name else " (removed from the watchlist; kept in case it returns)"
            how = " — by DM" if dm else SWITCHED_MARK if topic_id in switched else ""
            lines.append(f"• {name or topic_id}{how}{status}")
        return Reply("Topics you follow", tuple(lines))

    def dm_notice(self, platform: str, scope: str, user_id: str) -> DmNotice | None:
        """The note owed to a member whose DMs the platform refused (follows switched to
        mentions), to add to their next reply; None when nothing is owed."""
        return pending_notice(self.store, platform, scope, user_id, self._topics)

    def dm_notice_given(self, platform: str, scope: str, user_id: str, notice: DmNotice) -> None:
        """The member saw the note: it is not repeated."""
        given(self.store, platform, scope, user_id, notice)

    def topics(self, platform: str, scope: str) -> Reply:
        """Every tracked topic with its description and follower count."""
        counts = self.store.follower_counts(platform, scope)
        fields = tuple(
            (t.name, f"{t.description} ({counts.get(t.id, 0)} following; id: {t.id})")
            for t in self.app.watchlist.topics
        )
        return Reply(f"{len(fields)} tracked topics", fields=fields, ephemeral=False)

    def split_topic_actor(self, text: str) -> tuple[str, str | None]:
        """`<topic> [actor]` typed as one line: the topic part and the actor part, as typed.

        Names have spaces and a topic's may end in an actor's ("… for Ukraine"), so the
        first reading that fits wins: the whole text as a topic; the longest known topic and
        a known actor after it; the longest known topic and an unknown actor (which
        `positions` then reports); an unknown topic and the longest known actor after it.
        """
        words = text.split()
        whole = " ".join(words)
        if len(words) < 2 or self._topic_id(whole) is not None:
            return whole, None
        splits = [(" ".join(words[:i]), " ".join(words[i:])) for i in range(len(words) - 1, 0, -1)]
        known = [(t, a) for t, a in splits if self._topic_id(t) is not None]
        for topic, actor in known:
            if self._actor_id(actor) is not None:
                return topic, actor
        # A known topic that a longer topic name continues ("Arms shipments" in "Arms
        # shipments to Ukrain") is more likely a misspelt topic than a topic and an actor.
        for topic, actor in known:
            if not self._continues(topic):
                return topic, actor
        for topic, actor in reversed(splits):
            if self._actor_id(actor) is not None:
                return topic, actor
        return whole, None

    def _continues(self, typed: str) -> bool:
        """True when a topic's id or name goes on past what was typed."""
        typed = " ".join(typed.split()).lower() + " "
        return any(
            name.lower().startswith(typed)
            for t in self.app.watchlist.topics
            for name in (t.id, t.name)
        )

    def positions_line(self, text: str) -> Reply:
        """`positions` from one line of text (Slack): `<topic> [actor]`, split as users type."""
        topic, actor = self.split_topic_actor(text)
        return self.positions(topic, actor)

    def positions(self, topic: str, actor: str | None = None) -> Reply:
        """Each actor's current position on a topic, and its timeline with evidence."""
        topic_id = self._topic_id(topic)
        if topic_id is None:
            return self._unknown("topic", topic, self._topics)
        found = self.app.watchlist.topic(topic_id)
        assert found is not None
        actor_id = None
        if actor:
            actor_id = self._actor_id(actor)
            if actor_id is None:
                return self._unknown("actor", actor, self._actors, self._actor_spellings)
        # The last five stances of each actor are shown: only the latest few statements are
        # read, not the whole history (more than five: copies of one quote make one line).
        history = self.store.latest_statements(topic_id, actor_id, per_actor=TIMELINE_READ)
        if not found.positions:
            # Said with what is there instead: its alerts, and how positions come to exist.
            return Reply(
                f"{found.name} has no named positions in the watchlist.",
                (
                    f"/recent {topic_id} lists its latest alerts. Positions are tracked once"
                    " an admin lists them under the topic's “positions:” in the watchlist.",
                ),
            )
        if not history and actor_id is not None:
            name = self._actors.get(actor_id, actor_id)
            return Reply(f"No position of {name} recorded yet on {found.name}.")
        if not history:
            return Reply(f"No positions recorded yet on {found.name}.")
        by_actor: dict[str, list[Statement]] = {}
        for statement in history:
            by_actor.setdefault(statement.actor_id, []).append(statement)
        fields = tuple(self._actor_field(found, who, said) for who, said in by_actor.items())
        # All of them: each platform shows what fits and says how many more were not shown.
        return Reply(f"Positions on {found.name}", fields=fields, ephemeral=False)

    def _actor_field(self, topic: Topic, who: str, statements: list[Statement]) -> tuple[str, str]:
        """One actor's current position on the topic, and its latest stances with evidence."""
        sure = THRESHOLDS.statement_min
        # The position alerts measure a shift against: the latest confident reading,
        # which an unsure one after it does not replace (one index seek per actor).
        current = self.store.current_statement(topic.id, who, sure)
        label = _label(topic, current.position_id) if current else "no confident position yet"
        runs = _copies_together(statements)
        lines = [
            f"{_date(run[0].published)} · {_label(topic, run[0].position_id)}"
            f"{' (unsure reading)' if max(s.confidence for s in run) < sure else ''}"
            f" — “{_quoted(run[0].quote, 160)}”"
            f" ({', '.join(dict.fromkeys(s.source for s in run))}){self._relayed(run[0])}"
            for run in runs[-TIMELINE_SHOWN:]
        ]
        timeline = _newest_fitting(lines, TIMELINE_CHARS)
        left_out = len(runs) - len(timeline)
        # Only the latest statements were read: with all of them read, more may be before.
        more = len(statements) >= TIMELINE_READ
        if left_out:
            count = f"{left_out} or more" if more else str(left_out)
            plural = "" if count == "1" else "s"
            timeline.insert(0, f"… {count} earlier stance{plural} not shown")
        elif more:
            timeline.insert(0, "… earlier stances not shown")
        # An actor the watchlists dropped (or renamed) keeps its history, shown as its.
        name = self._actors.get(who) or f"{who} (no longer in the watchlists)"
        return f"{name}: {label}", "\n".join(timeline)

    def _relayed(self, statement: Statement) -> str:
        """ " (as reported by X)" for a stance another actor relayed, as alerts say it."""
        if not statement.reported_by:
            return ""
        return f" (as reported by {self._actors.get(statement.reported_by, statement.reported_by)})"

    def _position(self, statement: Statement) -> str:
        """The statement's position as members read it in alerts: its label, not its id."""
        topic = self.app.watchlist.topic(statement.topic_id)
        return _label(topic, statement.position_id) if topic else (statement.position_id or "?")

    def recent(self, topic: str, count: int = 5) -> Reply:
        """The latest alerts for a topic."""
        topic_id = self._topic_id(topic)
        if topic_id is None:
            return self._unknown("topic", topic, self._topics)
        count = max(1, min(count, 10))
        alerts = self.store.recent_alerts(topic_id, count)
        if not alerts:
            return Reply(f"No alerts yet for {self._topics[topic_id]}.")
        fields = tuple(
            (a.title[:200], f"{a.source} · {a.published:%d %b %H:%M} UTC · {a.url}") for a in alerts
        )
        return Reply(f"Latest alerts: {self._topics[topic_id]}", fields=fields)

    def why(self, url: str) -> Reply:
        """Why an article was or was not alerted: scores, passage, statements, story."""
        stored = self._article_at(url)
        if isinstance(stored, Reply):
            return stored
        matches = self.store.matches(stored.article.id)
        fields = [("Topic scores", self._scores(stored, matches))]
        statements = self._statements_found(stored.article.id)
        if statements:
            fields.append(("Statements found", "\n".join(statements)))
        fields.append(("Story", self._story(stored, matches)))
        return Reply(f"Why: {stored.article.title[:200]}", fields=tuple(fields))

    def _article_at(self, url: str) -> StoredArticle | Reply:
        """The stored article a typed link names, by any spelling of it; or the Reply that
        says why there is none (no link, not a link, not seen)."""
        url = url.strip()[:2000]
        if not url:
            return Reply("Give me the article's link.", ("For example: why https://…",), ok=False)
        link = typed_link(url)
        if link is None:
            return Reply(
                f"“{_echoed(url)}” is not an article link.",
                ("Give the link as the alert shows it, for example: why https://…",),
                ok=False,
            )
        spellings = link_spellings(link)
        stored = next((s for s in map(self.store.article_by_canonical_url, spellings) if s), None)
        if stored is None:
            return Reply(
                "I have not seen that article.",
                ("Only articles from the watched feeds are known.",),
                ok=False,
            )
        return stored

    def _scores(self, stored: StoredArticle, matches: list[MatchRow]) -> str:
        """The article's topic scores, one line a topic, or why it has none."""
        lines = [self._score_line(match, stored.article) for match in matches]
        # Only the best scores are stored (`TopicMatcher.evidence`): say the rest are lower.
        unlisted = len(set(self._topics) - {m.topic_id for m in matches})
        if lines and unlisted:
            lines.append(f"{unlisted} other topic{'s' if unlisted > 1 else ''} scored lower.")
        if lines:
            return "\n".join(lines)
        days = self.app.settings.retention_days
        if stored.article.fetched < datetime.now(UTC) - timedelta(days=days):
            return f"no longer kept: topic scores go with the article's text after {days} days"
        return "not scored (a re-issued copy)"

    def _score_line(self, match: MatchRow, article: Article) -> str:
        """One topic's score, threshold and verdict, with the passage that scored it."""
        topic = self.app.watchlist.topic(match.topic_id)
        threshold = self.app.pipeline.matcher.threshold(topic) if topic else 0.0
        verdict = "matched" if match.matched else "below threshold"
        if topic and match.matched and match.score < threshold:
            # Scored before an admin raised the threshold: the verdict of the time stands.
            verdict = "matched under an earlier threshold; would not match now"
        if topic and not match.matched and match.score >= threshold:
            refusal = self.app.pipeline.matcher.refusal(topic, article)
            # No refusal now: the threshold or the keywords were edited since.
            verdict = (
                f"not matched: {refusal}"
                if refusal
                else "not matched under the watchlist of the time; would match now"
            )
        return (
            f"{self._topics.get(match.topic_id, match.topic_id)}: {match.score:.2f}"
            f" (threshold {threshold:.2f}, {verdict}) — “{_quoted(match.passage, 200)}”"
        )

    def _statements_found(self, article_id: str) -> list[str]:
        """Each actor statement read in the article: who, on what, which position, the quote."""
        return [
            f"{self._actors.get(s.actor_id, s.actor_id)} on "
            f"{self._topics.get(s.topic_id, s.topic_id)}:"
            f" {self._position(s) if s.position_id else 'no confident position'}"
            f" ({s.confidence:.2f})"
            f" — “{_quoted(s.quote, 160)}”{self._relayed(s)}"
            f"{f' · {s.shift_note}' if s.shift_note else ''}"
            for s in self.store.article_statements(article_id)
        ]

    def _story(self, stored: StoredArticle, matches: list[MatchRow]) -> str:
        """What became of the article: alerted, folded into another's alert, or not."""
        alert = self.store.alert(stored.story_id) if stored.story_id else None
        if alert is None:
            why_not = self._history_only(stored, any(m.matched for m in matches))
            return f"Not alerted ({why_not})." if why_not else "Not alerted."
        if alert.url == stored.article.url:
            return "Alerted." + self._updates_alerted(stored.article.id, alert.id)
        return f"Folded into the alert for “{alert.title[:150]}” ({alert.source})."

    def _updates_alerted(self, article_id: str, first_alert_id: str) -> str:
        """The alerts a live page's later updates gave, one line each; "" when none."""
        updates = [a for a in self.store.article_alerts(article_id) if a.id != first_alert_id]
        lines = [f"{a.published:%d %b %H:%M} UTC: {_update_news(a)}" for a in updates]
        # A page updated all day could list many: the latest ones are what is asked about.
        shown = lines[-_UPDATES_SHOWN:]
        more = len(lines) - len(shown)
        head = f"\nIts updates were alerted too{f' ({more} earlier not shown)' if more else ''}:"
        return "\n".join([head, *shown]) if shown else ""

    def _history_only(self, stored: StoredArticle, matched: bool) -> str:
        """Why the pipeline kept a stored article as history, by its own rules; "" when
        none applies (no topic matched: the scores say why)."""
        pipeline = self.app.pipeline
        article, story_id = stored.article, stored.story_id
        if stored.first_poll:
            return "first poll of its feed: history only"
        if not matched:
            return ""
        if story_id and pipeline.reissue_of_history(story_id, article):
            return "its feed gave this story at its first poll: history only"
        if pipeline.max_alert_age and pipeline.too_old(article, article.fetched):
            days = pipeline.max_alert_age.days
            return f"dated more than {days} days before it was first seen: history only"
        return ""

    def feeds(self) -> Reply:
        """Admin: the health of every feed in the watchlists, the ones in trouble first.

        With many feeds a platform shows the first 25 and says how many more there are:
        a failing or paused feed must not be among those left out.

        Feeds removed or moved to a new URL keep their state in the database (a feed put
        back resumes where it was) but are not listed: their "next poll" never comes.
        """
        states = {state.url: state for state in self.store.feed_states()}
        fields = []
        for feed in self.app.watchlist.feeds:
            state = states.get(feed.url)
            if state is None:  # just listed: the next poll tick stores and polls it
                parts = ["status: not polled yet"]
            else:
                parts = [
                    f"status: {state.status}",
                    f"next poll: {_date(state.next_poll_at)} {state.next_poll_at:%H:%M} UTC",
                    f"last success: {day_label(state.last_ok_at, 'never')}",
                ]
                if state.last_error:
                    error = state.last_error[:200]
                    parts.append(f"last error: {error} ({_date(state.last_error_at)})")
                if state.language_told and self.app.pipeline.english_only_model:
                    parts.append(NOT_ENGLISH)
                if state.unreliable_told:
                    polls = read_polls(state.recent_polls)
                    parts.append(
                        f"unreliable: {failures(polls)} of its last {len(polls)} polls failed"
                    )
            # Feed URLs may carry a token or a password: shown to members, never in full.
            trouble = state is not None and (state.status != "ok" or state.unreliable_told)
            fields.append((not trouble, feed.name or safe_url(feed.url), "\n".join(parts)))
        dead = self.store.dead_outbox()
        lines = (
            (f"{len(dead)} deliveries given up on: “stancewatch outbox --replay” retries them.",)
            if dead
            else ()
        )
        shown = tuple((name, value) for _, name, value in sorted(fields, key=lambda f: f[0]))
        return Reply(counted(len(fields), "feed"), lines, fields=shown)

    def reload(self) -> Reply:
        """Admin: re-read the watchlists; apply them or say what is wrong."""
        from bot.reload import problem_text, reload_watchlists

        settings = self.app.settings
        result = reload_watchlists(
            settings.watchlists_dir, self.app.watchlist, settings.default_interval_s
        )
        if not result.applied:
            # Told in a chat: a feed URL an error quotes loses its secrets, as in the log, and
            # a file is named inside the watchlist folder, not by the server's path to it.
            folder = settings.watchlists_dir
            errors = tuple(
                problem_text(_in_folder(p, folder))
                for p in result.problems
                if p.severity == "error"
            )
            listed = errors[:RELOAD_ERRORS_LISTED]
            if len(errors) > len(listed):
                # Else the admin fixes what was listed and meets the rest at the next reload.
                unlisted = counted(len(errors) - len(listed), "more error")
                listed += (f"… and {unlisted}: “stancewatch check” lists them all.",)
            return Reply("Reload refused; the last good watchlists stay in use.", listed, ok=False)
        assert result.watchlist is not None
        before = self.app.watchlist
        self.app.use_watchlist(result.watchlist)
        changes = tuple(redact_urls(line) for line in result.changes)
        # Said to the admin who reloaded: followers or a history the edit left behind.
        left = tuple(str(item) for item in self.app.left_behind(before))
        return Reply("Watchlists reloaded.", (*changes, *left) or ("No changes.",))


def _in_folder(problem: Problem, folder: Path) -> Problem:
    """The problem with its file named relative to the watchlist folder, when inside it."""
    try:
        relative = Path(problem.file).relative_to(folder)
    except ValueError:
        return problem
    return replace(problem, file=str(relative))


def _copies_together(statements: list[Statement]) -> list[list[Statement]]:
    """Runs of consecutive statements that are one quote in one position (several outlets
    printing the same wire copy): one stance for the timeline, whoever printed it."""
    runs: list[list[Statement]] = []
    for statement in statements:
        last = runs[-1][0] if runs else None
        if (
            last is not None
            and last.position_id == statement.position_id
            and last.reported_by == statement.reported_by
            and " ".join(last.quote.split()).casefold()
            == " ".join(statement.quote.split()).casefold()
        ):
            runs[-1].append(statement)
        else:
            runs.append([statement])
    return runs


def _newest_fitting(lines: list[str], limit: int) -> list[str]:
    """The last lines whose joined length stays within `limit` (the newest always), in
    order: a timeline keeps its latest stances whole and drops the oldest first."""
    kept: list[str] = []
    used = 0
    for line in reversed(lines):
        if kept and used + len(line) + 1 > limit:
            break
        kept.insert(0, line)
        used += len(line) + 1
    return kept


def _label(topic: Topic, position_id: str | None) -> str:
    """A position's label; an id the watchlists dropped (or renamed) is said to be gone,
    as a dropped actor is, so nobody reads it as one of today's positions."""
    position = topic.position(position_id or "")
    if position is not None:
        return position.label
    return f"{position_id} (no longer in the watchlists)" if position_id else "?"
