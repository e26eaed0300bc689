"""The hourly cap's setting and its pure rules: who is capped, what is held, how a digest
is cut into parts."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.app import build_app
from bot.delivery.digest import build_digest, followed_items, paginate, should_hold
from bot.matching.hashing import HashingEmbedder
from bot.models import Destination, DestinationKind, StanceLine, Watchlist
from bot.routing import CONSOLE
from bot.settings import Settings, SettingsError, load_settings
from tests.conftest import make_alert

NOW = datetime(2026, 3, 1, 12, tzinfo=UTC)
CHANNEL = Destination(DestinationKind.DISCORD_CHANNEL, "700000000000000001")


def test_the_cap_is_read_from_the_environment_and_zero_turns_it_off() -> None:
    assert load_settings({}).max_alerts_per_hour == 10
    assert load_settings({"STANCEWATCH_MAX_ALERTS_PER_HOUR": "0"}).max_alerts_per_hour == 0
    assert load_settings({"STANCEWATCH_MAX_ALERTS_PER_HOUR": "25"}).max_alerts_per_hour == 25
    with pytest.raises(SettingsError, match="STANCEWATCH_MAX_ALERTS_PER_HOUR: must be between"):
        load_settings({"STANCEWATCH_MAX_ALERTS_PER_HOUR": "-3"})


def test_the_service_outbox_takes_the_cap_from_the_settings() -> None:
    settings = Settings(db_path=Path(":memory:"), max_alerts_per_hour=3)
    app = build_app(settings, Watchlist(), embedder=HashingEmbedder(), deliveries=[])
    try:
        assert app.outbox.max_alerts_per_hour == 3
    finally:
        app.store.close()


def test_what_is_held() -> None:
    plain = make_alert("a", NOW)
    shift = StanceLine("Russia", "Guarantees", "demands a veto", "…", before_label="accepts")
    shifted = replace(make_alert("b", NOW), stances=(shift,))
    assert should_hold(CHANNEL, plain, cap=10, attempts=0, sent_last_hour=10)
    assert not should_hold(CHANNEL, plain, cap=10, attempts=0, sent_last_hour=9)
    assert not should_hold(CHANNEL, shifted, cap=10, attempts=0, sent_last_hour=50)
    assert not should_hold(CHANNEL, plain, cap=10, attempts=1, sent_last_hour=50)  # tried once
    assert not should_hold(CHANNEL, plain, cap=0, attempts=0, sent_last_hour=50)
    assert not should_hold(CONSOLE, plain, cap=10, attempts=0, sent_last_hour=50)


def test_parts_keep_every_item_in_order_and_ping_once() -> None:
    digest = build_digest([make_alert(f"s{n}", NOW) for n in range(7)], cap=10)
    digest = replace(digest, mentions=("U1",))
    parts = paginate(digest, lambda item: 40, budget=100, max_items=50)
    assert [len(p.items) for p in parts] == [2, 2, 2, 1]
    assert [i.alert_id for p in parts for i in p.items] == [f"s{n}" for n in range(7)]
    assert [(p.part, p.parts) for p in parts] == [(1, 4), (2, 4), (3, 4), (4, 4)]
    assert [p.mentions for p in parts] == [("U1",), (), (), ()]
    assert parts[0].mention_topics == ("security-guarantees",) and parts[1].mention_topics == ()
    one_big = paginate(digest, lambda item: 500, budget=100, max_items=50)
    assert len(one_big) == 7  # an item never waits for room that cannot come
    assert followed_items(digest, {"arms-shipments"}) is None
