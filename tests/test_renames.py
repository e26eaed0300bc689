"""Renaming a topic, actor or position id with `former_ids:` carries what the database keeps
under the old id (follows, the position history) to the new one when the watchlists load:
members keep their alerts, and an actor's next reversal is still a shift."""

from __future__ import annotations

import logging
import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.app import App, build_app
from bot.commands import Commands
from bot.matching.hashing import HashingEmbedder
from bot.models import Statement, Watchlist
from bot.settings import Settings
from bot.watchlists import load_watchlists
from tests.conftest import RecordingConsole, rss
from tests.one_feed import one_feed
from tests.test_shift_not_folded import AFTER, BEFORE, FISHING, FUNDING, NORLAND, _item


def _renamed_lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [
        r.getMessage()
        for r in caplog.records
        if r.levelno == logging.INFO and " renamed to " in r.getMessage()
    ]


def _load(folder: Path) -> Watchlist:
    result = load_watchlists(folder)
    assert result.watchlist is not None, [str(p) for p in result.problems]
    return result.watchlist


def _norland_files(folder: Path, feed_url: str, actor: dict[str, Any]) -> None:
    """Norland and the lake topics as an admin would write them, with Norland as given."""
    topics = [
        {
            "id": topic.id,
            "name": topic.name,
            "description": topic.description,
            "examples": list(topic.examples),
            "positions": [
                {"id": p.id, "label": p.label, "examples": list(p.examples), "polarity": p.polarity}
                for p in topic.positions
            ],
        }
        for topic in (FUNDING, FISHING)
    ]
    files = {
        "actors": [{**actor, "name": NORLAND.name, "aliases": list(NORLAND.aliases)}],
        "topics": topics,
        "feeds": [{"url": feed_url, "name": "Wire"}],
        "routes": [{"topics": ["*"]}],
    }
    (folder / "lake.yaml").write_text(yaml.safe_dump(files, sort_keys=False), encoding="utf-8")


