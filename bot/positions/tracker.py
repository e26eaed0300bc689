"""Glue between the pipeline and the positions history: statements in, stance lines out."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import TYPE_CHECKING

from bot.matching.embedder import Embedder
from bot.models import Article, Shift, StanceLine, Statement, Topic, Watchlist
from bot.positions import THRESHOLDS
from bot.store.protocol import Store
from bot.text import without_unpaired_quotes

if TYPE_CHECKING:
    from bot.positions.shifts import Change


class PositionTracker:
    """Finds actor statements on matched topics and compares them with each actor's history."""

    def __init__(self, watchlist: Watchlist, embedder: Embedder, store: Store) -> None:
        # Imported here: a watchlist without positions never loads the positions stage.
        from bot.positions.assign import PositionAssigner

        self.watchlist = watchlist
        self.store = store
        self.assigner = PositionAssigner([t for t in watchlist.topics if t.positions], embedder)

    def analyse(
        self, article: Article, topic_ids: Sequence[str]
    ) -> tuple[list[Statement], list[StanceLine]]:
        """Statements to store (one per actor and topic), and the alert's stance lines."""
        from bot.positions.extract import actor_sentences
        from bot.positions.shifts import judge_change
        from bot.positions.statements import topic_statements

        topics = [t for t in (self.watchlist.topic(i) for i in topic_ids) if t and t.positions]
        if not topics:
            return [], []
        sentences = actor_sentences(article.text, self.watchlist.actors, headline=article.title)
        statements: list[Statement] = []
        lines: list[StanceLine] = []
        for topic in topics:
            found = topic_statements(
                self.assigner.assign,
                topic,
                sentences,
                article_id=article.id,
                source=article.source,
                url=article.url,
                # A feed may date an item up to a day ahead (a publisher's clock or time
                # zone). Kept, such a date outranked every later statement as the actor's
                # current position until the real time caught up, so the next reversal read
                # as an old article and was never reported: a stance dates from no later
                # than when we read it.
                published=min(article.published, article.fetched),
            )
            for statement in found:
                # Only the current position matters to a shift: read that one statement,
                # not the pair's whole history (which grows every day the service runs).
                current = self.store.current_statement(
                    topic.id, statement.actor_id, THRESHOLDS.statement_min
                )
                change = judge_change(topic, [current] if current else [], statement)
                lines.append(self._line(topic, statement, change.shift))
                statements.append(
                    replace(statement, shift_note=shift_note(topic, statement, change))
                )
        return statements, lines

    def _line(self, topic: Topic, now: Statement, shift: Shift | None) -> StanceLine:
        actor = self.watchlist.actor(now.actor_id)
        reporter = self.watchlist.actor(now.reported_by) if now.reported_by else None
        position = topic.position(now.position_id or "")
        before = shift.before if shift else None
        before_position = topic.position(before.position_id or "") if before else None
        return StanceLine(
            actor_name=actor.name if actor else now.actor_id,
            topic_name=topic.name,
            now_label=position.label if position else (now.position_id or ""),
            # The quote is a clause, maybe half a quotation: no stray marks in the card.
            now_quote=without_unpaired_quotes(now.quote),
            before_label=before_position.label if before_position else None,
            before_source=before.source if before else None,
            before_date=before.published if before else None,
            reported_by=reporter.name if reporter else None,
            before_url=(before.url or None) if before else None,
        )


def build_stance_tracker(
    watchlist: Watchlist, embedder: Embedder, store: Store
) -> PositionTracker | None:
    """A tracker when any topic declares positions, else None (alerts carry no stances)."""
    if not any(t.positions for t in watchlist.topics):
        return None
    return PositionTracker(watchlist, embedder, store)


def shift_note(topic: Topic, statement: Statement, change: Change) -> str:
    """What `/why` says of a statement: a shift, or why it was none."""
    before = change.before
    if change.verdict == "first" or before is None:
        return "its first recorded position on this topic"
    if change.verdict == "older":
        return "dated before its current position: history, not a change"
    if change.verdict == "same":
        return "restates its current position"
    position = topic.position(before.position_id or "")
    was = f"“{position.label if position else before.position_id}”"
    if change.verdict == "shift":
        when = f", {before.published:%d %b}" if before.published else ""
        return f"a shift from {was} ({before.source}{when})"
    if change.verdict == "not-listed":
        return f"a change from {was}, not one of the topic's listed reversals"
    if change.verdict == "unclear":
        return f"a change from {was}, not reported as a shift: {statement.doubt}"
    return (
        f"a change from {was}, not reported as a shift: confidence"
        f" {statement.confidence:.2f}, under the {change.bar:.2f} a change needs"
    )
