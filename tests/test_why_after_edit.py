"""`why` on an article scored before an admin changed its topic's threshold or keywords:
the verdict of the time is kept, and the reply says when today's rule would differ."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from bot.commands import Commands
from tests.conftest import rss
from tests.one_feed import DRILLS, one_feed

ON = {"title": "Navy drills in the harbour", "link": "https://w.example/on"}
OFF = {"title": "Ferry timetable to change", "link": "https://w.example/off"}


def _line(commands: Commands, link: str) -> str:
    scores = dict(commands.why(link).fields)["Topic scores"]
    return next(x for x in scores.splitlines() if x.startswith(DRILLS.name))


def _score(commands: Commands, link: str) -> float:
    stored = commands.app.store.article_by_canonical_url(link)
    assert stored is not None
    (match,) = commands.app.store.matches(stored.article.id)
    return match.score


def _threshold(commands: Commands, threshold: float) -> None:
    """The admin's edit: the topic's threshold set to this."""
    topic = replace(DRILLS, threshold=threshold)
    commands.app.use_watchlist(replace(commands.app.watchlist, topics=(topic,)))


@pytest.mark.asyncio(loop_scope="function")
async def test_why_after_a_threshold_edit_does_not_contradict_its_own_numbers(
    tmp_path: Path,
) -> None:
    async with one_feed(tmp_path, rss("Wire", [ON, OFF])) as served:
        await served.poll()
        commands = Commands(served.app)
        assert "matched" in _line(commands, ON["link"])
        assert "below threshold" in _line(commands, OFF["link"])
        on, off = _score(commands, ON["link"]), _score(commands, OFF["link"])
        assert 0 < off < on

        _threshold(commands, (on + 1) / 2)  # raised past the match
        line = _line(commands, ON["link"])
        assert "matched" in line and "would not match now" in line, line

        _threshold(commands, off / 2)  # lowered under the miss
        line = _line(commands, OFF["link"])
        assert "not matched" in line and "would match now" in line, line
        assert "below threshold" not in line, line
