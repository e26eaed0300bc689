"""Load and validate the admins' watchlist files; every problem names file, line and key.

`schema` holds the file format, `source` reads one file, `checks` adds what the format
cannot say; this module merges the files and checks what spans them (duplicate ids,
feeds listed twice, routes to unknown topics).
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar
from urllib.parse import urlsplit

from bot.models import Actor, Feed, Position, Route, Topic, Watchlist
from bot.watchlists.checks import (
    check_actor,
    check_feed_path,
    check_route_tokens,
    check_shared_aliases,
    check_slack_channel,
    check_topic,
)
from bot.watchlists.former_ids import FormerIds
from bot.watchlists.schema import DESTINATION_KEYS, TopicModel, parse_interval, schema_json
from bot.watchlists.source import KeyPath, Problem, Source, key_name, load_file

__all__ = [
    "LoadResult",
    "Problem",
    "load_watchlists",
    "parse_interval",
    "schema_json",
    "watchlist_files",
]

# A passage is matched against a topic's texts *and set against* its `exclude` sentences and
# the other topics' texts, and the start-up classifier learns from those other topics. One
# topic with no excludes has nothing to tell it from its neighbouring subjects: alone, our
# labeled topics score F1 0.80 on average against 0.90 beside their neighbours (README).
_NO_TOPICS = "no topics in any file: feeds are polled but no article can match; add `topics:`"
_LONE_TOPIC = (
    "the only topic, with no `exclude` sentences: nothing tells it apart from stories on"
    " neighbouring subjects, which then match too; list a few of those as `exclude`"
)


@dataclass(frozen=True)
class LoadResult:
    """Merged watchlists (None when any error was found) and every problem found."""

    watchlist: Watchlist | None
    problems: tuple[Problem, ...]

    @property
    def errors(self) -> tuple[Problem, ...]:
        """The problems that block loading."""
        return tuple(p for p in self.problems if p.severity == "error")


def _to_topic(model: TopicModel, default_threshold: float | None) -> Topic:
    positions = tuple(
        Position(p.id, p.label, tuple(p.examples), p.polarity, tuple(p.former_ids))
        for p in model.positions
    )
    return Topic(
        id=model.id,
        name=model.name,
        description=" ".join(model.description.split()),
        examples=tuple(model.examples),
        exclude=tuple(model.exclude),
        keywords=tuple(word.strip() for word in model.keywords if word.strip()),
        threshold=model.threshold if model.threshold is not None else default_threshold,
        positions=positions,
        reversals=tuple((a, b) for a, b in model.reversals),
        former_ids=tuple(model.former_ids),
    )


_Item = TypeVar("_Item")


def _present(items: Sequence[_Item | None]) -> list[tuple[int, _Item]]:
    """Items with their index in the file; a file with errors holds None for each invalid
    one (`valid_items`), so the indices, and with them the line numbers, stay right."""
    return [(i, item) for i, item in enumerate(items) if item is not None]


def watchlist_files(folder: Path) -> list[Path]:
    """The files of the folder that are read as watchlists, in the order they are merged."""
    # Hidden files are editors' and systems' litter, not watchlists: Emacs's lock
    # `.#a.yaml` (a symlink to nowhere, there while a buffer is modified), macOS's `._a.yaml`,
    # rsync's `.a.yaml.Xy12Z`. Only the folder's own level is read: a Kubernetes ConfigMap
    # keeps a second copy of every file in its `..data` and `..<timestamp>` folders.
    # The suffix in any case: "Ukraine.YAML", copied from Windows, is a watchlist too.
    return sorted(
        p
        for p in folder.glob("*")
        if p.suffix.lower() in (".yaml", ".yml") and not p.name.startswith(".")
    )


def load_watchlists(
    folder: Path, env: Mapping[str, str] | None = None, default_interval_s: float = 600.0
) -> LoadResult:
    """Load and merge every *.yaml/*.yml in the folder; collect every problem, raise nothing."""
    env = os.environ if env is None else env
    folder = Path(folder)
    if folder.is_file():
        message = f"is a file: give the folder that holds the watchlists ({folder.parent})"
        return LoadResult(None, (Problem(str(folder), 1, "(folder)", message),))
    if not folder.is_dir():
        return LoadResult(
            None, (Problem(str(folder), 1, "(folder)", "watchlist folder not found"),)
        )
    files = watchlist_files(folder)
    if not files:
        return LoadResult(None, (Problem(str(folder), 1, "(folder)", "no *.yaml watchlist files"),))
    problems: list[Problem] = []
    actors: list[Actor] = []
    topics: list[Topic] = []
    feeds: dict[str, Feed] = {}
    spelled: dict[tuple[str, ...], tuple[str, str]] = {}  # feed key -> (url, "file:line")
    listed: dict[str, str] = {}  # feed url -> "file:line" of its first listing
    routes: list[tuple[Route, str, int, Source]] = []  # route, file, index in file, source
    owners: dict[tuple[str, str], str] = {}  # (kind, id) -> "file:line"
    alias_owners: dict[str, tuple[str, str]] = {}  # alias -> (actor id, "file:line")
    topic_places: list[tuple[str, int, str]] = []  # (file, line, key) of each topic loaded
    unloaded_topics: set[str] = set()  # ids of topics with errors: they exist, for routes
    former = {"topics": FormerIds("topic"), "actors": FormerIds("actor")}
    # A file that could not be read or parsed, or lost a block to a repeated key, may define
    # any topic: a route naming one is not reported as unknown on top of that file's error.
    unread = False
    for path in files:
        model, src, file_problems = load_file(path, env)
        problems.extend(file_problems)
        unread = unread or model is None or src is None or bool(src.duplicates)
        if src is not None:
            unloaded_topics |= {item_id for kind, item_id in src.invalid_ids if kind == "topics"}
        if model is None or src is None:
            continue
        name = str(path)
        groups = (
            ("actors", [(i, a.id) for i, a in _present(model.actors)]),
            ("topics", [(i, t.id) for i, t in _present(model.topics)]),
        )
        for kind, ids in groups:
            for i, item_id in ids:
                where = f"{name}:{src.line((kind, i, 'id'))}"
                first = owners.setdefault((kind, item_id), where)
                if first != where:
                    problems.append(
                        Problem(
                            name,
                            src.line((kind, i, "id")),
                            key_name((kind, i, "id")),
                            f"duplicate {kind[:-1]} id {item_id!r} (first defined at {first})",
                        )
                    )
        for i, topic_model in _present(model.topics):
            former["topics"].add(topic_model.id, topic_model.former_ids, name, src, ("topics", i))
            problems.extend(check_topic(topic_model, name, src, ("topics", i)))
            topics.append(_to_topic(topic_model, None))
            topic_places.append((name, src.line(("topics", i)), key_name(("topics", i))))
        for i, actor_model in _present(model.actors):
            former["actors"].add(actor_model.id, actor_model.former_ids, name, src, ("actors", i))
            problems.extend(check_actor(actor_model, name, src, ("actors", i)))
            problems.extend(
                check_shared_aliases(actor_model, name, src, ("actors", i), alias_owners)
            )
            aliases = tuple(alias.strip() for alias in actor_model.aliases if alias.strip())
            actors.append(
                Actor(actor_model.id, actor_model.name, aliases, tuple(actor_model.former_ids))
            )
        for i, feed_model in _present(model.feeds):
            interval = (
                parse_interval(feed_model.interval)
                if feed_model.interval is not None
                else default_interval_s
            )
            url = feed_model.url
            if "://" not in url and not Path(url).is_absolute():
                url = str((path.parent / url).resolve())
            typed_short = check_feed_path(feed_model.url, Path(url))
            if typed_short:
                at_url: KeyPath = ("feeds", i, "url")
                problems.append(Problem(name, src.line(at_url), key_name(at_url), typed_short))
                continue
            # One URL listed in several files is fetched once: the first listing wins.
            feed = Feed(url, feed_model.name, interval, feed_model.full_text, name)
            first_feed = feeds.setdefault(url, feed)
            url_at: KeyPath = ("feeds", i, "url")
            where_url = f"{name}:{src.line(url_at)}"
            first_listed = listed.setdefault(url, where_url)
            settings = (feed.name, feed.interval_s, feed.full_text)
            if first_listed != where_url and settings != (
                first_feed.name,
                first_feed.interval_s,
                first_feed.full_text,
            ):
                message = (
                    f"this feed is listed already ({first_listed}) with other settings: this"
                    " listing's name, interval and full_text are ignored; keep one listing"
                )
                problems.append(
                    Problem(name, src.line(url_at), key_name(url_at), message, "warning")
                )
            first_url, first_at = spelled.setdefault(
                _feed_key(url), (url, f"{name}:{src.line(url_at)}")
            )
            if first_url != url:
                message = (
                    f"the same feed as {first_url} ({first_at}), written differently: it would"
                    " be fetched twice; keep one spelling"
                )
                problems.append(
                    Problem(name, src.line(url_at), key_name(url_at), message, "warning")
                )
        for i, route_model in _present(model.routes):
            route = Route(
                tuple(route_model.topics),
                route_model.discord_channel,
                route_model.discord_webhook,
                route_model.slack_channel,
                route_model.slack_webhook,
            )
            routes.append((route, name, i, src))
            problems.extend(check_route_tokens(route, name, src, ("routes", i), env))
            problems.extend(check_slack_channel(route, name, src, ("routes", i)))
            if not route_model.model_fields_set & DESTINATION_KEYS:
                at_route: KeyPath = ("routes", i)
                # Its topics fall back to the console (bot/routing.py): say so, since a
                # team trying the bot in the terminal first writes exactly this route.
                message = (
                    "no destination: give discord_channel, discord_webhook, slack_channel"
                    " or slack_webhook; until then, alerts on a topic no other route covers"
                    " are only printed in the terminal"
                )
                problems.append(
                    Problem(name, src.line(at_route), key_name(at_route), message, "warning")
                )
    for kind, claims in former.items():
        # Across files: an id renamed in one file may be in use in another.
        problems.extend(claims.problems({i: at for (k, i), at in owners.items() if k == kind}))
    topic_ids = {t.id for t in topics} | unloaded_topics
    for route, name, i, src in routes:
        for j, topic_id in enumerate(route.topics):
            if topic_id != "*" and topic_id not in topic_ids and not unread:
                at: KeyPath = ("routes", i, "topics", j)
                problems.append(
                    Problem(name, src.line(at), key_name(at), f"unknown topic {topic_id!r}")
                )
    if not topics and not unloaded_topics and not unread:
        problems.append(Problem(str(files[0]), 1, "topics", _NO_TOPICS, "warning"))
    if len(topics) == 1 and not topics[0].exclude:
        problems.append(Problem(*topic_places[0], _LONE_TOPIC, "warning"))
    if any(p.severity == "error" for p in problems):
        return LoadResult(None, tuple(problems))
    watchlist = Watchlist(
        tuple(actors), tuple(topics), tuple(feeds.values()), tuple(r[0] for r in routes)
    )
    return LoadResult(watchlist, tuple(problems))


def _feed_key(url: str) -> tuple[str, ...]:
    """What two spellings of one feed share: "http" or "https", a host's capitals, a
    default port and a trailing slash do not make another feed."""
    parts = urlsplit(url.strip())
    if not parts.netloc:
        return ("file", url)
    try:
        port = parts.port
    except ValueError:  # a port that is not a number: compare as written
        port = None
    port_text = "" if port in (None, 80, 443) else str(port)
    host = (parts.hostname or "").lower()
    return (host, port_text, parts.path.rstrip("/") or "/", parts.query)
