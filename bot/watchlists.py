"""Load and validate the admins' watchlist files; every problem names file, line and key."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, TypeVar
from urllib.parse import urlsplit

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from bot.models import Actor, Feed, Position, Route, Topic, Watchlist

ID_PATTERN = r"^[a-z0-9][a-z0-9_-]{0,63}$"
# Polling faster than once a minute is rude to publishers; slower than a week is useless.
MIN_INTERVAL_S = 60.0
MAX_INTERVAL_S = 7 * 24 * 3600.0
# ${VAR} must be set (a warning otherwise); ${VAR:-default} falls back quietly.
_ENV_VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")
_INTERVAL = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhd]?)\s*$")
_UNIT_S = {"": 1.0, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}
# Aliases let a few hundred bytes stand for billions of values (lists of aliases of lists):
# reading them out took minutes and gigabytes. Ten thousand topics are a few hundred
# thousand values, so a real watchlist stays far below this.
MAX_VALUES = 1_000_000


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class PositionModel(_Strict):
    """A stance an actor can take on a topic."""

    id: str = Field(pattern=ID_PATTERN)
    label: str = Field(min_length=3, max_length=200)
    examples: list[str] = Field(default_factory=list, description="Sentences that state it.")
    polarity: Literal["for", "against", ""] = Field(
        default="", description="Optional: whether the stance is for or against the topic's idea."
    )


class TopicModel(_Strict):
    """A subject to track, described for the embedding matcher."""

    id: str = Field(pattern=ID_PATTERN)
    name: str = Field(min_length=1, max_length=100)
    description: str = Field(min_length=10, max_length=2000)
    examples: list[str] = Field(default_factory=list)
    exclude: list[str] = Field(default_factory=list, description="Near-misses to keep out.")
    keywords: list[str] = Field(default_factory=list, description="Optional guard words.")
    threshold: float | None = Field(default=None, gt=0.0, lt=1.0, allow_inf_nan=False)
    positions: list[PositionModel] = Field(default_factory=list)
    reversals: list[tuple[str, str]] = Field(
        default_factory=list,
        description="Optional [before, now] position pairs that count as a shift; default any.",
    )


class ActorModel(_Strict):
    """Someone whose stances are tracked."""

    id: str = Field(pattern=ID_PATTERN)
    name: str = Field(min_length=1, max_length=100)
    aliases: list[str] = Field(default_factory=list)


class FeedModel(_Strict):
    """A feed to poll."""

    url: str = Field(min_length=1)
    name: str = ""
    interval: str | float | None = Field(default=None, description="e.g. 90s, 10m, 1h")
    full_text: bool = False

    @field_validator("interval")
    @classmethod
    def _interval_ok(cls, value: str | float | None) -> str | float | None:
        if value is not None:
            parse_interval(value)
        return value

    @field_validator("url")
    @classmethod
    def _url_ok(cls, value: str) -> str:
        value = value.strip()  # pasted with spaces around it: the URL is still plain
        if not value:
            raise ValueError("is empty: give the feed's http(s) URL or a local file path")
        if "://" in value and not value.startswith(("http://", "https://", "file://")):
            raise ValueError("must be an http(s) URL or a local file path")
        if "://" not in value and value.lower().startswith(("http:", "https:")):
            # Else read as a local path, and failing only at the first poll: "file not found".
            raise ValueError("is not a whole URL: a '/' is missing after 'http:' or 'https:'")
        try:
            urlsplit(value)
        except ValueError:
            # The value is left out of the message: the bracket may be in a password.
            raise ValueError(
                "has an unbalanced '[' or ']' (only an IPv6 address is written in brackets;"
                " percent-encode them elsewhere: %5B, %5D)"
            ) from None
        if value.startswith(("http://", "https://")) and not _has_host(value):
            raise ValueError(
                "is not a URL that can be fetched (write it like https://example.org/rss)"
            )
        return value


def _has_host(url: str) -> bool:
    """Whether an http(s) URL names a host (and a port, if any) that can be dialled."""
    try:
        parts = urlsplit(url.strip())
        host = parts.hostname
        parts.port  # noqa: B018 - a port that is not a number or over 65535 raises
    except ValueError:  # an unbalanced "[" in the host, a bad port
        return False
    return bool(host) and not any(char.isspace() for char in host or "")


# Slack channel ids: public (C), private (G, older ones) and direct-message (D) channels.
SLACK_CHANNEL_ID = re.compile(r"^[CGD][A-Z0-9]{8,}$")
# What Slack allows as a channel name (lower case, digits, '-', '_'; at most 80), with the
# '#' people write before it.
SLACK_CHANNEL_NAME = re.compile(r"^#?[a-z0-9][a-z0-9_-]{0,79}$")

_DESTINATION_KEYS = frozenset(
    ("discord_channel", "discord_webhook", "slack_channel", "slack_webhook")
)


class RouteModel(_Strict):
    """Where alerts for some topics go."""

    topics: list[str] = Field(min_length=1)
    discord_channel: str = ""
    discord_webhook: str = ""
    slack_channel: str = ""
    slack_webhook: str = ""

    # A destination that can never work should fail `check`, not the first alert hours later
    # (an empty value, e.g. from ${VAR:-}, means "no such destination").
    @field_validator("discord_channel")
    @classmethod
    def _channel_id_ok(cls, value: str) -> str:
        if value and not value.strip().isdigit():
            raise ValueError(
                "must be a Discord channel id (digits: Developer Mode, then Copy Channel ID)"
            )
        return value.strip()

    @field_validator("slack_channel")
    @classmethod
    def _slack_channel_ok(cls, value: str) -> str:
        value = value.strip()
        if not value or SLACK_CHANNEL_ID.match(value) or SLACK_CHANNEL_NAME.match(value):
            return value  # a name is posted to, with a warning (`_check_slack_channel`)
        linked = re.search(r"/archives/([CGD][A-Z0-9]{8,})\b", value)
        if linked:
            raise ValueError(
                f"is a link to a channel: give its id alone, slack_channel: {linked[1]}"
            )
        raise ValueError(
            "must be a Slack channel id like C0123ABCD (channel details, About: Channel ID)"
        )

    @field_validator("discord_webhook", "slack_webhook")
    @classmethod
    def _webhook_ok(cls, value: str) -> str:
        if value and not re.match(r"^https?://[^/\s]+/\S*$", value.strip()):
            raise ValueError("must be the webhook's full http(s) URL")
        return value.strip()


class WatchlistFile(_Strict):
    """One watchlist file; every key is optional, files are merged."""

    actors: list[ActorModel] = Field(default_factory=list)
    topics: list[TopicModel] = Field(default_factory=list)
    feeds: list[FeedModel] = Field(default_factory=list)
    routes: list[RouteModel] = Field(default_factory=list)


def parse_interval(value: str | float) -> float:
    """Turn '90s', '10m', '1h', '1d' or a number of seconds into seconds; raise ValueError."""
    if isinstance(value, int | float):
        seconds = float(value)
    else:
        found = _INTERVAL.match(value)
        if not found:
            raise ValueError(f"interval {value!r} is not like 90s, 10m, 1h or 1d")
        seconds = float(found.group(1)) * _UNIT_S[found.group(2)]
    if not MIN_INTERVAL_S <= seconds <= MAX_INTERVAL_S:
        hint = ""
        if isinstance(value, int | float) and 0 < seconds < MIN_INTERVAL_S:
            # "interval: 5" is most often five minutes meant.
            hint = f" (a bare number is seconds: write {value:g}m for minutes)"
        raise ValueError(f"interval must be between 1m and 7d, got {value!r}{hint}")
    return seconds


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a watchlist file."""

    file: str
    line: int
    key: str
    message: str
    severity: Literal["error", "warning"] = "error"

    def __str__(self) -> str:
        tag = "" if self.severity == "error" else "warning: "
        return f"{self.file}:{self.line}: {self.key}: {tag}{self.message}"


