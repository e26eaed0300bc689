"""SIGKILL mid-delivery, restart: every alert arrives, at most one twice, nothing pending."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.reliability.helpers import (
    FakeWebhook,
    FeedServer,
    after_first_poll,
    kill,
    query,
    run,
    serving,
    start,
)

pytestmark = pytest.mark.slow


def test_sigkill_during_delivery_then_restart_delivers_each_alert_once(tmp_path: Path) -> None:
    with serving(FeedServer()) as feeds, serving(FakeWebhook(delay_s=0.3)) as hook:
        service = after_first_poll(tmp_path, feeds, hook)
        db, args = service.db, ("run", "--once", *service.paths)
        service.publish_new_items(feeds)
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
