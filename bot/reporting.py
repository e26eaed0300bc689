"""Terminal tables for `stancewatch eval`."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.table import Table

from bot.evaluation import THRESHOLDS_TRIED

NONE = "—"  # a figure that is not defined on this file (no labeled article), not a zero


def _figure(value: float | None, digits: int = 3) -> str:
    return NONE if value is None else f"{value:.{digits}f}"


def _row(name: str, figures: dict[str, Any] | None) -> list[str]:
    if not figures:
        return [name, "-", "-", "-"]
    return [name, *(_figure(figures[k]) for k in ("precision", "recall", "f1"))]


def print_eval(figures: dict[str, Any], console: Console | None = None) -> None:
    """Print topic, position and shift figures beside the baselines."""
    console = console or Console()
    table = Table(title=f"Topics ({figures['articles']} articles)")
    for column in ("", "precision", "recall", "F1"):
        table.add_column(column)
    topics = figures["topics"]
    table.add_row(*_row("stancewatch (all topics)", topics))
    for topic_id, per in topics["per_topic"].items():
        table.add_row(*_row(f"  {topic_id}", per))
    baselines = figures["baselines"]
    table.add_row(*_row("baseline: any keyword", baselines["keyword"]))
    cosine = baselines["whole_text_cosine"]
    # None: no threshold could be chosen on this file (no article labeled with a topic).
    at = _figure(cosine["threshold"], 2)
    table.add_row(*_row(f"baseline: whole-text cosine @ {at}", cosine))
    console.print(table)
    _print_thresholds(figures.get("best_thresholds") or {}, console)
    positions, shifts = figures.get("positions") or {}, figures.get("shifts") or {}
    # Nothing labeled and nothing found (figures null, no shift expected): a table of
    # dashes would say nothing. A 0.000 is a figure, and shown.
    if any(v is not None for v in positions.values()) or shifts.get("expected"):
        stance = Table(title="Positions and shifts")
        for column in ("", "precision", "recall", "F1"):
            stance.add_column(column)
        stance.add_row(*_row("positions", positions))
        stance.add_row(
            *_row(f"shifts ({shifts['detected']} detected / {shifts['expected']} expected)", shifts)
        )
        nearest = baselines.get("nearest_example") or {}
        stance.add_row(*_row("baseline: nearest example, positions", nearest.get("positions")))
        stance.add_row(*_row("baseline: nearest example, shifts", nearest.get("shifts")))
        console.print(stance)


def _print_thresholds(best: dict[str, dict[str, Any]], console: Console) -> None:
    """Each topic's threshold beside the one that would have done best on this file."""
    if not best:
        return
    table = Table(title="Thresholds (best on this file: confirm on another before using it)")
    # How many labeled articles each suggestion rests on: one drawn from four articles
    # sits just under the weakest of them and will not hold on the next file.
    for column in ("topic", "current", "best on this file", "F1 there", "articles labeled"):
        table.add_column(column)
    for topic_id, row in best.items():
        table.add_row(
            topic_id,
            f"{row['current']:.2f}",
            _figure(row["threshold"], 2),
            _figure(row["f1"]),
            str(row["labeled"]),
        )
    console.print(table)
    unlabeled = [topic_id for topic_id, row in best.items() if not row["labeled"]]
    if unlabeled:
        console.print(f"{NONE} no article in this file is labeled with: {', '.join(unlabeled)}")
    # Labeled, yet no threshold in the range finds one: a suggestion would be a guess.
    unfound = [t for t, row in best.items() if row["labeled"] and row["threshold"] is None]
    if unfound:
        low, high = (f"{bound / 100:.2f}" for bound in THRESHOLDS_TRIED)
        console.print(
            f"{NONE} no threshold from {low} to {high} finds any of their labeled articles:"
            f" {', '.join(unfound)} (read their scores with --json --evidence)"
        )
