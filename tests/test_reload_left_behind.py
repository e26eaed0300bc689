"""A watchlist edit that takes an id away from what the database keeps under it (a topic's
followers, an actor's position history) is said, never silent; nothing is moved or lost."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest

from bot.app import App, build_app
from bot.commands import Commands
from bot.matching.hashing import HashingEmbedder
from bot.models import Statement
from bot.settings import Settings
from tests.reliability.helpers import Recorder, watching, watchlist_folder

ARMS = """\
  - id: {id}
    name: Arms shipments
    description: Weapons and ammunition that allies send to Ukraine's armed forces.
"""
NATO = """\
  - id: nato-membership
    name: {name}
    description: Ukraine's bid to join the NATO alliance and the allies' answers to it.
"""


def _text(arms_id: str, nato_name: str = "NATO membership") -> str:
    return "topics:\n" + ARMS.format(id=arms_id) + NATO.format(name=nato_name)


def _write(folder: Path, arms_id: str, nato_name: str = "NATO membership") -> None:
    (folder / "w.yaml").write_text(_text(arms_id, nato_name), encoding="utf-8")


def _app(tmp_path: Path) -> tuple[App, Recorder]:
    folder, watchlist = watchlist_folder(tmp_path, {"w.yaml": _text("arms-shipments")})
    recorder = Recorder()
    settings = replace(Settings(), db_path=tmp_path / "sw.db", watchlists_dir=folder)
    app = build_app(settings, watchlist, embedder=HashingEmbedder(), deliveries=[recorder])
    return app, recorder


async def _until(check: Callable[[], bool]) -> None:
    """Wait (at most 15 s) until the watcher has applied the edit `check` looks for."""
    async with asyncio.timeout(15):
        while not check():
            await asyncio.sleep(0.1)


def _topic_ids(app: App) -> list[str]:
    return [t.id for t in app.watchlist.topics]


def _warnings(caplog: pytest.LogCaptureFixture, needle: str) -> list[str]:
    return [
        r.getMessage()
        for r in caplog.records
        if r.levelno == logging.WARNING and needle in r.getMessage()
    ]


async def test_a_topic_renamed_under_its_followers_is_said_once_and_resumes_when_put_back(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    app, recorder = _app(tmp_path)
    folder = app.settings.watchlists_dir
    commands = Commands(app)
    for platform, scope, user in (("discord", "g1", "u1"), ("discord", "g1", "u2")):
        assert commands.follow(platform, scope, user, "arms-shipments").ok
    assert commands.follow("slack", "T1", "u3", "arms-shipments", dm=True).ok
    try:
        async with watching(app):
            _write(folder, "arms-deliveries")  # the admin renames the id
            await _until(lambda: "arms-deliveries" in _topic_ids(app))
            listed = commands.following("discord", "g1", "u1").text
            _write(folder, "arms-deliveries", "NATO accession")  # an unrelated later edit
            await _until(lambda: app.watchlist.topics[1].name == "NATO accession")
            _write(folder, "arms-shipments", "NATO accession")  # and puts the old id back
            await _until(lambda: "arms-shipments" in _topic_ids(app))
        discord_followers = app.store.followers("discord", "g1", ["arms-shipments"])
        slack_followers = app.store.followers("slack", "T1", ["arms-shipments"])
    finally:
        await app.close()

    # Said once while it stands, with the id, how many follow it, and the likely new id.
    said = _warnings(caplog, "'arms-shipments'")
    assert len(said) == 1, said
    assert "3 members" in said[0] and "'arms-deliveries'" in said[0], said[0]
    told = [n for n in recorder.notices if "'arms-shipments'" in n]
    assert len(told) == 2 and "3 members" in told[0], recorder.notices
    assert "back in the watchlists" in told[1], recorder.notices
    # The member still sees the follow, marked, not hidden.
    assert "arms-shipments (removed from the watchlist" in listed
    # Nothing was deleted: the id is back and its followers get its alerts again.
    assert discord_followers == [("u1", False), ("u2", False)]
    assert slack_followers == [("u3", True)]


async def test_the_reload_command_tells_the_admin_of_a_followed_topic_it_takes_away(
    tmp_path: Path,
) -> None:
    app, _ = _app(tmp_path)
    commands = Commands(app)
    try:
        assert commands.follow("slack", "T1", "u1", "arms-shipments").ok
        text = "topics:\n" + NATO.format(name="NATO membership")
        (app.settings.watchlists_dir / "w.yaml").write_text(text, encoding="utf-8")
        reply = commands.reload()
    finally:
        await app.close()
    assert reply.ok and reply.title == "Watchlists reloaded.", reply.text
    assert "- topic arms-shipments" in reply.lines
    said = [line for line in reply.lines if "'arms-shipments'" in line and "1 member " in line]
    assert len(said) == 1 and "no alerts" in said[0], reply.lines


GUARANTEES = """\
topics:
  - id: guarantees
    name: Security guarantees
    description: Post-war security guarantees for Ukraine and who would give them.
    positions:
      - id: accepts
        label: accepts Western guarantees for Ukraine
        examples: ["Moscow agreed the West could protect Kyiv.", "Russia accepts guarantees."]
      - id: veto
        label: demands a veto over any guarantee
        examples: ["Russia wants a veto over guarantees.", "Moscow must be a guarantor."]
