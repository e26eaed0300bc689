"""evaluate_positions on a tiny dataset whose figures are computed by hand."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from bot.matching.embedder import Embedder
from bot.models import Watchlist
from bot.positions import THRESHOLDS
from bot.positions.evaluate import evaluate_positions, gold, score
from bot.reporting import print_eval

RECORDS: list[dict[str, Any]] = [
    # Listed out of order on purpose: the replay sorts by `published`.
    {
        "id": "a2",
        "published": "2026-01-05T09:00:00Z",
        "source": "wire.example",
        "title": "Kremlin agrees to Western guarantees for Ukraine",
        "text": "Russia agreed that Western states could offer Kyiv Article 5-like security "
        "guarantees, Kremlin spokesman Dmitry Peskov said on Friday.",
        "topics": ["security-guarantees"],
        "positions": [
            {"actor": "russia", "topic": "security-guarantees", "position": "supports-guarantees"}
        ],
    },
    {
        "id": "a1",
        "published": "2026-01-01T09:00:00Z",
        "source": "wire.example",
        "title": "Lavrov: no Western troops in Ukraine",
        "text": "Russia will never accept Western troops in Ukraine, Sergei Lavrov said.",
        "topics": ["security-guarantees"],
        "positions": [
            {"actor": "russia", "topic": "security-guarantees", "position": "rejects-guarantees"}
        ],
    },
    {
        # No "positions" key: unlabeled, so neither counted nor held against us.
        "id": "a3",
        "published": "2026-01-07T09:00:00Z",
        "source": "wire.example",
        "title": "Lavrov repeats that Western troops are unacceptable",
        "text": "Any Western troops in Ukraine would be unacceptable, Lavrov said.",
        "topics": ["security-guarantees"],
    },
    {
        "id": "a4",
        "published": "2026-01-09T09:00:00Z",
        "source": "wire.example",
        "title": "Germany pauses missile shipments to Ukraine",
        "text": "Germany paused shipments of air-defence missiles to Ukraine on Thursday, "
        "the defence ministry said.",
        "topics": ["arms-shipments"],
        "positions": [
            {"actor": "germany", "topic": "arms-shipments", "position": "halts-deliveries"},
            # Labeled but stated nowhere in the text: a miss.
            {"actor": "ukraine", "topic": "arms-shipments", "position": "supports-deliveries"},
        ],
    },
    {
        # Labeled with no stance at all: whatever we find here is a false positive.
        "id": "a5",
        "published": "2026-01-12T09:00:00Z",
        "source": "wire.example",
        "title": "Germany resumes missile shipments to Ukraine",
        "text": "Germany resumed shipments of air-defence missiles to Ukraine on Monday and "
        "will keep sending them, the defence ministry said.",
        "topics": ["arms-shipments"],
        "positions": [],
    },
]


@pytest.mark.model
def test_figures_match_a_hand_count(shipped: Watchlist, embedder: Embedder) -> None:
    report = evaluate_positions(shipped, RECORDS, embedder, lambda r: r["topics"])
    # Predicted on labeled records: a1 russia/rejects, a2 russia/supports, a4 germany/halts,
    # a5 germany/supports. Gold: a1, a2, a4 germany, a4 ukraine. 3 hits of 4 and 4.
    assert report["positions"] == {"precision": 0.75, "recall": 0.75, "f1": 0.75}
    # Expected: a2 (rejects → supports). Detected: a2, and a5 (halts → supports, unlabeled).
    assert report["shifts"] == {
        "precision": 0.5,
        "recall": 1.0,
        "f1": 0.6667,
        "expected": 1,
        "detected": 2,
    }
    assert report["articles"] == 4
    baseline = report["baseline"]
    assert set(baseline) == {"positions", "shifts"}
    assert 0.0 <= baseline["positions"]["f1"] <= 1.0
    # Each wrong stance and shift names its article and quote, so it can be traced.
    wrong = {(m["article"], m["actor"], m["kind"]): m for m in report["mistakes"]}
    assert set(wrong) == {
        ("a4", "ukraine", "missed position"),
        ("a5", "germany", "unlabeled position"),
        ("a5", "germany", "false shift"),
    }
    false_shift = wrong["a5", "germany", "false shift"]
    assert false_shift["predicted"] == "supports-deliveries"
    assert "resumed shipments" in false_shift["quote"]


@pytest.mark.model
def test_the_baseline_reports_every_change_whatever_our_shift_bars(
    shipped: Watchlist, embedder: Embedder
) -> None:
    # The baseline has no bars: our lower bar for cue-backed shifts leaked into it, and
    # hid its changes whose quote carried a cue ("resumed", "agreed").
    def baseline_with(cued: float) -> dict[str, Any]:
        bars = replace(THRESHOLDS, shift_min_cued=cued)
        report = evaluate_positions(shipped, RECORDS, embedder, lambda r: r["topics"], bars)
        return dict(report["baseline"])

    assert baseline_with(1.0) == baseline_with(0.0)


def test_gold_shifts_follow_labels_in_time_order(shipped: Watchlist) -> None:
    truth = gold(shipped, RECORDS)
    assert truth.shifts == {("a2", "russia", "security-guarantees", "supports-guarantees")}
    assert len(truth.positions) == 4


def test_score_conventions() -> None:
    a, b, c = ("1", "x", "t", "p"), ("2", "x", "t", "p"), ("3", "x", "t", "q")
    assert score({a, b}, {a, c}) == {"precision": 0.5, "recall": 0.5, "f1": 0.5}
    # Nothing expected and nothing found: no figure is defined (a first small file often
    # labels no shift), rather than a perfect 1.000 that nothing earned.
    assert score(set(), set()) == {"precision": None, "recall": None, "f1": None}
    # Nothing found where something was expected is a miss, not a precise method.
    assert score(set(), {a}) == {"precision": 0.0, "recall": 0.0, "f1": 0.0}
    # Found where nothing was expected: every one a false alarm; recall is undefined.
    assert score({a}, set()) == {"precision": 0.0, "recall": None, "f1": None}


def test_the_eval_table_shows_no_perfect_shift_figures_for_a_file_without_shifts(
    capsys: pytest.CaptureFixture[str],
) -> None:
    # A new team's first file: stances labeled, no actor changing its mind, none detected.
    stance = ("1", "x", "t", "p")
    shifts: dict[str, Any] = {**score(set(), set()), "expected": 0, "detected": 0}
    missed: dict[str, Any] = {**score(set(), {stance}), "expected": 1, "detected": 0}
    topic = {"precision": 1.0, "recall": 1.0, "f1": 1.0}
    print_eval(
        {
            "articles": 1,
            "topics": {**topic, "per_topic": {"t": topic}},
            "baselines": {
                "keyword": topic,
                "whole_text_cosine": {**topic, "threshold": 0.5},
                "nearest_example": {"positions": score({stance}, {stance}), "shifts": missed},
            },
            "positions": score({stance}, {stance}),
            "shifts": shifts,
        }
    )
    lines = capsys.readouterr().out.splitlines()
    ours = next(line for line in lines if "shifts (0 detected / 0 expected)" in line)
    assert "1.000" not in ours and ours.count("—") == 3, ours
    baseline = next(line for line in lines if "nearest example, shifts" in line)
    assert "1.000" not in baseline, baseline


@pytest.mark.parametrize("first", ["supports-guarantees", "rejects-guarantees"])
def test_two_stances_of_one_actor_in_one_article_are_each_compared_with_earlier_articles(
    shipped: Watchlist, first: str
) -> None:
    # An article reporting both of an actor's stances (it changed its mind within the
    # story) expected a second shift from one label to the other, but only when the labels
    # were listed in one order: the expected count depended on how a labeler wrote the line.
    second = "rejects-guarantees" if first == "supports-guarantees" else "supports-guarantees"

    def article(day: int, *positions: str) -> dict[str, Any]:
        labels = [
            {"actor": "russia", "topic": "security-guarantees", "position": p} for p in positions
        ]
        return {"id": f"b{day}", "published": f"2026-01-0{day}T09:00:00Z", "positions": labels}

    records = [
        article(1, "rejects-guarantees"),
        article(2, first, second),
        article(3, second),  # either of b2's stances held again is no change from b2
        article(4, "demands-veto"),
    ]
    assert gold(shipped, records).shifts == {
        ("b2", "russia", "security-guarantees", "supports-guarantees"),
        ("b4", "russia", "security-guarantees", "demands-veto"),
    }