@dataclass(frozen=True)
class LoadResult:
    """Merged watchlists (None when any error was found) and every problem found."""

    watchlist: Watchlist | None
    problems: tuple[Problem, ...]

    @property
    def errors(self) -> tuple[Problem, ...]:
        """The problems that block loading."""
        return tuple(p for p in self.problems if p.severity == "error")


Path_ = tuple[str | int, ...]


def _key(path: Path_) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(file)"


class _AliasLines(yaml.SafeLoader):
    """The safe loader, noting the line of each alias that is a list item.

    An alias is its anchor's node itself, so the node knows only the anchor's line: a
    duplicate id or a bad value in `- *t` was reported where `&t` was written.
    """

    def __init__(self, text: str) -> None:
        super().__init__(text)
        self.alias_lines: dict[tuple[int, int], int] = {}  # (id(list node), index) -> line

    def compose_node(self, parent: yaml.Node | None, index: int) -> yaml.Node | None:
        """Compose as usual; an alias inside a list leaves its own line behind."""
        # (A mapping passes its key node as `index`: a mapping value's line is its key's.)
        if isinstance(parent, yaml.SequenceNode) and self.check_event(yaml.AliasEvent):
            # `check_event` has read the event into `current_event` (the typed way to peek).
            event: yaml.Event = self.current_event
            if event.start_mark is not None:
                self.alias_lines[(id(parent), index)] = event.start_mark.line + 1
        return super().compose_node(parent, index)


