"""One poll cycle: due feeds → new articles → topics → stories → positions → outbox."""

from __future__ import annotations

import asyncio
import functools
import logging
import sqlite3
from collections.abc import Callable, Collection, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Protocol, TypeVar

from bot.actors import index_for
from bot.database_health import DatabaseHealth
from bot.feeds.fetch import Fetcher, FetchResult, host_is_public
from bot.feeds.fulltext import extract_main_text
from bot.feeds.health import FeedHealth, feed_label
from bot.feeds.outage import OutageWatch
from bot.feeds.parse import FeedParseError, canonical_url, feed_scoped_id, parse_feed
from bot.language import Language, read_language
from bot.logs import redact_urls, safe_url
from bot.matching.topics import ArticleVectors, TopicMatcher, TopicScore
from bot.models import (
    Alert,
    Article,
    DestinationKind,
    Feed,
    StanceLine,
    Statement,
    TopicLine,
    Watchlist,
)
from bot.revisions import (
    Revision,
    changed_since_stored,
    compare_versions,
    keep_fingerprints,
    read_revision,
    store_revision,
)
from bot.routing import destinations_for
from bot.store.connection import database_failed
from bot.store.protocol import Store
from bot.store.rows import FeedState, MatchRow, StoredArticle
from bot.store.write_gate import WriteGate
from bot.stories import RULES as STORY_RULES
from bot.stories import RecentStories, new_story_id, same_headline, title_key
from bot.story_checks import NameCheck, live_page, outlet_follow_up, same_stance
from bot.summarize import summarize

if TYPE_CHECKING:
    import numpy as np

log = logging.getLogger(__name__)

T = TypeVar("T")

# Articles whose passages are embedded in one call: ~1,000 texts, well inside the
# embedder's cache, so none is evicted before its article is analysed.
EMBED_CHUNK = 200
# A new item dated further back than this is history, not news: stored and matched (it
# still builds the positions history) but not alerted. Feeds re-surface old items (a CMS
# migration, a re-sorted archive, a story from 2019 re-tagged), and an alert on them reads
# as today's news. A week is far beyond publishers' clock and time-zone slips (hours) and
# a daily or weekly feed's gap between items, yet well short of the years-old items seen.
MAX_ALERT_AGE = timedelta(days=7)
# How long one feed's pages may take in one pass, in read timeouts (60 s at the default
# 15 s): a slow page takes one, and a first poll's many pages, two per host at a time, fit
# in a few; a host that never answers then delays the pass by a minute, not by a page each.
FULL_TEXT_BUDGET_READS = 4
# How many of a story's copies, the latest, a new article is compared with. A story reaches
# a few outlets (1-10 in the grown setup of docs/performance.md), so every copy of an
# ordinary story is read; a live page that never ends adds a copy at each update and
# stays in the story window, and reading all of them, text and vector, cost each new
# copy 2,000 rows after two weeks of ten-minute updates (docs/performance.md).
STORY_COPIES_COMPARED = 100


class StanceTracker(Protocol):
    """Finds actor statements in a matched article and compares them with history."""

    def analyse(
        self, article: Article, topic_ids: Sequence[str]
    ) -> tuple[list[Statement], list[StanceLine]]:
        """Statements to store, and the lines (restatements, shifts) the alert shows."""
        ...


class AdminNotifier(Protocol):
    """Tells admins something once."""

    async def __call__(self, text: str) -> None:
        """Deliver the notice."""
        ...


@dataclass
class CycleReport:
    """What one poll cycle did, for logs, the demo and the bench."""

    feeds_polled: int = 0
    not_modified: int = 0
    failures: int = 0
    new_articles: int = 0
    matched: int = 0
    alerts: int = 0
    folded: int = 0
    errors: list[str] = field(default_factory=list)
    store_error: str | None = None  # the database refused this cycle's writes


@dataclass(frozen=True)
class _Fetched:
    feed: Feed
    state: FeedState | None
    result: FetchResult
    articles: list[Article]


@dataclass(frozen=True)
class _InUse:
    """The watchlist and the matcher and tracker built from it, swapped as one by a reload."""

    watchlist: Watchlist
    matcher: TopicMatcher
    stances: StanceTracker | None


