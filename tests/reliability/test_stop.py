"""SIGTERM while delivering: exit 0 within seconds, and the database agrees with the platform."""

from __future__ import annotations

import signal
import subprocess
import time
from pathlib import Path

import pytest

from tests.reliability.helpers import (
    FakeWebhook,
    FeedServer,
    after_first_poll,
    kill,
    query,
    serving,
    start,
)

pytestmark = pytest.mark.slow


def test_sigterm_mid_delivery_exits_0_quickly_with_consistent_outbox(tmp_path: Path) -> None:
    # A slow platform (1 s per post, plus Slack pacing): the queue outlasts the stop grace.
    with serving(FeedServer()) as feeds, serving(FakeWebhook(delay_s=1.0)) as hook:
        service = after_first_poll(tmp_path, feeds, hook)
        db, paths = service.db, service.paths
        # Make the feed due at once, so the service's first tick finds the new items.
        query(db, "UPDATE feeds SET next_poll_at = '2000-01-01T00:00:00+00:00'")
        service.publish_new_items(feeds)

        proc = start("run", *paths)
        try:
            assert hook.first_post.wait(120), "no delivery started"
            proc.send_signal(signal.SIGTERM)
            stopped = time.monotonic()
            try:
                _out, err = proc.communicate(timeout=30)
            except subprocess.TimeoutExpired:
                pytest.fail("service did not exit within 30 s of SIGTERM")
            took = time.monotonic() - stopped
        finally:
            kill(proc)
        time.sleep(1.5)  # let a post the service abandoned reach the fake, if any did
        accepted = list(hook.accepted)

    assert proc.returncode == 0, err[-3000:]
    assert took < 15, f"took {took:.1f} s to stop"
    assert "Traceback" not in err, err[-3000:]
    rows = query(
        db,
        "SELECT json_extract(a.payload, '$.title'), o.status FROM outbox o"
        " JOIN alerts a ON a.id = o.alert_id WHERE o.action = 'post'",
    )
    assert rows
    for title, status in rows:
        arrived = hook.count(str(title), accepted_only=True)
        assert arrived <= 1, f"{title!r} posted {arrived} times"
        if arrived:
            assert status == "sent", f"{title!r} was accepted but its row is {status}"
    assert accepted, "nothing was delivered before the stop"
