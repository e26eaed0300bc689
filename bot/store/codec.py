"""Alerts to JSON and back, for the outbox and the alert history."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from bot.models import Alert, StanceLine, TopicLine


def _date(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def alert_to_json(alert: Alert) -> str:
    """Serialise an alert (mentions are per destination and are not stored)."""
    data: dict[str, Any] = {
        "id": alert.id,
        "title": alert.title,
        "url": alert.url,
        "source": alert.source,
        "published": alert.published.isoformat(),
        "summary": alert.summary,
        "topics": [vars(t) for t in alert.topics],
        "stances": [
            {**vars(s), "before_date": s.before_date.isoformat() if s.before_date else None}
            for s in alert.stances
        ],
        "also_reported_by": [list(pair) for pair in alert.also_reported_by],
    }
    return json.dumps(data, ensure_ascii=False)


def alert_from_json(text: str) -> Alert:
    """Rebuild an alert written by `alert_to_json`."""
    data = json.loads(text)
    return Alert(
        id=data["id"],
        title=data["title"],
        url=data["url"],
        source=data["source"],
        published=datetime.fromisoformat(data["published"]),
        summary=data["summary"],
        topics=tuple(TopicLine(**t) for t in data["topics"]),
        stances=tuple(
            StanceLine(**{**s, "before_date": _date(s.get("before_date"))}) for s in data["stances"]
        ),
        also_reported_by=tuple((a, b) for a, b in data["also_reported_by"]),
    )