@pytest.mark.asyncio(loop_scope="function")
async def test_a_renamed_actor_keeps_its_history_so_its_next_reversal_is_a_shift(
    tmp_path: Path, embedder: Any, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    now = datetime.now(UTC)
    history = _item(0, "Harbour ferry timetable to change", "Ferries run less often.", now)
    console = RecordingConsole()
    folder = tmp_path / "watchlists"
    folder.mkdir()
    async with one_feed(tmp_path, rss("Wire", [history]), console=console) as served:
        _norland_files(folder, served.feed.url, {"id": "norland"})
        await served.app.close()
        settings = replace(served.app.settings, watchlists_dir=folder)
        served.app = build_app(settings, _load(folder), embedder=embedder, deliveries=[console])
        await served.poll()  # first poll: history only
        before = _item(1, *BEFORE, now - timedelta(hours=20))
        served.body = rss("Wire", [before, history])
        await served.poll()
        # The admin renames the actor's id, and says what it was.
        _norland_files(
            folder, served.feed.url, {"id": "norland-republic", "former_ids": ["norland"]}
        )
        commands = Commands(served.app)
        reply = commands.reload()
        again = commands.reload()  # nothing is left to carry: nothing moves, nothing is said
        after = _item(2, *AFTER, now - timedelta(hours=1))
        served.body = rss("Wire", [after, before, history])
        await served.poll()
        await served.app.outbox.drain()
        shown = commands.positions("lake-fund")
    assert reply.ok and again.ok, (reply.text, again.text)
    assert not [line for line in reply.lines if "no longer in the watchlists" in line]
    shift = [line for line in console.posts[-1].stances if line.is_shift]
    assert [(s.actor_name, s.now_label, s.before_label) for s in shift] == [
        ("Norland", FUNDING.positions[0].label, FUNDING.positions[1].label)
    ]
    [said] = _renamed_lines(caplog)
    assert re.fullmatch(
        r"actor 'norland' renamed to 'norland-republic': \d+ statements? carried over", said
    ), said
    # /positions shows one Norland, today's id, with both stances in its timeline.
    ((name, timeline),) = shown.fields
    assert name.startswith("Norland") and "no longer" not in name, name
    assert FUNDING.positions[1].label in timeline and FUNDING.positions[0].label in timeline


GUARANTEES = """\
topics:
  - id: {topic}
    name: Security guarantees
    description: Post-war security guarantees for Ukraine and who would give them.
    exclude: ["Guarantees on grain shipping through the Black Sea."]
    positions:
      - id: accepts
        label: accepts Western guarantees for Ukraine
        examples: ["Moscow agreed the West could protect Kyiv.", "Russia accepts guarantees."]
      - id: {veto}
        label: demands a veto over any guarantee
        examples: ["Russia wants a veto over guarantees.", "Moscow must be a guarantor."]
actors:
  - id: russia
    name: Russia
    aliases: [Russia, Moscow, Kremlin]
"""


def _start(tmp_path: Path, folder: Path) -> App:
    """The app as `stancewatch run` builds it at the start, on the folder as it is now."""
    settings = replace(Settings(), db_path=tmp_path / "sw.db", watchlists_dir=folder)
    return build_app(settings, _load(folder), embedder=HashingEmbedder(), deliveries=[])


async def test_a_renamed_topic_and_position_keep_statements_and_follows_across_restarts(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    folder = tmp_path / "watchlists"
    folder.mkdir()
    (folder / "w.yaml").write_text(GUARANTEES.format(topic="guarantees", veto="veto"), "utf-8")
    app = _start(tmp_path, folder)
    old = app.watchlist
    commands = Commands(app)
    assert commands.follow("discord", "g1", "u1", "guarantees").ok
    app.store.add_statements(
        [
            Statement("russia", "guarantees", "veto", "We demand a veto.", 0.9, article_id=a)
            for a in ("a1", "a2")
        ]
    )
    await app.close()
    renamed = GUARANTEES.format(topic="security-guarantees", veto="demands-veto")
    renamed = renamed.replace(
        "    name: Security guarantees\n",
        "    name: Security guarantees\n    former_ids: [guarantees]\n",
    ).replace(
        "        label: demands a veto", "        former_ids: [veto]\n        label: demands a veto"
    )
    (folder / "w.yaml").write_text(renamed, encoding="utf-8")
    app = _start(tmp_path, folder)  # the service restarted on the edited files
    try:
        first = _renamed_lines(caplog)
        left = app.left_behind(old)
        shown = Commands(app).positions("security-guarantees")
        following = app.store.following("discord", "g1", "u1")
        current = app.store.current_statement("security-guarantees", "russia", 0.5)
    finally:
        await app.close()
    app = _start(tmp_path, folder)  # and again: nothing is left to carry
    await app.close()
    assert first == [
        "topic 'guarantees' renamed to 'security-guarantees': 1 follow and 2 statements"
        " carried over",
        "position 'veto' of topic 'security-guarantees' renamed to 'demands-veto':"
        " 2 statements carried over",
    ]
    assert _renamed_lines(caplog) == first
    assert left == []  # nothing left behind: nothing for admins to hear about
    assert following == [("security-guarantees", False)]
    assert current is not None and current.position_id == "demands-veto"
    ((name, timeline),) = shown.fields
    assert name.startswith("Russia") and "demands a veto over any guarantee" in name, name
    assert "no longer in the watchlists" not in timeline and "We demand a veto." in timeline


def test_carrying_renames_at_each_load_seeks_the_old_ids_instead_of_reading_every_row(
    tmp_path: Path,
) -> None:
    # `former_ids:` stays listed as long as the admin likes, so the carry runs at every
    # start and reload, on the event loop, holding the write lock: walking every article's
    # scores (one row per article and topic kept, 300,000 in a month) took 250 ms a topic.
    from bot.models import Rename
    from bot.store.sqlite import SQLiteStore

    store = SQLiteStore(tmp_path / "s.db")
    ran: list[str] = []
    try:
        store.db.set_trace_callback(ran.append)
        store.carry_renames(
            [
                Rename("topic", "old-topic", "new-topic"),
                Rename("position", "old-position", "new-position", "new-topic"),
                Rename("actor", "old-actor", "new-actor"),
            ]
        )
        store.db.set_trace_callback(None)
        statements = [sql for sql in ran if sql.lstrip().upper().startswith(("UPDATE", "DELETE"))]
        assert statements
        walks = {
            sql: plan
            for sql in statements
            for plan in [[row[3] for row in store.db.execute("EXPLAIN QUERY PLAN " + sql)]]
            if any(step.startswith("SCAN") for step in plan)
        }
    finally:
        store.close()
    assert not walks, walks
