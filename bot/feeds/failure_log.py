"""What the log says about a failing feed: its first failure, a new error, its pause and an
hourly reminder, one line each; not a warning at every retry.

A feed down for an afternoon was a warning at each of its backed-off retries (eight before
the pause), and a feed failing on and off never reached the pause but wrote a warning
every few minutes for as long as it flapped, drowning the lines that mattered. What is not
said line by line is still counted: the next line says how many failures went unsaid, and
`/feeds` shows each feed's state. Kept in memory: after a restart the first failure is
said again, which is what an operator reading a fresh log wants. `run --once` from cron is
a restart at every pass, though, and said a feed down all day at each one: there, the time
of the last line is read back from the database (`recall`).

Lines wait for the end of the pass (`say_pass`): a publisher's server down takes all its
feeds down in the same second, and fifty feeds were fifty warnings at once (at the first
failure, at the pause, at each reminder, and fifty lines more when they came back). A pass
with a few such lines says them one by one; more of one kind are one line naming the first
few feeds.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.logs import counted

log = logging.getLogger("bot.feeds.health")

# How often a feed that keeps failing with the same error is said again. An operator
# reading the log an hour later still finds it there; a 1-minute feed's retries do not
# fill the hour.
REMINDER = timedelta(hours=1)

# A pass's lines of one kind (failed with one error, paused with one error, answering again)
# about this many feeds or fewer are said one by one: each names its feed and its count.
FEEDS_SAID_ONE_BY_ONE = 3
# Feeds named in a line or a notice about many; `/feeds` (and `stancewatch feeds`) lists
# every one.
FEEDS_NAMED = 10


@dataclass
class _Line:
    """One feed's line of this pass, waiting to be said alone or with others of its kind."""

    level: int
    text: str  # the line about this feed alone
    kind: str  # what a line about several such feeds begins with, after their number
    shown: str  # the feed as named in that line


def feeds_named(names: Sequence[str]) -> str:
    """The first FEEDS_NAMED of these feed names, and how many more `/feeds` lists: what
    a log line or a notice about several feeds names."""
    named = ", ".join(names[:FEEDS_NAMED])
    more = len(names) - FEEDS_NAMED
    return f"{named} and {more} more (see /feeds)" if more > 0 else named


def _about_many(kind: str, lines: list[_Line]) -> str:
    """One line about several feeds of one kind: how many, what, and the first few (in
    order of name: the order they answered in would differ at every pass)."""
    return f"{len(lines)} feeds {kind}: {feeds_named(sorted(line.shown for line in lines))}"


@dataclass
class _Said:
    """The last failure line about one feed."""

    error: str
    at: datetime
    unsaid: int = 0  # failures since that line that had no line of their own
    streak_said: bool = True  # the failures since the feed last answered had a line


class FailureLog:
    """Decides, feed by feed, which failures and recoveries get a line in the log."""

    def __init__(self) -> None:
        self._said: dict[str, _Said] = {}
        self._pass: list[_Line] = []  # this pass's lines, said by `say_pass`

    def recall(self, url: str, error: str, said_at: datetime) -> None:
        """Take `error` as said about the feed at `url` at `said_at` by an earlier run,
        unless this run has said something about it already."""
        self._said.setdefault(url, _Said(error, said_at))

    def failed(
        self,
        url: str,
        shown: str,
        error: str,
        failures: int,
        status: str,
        pausing: bool,
        now: datetime,
    ) -> bool:
        """Log one failure of the feed at `url` (named `shown`) when it tells something new;
        True when it does.

        `pausing`: this failure pauses the feed, which is always said.
        """
        said = self._said.get(url)
        fresh = said is None or said.error != error or now - said.at >= REMINDER
        line = f"feed {shown} failed ({failures} in a row, {status}): {error}"
        if said is not None and not (fresh or pausing):
            said.unsaid += 1
            log.debug("%s", line)
            return False
        if said is not None and said.unsaid:
            line += f" ({counted(said.unsaid, 'more failure')} since the last line about it)"
        kind = f"paused after failing: {error}" if pausing else f"failed: {error}"
        self._pass.append(_Line(logging.WARNING, line, kind, shown))
        self._said[url] = _Said(error, now)
        return True

    def answered(self, url: str, shown: str, failures: int) -> None:
        """Log that the feed answers again, when its failures since it last did were said.

        A feed failing on and off whose last failures were not said is not said to be back
        either: that would put back the line every few minutes the reminder takes away.
        """
        said = self._said.get(url)
        # None: its failures were said before a restart, so this run has not said it is back.
        if failures <= 0 or (said is not None and not said.streak_said):
            return
        if said is not None:
            said.streak_said = False
        line = f"feed {shown} answers again after {counted(failures, 'failure')} in a row"
        self._pass.append(_Line(logging.INFO, line, "answer again", shown))

    def say_pass(self) -> None:
        """Say this pass's lines: one by one when few of a kind, else one line per kind."""
        lines, self._pass = self._pass, []
        kinds: dict[str, list[_Line]] = {}
        for line in lines:
            kinds.setdefault(line.kind, []).append(line)
        for kind, same in kinds.items():
            if len(same) <= FEEDS_SAID_ONE_BY_ONE:
                for line in same:
                    log.log(line.level, "%s", line.text)
            else:
                log.log(same[0].level, "%s", _about_many(kind, same))
                for line in same:  # `-v` still shows each feed's own line
                    log.debug("%s", line.text)