class _Source:
    """A parsed YAML file with the line of every key and list item."""

    def __init__(self, name: str, text: str) -> None:
        self.name = name
        self.lines: dict[Path_, int] = {}
        # YAML lets a key repeat and keeps only the last value: a second `topics:` block
        # appended by another admin would silently drop the first. (path, line, first line)
        self.duplicates: list[tuple[Path_, int, int]] = []
        # (section, id) of items that failed validation: known to exist, not loaded.
        self.invalid_ids: set[tuple[str, str]] = set()
        # Line of an alias that refers to a node containing it (`&a [*a]`): the data would be
        # infinitely deep, so it is refused before anything walks it.
        self.recursive_alias: int | None = None
        self.too_big = False
        loader = _AliasLines(text)
        self._alias_lines = loader.alias_lines
        try:
            node = loader.get_single_node()
            # Indexed before construction: constructing flattens merge keys (`<<: *base`)
            # into the node, and a key that overrides a merged one would read as a repeat.
            if node is not None:
                self._index(node, (), set(), set())
                if self.recursive_alias is None:
                    self.too_big = _values(node, {}) > MAX_VALUES
            self.data: Any = (
                loader.construct_document(node)
                if node is not None and self.recursive_alias is None and not self.too_big
                else {}
            )
        finally:
            loader.dispose()

    def _index(self, node: yaml.Node, path: Path_, active: set[int], done: set[int]) -> None:
        if id(node) in active:
            # An alias carries no line of its own: the line of its key, or of its list.
            if self.recursive_alias is None:
                self.recursive_alias = self.line(path)
            return
        self.lines.setdefault(path, node.start_mark.line + 1)
        if id(node) in done:
            return  # an alias of a node indexed already: its repeats were found there
        active.add(id(node))
        done.add(id(node))
        self._index_children(node, path, active, done)
        active.discard(id(node))

    def _index_children(
        self, node: yaml.Node, path: Path_, active: set[int], done: set[int]
    ) -> None:
        if isinstance(node, yaml.MappingNode):
            first_line: dict[str, int] = {}
            for key_node, value_node in node.value:
                key = str(key_node.value)
                child = (*path, key)
                line = key_node.start_mark.line + 1
                if key in first_line:
                    self.duplicates.append((child, line, first_line[key]))
                else:
                    first_line[key] = line
                self.lines[child] = line
                self._index(value_node, child, active, done)
        elif isinstance(node, yaml.SequenceNode):
            for index, item in enumerate(node.value):
                alias_line = self._alias_lines.get((id(node), index))
                if alias_line is not None:
                    # Read before `_index` takes the anchor's line; what is inside the
                    # alias is not indexed again, so its keys are reported here too.
                    self.lines[(*path, index)] = alias_line
                self._index(item, (*path, index), active, done)

    def line(self, path: Path_) -> int:
        """The line of the deepest part of the path we know."""
        for end in range(len(path), -1, -1):
            if path[:end] in self.lines:
                return self.lines[path[:end]]
        return 1


def _values(node: yaml.Node, counted: dict[int, int]) -> int:
    """How many values the node holds with every alias read out (an alias is the same node
    object as its anchor, so each is counted once and reused)."""
    if id(node) not in counted:
        children: list[yaml.Node] = []
        if isinstance(node, yaml.MappingNode):
            children = [part for pair in node.value for part in pair]
        elif isinstance(node, yaml.SequenceNode):
            children = list(node.value)
        counted[id(node)] = 1 + sum(_values(child, counted) for child in children)
    return counted[id(node)]


