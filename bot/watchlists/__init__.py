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
from bot.watchlists.schema import (
    DESTINATION_KEYS,
    ActorModel,
    FeedModel,
    RouteModel,
    TopicModel,
    WatchlistFile,
    parse_interval,
    schema_json,
)
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
        Position(p.id, p.label, _written(p.examples), p.polarity, tuple(p.former_ids))
        for p in model.positions
    )
    return Topic(
        id=model.id,
        name=model.name,
        description=" ".join(model.description.split()),
        examples=_written(model.examples),
        exclude=_written(model.exclude),
        keywords=tuple(word.strip() for word in model.keywords if word.strip()),
        threshold=model.threshold if model.threshold is not None else default_threshold,
        positions=positions,
        reversals=tuple((a, b) for a, b in model.reversals),
        former_ids=tuple(model.former_ids),
    )


def _written(sentences: list[str]) -> tuple[str, ...]:
    """The sentences that hold any text: an empty one is warned of (`check_topic`) and left
    out, never embedded."""
    return tuple(sentence for sentence in sentences if sentence.strip())


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
    merge = _Merge(env, default_interval_s)
    for path in files:
        merge.add_file(path)
    return merge.result(files[0])


class _Merge:
    """The files read so far, merged, with every problem found in them and across them."""

    def __init__(self, env: Mapping[str, str], default_interval_s: float) -> None:
        self.env = env
        self.default_interval_s = default_interval_s
        self.problems: list[Problem] = []
        self.actors: list[Actor] = []
        self.topics: list[Topic] = []
        self.feeds: dict[str, Feed] = {}
        self.spelled: dict[tuple[str, ...], tuple[str, str]] = {}  # feed key -> (url, "file:line")
        self.listed: dict[str, str] = {}  # feed url -> "file:line" of its first listing
        self.routes: list[tuple[Route, str, int, Source]] = []  # route, file, index, source
        self.owners: dict[tuple[str, str], str] = {}  # (kind, id) -> "file:line"
        self.alias_owners: dict[str, tuple[str, str]] = {}  # alias -> (actor id, "file:line")
        self.topic_places: list[tuple[str, int, str]] = []  # (file, line, key) of each topic
        self.unloaded_topics: set[str] = set()  # ids of topics with errors: they exist, for routes
        # Topic items written, loaded or not: one of two that has a typo is still not "the
        # only topic", whatever its id.
        self.topics_written = 0
        self.former = {"topics": FormerIds("topic"), "actors": FormerIds("actor")}
        # A file that could not be read or parsed, or lost a block to a repeated key, may
        # define any topic: a route naming one is not reported as unknown on top of that
        # file's error.
        self.unread = False

    def add_file(self, path: Path) -> None:
        """Read one file and merge its valid items; note its problems."""
        model, src, file_problems = load_file(path, self.env)
        self.problems.extend(file_problems)
        self.unread = self.unread or model is None or src is None or bool(src.duplicates)
        if src is not None:
            self.unloaded_topics |= {i for kind, i in src.invalid_ids if kind == "topics"}
        if model is None or src is None:
            return
        name = str(path)
        self.topics_written += len(model.topics)  # an item with errors is kept as None
        self._claim_ids(model, name, src)
        for i, topic_model in _present(model.topics):
            self._add_topic(topic_model, name, src, ("topics", i))
        for i, actor_model in _present(model.actors):
            self._add_actor(actor_model, name, src, ("actors", i))
        for i, feed_model in _present(model.feeds):
            self._add_feed(feed_model, path, src, ("feeds", i))
        for i, route_model in _present(model.routes):
            self._add_route(route_model, name, src, i)

    def _claim_ids(self, model: WatchlistFile, name: str, src: Source) -> None:
        """Note where each actor and topic id is defined; a second definition is an error."""
        groups = (
            ("actors", [(i, a.id) for i, a in _present(model.actors)]),
            ("topics", [(i, t.id) for i, t in _present(model.topics)]),
        )
        for kind, ids in groups:
            for i, item_id in ids:
                where = f"{name}:{src.line((kind, i, 'id'))}"
                first = self.owners.setdefault((kind, item_id), where)
                if first != where:
                    self.problems.append(
                        Problem(
                            name,
                            src.line((kind, i, "id")),
                            key_name((kind, i, "id")),
                            f"duplicate {kind[:-1]} id {item_id!r} (first defined at {first})",
                        )
                    )

    def _add_topic(self, model: TopicModel, name: str, src: Source, path: KeyPath) -> None:
        self.former["topics"].add(model.id, model.former_ids, name, src, path)
        self.problems.extend(check_topic(model, name, src, path))
        self.topics.append(_to_topic(model, None))
        self.topic_places.append((name, src.line(path), key_name(path)))

    def _add_actor(self, model: ActorModel, name: str, src: Source, path: KeyPath) -> None:
        self.former["actors"].add(model.id, model.former_ids, name, src, path)
        self.problems.extend(check_actor(model, name, src, path))
        self.problems.extend(check_shared_aliases(model, name, src, path, self.alias_owners))
        aliases = tuple(alias.strip() for alias in model.aliases if alias.strip())
        self.actors.append(Actor(model.id, model.name, aliases, tuple(model.former_ids)))

    def _add_feed(self, model: FeedModel, file: Path, src: Source, path: KeyPath) -> None:
        name = str(file)
        interval = (
            parse_interval(model.interval)
            if model.interval is not None
            else self.default_interval_s
        )
        url = model.url
        if "://" not in url and not Path(url).is_absolute():
            url = str((file.parent / url).resolve())
        url_at: KeyPath = (*path, "url")
        typed_short = check_feed_path(model.url, Path(url))
        if typed_short:
            self.problems.append(Problem(name, src.line(url_at), key_name(url_at), typed_short))
            return
        # One URL listed in several files is fetched once: the first listing wins.
        feed = Feed(url, model.name, interval, model.full_text, name)
        first_feed = self.feeds.setdefault(url, feed)
        where_url = f"{name}:{src.line(url_at)}"
        first_listed = self.listed.setdefault(url, where_url)
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
            self.problems.append(
                Problem(name, src.line(url_at), key_name(url_at), message, "warning")
            )
        first_url, first_at = self.spelled.setdefault(_feed_key(url), (url, where_url))
        if first_url != url:
            message = (
                f"the same feed as {first_url} ({first_at}), written differently: it would"
                " be fetched twice; keep one spelling"
            )
            self.problems.append(
                Problem(name, src.line(url_at), key_name(url_at), message, "warning")
            )

    def _add_route(self, model: RouteModel, name: str, src: Source, i: int) -> None:
        route = Route(
            tuple(model.topics),
            model.discord_channel,
            model.discord_webhook,
            model.slack_channel,
            model.slack_webhook,
        )
        self.routes.append((route, name, i, src))
        self.problems.extend(check_route_tokens(route, name, src, ("routes", i), self.env))
        self.problems.extend(check_slack_channel(route, name, src, ("routes", i)))
        if not model.model_fields_set & DESTINATION_KEYS:
            at_route: KeyPath = ("routes", i)
            # Its topics fall back to the console (bot/routing.py): say so, since a team
            # trying the bot in the terminal first writes exactly this route.
            message = (
                "no destination: give discord_channel, discord_webhook, slack_channel"
                " or slack_webhook; until then, alerts on a topic no other route covers"
                " are only printed in the terminal"
            )
            self.problems.append(
                Problem(name, src.line(at_route), key_name(at_route), message, "warning")
            )

    def result(self, first_file: Path) -> LoadResult:
        """The merged watchlist once what spans the files is checked too (None on any error)."""
        for kind, claims in self.former.items():
            # Across files: an id renamed in one file may be in use in another.
            current = {i: at for (k, i), at in self.owners.items() if k == kind}
            self.problems.extend(claims.problems(current))
        self._check_route_topics()
        if not self.topics_written and not self.unread:
            self.problems.append(Problem(str(first_file), 1, "topics", _NO_TOPICS, "warning"))
        lone = len(self.topics) == 1 and self.topics_written == 1 and not self.unread
        if lone and not self.topics[0].exclude:
            self.problems.append(Problem(*self.topic_places[0], _LONE_TOPIC, "warning"))
        problems = tuple(self.problems)
        if any(p.severity == "error" for p in problems):
            return LoadResult(None, problems)
        watchlist = Watchlist(
            tuple(self.actors),
            tuple(self.topics),
            tuple(self.feeds.values()),
            tuple(r[0] for r in self.routes),
        )
        return LoadResult(watchlist, problems)

    def _check_route_topics(self) -> None:
        """A route naming a topic no file defines is an error (unless a file went unread)."""
        if self.unread:
            return
        topic_ids = {t.id for t in self.topics} | self.unloaded_topics
        for route, name, i, src in self.routes:
            for j, topic_id in enumerate(route.topics):
                if topic_id != "*" and topic_id not in topic_ids:
                    at: KeyPath = ("routes", i, "topics", j)
                    self.problems.append(
                        Problem(name, src.line(at), key_name(at), f"unknown topic {topic_id!r}")
                    )


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
