"""What the log says about a failing feed: its first failure, a new error, its pause and an
hourly reminder, one line each; not a warning at every retry.

A feed down for an afternoon was a warning at each of its backed-off retries (eight before
the pause), and a feed failing on and off never reached the pause but wrote a warning
every few minutes for as long as it flapped, drowning the lines that mattered. What is not
said line by line is still counted: the next line says how many failures went unsaid, and
`/feeds` shows each feed's state. Kept in memory: after a restart the first failure is
said again, which is what an operator reading a fresh log wants.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.logs import counted

log = logging.getLogger("bot.feeds.health")

# How often a feed that keeps failing with the same error is said again. An operator
# reading the log an hour later still finds it there; a 1-minute feed's retries do not
# fill the hour.
REMINDER = timedelta(hours=1)


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

    def failed(
        self,
        url: str,
        shown: str,
        error: str,
        failures: int,
        status: str,
        pausing: bool,
        now: datetime,
    ) -> None:
        """Log one failure of the feed at `url` (named `shown`) when it tells something new.

        `pausing`: this failure pauses the feed, which is always said.
        """
        said = self._said.get(url)
        fresh = said is None or said.error != error or now - said.at >= REMINDER
        line = f"feed {shown} failed ({failures} in a row, {status}): {error}"
        if said is not None and not (fresh or pausing):
            said.unsaid += 1
            log.debug("%s", line)
            return
        if said is not None and said.unsaid:
            line += f" ({counted(said.unsaid, 'more failure')} since the last line about it)"
        log.warning("%s", line)
        self._said[url] = _Said(error, now)

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
        log.info("feed %s answers again after %s in a row", shown, counted(failures, "failure"))