@dataclass(frozen=True)
class _Analysed:
    article: Article
    vectors: ArticleVectors | None
    scores: list[TopicScore]
    statements: list[Statement]
    stances: list[StanceLine]
    # What the article was read with; it is stored, routed and summarised with the same.
    in_use: _InUse
    language: Language = Language.UNKNOWN


def own_ids(
    feed_url: str, articles: Sequence[Article], held: Mapping[str, tuple[str, str]]
) -> list[Article]:
    """The articles, each guid that another feed holds replaced by an id of this feed's own.

    Small sites number their items 1, 2, 3, so guids collide across feeds. `held` maps ids
    already taken to the (feed URL, canonical URL) of their article. The holder keeps its id
    (ids stored by earlier versions never change, so an upgrade re-alerts nothing); the
    newcomer gets a feed-scoped id. The same guid with the same link is one article seen in
    two feeds (a site's section feeds, a renamed feed URL) and keeps the id it has.
    """
    owned: list[Article] = []
    for article in articles:
        holder = held.get(article.id) if article.id.startswith("guid:") else None
        if holder is not None and holder[0] != feed_url:
            link = canonical_url(article.url)
            if not (link and link == holder[1]):
                article = replace(article, id=feed_scoped_id(feed_url, article.id))
        owned.append(article)
    return owned