def _expand(
    value: Any,
    path: Path_,
    env: Mapping[str, str],
    missing: list[tuple[Path_, str]],
    nested: list[Path_],
) -> Any:
    """Replace ${VAR} in every string; note variables that are not set, and values with a
    ${VAR} inside a default (`nested`), which are not supported."""
    if isinstance(value, str):

        def sub(found: re.Match[str]) -> str:
            name, default = found.group(1), found.group(2)
            if default is not None and "${" in default:
                nested.append(path)
            if name not in env and default is None:
                missing.append((path, name))
            return env.get(name, default or "")

        return _ENV_VAR.sub(sub, value)
    if isinstance(value, list):
        return [_expand(v, (*path, i), env, missing, nested) for i, v in enumerate(value)]
    if isinstance(value, dict):
        return {k: _expand(v, (*path, str(k)), env, missing, nested) for k, v in value.items()}
    return value


def _pydantic_message(error: Mapping[str, Any]) -> str:
    if error["type"] == "extra_forbidden":
        return "unknown key"
    if error["type"] == "missing":
        return "required key is missing"
    # Pydantic's own words name a regular expression or a Python type; an admin needs the rule.
    if error["type"] == "string_pattern_mismatch":
        return (
            "must be lower-case a-z, digits, '-' or '_' (at most 64, starting with a"
            f" letter or digit), got {error['input']!r}"
        )
    if error["type"] == "string_type" and isinstance(error["input"], int | float):
        return "must be text: put it in quotes (YAML reads a bare number as a number)"
    message = str(error["msg"])
    return message.removeprefix("Value error, ")


