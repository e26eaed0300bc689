"""Glue between the pipeline and the positions history: statements in, stance lines out."""

from __future__ import annotations

from collections.abc import Sequence

from bot.matching.embedder import Embedder
from bot.models import Article, StanceLine, Statement, Watchlist
from bot.store.sqlite import SQLiteStore


class PositionTracker:
    """Finds actor statements on matched topics and compares them with each actor's history."""

    def __init__(self, watchlist: Watchlist, embedder: Embedder, store: SQLiteStore) -> None:
        self.watchlist = watchlist
        self.store = store
        from bot.positions.assign import PositionAssigner

        self.assigner = PositionAssigner([t for t in watchlist.topics if t.positions], embedder)

    def analyse(
        self, article: Article, topic_ids: Sequence[str]
    ) -> tuple[list[Statement], list[StanceLine]]:
        """Statements to store, and one line per actor and topic for the alert."""
        topics = [t for t in (self.watchlist.topic(i) for i in topic_ids) if t and t.positions]
        if not topics:
            return [], []
        from bot.positions.extract import actor_sentences
        from bot.positions.shifts import detect_shift

        sentences = actor_sentences(f"{article.title}\n\n{article.text}", self.watchlist.actors)
        statements: list[Statement] = []
        lines: list[StanceLine] = []
        for topic in topics:
            best: dict[str, Statement] = {}
            for sentence, position_id, confidence in self.assigner.assign(topic, sentences):
                if position_id is None:
                    continue
                statement = Statement(
                    actor_id=sentence.actor_id,
                    topic_id=topic.id,
                    position_id=position_id,
                    quote=sentence.sentence,
                    confidence=confidence,
                    reported_by=sentence.reported_by,
                    article_id=article.id,
                    source=article.source,
                    published=article.published,
                    url=article.url,
                )
                statements.append(statement)
                held = best.get(statement.actor_id)
                if held is None or statement.confidence > held.confidence:
                    best[statement.actor_id] = statement
            for actor_id, statement in best.items():
                history = self.store.statements(topic.id, actor_id)
                lines.append(
                    self._line(topic.id, statement, detect_shift(topic, history, statement))
                )
        return statements, lines

    def _line(self, topic_id: str, now: Statement, shift: object) -> StanceLine:
        topic = self.watchlist.topic(topic_id)
        assert topic is not None
        actor = self.watchlist.actor(now.actor_id)
        reporter = self.watchlist.actor(now.reported_by) if now.reported_by else None
        position = topic.position(now.position_id or "")
        before = getattr(shift, "before", None)
        before_position = topic.position(before.position_id or "") if before else None
        return StanceLine(
            actor_name=actor.name if actor else now.actor_id,
            topic_name=topic.name,
            now_label=position.label if position else (now.position_id or ""),
            now_quote=now.quote,
            before_label=before_position.label if before_position else None,
            before_source=before.source if before else None,
            before_date=before.published if before else None,
            reported_by=reporter.name if reporter else None,
        )


def build_stance_tracker(
    watchlist: Watchlist, embedder: Embedder, store: SQLiteStore
) -> PositionTracker | None:
    """A tracker when any topic declares positions, else None (alerts carry no stances)."""
    if not any(t.positions for t in watchlist.topics):
        return None
    return PositionTracker(watchlist, embedder, store)
