"""Reading one watchlist file: YAML with the line of every key, ${VAR} expansion, and
validation against the schema, each problem placed at its file, line and key."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import ValidationError

from bot.encoding import not_utf8
from bot.watchlists.schema import (
    ActorModel,
    FeedModel,
    RouteModel,
    StrictModel,
    TopicModel,
    WatchlistFile,
)

# ${VAR} must be set (a warning otherwise); ${VAR:-default} falls back quietly.
_ENV_VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")

# Aliases let a few hundred bytes stand for billions of values (lists of aliases of lists):
# reading them out took minutes and gigabytes. Ten thousand topics are a few hundred
# thousand values, so a real watchlist stays far below this.
MAX_VALUES = 1_000_000


# A watchlist of three topics and eight actors is about 10 kB; a file a hundred times that
# is something else (a log, a generated dump). Refused before it is parsed: 14 MB of YAML
# took 50 s to read, and was then blamed on YAML aliases it did not have. Under this size a
# file cannot hold MAX_VALUES values without aliases (each value takes two bytes or more).
MAX_FILE_BYTES = 1_000_000


def _too_big(size: int) -> str:
    """Why a file over MAX_FILE_BYTES is not read."""
    return (
        f"{size:,} bytes, more than a watchlist file may hold ({MAX_FILE_BYTES:,}):"
        " is it the file you meant? Split a big watchlist into files, one theme each"
    )


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


KeyPath = tuple[str | int, ...]


def key_name(path: KeyPath) -> str:
    """A key path as problems name it: `topics[0].positions[1].id`."""
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


class Source:
    """A parsed YAML file with the line of every key and list item."""

    def __init__(self, name: str, text: str) -> None:
        self.name = name
        self.lines: dict[KeyPath, int] = {}
        # YAML lets a key repeat and keeps only the last value: a second `topics:` block
        # appended by another admin would silently drop the first. (path, line, first line)
        self.duplicates: list[tuple[KeyPath, int, int]] = []
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

    def _index(self, node: yaml.Node, path: KeyPath, active: set[int], done: set[int]) -> None:
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
        self, node: yaml.Node, path: KeyPath, active: set[int], done: set[int]
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

    def line(self, path: KeyPath) -> int:
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


def expand_env(
    value: Any,
    path: KeyPath,
    env: Mapping[str, str],
    missing: list[tuple[KeyPath, str]],
    nested: list[KeyPath],
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
        return [expand_env(v, (*path, i), env, missing, nested) for i, v in enumerate(value)]
    if isinstance(value, dict):
        return {k: expand_env(v, (*path, str(k)), env, missing, nested) for k, v in value.items()}
    return value


def pydantic_message(error: Mapping[str, Any]) -> str:
    """One pydantic error in words an admin acts on."""
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
    if error["type"] in ("string_type", "list_type") and error["input"] is None:
        # `aliases:` with its items commented out below it: YAML reads nothing as null.
        if error["type"] == "list_type":
            return "is empty: list its items, write [] or remove the key"
        return "is empty: give a value or remove the key"
    if error["type"] == "string_too_short" and not str(error["input"]).strip():
        return "is blank: write it out"
    if error["type"] == "string_type":
        read_as = _yaml_reading(error["input"])
        if read_as:
            return f"must be text: put it in quotes (YAML reads a bare {read_as})"
    if error["type"] == "float_parsing":
        return _not_a_number(str(error["input"]))
    message = str(error["msg"])
    return message.removeprefix("Value error, ")


# "0,5" is how much of Europe writes a half; YAML and Python only read "0.5".
_DECIMAL_COMMA = re.compile(r"\s*[-+]?\d*,\d+\s*")


def _not_a_number(written: str) -> str:
    """What to write instead of a number that did not read as one."""
    if _DECIMAL_COMMA.fullmatch(written):
        dotted = written.strip().replace(",", ".")
        return f"must be a number with a decimal dot, like {dotted}, got {written!r}"
    return f"must be a number like 0.5, got {written!r}"


def _yaml_reading(value: Any) -> str:
    """What YAML made of a bare value that was meant as text, in words; empty if unknown."""
    # bool before int: True is an int to Python. NO (Norway), yes, on and off are booleans
    # in the YAML 1.1 that PyYAML reads; an admin looking at `NO` sees no number.
    if isinstance(value, bool):
        return "yes, no, on, off, true or false as true or false"
    if isinstance(value, int | float):
        return "number as a number"
    if isinstance(value, date):  # a datetime is a date too
        return "date like 2026-05-01 as a date"
    return ""


# What to do about a tab PyYAML refuses ("found character '\t' that cannot start any
# token"): its message names the line but not the fix. Editors insert tabs unseen.
TAB_HINT = "a tab is not allowed here: use spaces, or quote the value"


def _syntax_problem(name: str, text: str, exc: yaml.YAMLError) -> Problem:
    """A YAML syntax error as a problem: its line, and for a tab, the key and the fix."""
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    line = mark.line + 1 if mark is not None else 1
    problem = getattr(exc, "problem", None) or str(exc)
    if "'\\t'" not in problem:
        return Problem(name, line, "(yaml)", f"YAML syntax error: {problem}{_opened_at(exc, line)}")
    return Problem(name, line, _key_on_line(name, text, line), f"YAML syntax error: {TAB_HINT}")


# The brackets and quotes PyYAML names as the context of an error ("while parsing a flow
# sequence"): a missing closer is noticed lines later, at a key that has nothing wrong.
_OPENERS = {"flow sequence": "'['", "flow mapping": "'{'", "quoted scalar": "quote"}


def _opened_at(exc: yaml.YAMLError, line: int) -> str:
    """Where the bracket or quote left open began, when that is another line than the error's."""
    context = getattr(exc, "context", None) or ""
    mark = getattr(exc, "context_mark", None)
    opener = next((sign for what, sign in _OPENERS.items() if context.endswith(what)), None)
    if opener is None or mark is None or mark.line + 1 == line:
        return ""
    return f" (the {opener} opened on line {mark.line + 1} is not closed?)"


