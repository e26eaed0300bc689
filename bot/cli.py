"""The `stancewatch` command line (run, demo, check, eval, why, positions, feeds, bench, outbox,
backup, schema).

The only place that exits.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sqlite3
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

from bot.logs import counted
from bot.matching.embedder import ModelLoadError
from bot.models import Watchlist
from bot.reload import problem_text, read_watchlists
from bot.renames import former_key, named, renames
from bot.settings import Settings, SettingsError, load_settings, mistyped_settings
from bot.store.connection import StoreOpenError
from bot.watchlists import LoadResult, load_watchlists, schema_json

if TYPE_CHECKING:
    from bot.commands import Commands, Reply

log = logging.getLogger("stancewatch")


def _print_problems(result: LoadResult) -> None:
    for problem in result.problems:
        print(problem_text(problem), file=sys.stderr)


def _settings(args: argparse.Namespace) -> Settings:
    settings = load_settings()
    for warning in mistyped_settings():
        print(f"warning: {warning}", file=sys.stderr)
    overrides = {}
    if getattr(args, "watchlists", None):
        overrides["watchlists_dir"] = Path(args.watchlists)
    if getattr(args, "db", None):
        overrides["db_path"] = Path(args.db)
    return replace(settings, **overrides)  # type: ignore[arg-type]


def _load(settings: Settings) -> LoadResult:
    return load_watchlists(settings.watchlists_dir, default_interval_s=settings.default_interval_s)


def _loaded(args: argparse.Namespace) -> tuple[Settings, Watchlist | None]:
    """The settings and the watchlist, every problem printed (warnings too); no watchlist
    when there are errors."""
    settings = _settings(args)
    result = _load(settings)
    _print_problems(result)
    return settings, result.watchlist


def cmd_check(args: argparse.Namespace) -> int:
    """Validate every watchlist file; print each problem as file:line: key: message."""
    settings = _settings(args)
    result = _load(settings)
    _print_problems(result)
    if result.errors:
        print(
            f"{counted(len(result.errors), 'error')} in {settings.watchlists_dir}", file=sys.stderr
        )
        return 1
    assert result.watchlist is not None
    wl = result.watchlist
    print(
        f"ok: {counted(len(wl.topics), 'topic')}, {counted(len(wl.actors), 'actor')},"
        f" {counted(len(wl.feeds), 'feed')}, {counted(len(wl.routes), 'route')}"
        f" in {settings.watchlists_dir}"
    )
    for rename in renames(wl):
        print(
            f"renamed: {named(former_key(rename))} is now {rename.new!r}: its follows and"
            " history are carried over when the watchlists load"
        )
    return 0


def cmd_schema(args: argparse.Namespace) -> int:
    """Print the JSON Schema of a watchlist file."""
    sys.stdout.write(schema_json())
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    """The service (or one pass with --once)."""
    from bot.service import ExitWithoutWaiting, run_service

    settings = _settings(args)
    # With what the folder held when it was read: the watcher, started once the model has
    # loaded, applies an edit made meanwhile and does not repeat the warnings printed here.
    result, loaded_from = read_watchlists(settings.watchlists_dir, settings.default_interval_s)
    _print_problems(result)
    if result.watchlist is None:
        print("refusing to start: fix the watchlist errors above", file=sys.stderr)
        return 1
    try:
        return run_service(settings, result.watchlist, once=args.once, loaded_from=loaded_from)
    except ExitWithoutWaiting as stopped:
        _exit_now(stopped.code)


def _exit_now(code: int) -> NoReturn:
    """Exit at once, with what was printed and logged flushed, leaving busy threads behind.

    Python joins its worker threads at exit, and a thread inside torch cannot be told to
    stop; ended as a daemon thread instead, torch aborted the process (exit -6).
    """
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def cmd_demo(args: argparse.Namespace) -> int:
    """Replay the bundled demo feeds into the terminal."""
    from bot.demo import SHIPPED_WATCHLISTS, demo

    settings = _settings(args)
    if not args.watchlists:
        # The snapshots are news on the shipped topics: the service's own watchlists
        # (STANCEWATCH_WATCHLISTS, or ./watchlists elsewhere) would alert none of it.
        settings = replace(settings, watchlists_dir=SHIPPED_WATCHLISTS)
    result = _load(settings)
    if result.watchlist is None:
        _print_problems(result)
        return 1
    return demo(result.watchlist)


def cmd_eval(args: argparse.Namespace) -> int:
    """Measure matching (and positions) on labeled articles."""
    if args.evidence and not args.json:
        # Refused before the minutes of scoring, rather than silently dropped after them.
        print("error: --evidence needs --json", file=sys.stderr)
        return 2
    from bot.evaluation import EvalDataError, UnknownIdError, evaluate, load_records
    from bot.matching.embedder import SentenceTransformerEmbedder
    from bot.reporting import print_eval

    # Warnings too (as `check` prints them): "fewer than 2 examples" explains a low figure.
    settings, watchlist = _loaded(args)
    if watchlist is None:
        return 1
    if not watchlist.topics:
        print(f"error: {settings.watchlists_dir}: no topics, nothing to evaluate", file=sys.stderr)
        return 1
    try:
        records = load_records(Path(args.data), {t.id for t in watchlist.topics}, watchlist)
    except UnknownIdError as exc:
        # Without --watchlists, ./watchlists is read: say which, so data labeled for
        # another watchlist is not taken for a typo in the file.
        folder = settings.watchlists_dir
        print(f"error: {exc} in {folder} (--watchlists DIR reads another)", file=sys.stderr)
        return 1
    except EvalDataError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    figures = evaluate(watchlist, records, SentenceTransformerEmbedder(settings.model or None))
    if args.json:
        if not args.evidence:
            figures.pop("evidence", None)
            figures.pop("position_mistakes", None)
        print(json.dumps(figures, indent=2))
    else:
        print_eval(figures)
    return 0


def _answer(args: argparse.Namespace, ask: Callable[[Commands], Reply]) -> int:
    """Answer one of the chat commands in the terminal, for a team with no chat platform yet
    (or an admin on the server): the reply `/why`, `/positions` or `/feeds` would give."""
    import asyncio

    from bot.app import build_app
    from bot.commands import TOPICS_HINT, Commands

    settings, watchlist = _loaded(args)
    if watchlist is None:
        print("error: fix the watchlist errors above", file=sys.stderr)
        return 1
    # Read-only and lock-free, like `outbox`: it answers while `run` polls, and a mistyped
    # --db is named rather than created empty. No model is loaded: nothing is scored.
    app = build_app(settings, watchlist, deliveries=[], read_only=True)
    commands = Commands(app)
    try:
        reply = ask(commands)
    except sqlite3.Error as exc:  # a damaged file: one line, not a traceback
        print(f"error: cannot read {settings.db_path}: {exc}", file=sys.stderr)
        return 1
    finally:
        asyncio.run(app.close())
    print(reply.title)
    for line in reply.lines:
        print(commands.topics_listed() if line == TOPICS_HINT else line)
    for name, value in reply.fields:  # a field holds a line per topic or statement
        print(f"{name}:")
        for line in value.splitlines():
            print(f"  {line}")
    return 0 if reply.ok else 1


def cmd_why(args: argparse.Namespace) -> int:
    """Why an article was or was not alerted: what `/why` answers in Discord and Slack."""
    return _answer(args, lambda commands: commands.why(args.url))


def cmd_positions(args: argparse.Namespace) -> int:
    """Each actor's position on a topic, with its latest evidence: what `/positions` answers."""
    return _answer(args, lambda commands: commands.positions(args.topic, args.actor))


