"""Is a feed that fails on and off unreliable? A verdict over its latest polls.

The pause needs failures in a row, so a feed that fails every other poll never reached it
and admins never heard of it. Each poll's outcome is kept (in the database, with the rest
of the feed's health), and the latest ones are judged by the rule in bot/feeds/schedule.py.
Pure functions: the caller stores the result and says what is to be said.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from itertools import groupby

from bot.feeds.schedule import (
    RELIABILITY_WINDOW,
    RELIABLE_FAILURES,
    UNRELIABLE_FAILURES,
    UNRELIABLE_SPELLS,
)
from bot.store.rows import from_iso, iso


@dataclass(frozen=True)
class Poll:
    """One poll's outcome: when, and whether the feed answered."""

    at: datetime
    ok: bool


class Verdict(StrEnum):
    """What a feed's latest polls say about it."""

    UNRELIABLE = "unreliable"
    RELIABLE = "reliable"
    UNDECIDED = "undecided"  # too few polls yet, or between the two marks


def read_polls(text: str) -> list[Poll]:
    """The polls as stored ("ok@<iso>,failed@<iso>,…", oldest first); unreadable ones skipped."""
    polls: list[Poll] = []
    for part in filter(None, text.split(",")):
        outcome, _, at = part.partition("@")
        try:
            polls.append(Poll(from_iso(at), outcome == "ok"))
        except ValueError:  # a hand-edited row must not stop polling
            continue
    return polls


def write_polls(polls: Sequence[Poll]) -> str:
    """The polls as stored (see `read_polls`)."""
    return ",".join(f"{'ok' if poll.ok else 'failed'}@{iso(poll.at)}" for poll in polls)


def with_poll(polls: Sequence[Poll], poll: Poll) -> list[Poll]:
    """The latest polls once `poll` is added: at most RELIABILITY_WINDOW of them."""
    return [*polls, poll][-RELIABILITY_WINDOW:]


def failures(polls: Sequence[Poll]) -> int:
    """How many of the polls failed."""
    return sum(1 for poll in polls if not poll.ok)


def judge(polls: Sequence[Poll]) -> Verdict:
    """The verdict on a full window of polls (fewer: undecided)."""
    if len(polls) < RELIABILITY_WINDOW:
        return Verdict.UNDECIDED
    failed = failures(polls)
    spells = sum(1 for ok, _ in groupby(poll.ok for poll in polls) if not ok)
    if failed >= UNRELIABLE_FAILURES and spells >= UNRELIABLE_SPELLS:
        return Verdict.UNRELIABLE
    if failed <= RELIABLE_FAILURES:
        return Verdict.RELIABLE
    return Verdict.UNDECIDED