class Pipeline:
    """Polls feeds and turns new articles into stored matches, positions and outbox rows."""

    def __init__(
        self,
        store: Store,
        fetcher: Fetcher,
        matcher: TopicMatcher,
        watchlist: Watchlist,
        *,
        stances: StanceTracker | None = None,
        enabled: Collection[DestinationKind] = (),
        pause_after_failures: int = 8,
        notify_admins: AdminNotifier | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        max_alert_age: timedelta | None = MAX_ALERT_AGE,
        english_only_model: bool = False,
        write_gate: WriteGate | None = None,
        reader: Store | None = None,
    ) -> None:
        self.store = store
        # What the model thread reads through (stored copies of a page, their stories): a
        # connection of its own, since the event loop writes through `store` meanwhile and
        # one SQLite connection used from two threads lets a read of one hold up the other's
        # checkpoint ("database table is locked"). None: `store` (tests, a database in
        # memory, which no second connection can see).
        self.reader = reader if reader is not None else store
        # Waits for another program's write lock off the event loop (None: never waits).
        self.write_gate = write_gate
        self.fetcher = fetcher
        self._in_use = _InUse(watchlist, matcher, stances)
        self.enabled = enabled
        self.notify_admins = notify_admins
        self.clock = clock
        # None: every new item may alert, however old (the demo replays dated snapshots).
        self.max_alert_age = max_alert_age
        # The model reads English only (the packaged one): a feed in another language then
        # never alerts, and admins are told so, once per feed (`FeedHealth.record_languages`).
        self.english_only_model = english_only_model
        # None: FULL_TEXT_BUDGET_READS of the fetcher's read timeout (tests set seconds).
        self.full_text_budget_s: float | None = None
        # Several feeds may be polled at once, but articles are written one feed at a time.
        self._write_lock = asyncio.Lock()
        self._told_moved: set[str] = set()  # feeds whose permanent redirect was logged
        self.database = DatabaseHealth(store)
        self._outage = OutageWatch(store)
        self.health = FeedHealth(store, pause_after_failures)
        # The model's work (embedding, scoring, stances) runs on one thread of its own, made
        # on first use. glibc gives each thread that allocates its own memory arena and
        # keeps there what torch frees: spread over the worker threads that parse feeds,
        # a 2,774-article first poll peaked at 1.39 GB instead of 0.94 GB.
        self._model_thread: ThreadPoolExecutor | None = None
        # The work last given to it: the thread runs in order, so once this is done all is.

    async def _on_model_thread(self, work: Callable[..., T], *args: object) -> T:
        """Run CPU work that calls the model on the pipeline's one model thread."""
        if self._model_thread is None:
            self._model_thread = ThreadPoolExecutor(1, thread_name_prefix="stancewatch-model")
        future = self._model_thread.submit(functools.partial(work, *args))
        return await asyncio.wrap_future(future)

    def close(self) -> None:
        """Let the model thread go once its work is done."""
        if self._model_thread is not None:
            self._model_thread.shutdown(wait=False)
            self._model_thread = None

    @property
    def watchlist(self) -> Watchlist:
        """The watchlist in use."""
        return self._in_use.watchlist

    @property
    def matcher(self) -> TopicMatcher:
        """The topic matcher built from the watchlist in use."""
        return self._in_use.matcher

    @property
    def stances(self) -> StanceTracker | None:
        """The position tracker built from the watchlist in use (None: no positions)."""
        return self._in_use.stances

    def use_watchlist(
        self, watchlist: Watchlist, matcher: TopicMatcher, stances: StanceTracker | None
    ) -> None:
        """Switch to a newly loaded watchlist (hot reload).

        One assignment swaps all three: a reload lands while articles are being read in
        worker threads, and an article scored with the old topics but summarised with the
        new matcher failed on a topic the edit had renamed (the whole poll with it).
        """
        self._in_use = _InUse(watchlist, matcher, stances)
        try:
            self._sync_feeds(self.clock())
        except sqlite3.Error as exc:
            # The edit is in use already; only the feeds table lags, and every poll brings it
            # in step first. Raised, it was said as "refused, last good set kept": untrue.
            log.warning("the feeds of the edit are recorded at the next poll: %s", exc)

    def _sync_feeds(self, now: datetime) -> None:
        """Bring the stored feeds in step with the watchlist; say which feeds moved, and
        which came back after too long away to alert what they missed."""
        synced = self.store.sync_feeds(self.watchlist.feeds, now)
        for new_url, old_url in synced.moved:
            log.info(
                "feed %s takes over from %s (same name): new items at its first poll alert",
                safe_url(new_url),
                safe_url(old_url),
            )
        for url, away in synced.afresh:
            log.info(
                "feed %s is back in the watchlists after %.1f days away: its next poll is"
                " history (not alerted), as a new feed's first poll is",
                safe_url(url),
                away.total_seconds() / 86400,
            )

    def due_feeds(self, now: datetime) -> list[Feed]:
        """Feeds whose next poll time has come."""
        states = {s.url: s for s in self.health.after_clock_step(self.store.feed_states(), now)}
        return [
            f
            for f in self.watchlist.feeds
            if f.url not in states or states[f.url].next_poll_at <= now
        ]

    async def poll(self, feeds: Sequence[Feed] | None = None) -> CycleReport:
        """Poll the given feeds (default: the due ones); one failing feed stops none.

        Feeds are fetched concurrently; their new articles are then processed together in
        publication order, so the earliest copy of a story leads its alert and an actor's
        statements enter the history in the order they were made.
        """
        report = CycleReport()
        await self.database.check_file(self.notify_admins)
        self.health.start_pass()
        try:
            await self._writes_taken()
            await self._poll(feeds, report)
        except sqlite3.DatabaseError as exc:
            if not database_failed(exc):
                raise
            report.store_error = await self.database.failed(exc, self.notify_admins)
        else:
            await self.database.healed(self.notify_admins)
        self.health.failure_log.say_pass()
        await self.health.send_notices(self.notify_admins)
        return report

    async def _writes_taken(self) -> None:
        """Return once the database takes writes; raise as a write would while another
        program holds the lock past the busy timeout, having waited off the event loop."""
        if self.write_gate is not None:
            await self.write_gate.wait()

    async def _poll(self, feeds: Sequence[Feed] | None, report: CycleReport) -> None:
        now = self.clock()
        self._sync_feeds(now)
        todo = list(feeds) if feeds is not None else self.due_feeds(now)
        fetched = await asyncio.gather(*(self._fetch_feed(feed, report) for feed in todo))
        batches = [b for b in fetched if b is not None and b.result.status != "error"]
        unreached = [b for b in fetched if b is not None and b.result.status == "error"]
        self._judge_unreached(unreached, answered=len(unreached) < len(todo), report=report)
        async with self._write_lock:
            # Asked again: the fetches took seconds, in which another program may have
            # taken the lock.
            await self._writes_taken()
            readings = await self._ingest(batches, report)
            # Validators are saved only after the articles are: a crash in between means
            # the feed is fetched again in full, never that its items are skipped.
            listed = {feed.url: feed for feed in self.watchlist.feeds}
            for batch in batches:
                feed = listed.get(batch.feed.url, batch.feed)  # see `_as_listed`
                self.health.record_ok(feed, batch.result, self.clock(), bool(batch.articles))
                self.health.record_recovery(feed, batch.state)
            if self.english_only_model:  # otherwise nothing was read (`_analyse`)
                self.health.record_languages(
                    [(batch.feed, readings.get(batch.feed.url, [])) for batch in batches]
                )

    async def _fetch_feed(self, feed: Feed, report: CycleReport) -> _Fetched | None:
        state = self.store.feed_state(feed.url)
        result = await self.fetcher.fetch(
            feed.url,
            etag=state.etag if state else None,
            last_modified=state.last_modified if state else None,
        )
        report.feeds_polled += 1
        now = self.clock()
        if result.status == "not_modified":
            report.not_modified += 1
            return _Fetched(feed, state, result, [])
        if result.status == "error" and result.unreachable:
            # Judged with the whole pass (`_judge_unreached`): the network may be down.
            return _Fetched(feed, state, result, [])
        if result.status == "error":
            self._fetch_failed(feed, result.error or "fetch failed", result, now, report)
            return None
        try:
            articles = await asyncio.to_thread(
                parse_feed, result.body, feed, now, result.content_type, result.final_url
            )
        except FeedParseError as exc:
            self._fetch_failed(feed, str(exc), result, now, report)
            return None
        if result.moved_permanently and feed.url not in self._told_moved:
            # It keeps working through the redirect, but costs a request per poll and breaks
            # the day the old address goes: the admin should know, once per run.
            self._told_moved.add(feed.url)
            log.warning(
                "feed %s has moved permanently to %s: put the new URL in the watchlist",
                safe_url(feed.url),
                safe_url(result.final_url or ""),
            )
        guids = [a.id for a in articles if a.id.startswith("guid:")]
        articles = own_ids(feed.url, articles, self.store.article_origins(guids))
        if feed.full_text:
            articles = await self._with_full_text(feed, articles)
        return _Fetched(feed, state, result, articles)

    def _judge_unreached(
        self, unreached: Sequence[_Fetched], *, answered: bool, report: CycleReport
    ) -> None:
        """Count the feeds no connection reached as failures, unless this machine is offline
        (bot/feeds/outage.py): then they are retried at their interval, uncounted."""
        now = self.clock()
        if self._outage.is_outage(unreached, answered=answered, now=now):
            report.failures += len(unreached)
            report.errors.extend(f"{safe_url(b.feed.url)}: unreachable" for b in unreached)
            return
        for batch in unreached:
            error = batch.result.error or "fetch failed"
            self._fetch_failed(batch.feed, error, batch.result, now, report)

    async def _with_full_text(self, feed: Feed, articles: list[Article]) -> list[Article]:
        """Replace new articles' feed summaries with the main text of their pages.

        Only new articles are fetched (a page is read once); a page that fails or yields
        less text than the feed keeps the feed's text, so nothing is lost. Pages on private
        addresses are fetched only for a feed that is itself on one (an intranet feed).
        Pages still loading when the feed's budget is spent keep the feed's text too.
        """
        known = self.store.known_article_ids([a.id for a in articles])
        public_only = await host_is_public(feed.url, self.fetcher.is_public) is not False

        async def one(article: Article) -> Article:
            if article.id in known or not article.url.startswith(("http://", "https://")):
                return article
            page = await self.fetcher.fetch_page(article.url, public_only=public_only)
            if page.status != "ok":
                log.info("full text of %s not fetched: %s", article.url, page.error)
                return article
            # Raw bytes: the page's own charset is read there (not every site is UTF-8).
            text = await asyncio.to_thread(extract_main_text, page.body, article.url)
            return (
                replace(article, text=text) if text and len(text) > len(article.text) else (article)
            )

        tasks = [asyncio.ensure_future(one(article)) for article in articles]
        if not tasks:
            return []
        # The whole pass waits for its pages: a slow article host must not hold up every
        # feed's alerts for its read timeout per page.
        budget = self.full_text_budget_s
        if budget is None:
            budget = FULL_TEXT_BUDGET_READS * self.fetcher.read_timeout_s
        done, late = await asyncio.wait(tasks, timeout=budget)
        for task in late:
            task.cancel()
        # Their connections are closed before the pass goes on, not at some later tick.
        await asyncio.gather(*late, return_exceptions=True)
        if late:
            log.warning(
                "full text of %d articles of %s not read within %.0f s: their feed text is kept",
                len(late),
                feed_label(feed),
                budget,
            )
        return [
            task.result() if task in done else article
            for task, article in zip(tasks, articles, strict=True)
        ]

    def _fetch_failed(
        self, feed: Feed, error: str, result: FetchResult, now: datetime, report: CycleReport
    ) -> None:
        # Errors quote URLs (aiohttp's messages do), and feed URLs may carry a token or a
        # password: everything below reaches logs, the database and admins.
        error = redact_urls(error)
        report.failures += 1
        report.errors.append(f"{safe_url(feed.url)}: {error}")
        self.health.record_failure(self._as_listed(feed), error, result, now)

    def _as_listed(self, feed: Feed) -> Feed:
        """The feed as the watchlist in use lists it now (itself once it left the list).

        An interval fixed while the feed was being polled (a mistyped `1d` made `1m`) then
        sets its next poll or retry, not the interval the poll began with: a day away.
        """
        return next((f for f in self.watchlist.feeds if f.url == feed.url), feed)

    async def _ingest(
        self, batches: Sequence[_Fetched], report: CycleReport
    ) -> dict[str, list[Language]]:
        """Store, match and alert the new articles; return what each feed's new items read as."""
        first_poll: dict[str, bool] = {}
        readings: dict[str, list[Language]] = {}
        fresh: dict[str, Article] = {}
        # Guids claimed by this cycle's new articles: two feeds first seen in the same cycle
        # can number their items alike too (stored ones were resolved in `_fetch_feed`).
        claimed: dict[str, tuple[str, str]] = {}
        listed_at: dict[str, int] = {}  # each new article's place in its feed, top first
        revised: dict[str, tuple[Revision, bool]] = {}  # stored articles back with new text
        for batch in batches:
            first = batch.state is None or batch.state.first_polled_at is None
            articles = own_ids(batch.feed.url, batch.articles, claimed)
            if not first:
                articles = self._news_here(batch.feed.url, articles, fresh, first_poll)
            known = self.store.known_article_ids([a.id for a in articles])
            for place, article in enumerate(articles):
                if article.id not in known and article.id not in fresh:
                    fresh[article.id] = article
                    listed_at[article.id] = place
                    claimed[article.id] = (article.feed_url, canonical_url(article.url))
                    first_poll[article.id] = first
            for revision in await self._revisions_in(batch.feed, articles, known):
                revised[revision.article.id] = (revision, first)
        report.new_articles += len(fresh)
        # Feeds list their items newest first: of items dated alike (undated ones are all
        # dated when read, and some feeds date by the day), the one listed lower was written
        # first. In the order of their ids, an actor's older stance could become its current
        # one, and a restatement of its latest then read as a shift.
        ordered = sorted(fresh.values(), key=lambda a: (a.published, -listed_at[a.id], a.id))
        # The story window is read once for the whole poll, not once per matched article.
        stories = RecentStories.read(self.store, self.clock()) if ordered else None
        for start in range(0, len(ordered), EMBED_CHUNK):
            chunk = ordered[start : start + EMBED_CHUNK]
            # One model call for the passages of many articles keeps batches full; the
            # per-article analysis below then finds every vector in the embedder's cache.
            # A re-issue of a stored page is never embedded (`_analyse` skips it too).
            readable = [a for a in chunk if not self._republished(self.store, a, first_poll[a.id])]
            await self._on_model_thread(self.matcher.embed_many, readable)
            for article in chunk:
                # Embedding and stance analysis are CPU work: off the event loop.
                item = await self._on_model_thread(self._analyse, article, first_poll[article.id])
                assert stories is not None
                self._record(item, first_poll[article.id], report, stories)
                readings.setdefault(article.feed_url, []).append(item.language)
        for revision, first in revised.values():
            await self._revise(revision, first, report)
        return readings

    async def _revisions_in(
        self, feed: Feed, articles: Sequence[Article], known: Collection[str]
    ) -> list[Revision]:
        """The feed's stored articles that come back changed in substance (a live page's
        update), unless too old to be news (a feed rewording its archive is no update)."""
        if feed.full_text:
            # The stored text is the page's, the listed one the feed's summary: they always
            # differ, and reading an update would take fetching the page at every poll.
            return []
        now = self.clock()
        listed = [a for a in articles if a.id in known and not self.too_old(a, now)]
        changed = changed_since_stored(self.store, listed, now)
        if not changed:
            return []
        # Sentence splitting off the event loop: the store is written and read on it alone.
        return keep_fingerprints(self.store, await asyncio.to_thread(compare_versions, changed))

    async def _revise(self, revision: Revision, first_poll: bool, report: CycleReport) -> None:
        """Read a live page's update and store it; alert a shift it brings, or a topic it
        makes the page match, as news of its own. A restatement or the same topics again
        is stored silently, and so is all of it at a feed's first poll (history)."""
        in_use = self._in_use  # read once: a reload may swap it meanwhile
        reading = await self._on_model_thread(
            read_revision, revision, in_use.matcher, in_use.stances, self.reader
        )
        now = self.clock()
        article = revision.article
        shown = list({s.topic_id: s for s in reading.shift_topics + reading.new_topics}.values())
        news = bool(shown) and not first_poll
        story_id = new_story_id(f"{article.id}@{article.fetched.isoformat()}") if news else None
        with self.store.transaction():
            store_revision(self.store, reading, now, story_id)
            if story_id is None or reading.vectors is None:
                return
            # Its own story, as any article that shifts a position has (`_record`): the
            # page's first alert told other news.
            update = revision.update()
            item = _Analysed(update, reading.vectors, reading.scores, [], reading.stances, in_use)
            key = title_key(article.title)
            self.store.add_story(story_id, update, key, reading.vectors.story_vector, now)
            topic_ids = [m.topic_id for m in shown]
            keys = [d.key for d in destinations_for(topic_ids, in_use.watchlist, self.enabled)]
            self.store.save_alert(self._build_alert(story_id, item, shown), article.id, keys, now)
            self.store.mark_story_alerted(story_id)
            report.alerts += 1

    def _news_here(
        self,
        feed_url: str,
        articles: Sequence[Article],
        fresh: Mapping[str, Article],
        first_poll: Mapping[str, bool],
    ) -> list[Article]:
        """The articles of a feed past its first poll, each one that another listed feed
        holds only as first-poll history given an id of this feed's own.

        A site's section feed added beside its main feed carries the main feed's items under
        the same guid and link. Kept under one id, an item the section's first poll stored
        as history was never news again, though it was new in the main feed: its own copy
        is now read and alerted like any later copy of a history story.
        """
        listed = {feed.url for feed in self.watchlist.feeds}
        held = self.store.first_poll_feeds([a.id for a in articles])
        # Items this pass's first polls have claimed are not stored yet.
        held.update((a.id, fresh[a.id].feed_url) for a in articles if first_poll.get(a.id))
        owned: list[Article] = []
        for article in articles:
            holder = held.get(article.id)
            if holder is not None and holder != feed_url and holder in listed:
                article = replace(article, id=feed_scoped_id(feed_url, article.id))
            owned.append(article)
        return owned

    def _republished(self, store: Store, article: Article, first_poll: bool) -> bool:
        """True when this page is already stored (under another guid or date) and is not
        news for this feed (`_history_elsewhere`); `store`: the connection of the calling
        thread (`store` on the event loop, `reader` on the model thread)."""
        canonical = canonical_url(article.url)
        # An entry without a link has no URL to compare: it is judged on its own.
        previous = store.article_by_canonical_url(canonical) if canonical else None
        return previous is not None and not self._history_elsewhere(
            store, previous, article, first_poll
        )

    def _history_elsewhere(
        self, store: Store, stored: StoredArticle, article: Article, first_poll: bool
    ) -> bool:
        """True when the stored copy of this page is another listed feed's first-poll history,
        never alerted, and this feed, past its first poll, brings the page as news."""
        if first_poll or not stored.first_poll or stored.article.feed_url == article.feed_url:
            return False
        if stored.article.feed_url not in {feed.url for feed in self.watchlist.feeds}:
            return False  # a feed that moved to this URL: its history stays history
        story = store.story(stored.story_id) if stored.story_id else None
        return story is None or not story.alerted

    def _analyse(self, article: Article, first_poll: bool) -> _Analysed:
        # A few regular expressions over the article's start (bot/language.py), no model:
        # only asked while the model reads English only, where the answer matters.
        language = (
            read_language(f"{article.title}\n\n{article.text}")
            if self.english_only_model
            else Language.UNKNOWN
        )
        in_use = self._in_use  # read once: a reload may swap it while this thread reads
        if self._republished(self.reader, article, first_poll):
            # Same page under a new guid or date: nothing new to read.
            return _Analysed(article, None, [], [], [], in_use, language)
        vectors = in_use.matcher.embed(article)
        scores = in_use.matcher.score(article, vectors)
        matched = [s.topic_id for s in scores if s.matched]
        statements: list[Statement] = []
        stances: list[StanceLine] = []
        if matched and in_use.stances is not None:
            statements, stances = in_use.stances.analyse(article, matched)
        return _Analysed(article, vectors, scores, statements, stances, in_use, language)

    def _record(
        self, item: _Analysed, first_poll: bool, report: CycleReport, stories: RecentStories
    ) -> None:
        """Store one article and, in the same transaction, its alert and outbox rows.

        `stories` is this poll's story window: it learns the stories this article opens or
        touches (should the transaction fail, the poll ends and the window is read again).
        """
        now = self.clock()
        article = item.article
        canonical = canonical_url(article.url)
        matched = [s for s in item.scores if s.matched]
        if matched:
            report.matched += 1
        with self.store.transaction():
            previous = self.store.article_by_canonical_url(canonical) if canonical else None
            late = previous is not None and self._history_elsewhere(
                self.store, previous, article, first_poll
            )
            if (previous is not None and not late) or item.vectors is None:
                story_id = previous.story_id if previous else None
                self.store.add_article(article, canonical, story_id, None, first_poll)
                return
            key = title_key(article.title)
            vector = item.vectors.story_vector
            # An actor's reversal reads like the article that gave its earlier stance (same
            # actor, topic and words), so it would join that story and be folded in as
            # "also reported by", hiding the shift: an article that shifts a position is
            # news of its own and starts its own story.
            shifted = any(line.is_shift for line in item.stances)
            if late and previous is not None and previous.story_id:
                found: str | None = previous.story_id  # the history copy's story
            elif matched and not shifted:
                found = self._story_to_join(stories, key, vector, now, item)
            else:
                found = None
            story = self.store.story(found) if found is not None else None
            story_id = story.id if story else new_story_id(article.id)
            self.store.add_article(article, canonical, story_id, vector, first_poll)
            self.store.add_matches(
                article.id,
                [
                    MatchRow(s.topic_id, s.score, s.passage, s.matched)
                    for s in self.matcher.evidence(item.scores)
                ],
            )
            if not late:  # the history copy of this page gave its statements already
                self.store.add_statements(item.statements)
            if not matched:
                return
            if story is None:
                self.store.add_story(story_id, article, key, vector, now)
                stories.add(story_id, key, vector, now)
            else:
                self.store.touch_story(story_id, now)
                stories.touch(story_id, now)
            if story is not None and story.alerted:
                self._fold(story_id, article, now, report)
            elif story is not None and self.reissue_of_history(story_id, article):
                return  # the feed's own first-poll item under a new id or date: not news
            elif not first_poll and not self.too_old(article, now):
                alert = self._build_alert(story_id, item, matched)
                topic_ids = [m.topic_id for m in matched]
                routes = item.in_use.watchlist
                keys = [d.key for d in destinations_for(topic_ids, routes, self.enabled)]
                self.store.save_alert(alert, article.id, keys, now)
                self.store.mark_story_alerted(story_id)
                report.alerts += 1

    def _story_to_join(
        self,
        stories: RecentStories,
        key: str,
        vector: np.ndarray | None,
        now: datetime,
        item: _Analysed,
    ) -> str | None:
        """The recent story this article is a copy or update of, or None for news of its own.

        First the stories it looks like (same headline, or close title+lead vectors); then,
        closer to the bar, those with a copy that gives the same actor's same position on
        the same topic, which is what a rewrite keeps when its words drift.
        """
        close = stories.candidates(key, vector, now)
        found = self._first_copy_of(close, item.article, item.in_use)
        if found is not None or not item.statements:
            return found
        nearer = stories.candidates(key, vector, now, floor=STORY_RULES.same_stance_cosine)
        return self._first_copy_of(
            [story_id for story_id in nearer if story_id not in close],
            item.article,
            item.in_use,
            stances=item.statements,
        )

    def _first_copy_of(
        self,
        candidates: Sequence[str],
        article: Article,
        in_use: _InUse,
        stances: Sequence[Statement] | None = None,
    ) -> str | None:
        """The first candidate story that this article is a copy or update of.

        Headline words and vectors cannot tell "Germany pledges air defence" from "Norway
        pledges air defence", nor an outlet's follow-up from its update: a candidate whose
        copies all name someone else, or whose copy from this outlet shares next to none of
        this text, is other news (bot/story_checks.py), and the next candidate is tried.
        With `stances`, a candidate counts only when one of its copies gives one of them.
        Only a story's latest STORY_COPIES_COMPARED copies are read: a live page's are many.
        """
        names = NameCheck(index_for(in_use.watchlist.actors))
        key = title_key(article.title)
        for story_id in candidates:
            stored_copies = self.store.story_articles(story_id, latest=STORY_COPIES_COMPARED)
            copies = [stored.article for stored in stored_copies]
            if stances is not None and not any(
                same_stance(stances, self.store.article_statements(copy.id)) for copy in copies
            ):
                continue
            if not copies:
                return story_id  # nothing stored to compare with: trust the match
            own_page = [c for c in copies if c.feed_url == article.feed_url]
            if any(live_page(c) and live_page(article) for c in own_page):
                return story_id  # the outlet's live page again, whatever its update names
            if all(names.different_news(article, copy) for copy in copies):
                continue
            headline = any(same_headline(key, title_key(c.title)) for c in own_page)
            if outlet_follow_up(article, own_page, same_headline=headline):
                continue
            return story_id
        return None

    def reissue_of_history(self, story_id: str, article: Article) -> bool:
        """True when this feed stored the story at its first poll (history, never alerted).

        A copy from another outlet is news and alerts; the same feed's item again, under a
        new guid or date (or, with neither guid nor link, a new date), is the history item
        itself: had it been alerted, this copy would fold into it and post nothing.
        """
        # Asked of the database, not read from the story's copies: the first-poll copy is
        # the story's oldest, and a live page adds copies for as long as it runs.
        return self.store.story_has_history_from(story_id, article.feed_url, article.id)

    def too_old(self, article: Article, now: datetime) -> bool:
        """True when the article is dated too far back to be alerted (MAX_ALERT_AGE)."""
        limit = self.max_alert_age
        return limit is not None and article.published < now - limit

    def _fold(self, story_id: str, article: Article, now: datetime, report: CycleReport) -> None:
        """A later copy of an alerted story: add it to "also reported by" and queue edits."""
        alert = self.store.alert(story_id)
        if alert is None:
            return
        sources = {alert.source, *(source for source, _ in alert.also_reported_by)}
        if article.source in sources:
            return  # the same outlet again (a re-issue): nothing new to tell readers
        updated = replace(
            alert, also_reported_by=(*alert.also_reported_by, (article.source, article.url))
        )
        self.store.update_alert(updated, now)
        report.folded += 1

    def _build_alert(self, story_id: str, item: _Analysed, matched: list[TopicScore]) -> Alert:
        article = item.article
        assert item.vectors is not None
        names = {t.id: t.name for t in item.in_use.watchlist.topics}
        sentences = (
            list(item.vectors.passages[1:]) if article.title else list(item.vectors.passages)
        )
        relevance = item.in_use.matcher.relevance(item.vectors, [m.topic_id for m in matched])
        offset = len(item.vectors.passages) - len(sentences)
        summary = summarize(sentences, list(relevance[offset:]), article.title)
        return Alert(
            id=story_id,
            title=article.title or article.url,
            url=article.url,
            source=article.source,
            published=article.published,
            topics=tuple(
                TopicLine(m.topic_id, names.get(m.topic_id, m.topic_id), m.score, m.passage)
                for m in matched
            ),
            summary=summary,
            stances=tuple(item.stances),
        )