def _load_file(
    path: Path, env: Mapping[str, str]
) -> tuple[WatchlistFile | None, _Source | None, list[Problem]]:
    name = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        return None, None, [Problem(name, 1, "(file)", f"cannot read: {exc}")]
    try:
        source = _Source(name, text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        line = mark.line + 1 if mark is not None else 1
        problem = getattr(exc, "problem", None) or str(exc)
        return None, None, [Problem(name, line, "(yaml)", f"YAML syntax error: {problem}")]
    except RecursionError:  # thousands of nested lists: no watchlist is written so
        return None, None, [Problem(name, 1, "(yaml)", "values nested too deeply to read")]
    if source.recursive_alias is not None:
        line = source.recursive_alias
        return None, None, [Problem(name, line, "(yaml)", "an alias refers to its own item")]
    if source.too_big:
        message = f"its aliases expand to more than {MAX_VALUES:,} values: too big to read"
        return None, None, [Problem(name, 1, "(yaml)", message)]
    data = source.data
    if data is None:
        data = {}
    if not isinstance(data, dict):
        return (
            None,
            source,
            [Problem(name, 1, "(file)", "must be a mapping with actors/topics/feeds/routes")],
        )
    # A repeated key is an error, but the file's other problems are found too.
    problems = [
        Problem(name, line, _key(p), f"duplicate key (first at line {first}); remove one")
        for p, line, first in source.duplicates
    ]
    missing: list[tuple[Path_, str]] = []
    nested: list[Path_] = []
    data = _expand(data, (), env, missing, nested)
    problems += [
        Problem(name, source.line(p), _key(p), f"environment variable {var} is not set", "warning")
        for p, var in missing
    ]
    problems += [
        Problem(
            name,
            source.line(p),
            _key(p),
            "a ${VAR} inside a default (${A:-${B}}) is not supported: write the default out",
        )
        for p in dict.fromkeys(nested)
    ]
    try:
        model = WatchlistFile.model_validate(data)
    except ValidationError as exc:
        for error in exc.errors():
            loc: Path_ = tuple(error["loc"])
            if loc in nested:
                continue  # its value is garbled by the nesting, said above
            problems.append(Problem(name, source.line(loc), _key(loc), _pydantic_message(error)))
        return _valid_items(data, source), source, problems
    return model, source, problems


def _valid_items(data: dict[str, Any], source: _Source) -> WatchlistFile:
    """The file with only its valid items, so that one typo does not hide the problems the
    other items have with other files (duplicate ids, unknown route topics): every problem
    is reported at once. Nothing is loaded from a file with errors; this only checks."""
    sections: dict[str, type[_Strict]] = {
        "actors": ActorModel,
        "topics": TopicModel,
        "feeds": FeedModel,
        "routes": RouteModel,
    }
    kept: dict[str, list[Any]] = {}
    for section, item_model in sections.items():
        items = data.get(section)
        if not isinstance(items, list):
            continue
        kept[section] = []
        for item in items:
            try:
                kept[section].append(item_model.model_validate(item))
            except ValidationError:
                kept[section].append(None)  # keeps the indices, and so the line numbers
                item_id = item.get("id") if isinstance(item, dict) else None
                if isinstance(item_id, str):
                    # Its other errors are reported already; routes naming it are fine.
                    source.invalid_ids.add((section, item_id))
    return WatchlistFile.model_construct(None, **kept)


def _to_topic(model: TopicModel, default_threshold: float | None) -> Topic:
    positions = tuple(
        Position(p.id, p.label, tuple(p.examples), p.polarity) for p in model.positions
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
    )


def _check_topic(model: TopicModel, where: str, src: _Source, path: Path_) -> list[Problem]:
    """Checks pydantic cannot express: unique position ids, known reversal ids, enough
    examples, no empty keyword."""
    problems: list[Problem] = []
    for j, word in enumerate(model.keywords):
        if not word.strip():  # it would match every article: the guard would be off
            at = (*path, "keywords", j)
            message = "empty keyword: ignored"
            problems.append(Problem(where, src.line(at), _key(at), message, "warning"))
    seen: set[str] = set()
    for i, position in enumerate(model.positions):
        p_path = (*path, "positions", i)
        if position.id in seen:
            problems.append(
                Problem(
                    where,
                    src.line((*p_path, "id")),
                    _key((*p_path, "id")),
                    f"duplicate position id {position.id!r} in topic {model.id!r}",
                )
            )
        seen.add(position.id)
        if len(set(position.examples)) < 2:
            problems.append(
                Problem(
                    where,
                    src.line(p_path),
                    _key((*p_path, "examples")),
                    "fewer than 2 distinct examples: statements will rarely be assigned to it",
                    "warning",
                )
            )
        if len(set(position.examples)) != len(position.examples):
            problems.append(
                Problem(
                    where,
                    src.line((*p_path, "examples")),
                    _key((*p_path, "examples")),
                    "the same example is listed twice",
                    "warning",
                )
            )
    for i, (before, now) in enumerate(model.reversals):
        for name in (before, now):
            if name not in seen:
                r_path = (*path, "reversals", i)
                problems.append(
                    Problem(
                        where,
                        src.line(r_path),
                        _key(r_path),
                        f"unknown position {name!r} in topic {model.id!r}",
                    )
                )
    return problems


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


def _check_actor(model: ActorModel, where: str, src: _Source, path: Path_) -> list[Problem]:
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
        problems.append(Problem(where, src.line(at), _key(at), message, "warning"))
    return problems


# Channel (bot-mode) destinations need the platform's bot token; webhooks do not.
_TOKEN_FOR = {"discord_channel": "DISCORD_TOKEN", "slack_channel": "SLACK_BOT_TOKEN"}


def _check_route_tokens(
    route: Route, where: str, src: _Source, path: Path_, env: Mapping[str, str]
) -> list[Problem]:
    """Warn about a channel destination whose bot token is not set: it would be skipped."""
    problems = []
    for key, token in _TOKEN_FOR.items():
        if getattr(route, key) and not env.get(token):
            problems.append(
                Problem(
                    where,
                    src.line((*path, key)),
                    _key((*path, key)),
                    f"{token} is not set, so this destination is skipped",
                    "warning",
                )
            )
    return problems


def _check_slack_channel(route: Route, where: str, src: _Source, path: Path_) -> list[Problem]:
    """Warn about a Slack channel given by name: Slack posts to a public channel by its
    name, so it works, until the channel is renamed; a private one is not found by name."""
    channel = route.slack_channel
    if not channel or SLACK_CHANNEL_ID.match(channel):
        return []
    at: Path_ = (*path, "slack_channel")
    message = (
        f"{channel!r} is a channel name, not its id: alerts stop the day the channel is"
        " renamed, and a private channel is never found by name; give the channel id"
        " (channel details, About: Channel ID, like C0123ABCD)"
    )
    return [Problem(where, src.line(at), _key(at), message, "warning")]


_Item = TypeVar("_Item")


def _present(items: Sequence[_Item | None]) -> list[tuple[int, _Item]]:
    """Items with their index in the file; a file with errors holds None for each invalid
    one (`_valid_items`), so the indices, and with them the line numbers, stay right."""
    return [(i, item) for i, item in enumerate(items) if item is not None]


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
    # Hidden files are editors' and systems' litter, not watchlists: Emacs's lock
    # `.#a.yaml` (a symlink to nowhere, there while a buffer is modified), macOS's `._a.yaml`.
    files = sorted(
        p for p in [*folder.glob("*.yaml"), *folder.glob("*.yml")] if not p.name.startswith(".")
    )
    if not files:
        return LoadResult(None, (Problem(str(folder), 1, "(folder)", "no *.yaml watchlist files"),))
    problems: list[Problem] = []
    actors: list[Actor] = []
    topics: list[Topic] = []
    feeds: dict[str, Feed] = {}
    spelled: dict[tuple[str, ...], tuple[str, str]] = {}  # feed key -> (url, "file:line")
    listed: dict[str, str] = {}  # feed url -> "file:line" of its first listing
    routes: list[tuple[Route, str, int, _Source]] = []  # route, file, index in file, source
    owners: dict[tuple[str, str], str] = {}  # (kind, id) -> "file:line"
    unloaded_topics: set[str] = set()  # ids of topics with errors: they exist, for routes
    # A file that could not be read or parsed, or lost a block to a repeated key, may define
    # any topic: a route naming one is not reported as unknown on top of that file's error.
    unread = False
    for path in files:
        model, src, file_problems = _load_file(path, env)
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
                            _key((kind, i, "id")),
                            f"duplicate {kind[:-1]} id {item_id!r} (first defined at {first})",
                        )
                    )
        for i, topic_model in _present(model.topics):
            problems.extend(_check_topic(topic_model, name, src, ("topics", i)))
            topics.append(_to_topic(topic_model, None))
        for i, actor_model in _present(model.actors):
            problems.extend(_check_actor(actor_model, name, src, ("actors", i)))
            aliases = tuple(alias.strip() for alias in actor_model.aliases if alias.strip())
            actors.append(Actor(actor_model.id, actor_model.name, aliases))
        for i, feed_model in _present(model.feeds):
            interval = (
                parse_interval(feed_model.interval)
                if feed_model.interval is not None
                else default_interval_s
            )
            url = feed_model.url
            if "://" not in url and not Path(url).is_absolute():
                url = str((path.parent / url).resolve())
            # One URL listed in several files is fetched once: the first listing wins.
            feed = Feed(url, feed_model.name, interval, feed_model.full_text, name)
            first_feed = feeds.setdefault(url, feed)
            url_at: Path_ = ("feeds", i, "url")
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
                problems.append(Problem(name, src.line(url_at), _key(url_at), message, "warning"))
            first_url, first_at = spelled.setdefault(
                _feed_key(url), (url, f"{name}:{src.line(url_at)}")
            )
            if first_url != url:
                message = (
                    f"the same feed as {first_url} ({first_at}), written differently: it would"
                    " be fetched twice; keep one spelling"
                )
                problems.append(Problem(name, src.line(url_at), _key(url_at), message, "warning"))
        for i, route_model in _present(model.routes):
            route = Route(
                tuple(route_model.topics),
                route_model.discord_channel,
                route_model.discord_webhook,
                route_model.slack_channel,
                route_model.slack_webhook,
            )
            routes.append((route, name, i, src))
            problems.extend(_check_route_tokens(route, name, src, ("routes", i), env))
            problems.extend(_check_slack_channel(route, name, src, ("routes", i)))
            if not route_model.model_fields_set & _DESTINATION_KEYS:
                at_route: Path_ = ("routes", i)
                message = (
                    "no destination: give discord_channel, discord_webhook, slack_channel"
                    " or slack_webhook, or the route sends nothing"
                )
                problems.append(
                    Problem(name, src.line(at_route), _key(at_route), message, "warning")
                )
    topic_ids = {t.id for t in topics} | unloaded_topics
    for route, name, i, src in routes:
        for j, topic_id in enumerate(route.topics):
            if topic_id != "*" and topic_id not in topic_ids and not unread:
                at: Path_ = ("routes", i, "topics", j)
                problems.append(
                    Problem(name, src.line(at), _key(at), f"unknown topic {topic_id!r}")
                )
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


def schema_json() -> str:
    """The JSON Schema of one watchlist file, for editors (watchlists/schema.json)."""
    schema = WatchlistFile.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "Stancewatch watchlist file"
    return json.dumps(schema, indent=2, sort_keys=True) + "\n"
