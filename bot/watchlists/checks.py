"""Checks the schema cannot express: unique position ids, enough examples, aliases that are
common words, routes that name no usable destination, a web feed typed without its scheme.
Most are warnings."""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Literal

from bot.models import Route
from bot.watchlists.former_ids import FormerIds
from bot.watchlists.schema import SLACK_CHANNEL_ID, ActorModel, TopicModel
from bot.watchlists.source import KeyPath, Problem, Source, key_name


def _at(
    where: str,
    src: Source,
    path: KeyPath,
    message: str,
    severity: Literal["error", "warning"] = "error",
) -> Problem:
    """A problem placed at the line and key of `path`."""
    return Problem(where, src.line(path), key_name(path), message, severity)


def check_topic(model: TopicModel, where: str, src: Source, path: KeyPath) -> list[Problem]:
    """Checks pydantic cannot express: unique position ids, known reversal ids, enough
    examples, no empty keyword or sentence, former position ids that are free (per topic)."""
    problems = _blank_sentences(model, where, src, path)
    seen: set[str] = set()
    former = FormerIds("position")
    current: dict[str, str] = {}
    for i, position in enumerate(model.positions):
        at = (*path, "positions", i)
        former.add(position.id, position.former_ids, where, src, at)
        current.setdefault(position.id, f"{where}:{src.line((*at, 'id'))}")
        if position.id in seen:
            message = f"duplicate position id {position.id!r} in topic {model.id!r}"
            problems.append(_at(where, src, (*at, "id"), message))
        seen.add(position.id)
        problems += _example_problems(position.examples, where, src, at)
    problems.extend(former.problems(current, of=model.id))
    return problems + _unknown_reversals(model, seen, where, src, path)


def _blank_sentences(model: TopicModel, where: str, src: Source, path: KeyPath) -> list[Problem]:
    """A warning for each empty keyword, example or near-miss of the topic and its positions."""
    # An empty keyword would match every article: the guard would be off.
    problems = _blanks(model.keywords, "empty keyword: ignored", where, src, (*path, "keywords"))
    # An empty sentence was embedded as one: a prototype that resembles nothing in particular.
    for key in ("examples", "exclude"):
        problems += _blanks(getattr(model, key), _EMPTY_SENTENCE, where, src, (*path, key))
    for i, position in enumerate(model.positions):
        at = (*path, "positions", i, "examples")
        problems += _blanks(position.examples, _EMPTY_SENTENCE, where, src, at)
    return problems


def _example_problems(examples: list[str], where: str, src: Source, path: KeyPath) -> list[Problem]:
    """Warnings for a position (at `path`) with too few distinct examples, or a repeated one."""
    problems = []
    written = [example for example in examples if example.strip()]
    if len(set(written)) < 2:
        message = "fewer than 2 distinct examples: statements will rarely be assigned to it"
        # At the position's line: a position with no examples key has no line of its own.
        examples_key = key_name((*path, "examples"))
        problems.append(Problem(where, src.line(path), examples_key, message, "warning"))
    if len(set(written)) != len(written):
        problems.append(
            _at(where, src, (*path, "examples"), "the same example is listed twice", "warning")
        )
    return problems


def _unknown_reversals(
    model: TopicModel, known: set[str], where: str, src: Source, path: KeyPath
) -> list[Problem]:
    """An error for each position a reversal names that the topic does not list."""
    return [
        _at(where, src, (*path, "reversals", i), f"unknown position {name!r} in topic {model.id!r}")
        for i, (before, now) in enumerate(model.reversals)
        for name in (before, now)
        if name not in known
    ]


_EMPTY_SENTENCE = "empty sentence: ignored"


def _blanks(
    items: list[str], message: str, where: str, src: Source, path: KeyPath
) -> list[Problem]:
    """A warning for each item of a list that is empty or spaces only (it is dropped)."""
    return [
        _at(where, src, (*path, j), message, "warning")
        for j, item in enumerate(items)
        if not item.strip()
    ]


# Words so common in news that an alias spelled like one would make nearly every sentence
# "speak for" its actor. An all-capitals acronym ("US", "IT") matches only itself: not these.
# fmt: off
_COMMON_WORDS = frozenset({
    "a", "an", "and", "are", "as", "at", "be", "been", "but", "by", "can", "could", "did", "do",
    "for", "from", "had", "has", "have", "he", "her", "his", "i", "in", "is", "it", "its",
    "may", "more", "new", "no", "not", "of", "on", "one", "or", "our", "over", "said", "say",
    "says", "she", "so", "than", "that", "the", "their", "them", "then", "there", "these",
    "they", "this", "those", "to", "two", "us", "was", "we", "were", "what", "when", "which",
    "who", "will", "with", "would", "year", "you",
})
# fmt: on