def cmd_feeds(args: argparse.Namespace) -> int:
    """Every feed's health, the ones in trouble first: what `/feeds` answers."""
    return _answer(args, lambda commands: commands.feeds())


def cmd_bench(args: argparse.Namespace) -> int:
    """Measure throughput, latency and memory on generated feeds served locally."""
    if args.soak is not None:
        from bot.soak import run_soak

        print(json.dumps(run_soak(args.soak), indent=2))
        return 0
    from bot.bench import run_bench

    return run_bench(
        feeds=args.feeds, items=args.items, as_json=args.json, scaling=not args.no_scaling
    )


def cmd_outbox(args: argparse.Namespace) -> int:
    """List deliveries given up on; --replay queues them again."""
    from datetime import UTC, datetime

    from bot.store.sqlite import SQLiteStore

    # create=False: listing the outbox of a mistyped path must not make an empty database.
    # Listing only reads and never changes the file (a backup on a read-only shelf, an
    # older Stancewatch's live database); --replay must write.
    path = _settings(args).db_path
    store = SQLiteStore(path, create=False, read_only=not args.replay)
    try:
        dead = store.dead_outbox()
        for row_id, alert_id, destination, error in dead:
            print(f"{row_id}\t{alert_id}\t{destination}\t{error}")
        print(f"{len(dead)} dead, {store.pending_count()} pending")
        if args.replay:
            print(f"requeued {store.replay_dead(datetime.now(UTC))}")
    except sqlite3.Error as exc:  # a damaged file, a disk error: one line, not a traceback
        doing = "replay" if args.replay else "list"
        print(f"error: cannot {doing} the outbox of {path}: {exc}", file=sys.stderr)
        return 1
    finally:
        store.close()
    return 0


def cmd_backup(args: argparse.Namespace) -> int:
    """Copy the database while the service runs (SQLite online backup) to a new file."""
    from bot.store.backup import BackupError, backup_database

    try:
        backup_database(str(_settings(args).db_path), args.path)
    except BackupError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"backed up to {args.path}")
    return 0


