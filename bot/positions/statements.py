"""Turn an article's assigned actor sentences into statements: one per actor and topic."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime

from bot.models import Statement, Topic
from bot.positions.assign import Assignment, best_per_actor
from bot.positions.extract import ActorSentence

AssignFn = Callable[[Topic, Sequence[ActorSentence]], list[Assignment]]


def topic_statements(
    assign: AssignFn,
    topic: Topic,
    sentences: Sequence[ActorSentence],
    *,
    article_id: str,
    source: str,
    url: str,
    published: datetime | None,
) -> list[Statement]:
    """Each actor's position on the topic in this article (agreeing sentences combined).

    The service and `stancewatch eval` both call this, so the figures eval reports are
    those of the code that runs.
    """
    return [
        Statement(
            actor_id=item.sentence.actor_id,
            topic_id=topic.id,
            position_id=item.position_id,
            quote=item.sentence.sentence,
            confidence=item.confidence,
            reported_by=item.sentence.reported_by,
            article_id=article_id,
            source=source,
            published=published,
            url=url,
            clear=item.clear,
            doubt=item.doubt,
        )
        for item in best_per_actor(assign(topic, sentences))
        if item.position_id is not None
    ]
