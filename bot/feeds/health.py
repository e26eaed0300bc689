"""Each feed's health between polls: next poll times, failures, pauses, languages, and what
admins are told about them.

Times are passed in (`now`), never read here: the pipeline owns the clock, and tests move it.
"""

from __future__ import annotations

import contextlib
import logging
import sqlite3
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from bot.clock import next_time_after_clock_step
from bot.feeds.failure_log import FailureLog, feeds_named
from bot.feeds.fetch import FetchResult
from bot.feeds.reliability import Poll, Verdict, failures, judge, read_polls, with_poll, write_polls
from bot.feeds.schedule import (
    UNRELIABLE_NOTICE_GAP_S,
    next_poll_after_failure,
    next_poll_after_success,
    paused_probe_interval_s,
    should_pause,
)
from bot.language import Language, feed_language, recent_languages
from bot.logs import safe_url
from bot.models import Feed
from bot.store.protocol import Store
from bot.store.rows import FeedState

log = logging.getLogger(__name__)

# Notices shown in full in one message about several; the Discord admin message holds
# 2,000 characters, and one notice with its error runs to about 250.
NOTICES_SHOWN = 6


def feed_label(feed: Feed) -> str:
    """How a feed is named to people: its name, else its URL without secrets."""
    return feed.name or safe_url(feed.url)


def not_english_notice(found: Sequence[tuple[Feed, int, int]]) -> str:
    """What admins are told about feeds the English-only model cannot read: one notice
    per pass, however many feeds (a team adding a dozen regional feeds hears it once).

    `found` holds each feed with how many of its last items were not English, of how many.
    """
    why = (
        "the embedding model reads English only, so {} articles are stored but rarely match"
        " a topic. STANCEWATCH_MODEL can name a multilingual model instead."
    )
    if len(found) == 1:
        [(feed, others, judged)] = found
        head = f"Feed {feed_label(feed)} is not in English ({others} of its last {judged} items)"
        return f"{head}: {why.format('its')}"
    named = feeds_named([feed_label(feed) for feed, _, _ in found])
    return f"{len(found)} feeds are not in English ({named}): {why.format('their')}"


def unreliable_notice(feed: Feed, polls: Sequence[Poll], error: str) -> str:
    """What admins are told about a feed that fails on and off."""
    since = polls[0].at.astimezone(UTC)
    return (
        f"Feed {feed_label(feed)} is unreliable: it failed {failures(polls)} of its last"
        f" {len(polls)} polls since {since:%H:%M} UTC ({since:%d %b}): {error}."
        " It is kept and polled as usual; its news may come late."
    )


def reliable_notice(feed: Feed, polls: Sequence[Poll]) -> str:
    """What admins are told about a feed that was unreliable and no longer is."""
    return (
        f"Feed {feed_label(feed)} is reliable again:"
        f" {failures(polls)} of its last {len(polls)} polls failed."
    )


def one_notice(texts: Sequence[str]) -> str:
    """Several notices of one pass as one message: each on its line, the rest counted."""
    if len(texts) == 1:
        return texts[0]
    lines = [f"{len(texts)} notices about feeds:"]
    lines += [f"- {text}" for text in texts[:NOTICES_SHOWN]]
    if len(texts) > NOTICES_SHOWN:
        lines.append(f"- … and {len(texts) - NOTICES_SHOWN} more: see /feeds.")
    return "\n".join(lines)