def check_actor(model: ActorModel, where: str, src: Source, path: KeyPath) -> list[Problem]:
    """Warnings for aliases that would find the actor everywhere (an empty or common word)."""
    problems = []
    for j, alias in enumerate(model.aliases):
        at = (*path, "aliases", j)
        if not alias.strip():
            message = "empty alias: ignored"
        elif alias.strip().lower() in _COMMON_WORDS and not (
            alias.isupper() and len(alias.strip()) > 1
        ):
            message = (
                f"alias {alias!r} is a common word: ordinary sentences would be read as "
                "this actor's"
            )
        else:
            continue
        problems.append(_at(where, src, at, message, "warning"))
    return problems


# Channel (bot-mode) destinations need the platform's bot token; webhooks do not.
_TOKEN_FOR = {"discord_channel": "DISCORD_TOKEN", "slack_channel": "SLACK_BOT_TOKEN"}


def check_route_tokens(
    route: Route, where: str, src: Source, path: KeyPath, env: Mapping[str, str]
) -> list[Problem]:
    """Warn about a channel destination whose bot token is not set: it would be skipped."""
    problems = []
    for key, token in _TOKEN_FOR.items():
        if getattr(route, key) and not env.get(token, "").strip():  # blanks: no token
            message = f"{token} is not set, so this destination is skipped"
            problems.append(_at(where, src, (*path, key), message, "warning"))
    return problems


def check_slack_channel(route: Route, where: str, src: Source, path: KeyPath) -> list[Problem]:
    """Warn about a Slack channel given by name: Slack posts to a public channel by its
    name, so it works, until the channel is renamed; a private one is not found by name."""
    channel = route.slack_channel
    if not channel or SLACK_CHANNEL_ID.match(channel):
        return []
    at: KeyPath = (*path, "slack_channel")
    message = (
        f"{channel!r} is a channel name, not its id: alerts stop the day the channel is"
        " renamed, and a private channel is never found by name; give the channel id"
        " (channel details, About: Channel ID, like C0123ABCD)"
    )
    return [_at(where, src, at, message, "warning")]


def check_shared_aliases(
    model: ActorModel,
    where: str,
    src: Source,
    path: KeyPath,
    owners: dict[str, tuple[str, str]],
) -> list[Problem]:
    """Warn about an alias (or name) an earlier actor has already; note this actor's own.

    The alias index gives every sentence with a shared alias to the actor listed first
    (bot/actors.py), so the other never gets a statement from it, silently. `owners` maps
    each alias seen so far to (actor id, "file:line"), across files.
    """
    problems = []
    named: list[tuple[str, KeyPath]] = [(model.name.strip(), (*path, "name"))]
    named += [(a.strip(), (*path, "aliases", j)) for j, a in enumerate(model.aliases)]
    for alias, at in named:
        if not alias:
            continue
        owner, first = owners.setdefault(alias, (model.id, f"{where}:{src.line(at)}"))
        if owner != model.id:
            message = (
                f"{alias!r} is also actor {owner!r}'s ({first}): every sentence with it is"
                f" read as {owner!r}'s, never this actor's; keep it on one actor"
            )
            problems.append(_at(where, src, at, message, "warning"))
    return problems


# The start of a web address typed without its scheme: a host name ending in a word of
# letters ("www.wire.example", "news.example.org"), an IPv4 address or localhost, with an
# optional port, then a '/' or nothing. File extensions of feeds are left out, so a missing
# "world.xml" beside the watchlists is still read as the file it names.
_HOST_FIRST = re.compile(
    r"(?:(?:[A-Za-z0-9-]+\.)+(?!(?:xml|rss|atom|rdf|json|txt|html?)\b)[A-Za-z]{2,}"
    r"|\d{1,3}(?:\.\d{1,3}){3}|localhost)(?::\d{1,5})?(?:/|\Z)",
    re.IGNORECASE,
)


def check_feed_path(written: str, resolved: Path) -> str | None:
    """Why a feed written without a scheme is a web address typed short, or None.

    Without "http(s)://" a feed is a local file (read relative to the watchlist's folder),
    so "www.wire.example/rss" passed `check` and failed at every poll as "file not found".
    A path that is there is a file, whatever it looks like.
    """
    if "://" in written or resolved.exists() or not _HOST_FIRST.match(written):
        return None
    return (
        f"has no scheme, and no such file is there: write https://{written} for a web"
        " feed (a local file is read relative to the watchlist's folder)"
    )
