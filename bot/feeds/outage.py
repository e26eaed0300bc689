"""Telling this machine being offline from feeds failing: one line, and no failures counted.

Offline (network down, DNS failing), every feed failed, one line each at every retry (a
thousand feeds: a thousand lines at once); backoff then held them back for hours after the
network came back, and a day offline paused them all, with a notice to admins for each.
So when no feed of a pass answered and feeds on two hosts that were healthy could not be
reached, the outage is logged once, its failures are not counted, and its feeds retry at
their interval; the first feed that answers ends it, and the others are polled at once.
One host down is still that host's failure.
"""

from __future__ import annotations

import logging
import urllib.parse
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Protocol

from bot.feeds.fetch import FetchResult
from bot.feeds.schedule import paused_probe_interval_s
from bot.logs import redact_urls
from bot.models import Feed
from bot.store.protocol import Store
from bot.store.rows import FeedState

log = logging.getLogger(__name__)


class Unreached(Protocol):
    """A feed of this pass that no connection reached, with what was known of it."""

    @property
    def feed(self) -> Feed: ...

    @property
    def state(self) -> FeedState | None: ...

    @property
    def result(self) -> FetchResult: ...


@dataclass
class _Outage:
    """Since when this machine looks offline, and the feeds whose failure was not counted."""

    since: datetime
    feeds: set[str] = field(default_factory=set)


class OutageWatch:
    """Decides, pass by pass, whether unreached feeds failed or this machine is offline."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._outage: _Outage | None = None  # while no feed at all can be reached

    def is_outage(self, unreached: Sequence[Unreached], *, answered: bool, now: datetime) -> bool:
        """True when these feeds are held back by an outage, not failing (see the module).

        `answered`: some feed of the pass answered, which ends an outage (its feeds are
        then due at once). During an outage the feeds are set to retry at their interval.
        """
        if answered and self._outage is not None:
            self._over(now)
        if answered or not unreached:
            return False
        if self._outage is None and not _looks_offline(unreached):
            return False
        self._goes_on(unreached, now)
        return True

    def _goes_on(self, unreached: Sequence[Unreached], now: datetime) -> None:
        """Retry the feeds at their interval, without counting a failure; say it once."""
        if self._outage is None:
            self._outage = _Outage(now)
            hosts = {urllib.parse.urlsplit(b.feed.url).hostname for b in unreached}
            log.warning(
                "the network looks down: %d feeds on %d hosts could not be reached (%s);"
                " they are retried at their interval and their failures are not counted,"
                " until a feed answers",
                len(unreached),
                len(hosts),
                redact_urls(unreached[0].result.error or "no connection"),
            )
        for batch in unreached:
            self._outage.feeds.add(batch.feed.url)
            wait = batch.feed.interval_s
            if batch.state is not None and batch.state.status == "paused":
                wait = max(wait, paused_probe_interval_s())  # still only re-probed
            self.store.set_next_poll(batch.feed.url, now + timedelta(seconds=wait))

    def _over(self, now: datetime) -> None:
        """A feed answered: the network is back, and the feeds it held back are due now."""
        assert self._outage is not None
        outage, self._outage = self._outage, None
        for url in outage.feeds:
            self.store.set_next_poll(url, now)
        log.info(
            "the network is back after %s: %d feeds it held back are polled now",
            timedelta(seconds=round((now - outage.since).total_seconds())),
            len(outage.feeds),
        )


def _looks_offline(unreached: Sequence[Unreached]) -> bool:
    """True when feeds on two hosts or more that last answered could not be reached."""
    hosts = {
        urllib.parse.urlsplit(b.feed.url).hostname
        for b in unreached
        if b.state is not None and b.state.failures == 0 and b.state.last_ok_at is not None
    }
    return len(hosts) >= 2