class FeedHealth:
    """Records each poll's outcome in the store and gathers the pass's notices to admins."""

    def __init__(self, store: Store, pause_after_failures: int) -> None:
        self.store = store
        self.pause_after_failures = pause_after_failures
        # Notices of the pass under way: sent together when it ends (`send_notices`).
        self._notices: list[tuple[str, str, str]] = []  # (feed url, status told, text)
        self.failure_log = FailureLog()
        # Set for `run --once`: a feed's last failure line may have been said by an earlier
        # pass, another process, and is read back from the database.
        self.recalls_earlier_runs = False

    def after_clock_step(self, states: list[FeedState], now: datetime) -> list[FeedState]:
        """The states, each next poll set by a clock ahead of `now` moved back (and stored).

        Next polls are wall-clock times: after the clock went back an hour, every feed
        waited an hour on top of its interval or backoff (years, after a clock that had
        booted in the future was set right).
        """
        result: list[FeedState] = []
        moved = 0
        for state in states:
            # The moment that set the next poll: a good poll sets it, so does a failure.
            scheduled_at = state.last_ok_at if state.status == "ok" else state.last_error_at
            next_at = next_time_after_clock_step(state.next_poll_at, scheduled_at, now)
            if next_at is not None:
                self.store.set_next_poll(state.url, next_at)
                state = replace(state, next_poll_at=next_at)
                moved += 1
            result.append(state)
        if moved:
            # Once per step: a moved next poll is within its wait of every later tick.
            log.warning("the clock went back: %d feeds' next polls counted from now", moved)
        return result

    def record_ok(self, feed: Feed, result: FetchResult, now: datetime, had_items: bool) -> None:
        """A poll that answered: validators kept, next poll at the feed's interval."""
        self.store.record_fetch_ok(
            feed.url,
            now,
            result.etag,
            result.last_modified,
            next_poll_after_success(now, feed.interval_s),
            had_items=had_items,
        )
        self._judge_reliability(feed, ok=True, now=now)

    def record_failure(self, feed: Feed, error: str, result: FetchResult, now: datetime) -> None:
        """A poll that failed: backed off, paused after too many in a row (admins told).

        `error` must already be free of secrets: it reaches logs, the database and admins.
        """
        state = self.store.feed_state(feed.url)
        failures = (state.failures if state else 0) + 1
        # 410 is the publisher saying the feed was removed on purpose: retrying it eight
        # times first only told admins a day late. Paused, it is still re-probed.
        gone = result.http_status == 410
        paused = gone or should_pause(failures, self.pause_after_failures)
        next_at = next_poll_after_failure(
            now, feed.interval_s, failures, result.retry_after_s, result.permanent
        )
        if paused:
            # Paused, never deleted: re-probed at a low rate until it answers again.
            next_at = max(next_at, now + timedelta(seconds=paused_probe_interval_s()))
        status = "paused" if paused else "failing"
        self.store.record_fetch_error(feed.url, now, error, next_at, status)
        pausing = paused and (state is None or state.status != "paused")
        if self.recalls_earlier_runs and state and state.failures and state.failure_said_at:
            # Its failures in a row are all of one error since the last line, or the change
            # would have been said: the stored error is the one that line said.
            self.failure_log.recall(feed.url, state.last_error or "", state.failure_said_at)
        shown = safe_url(feed.url)
        if self.failure_log.failed(feed.url, shown, error, failures, status, pausing, now):
            self.store.set_feed_failure_said(feed.url, now)
        self._judge_reliability(feed, ok=False, now=now)
        if paused:
            why = (
                f"is paused: the server says it is gone for good ({error}); put its new URL "
                "in the watchlist or remove it"
                if gone
                else f"is paused after {failures} failures: {error}"
            )
            self.tell_admins(
                feed.url,
                "paused",
                f"Feed {feed_label(feed)} {why}. It is kept and re-probed every few hours.",
            )

    def _judge_reliability(self, feed: Feed, *, ok: bool, now: datetime) -> None:
        """Add this poll to the feed's latest ones; tell admins when they show it failing on
        and off, or no longer (bot/feeds/reliability.py). Recorded as told here, like the
        language notice, so a restart neither forgets nor repeats it."""
        state = self.store.feed_state(feed.url)
        if state is None:
            return
        polls = with_poll(read_polls(state.recent_polls), Poll(now, ok))
        verdict = judge(polls)
        told, told_at = state.unreliable_told, state.unreliable_told_at
        gap = timedelta(seconds=UNRELIABLE_NOTICE_GAP_S)
        # A paused feed is told about as paused: one notice is enough.
        if verdict is Verdict.UNRELIABLE and not told and state.status != "paused":
            if told_at is None or now - told_at >= gap:
                text = unreliable_notice(feed, polls, state.last_error or "no error kept")
                log.warning("%s", text)
                self._notices.append(("", "", text))
                told, told_at = True, now
        elif verdict is Verdict.RELIABLE and told:
            text = reliable_notice(feed, polls)
            log.info("%s", text)
            self._notices.append(("", "", text))
            told = False
        self.store.set_feed_reliability(feed.url, write_polls(polls), told=told, told_at=told_at)

    def record_recovery(self, feed: Feed, before: FeedState | None) -> None:
        """A feed that answers again: the log says so when it said the failures, and admins
        are told when they were told it failed."""
        if before is not None:
            self.failure_log.answered(feed.url, safe_url(feed.url), before.failures)
        if before is not None and before.status != "ok" and before.admins_told:
            self.tell_admins(feed.url, "", f"Feed {feed_label(feed)} has recovered.")

    def record_languages(
        self, readings: Sequence[tuple[Feed, list[Language]]]
    ) -> list[tuple[Feed, int, int]]:
        """Add each feed's new items' languages to its recent ones; return the feeds to tell
        about, each with how many of its recent items were not English, of how many.

        Asked only while the model reads English only. A feed whose recent items are clearly
        not English is told about once (the fact is kept in the database, so a restart does
        not say it again). Matching is not changed: the items are stored and scored like any
        other, they just rarely reach a threshold.
        """
        told: list[tuple[Feed, int, int]] = []
        for feed, new in readings:
            state = self.store.feed_state(feed.url) if new else None
            if not new or state is None:
                continue
            recent = recent_languages(state.recent_languages, new)
            verdict = feed_language(recent)
            was_told = state.language_told
            if verdict is Language.OTHER and not was_told:
                others = sum(1 for r in recent if r is Language.OTHER)
                told.append((feed, others, len(recent)))
                was_told = True
            elif verdict is Language.ENGLISH and was_told:
                # Clearly English again (a feed that changed its edition): said again if it
                # ever changes back.
                log.info("feed %s reads as English again", feed_label(feed))
                was_told = False
            self.store.set_feed_languages(feed.url, ",".join(recent), told=was_told)
        if told:
            text = not_english_notice(told)
            log.warning("%s", text)
            self._notices.append(("", "", text))  # recorded as told just above
        return told

    def tell_admins(self, url: str, status: str, text: str) -> None:
        """Queue a notice about a feed for the end of the pass, unless admins know already."""
        state = self.store.feed_state(url)
        if state is None or state.admins_told == status:
            return
        self._notices.append((url, status, text))

    def start_pass(self) -> None:
        """Forget notices of an earlier pass that never reached `send_notices`."""
        self._notices = []

    async def send_notices(self, notify: Callable[[str], Awaitable[None]] | None) -> None:
        """Tell admins this pass's notices about feeds: one message, however many.

        A host down takes its feeds down together, and they reach the pause in the same
        pass: ten feeds of one publisher were ten messages in the admin channel at once.
        Each is recorded as told only here, as it is sent. With no `notify`, the log says it.
        """
        notices, self._notices = self._notices, []
        if not notices:
            return
        for url, status, _ in notices:
            if url:  # (a language notice is recorded where it is decided)
                with contextlib.suppress(sqlite3.DatabaseError):  # said by the pipeline
                    self.store.set_feed_admins_told(url, status)
        text = one_notice([text for _, _, text in notices])
        if notify is not None:
            await notify(text)
        else:
            log.warning("admin notice: %s", text)
