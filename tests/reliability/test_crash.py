"""SIGKILL mid-delivery, restart: every alert arrives, at most one twice, nothing pending."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import rss
from tests.reliability.helpers import (
    OFF_TOPIC,
    ON_TOPIC,
    FakeWebhook,
    FeedServer,
    Reply,
    kill,
    query,
    rss_items,
    run,
    serving,
    start,
    write_watchlist,
)

pytestmark = pytest.mark.slow


def test_sigkill_during_delivery_then_restart_delivers_each_alert_once(tmp_path: Path) -> None:
    with serving(FeedServer()) as feeds, serving(FakeWebhook(delay_s=0.3)) as hook:
        history = rss_items(OFF_TOPIC, "old")
        feeds.replies["/wire.xml"] = Reply(body=rss("Wire", history))
        folder, db = tmp_path / "watchlists", tmp_path / "sw.db"
        write_watchlist(folder, [feeds.url("/wire.xml")], hook=hook.url)
        args = ("run", "--once", "--watchlists", str(folder), "--db", str(db))

        first = run(*args)
        assert first.returncode == 0, first.stderr[-3000:]
        assert query(db, "SELECT first_polled_at FROM feeds")[0][0], "first poll not recorded"
        assert hook.received == [], "the first poll must not alert"

        feeds.replies["/wire.xml"] = Reply(body=rss("Wire", rss_items(ON_TOPIC, "new") + history))
        proc = start(*args)
        try:
            assert hook.first_post.wait(120), "no delivery started"
        finally:
            kill(proc)  # SIGKILL while the first POST is still being answered
        assert proc.returncode == -9
        alerts = query(db, "SELECT json_extract(payload, '$.title') FROM alerts")
        assert len(alerts) >= 5, alerts  # most of the eight stories alert
        assert query(db, "SELECT COUNT(*) FROM outbox WHERE status = 'pending'")[0][0] > 0

        again = run(*args)
        assert again.returncode == 0, again.stderr[-3000:]

    titles = [str(t) for (t,) in alerts]
    counts = {t: hook.count(t) for t in titles}
    assert all(n >= 1 for n in counts.values()), counts
    assert sum(n - 1 for n in counts.values()) <= 1, counts
    assert len(hook.received) == len(titles) + sum(n - 1 for n in counts.values())
    assert query(db, "SELECT COUNT(*) FROM outbox WHERE status = 'pending'")[0][0] == 0
    assert query(db, "SELECT COUNT(*) FROM outbox WHERE status = 'dead'")[0][0] == 0