actors:
  - id: {id}
    name: Russia
    aliases: [Russia, Moscow, Kremlin]
"""


async def test_an_actor_renamed_with_a_position_history_is_said_and_its_history_still_shown(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    folder, watchlist = watchlist_folder(tmp_path, {"w.yaml": GUARANTEES.format(id="russia")})
    recorder = Recorder()
    settings = replace(Settings(), db_path=tmp_path / "sw.db", watchlists_dir=folder)
    app = build_app(settings, watchlist, embedder=HashingEmbedder(), deliveries=[recorder])
    app.store.add_statements(
        [
            Statement("russia", "guarantees", "veto", "We demand a veto.", 0.9, article_id=a)
            for a in ("a1", "a2")
        ]
    )
    try:
        async with watching(app):
            (folder / "w.yaml").write_text(
                GUARANTEES.format(id="russian-federation"), encoding="utf-8"
            )
            await _until(lambda: app.watchlist.actors[0].id == "russian-federation")
        shown = Commands(app).positions("guarantees")
    finally:
        await app.close()
    said = _warnings(caplog, "'russia'")
    assert len(said) == 1, said
    assert "2 recorded statements" in said[0] and "'russian-federation'" in said[0], said[0]
    told = [n for n in recorder.notices if "'russia'" in n]
    assert len(told) == 1 and "2 recorded statements" in told[0], recorder.notices
    # The history is still there to read, marked as the old id's.
    ((name, timeline),) = shown.fields
    assert name.startswith("russia (no longer in the watchlists)"), name
    assert "We demand a veto." in timeline


async def test_a_position_renamed_under_recorded_statements_is_said_by_reload(
    tmp_path: Path,
) -> None:
    folder, watchlist = watchlist_folder(tmp_path, {"w.yaml": GUARANTEES.format(id="russia")})
    settings = replace(Settings(), db_path=tmp_path / "sw.db", watchlists_dir=folder)
    app = build_app(settings, watchlist, embedder=HashingEmbedder(), deliveries=[])
    app.store.add_statements(
        [Statement("russia", "guarantees", "veto", "We demand a veto.", 0.9, article_id="a1")]
    )
    renamed = GUARANTEES.format(id="russia").replace("id: veto", "id: demands-veto")
    (folder / "w.yaml").write_text(renamed, encoding="utf-8")
    try:
        reply = Commands(app).reload()
    finally:
        await app.close()
    said = [line for line in reply.lines if "'veto'" in line]
    assert len(said) == 1, reply.lines
    assert "'guarantees'" in said[0] and "1 recorded statement" in said[0], said[0]
    assert "'demands-veto'" in said[0], said[0]