@dataclass(frozen=True)
class _Option:
    """One `add_argument` call: the flags (or the positional's name) and its settings."""

    flags: tuple[str, ...]
    settings: dict[str, Any] = field(default_factory=dict)


def _option(*flags: str, **settings: Any) -> _Option:
    """An option written as the `add_argument` call it stands for."""
    return _Option(flags, settings)


@dataclass(frozen=True)
class _Subcommand:
    """A subcommand: its name, help, what runs it, and the options it takes.

    Each command takes only the paths it reads: a flag accepted and ignored (`demo --db`,
    whose database is always a temporary one) would let a user believe it was used.
    """

    name: str
    help: str
    run: Callable[[argparse.Namespace], int]
    options: tuple[_Option, ...] = ()
    watchlists: bool = True
    db: bool = True


_SUBCOMMANDS = (
    _Subcommand(
        "run",
        "poll feeds on schedule and deliver alerts",
        cmd_run,
        (_option("--once", action="store_true", help="one pass over every feed, then exit"),),
    ),
    _Subcommand("demo", "replay the bundled demo feeds", cmd_demo, db=False),
    _Subcommand("check", "validate the watchlists", cmd_check, db=False),
    _Subcommand(
        "eval",
        "precision/recall on labeled articles",
        cmd_eval,
        (
            _option("--data", required=True, help="JSON Lines labeled articles"),
            _option("--json", action="store_true", help="print figures as JSON"),
            _option(
                "--evidence",
                action="store_true",
                help="with --json: per-article scores, wrong stances",
            ),
        ),
        db=False,
    ),
    _Subcommand(
        "why",
        "why an article was or was not alerted (as /why answers)",
        cmd_why,
        (_option("url", help="the article's link, as in the alert"),),
    ),
    _Subcommand(
        "positions",
        "actors' positions on a topic (as /positions answers)",
        cmd_positions,
        (
            _option("topic", help="a topic id or name"),
            _option("actor", nargs="?", help="one actor only (an id, name or alias)"),
        ),
    ),
    _Subcommand("feeds", "every feed's health (as /feeds answers)", cmd_feeds),
    _Subcommand(
        "bench",
        "measure speed and memory on local generated feeds",
        cmd_bench,
        (
            _option(
                "--feeds", type=int, default=200, help="generated feeds to serve (default 200)"
            ),
            _option("--items", type=int, default=10, help="news items in each feed (default 10)"),
            _option("--json", action="store_true", help="print the measures as JSON"),
            _option("--no-scaling", action="store_true", help="skip the 100/1k/5k growth runs"),
            _option(
                "--soak",
                type=float,
                metavar="MINUTES",
                help="instead: run the service for MINUTES on changing feeds, a flaky webhook",
            ),
        ),
        watchlists=False,
        db=False,
    ),
    _Subcommand(
        "outbox",
        "list (and replay) failed deliveries",
        cmd_outbox,
        (_option("--replay", action="store_true", help="queue the given-up deliveries again"),),
        watchlists=False,
    ),
    _Subcommand(
        "backup",
        "online copy of the database",
        cmd_backup,
        (_option("path", help="the copy to write: a new file, never overwritten"),),
        watchlists=False,
    ),
    _Subcommand(
        "schema", "print the watchlist JSON Schema", cmd_schema, watchlists=False, db=False
    ),
)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser for every subcommand."""
    parser = argparse.ArgumentParser(
        prog="stancewatch",
        description="News alerts for Discord and Slack on the topics a team follows, saying"
        " when an actor's position has shifted.",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = parser.add_subparsers(dest="command", required=True)
    for command in _SUBCOMMANDS:
        _add_subcommand(sub, command)
    return parser


def _add_subcommand(
    sub: argparse._SubParsersAction[argparse.ArgumentParser], command: _Subcommand
) -> None:
    """Add one subcommand's parser: its paths first, then its own options."""
    parser = sub.add_parser(command.name, help=command.help)
    if command.watchlists:
        parser.add_argument(
            "--watchlists", help="folder of watchlist files (STANCEWATCH_WATCHLISTS)"
        )
    if command.db:
        parser.add_argument("--db", help="SQLite file (STANCEWATCH_DB)")
    for option in command.options:
        parser.add_argument(*option.flags, **option.settings)
    parser.set_defaults(func=command.run)


def main(argv: Sequence[str] | None = None) -> None:
    """Entry point: parse, run the subcommand, exit with its code."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    args = build_parser().parse_args(argv)
    from bot.logs import setup_logging

    setup_logging(verbose=args.verbose)
    try:
        code = args.func(args)
    except SettingsError as exc:  # bad input, like a bad argument: argparse's code
        print(f"error: {exc}", file=sys.stderr)
        code = 2
    except (StoreOpenError, ModelLoadError) as exc:  # a file that is not what it should be
        print(f"error: {exc}", file=sys.stderr)
        code = 1
    except KeyboardInterrupt:
        code = 130
    sys.exit(code)
