"""Replay labeled articles through extraction, assignment and shift detection; score them.

Definitions (DESIGN.md, "Evaluation data"): articles are replayed in `published` order;
positions are scored over (article id, actor, topic, position) triples, only on records
that carry a "positions" key; a shift is expected where an actor's labeled position on a
topic differs from its previous labeled one (and, when the topic lists `reversals`, is one
of them); a detected shift is a true positive when an expected shift exists for the same
article, actor and topic with the same new position.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from bot.evaluation import Counts, measured_figures, published_order
from bot.matching.embedder import Embedder
from bot.models import Statement, Topic, Watchlist
from bot.positions import THRESHOLDS, Thresholds
from bot.positions.assign import Assignment, PositionAssigner
from bot.positions.extract import ActorSentence, actor_sentences
from bot.positions.shifts import detect_shift, is_shift
from bot.positions.statements import topic_statements

Triple = tuple[str, str, str, str]  # (article id, actor, topic, position)


@dataclass
class Replay:
    """What one method predicted over the whole replay."""

    positions: set[Triple] = field(default_factory=set)
    shifts: set[Triple] = field(default_factory=set)
    quotes: dict[Triple, str] = field(default_factory=dict)  # the sentence behind each


def _ordered(records: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """Records in publication order (UTC instants); ties keep file order."""
    return sorted(records, key=published_order)


def replay(
    watchlist: Watchlist,
    records: Sequence[Mapping[str, Any]],
    topics_for: Callable[[Mapping[str, Any]], Sequence[str]],
    assign: Callable[[Topic, Sequence[ActorSentence]], list[Assignment]],
    thresholds: Thresholds = THRESHOLDS,
) -> Replay:
    """Run one assignment method over the records in time order, keeping each actor's history."""
    out = Replay()
    history: dict[tuple[str, str], list[Statement]] = {}
    for record in _ordered(records):
        labeled = "positions" in record
        sentences = actor_sentences(
            str(record.get("text", "")), watchlist.actors, headline=str(record.get("title", ""))
        )
        for topic_id in topics_for(record):
            topic = watchlist.topic(topic_id)
            if topic is None or not topic.positions:
                continue
            found = topic_statements(
                assign,
                topic,
                sentences,
                article_id=str(record["id"]),
                source=str(record.get("source", "")),
                url=str(record.get("url", "")),
                published=None,
            )
            for statement in found:
                earlier = history.setdefault((statement.actor_id, topic.id), [])
                shift = detect_shift(topic, earlier, statement, thresholds)
                earlier.append(statement)
                if labeled:
                    triple = (
                        statement.article_id,
                        statement.actor_id,
                        topic.id,
                        str(statement.position_id),
                    )
                    out.positions.add(triple)
                    out.quotes.setdefault(triple, statement.quote)
                    if shift is not None:
                        out.shifts.add(triple)
    return out


def gold(watchlist: Watchlist, records: Sequence[Mapping[str, Any]]) -> Replay:
    """The labeled positions, and the shifts they imply, in time order.

    Each label is compared with the actor's stances in the last earlier article that
    labeled it on the topic, never with another label of the same article: an article may
    report two stances of one actor, and the shifts expected must not depend on the order
    they are listed in. A stance among the earlier article's is no change.
    """
    out = Replay()
    last: dict[tuple[str, str], set[str]] = {}
    for record in _ordered(records):
        now: dict[tuple[str, str], set[str]] = {}
        for label in record.get("positions", []) or []:
            triple = (str(record["id"]), label["actor"], label["topic"], label["position"])
            out.positions.add(triple)
            key = (label["actor"], label["topic"])
            now.setdefault(key, set()).add(label["position"])
            before = last.get(key, set())
            if (
                before
                and label["position"] not in before
                and _any_shift(watchlist.topic(label["topic"]), before, label["position"])
            ):
                out.shifts.add(triple)
        last.update(now)
    return out


def _any_shift(topic: Topic | None, before: set[str], now: str) -> bool:
    """True when moving from one of `before` to `now` counts as a shift on the topic."""
    return any(is_shift(topic, b, now) if topic else b != now for b in sorted(before))


def score(predicted: set[Triple], expected: set[Triple]) -> dict[str, float | None]:
    """Precision, recall and F1, as `eval` reports topics: None where nothing was there to
    measure (a file that labels no shift), never a perfect figure that nothing earned."""
    hits = len(predicted & expected)
    return measured_figures(Counts(hits, len(predicted) - hits, len(expected) - hits))


def _report(found: Replay, truth: Replay) -> dict[str, Any]:
    shifts: dict[str, Any] = score(found.shifts, truth.shifts)
    shifts.update(expected=len(truth.shifts), detected=len(found.shifts))
    return {"positions": score(found.positions, truth.positions), "shifts": shifts}


def mistakes(found: Replay, truth: Replay) -> list[dict[str, Any]]:
    """Each stance and shift the method got wrong, with what was expected and the quote it
    read, so a wrong figure can be traced to its article."""

    def key(triple: Triple) -> tuple[str, str, str]:
        return triple[:3]

    expected = {key(t): t[3] for t in truth.positions}
    predicted = {key(t): t[3] for t in found.positions}
    out: list[dict[str, Any]] = []

    def add(triple: Triple, kind: str, ours: str | None, theirs: str | None) -> None:
        article, actor, topic, _ = triple
        out.append(
            {
                "article": article,
                "actor": actor,
                "topic": topic,
                "kind": kind,
                "predicted": ours,
                "expected": theirs,
                "quote": found.quotes.get(triple, ""),  # labels carry no quotes
            }
        )

    for triple in sorted(found.positions - truth.positions):
        kind = "wrong position" if key(triple) in expected else "unlabeled position"
        add(triple, kind, triple[3], expected.get(key(triple)))
    for triple in sorted(truth.positions - found.positions):
        if key(triple) not in predicted:
            add(triple, "missed position", None, triple[3])
    for triple in sorted(found.shifts - truth.shifts):
        add(triple, "false shift", predicted.get(key(triple)), expected.get(key(triple)))
    for triple in sorted(truth.shifts - found.shifts):
        add(triple, "missed shift", predicted.get(key(triple)), expected.get(key(triple)))
    return sorted(out, key=lambda m: (m["article"], m["actor"], m["topic"], m["kind"]))


def evaluate_positions(
    watchlist: Watchlist,
    records: Sequence[Mapping[str, Any]],
    embedder: Embedder,
    topics_for: Callable[[Mapping[str, Any]], Sequence[str]],
    thresholds: Thresholds = THRESHOLDS,
) -> dict[str, Any]:
    """Positions and shifts P/R/F1 of the assigner, and of the nearest-example baseline.

    The baseline reports any change of its latest assignment as a shift.
    """
    topics = [t for t in watchlist.topics if t.positions]
    assigner = PositionAssigner(topics, embedder, thresholds)
    truth = gold(watchlist, records)
    ours = replay(watchlist, records, topics_for, assigner.assign, thresholds)
    plain = replace(thresholds, statement_min=0.0, shift_min=0.0, shift_min_cued=0.0)
    baseline = replay(watchlist, records, topics_for, assigner.nearest, plain)
    report = _report(ours, truth)
    report["baseline"] = _report(baseline, truth)
    report["articles"] = sum(1 for r in records if "positions" in r)
    report["mistakes"] = mistakes(ours, truth)
    return report