def _key_on_line(name: str, text: str, line: int) -> str:
    """The key written on `line`, read with that line's tabs as spaces; "(yaml)" when the
    file does not read even so (the tab was not its only fault)."""
    lines = text.split("\n")
    lines[line - 1] = lines[line - 1].replace("\t", " ")
    try:
        source = Source(name, "\n".join(lines))
    except (yaml.YAMLError, RecursionError):
        return "(yaml)"
    paths = [path for path, at in source.lines.items() if at == line and path]
    return key_name(max(paths, key=len)) if paths else "(yaml)"


def load_file(
    path: Path, env: Mapping[str, str]
) -> tuple[WatchlistFile | None, Source | None, list[Problem]]:
    """One file read and validated: the model (with only its valid items when it has
    errors; None when it cannot be read at all), its source lines, and its problems."""
    name = str(path)
    source = read_source(path)
    if isinstance(source, Problem):
        return None, None, [source]
    data = {} if source.data is None else source.data
    if not isinstance(data, dict):
        message = "must be a mapping with actors/topics/feeds/routes"
        return None, source, [Problem(name, 1, "(file)", message)]
    # A repeated key is an error, but the file's other problems are found too.
    problems = [
        Problem(name, line, key_name(p), f"duplicate key (first at line {first}); remove one")
        for p, line, first in source.duplicates
    ]
    missing: list[tuple[KeyPath, str]] = []
    nested: list[KeyPath] = []
    data = expand_env(data, (), env, missing, nested)
    problems += _expansion_problems(name, source, missing, nested)
    try:
        model = WatchlistFile.model_validate(data)
    except ValidationError as exc:
        problems += _schema_problems(name, source, exc, nested)
        return valid_items(data, source), source, problems
    return model, source, problems


def read_source(path: Path) -> Source | Problem:
    """The file parsed as YAML with its lines; or, when it cannot be read so, why not."""
    name = str(path)
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            return Problem(name, 1, "(file)", _too_big(size))
        raw = path.read_bytes()
    except OSError as exc:
        return Problem(name, 1, "(file)", f"cannot read: {exc}")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line, message = not_utf8(raw, exc.start)
        return Problem(name, line, "(file)", message)
    try:
        source = Source(name, text)
    except yaml.YAMLError as exc:
        return _syntax_problem(name, text, exc)
    except RecursionError:  # thousands of nested lists: no watchlist is written so
        return Problem(name, 1, "(yaml)", "values nested too deeply to read")
    if source.recursive_alias is not None:
        return Problem(name, source.recursive_alias, "(yaml)", "an alias refers to its own item")
    if source.too_big:
        message = (
            f"its YAML aliases (*name) expand to more than {MAX_VALUES:,} values: too big to read"
        )
        return Problem(name, 1, "(yaml)", message)
    return source


def _expansion_problems(
    name: str, source: Source, missing: list[tuple[KeyPath, str]], nested: list[KeyPath]
) -> list[Problem]:
    """What `expand_env` could not do: variables not set (a warning), defaults nested."""
    unset = [
        Problem(
            name, source.line(p), key_name(p), f"environment variable {var} is not set", "warning"
        )
        for p, var in missing
    ]
    return unset + [
        Problem(
            name,
            source.line(p),
            key_name(p),
            "a ${VAR} inside a default (${A:-${B}}) is not supported: write the default out",
        )
        for p in dict.fromkeys(nested)
    ]


def _schema_problems(
    name: str, source: Source, exc: ValidationError, nested: list[KeyPath]
) -> list[Problem]:
    """The schema's errors, each at its key's line."""
    problems = []
    for error in exc.errors():
        loc: KeyPath = tuple(error["loc"])
        if loc in nested:
            continue  # its value is garbled by the nesting, said above
        problems.append(Problem(name, source.line(loc), key_name(loc), pydantic_message(error)))
    return problems


def valid_items(data: dict[str, Any], source: Source) -> WatchlistFile:
    """The file with only its valid items, so that one typo does not hide the problems the
    other items have with other files (duplicate ids, unknown route topics): every problem
    is reported at once. Nothing is loaded from a file with errors; this only checks."""
    sections: dict[str, type[StrictModel]] = {
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
