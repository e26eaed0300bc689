"""The bench on tiny sizes: every figure is there, and an unchanged pass embeds nothing."""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.bench import Bench, measure, shipped_watchlist, table_rows
from bot.delivery.digest import build_digest
from bot.delivery.slack.render import render_alert, render_digest
from bot.matching.hashing import HashingEmbedder
from bot.settings import Settings
from bot.soak import FakeWebhook, _tally
from bot.store.sqlite import SQLiteStore
from tests.conftest import make_alert

KEYS = {
    "feeds",
    "items_per_feed",
    "articles",
    "startup_s",
    "model_load_s",
    "floor_s",
    "floor_texts",
    "floor_texts_per_s",
    "first_pass",
    "first_pass_ratio_to_floor",
    "second_pass",
    "second_pass_share_of_first",
    "articles_per_s",
    "alert_latency_s",
    "scaling",
    "unchanged",
    "per_host_limit",
    "peak_rss_mb",
    "pipeline_peak_rss_mb",
    "total_s",
}
PASS_KEYS = {
    "seconds",
    "new_articles",
    "matched",
    "alerts",
    "failures",
    "texts_encoded",
    "http_200",
    "http_304",
    "max_concurrent_requests",
}


@pytest.mark.asyncio
async def test_bench_tiny_run_has_every_figure_and_second_pass_embeds_nothing(tmp_path):
    bench = Bench(
        feeds=3,
        items=3,
        scaling_sizes=(),
        unchanged_feeds=5,
        make_embedder=HashingEmbedder,
        base=shipped_watchlist(),
        settings=Settings(db_path=tmp_path / "unused.db"),
    )
    figures = json.loads(json.dumps(await measure(bench)))

    assert figures.keys() >= KEYS
    assert figures["first_pass"].keys() >= PASS_KEYS
    assert figures["articles"] == 9
    assert figures["first_pass"]["http_200"] == 3
    assert figures["first_pass"]["texts_encoded"] > 0
    # Regression guard: nothing changed, so only 304s and no embedding at all.
    second = figures["second_pass"]
    assert second["texts_encoded"] == 0
    assert second["http_304"] == 3 and second["http_200"] == 0
    assert second["new_articles"] == 0
    unchanged = figures["unchanged"]
    assert unchanged["http_304"] == 5 and unchanged["http_200"] == 0
    assert unchanged["texts_encoded"] == 0
    assert 1 <= unchanged["max_concurrent_requests"] <= figures["per_host_limit"]
    assert figures["scaling"] == []
    assert table_rows(figures)  # the table renders from the same figures


def test_the_soak_counts_an_alert_listed_in_a_digest_as_delivered(tmp_path: Path) -> None:

    now = datetime(2026, 3, 1, 12, tzinfo=UTC)
    store = SQLiteStore(tmp_path / "s.db")
    # ".../n1" is a prefix of ".../n10": a card of n10 must not count as n1 delivered.
    card, held, lost = (make_alert(f"n{n}", now) for n in (10, 1, 2))
    for alert in (card, held, lost):
        with store.transaction():
            store.save_alert(alert, alert.id, ["slack_webhook:x"], now)
    hook = FakeWebhook(random.Random(1))
    hook.accepted = [
        json.dumps(render_alert(card).payload(), ensure_ascii=False),
        json.dumps(render_digest(build_digest([held], cap=10)).payload(), ensure_ascii=False),
    ]
    figures = _tally(store.db, hook, 3, 1, 1.0)
    store.close()
    assert (figures["alerts_expected"], figures["alerts_delivered"]) == (3, 2)
    assert (figures["alerts_as_cards"], figures["alerts_in_digests"]) == (1, 1)
    assert (figures["alerts_missing"], figures["duplicates"], figures["digest_messages"]) == (
        1,
        0,
        1,
    )
