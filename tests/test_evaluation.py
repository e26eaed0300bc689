"""`stancewatch eval` on a watchlist and labeled data of our own, unrelated to the shipped one."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from bot.evaluation import (
    EvalDataError,
    baseline_keywords,
    best_thresholds,
    evaluate,
    keyword_baseline,
    load_records,
    score_topics,
)
from bot.matching.embedder import Embedder
from bot.models import Article, Topic, Watchlist
from bot.reporting import print_eval
from bot.watchlists import load_watchlists

ROOT = Path(__file__).resolve().parents[1]
STANCEWATCH = [sys.executable, "-m", "bot"]

# A fictional town, in the format of DESIGN.md "Watchlist files"; nothing about Ukraine.
WATCHLIST_YAML = """\
actors:
  - id: council
    name: Marlow City Council
    aliases: [Marlow City Council, city council, Mayor Ines Harte, Harte]
  - id: farmers
    name: Marlow Farmers' Union
    aliases: [Farmers' Union, Tomas Brek, Brek]
topics:
  - id: water-rationing
    name: Water rationing in Marlow
    description: >-
      Limits on household and farm water use during a drought: rationing, hosepipe bans,
      reservoir levels and quotas for irrigation.
    examples:
      - "The council cut each household's daily water allowance as the reservoir fell."
    positions:
      - id: backs-rationing
        label: supports rationing water during the drought
        polarity: for
        examples:
          - "We must ration water now, before the reservoir runs dry."
          - "The council will keep the water limits in place all summer."
      - id: opposes-rationing
        label: opposes or lifts water rationing
        polarity: against
        examples:
          - "The water limits are unfair and must be scrapped at once."
          - "Rationing will end on Monday and the hosepipe ban is lifted."
  - id: harbour-tolls
    name: Harbour bridge tolls
    description: >-
      Charges for driving over the harbour bridge: toll prices, discounts for residents
      and how the toll money is spent.
"""
TOPIC_IDS = {"water-rationing", "harbour-tolls"}
WATER = "water-rationing"


def _stance(actor: str, position: str) -> dict[str, str]:
    return {"actor": actor, "topic": WATER, "position": position}


# Listed out of time order on purpose: replayed by `published`, the council goes
# backs -> backs -> opposes (1 shift) and the union opposes -> backs (1 shift).
# Replayed in file order the council would go backs -> opposes -> backs (2 shifts).
RECORDS: list[dict[str, Any]] = [
    {
        "id": "w1",
        "published": "2025-06-02T09:00:00Z",
        "source": "marlow-gazette.example",
        "title": "Marlow imposes water rationing as the reservoir drops",
        "text": "Mayor Ines Harte said the city would ration water from Monday, limiting each "
        "household to 120 litres a day while the reservoir stays below a third full.",
        "topics": [WATER],
        "positions": [_stance("council", "backs-rationing")],
    },
    {
        "id": "w4",
        "published": "2025-06-12T09:00:00Z",
        "source": "marlow-gazette.example",
        "title": "Marlow ends water rationing after heavy rain",
        "text": "Mayor Ines Harte said rationing would end on Monday and the hosepipe ban was "
        "lifted, as a week of storms refilled the reservoir.",
        "topics": [WATER],
        "positions": [_stance("council", "opposes-rationing")],
    },
    {
        "id": "w2",
        "published": "2025-06-04T09:00:00Z",
        "source": "marlow-gazette.example",
        "title": "Farmers' Union attacks irrigation quotas",
        "text": "The Farmers' Union said the new water quotas for irrigation were unfair and "
        "must be scrapped at once, warning that crops would fail in the drought.",
        "topics": [WATER],
        "positions": [_stance("farmers", "opposes-rationing")],
    },
    {
        "id": "t1",
        "published": "2025-06-06T09:00:00Z",
        "source": "marlow-gazette.example",
        "title": "Harbour bridge toll rises to four pounds",
        "text": "Drivers crossing the harbour bridge will pay a four-pound toll from July, "
        "with residents keeping their discount, the transport authority announced.",
        "topics": ["harbour-tolls"],
        "positions": [],
    },
    {
        "id": "w3",
        "published": "2025-06-09T09:00:00Z",
        "source": "marlow-gazette.example",
        "title": "Hosepipe ban extended as the drought deepens",
        "text": "Harte said the city council would keep the water limits in place all summer "
        "because the reservoir was still falling.",
        "topics": [WATER],
        "positions": [_stance("council", "backs-rationing")],
    },
    {
        "id": "w5",
        "published": "2025-06-10T09:00:00Z",
        "source": "marlow-gazette.example",
        "title": "Farmers' Union now backs sharing water by quota",
        "text": "Tomas Brek said the Farmers' Union now supported rationing water fairly, so "
        "that every farm gets its quota until the reservoir recovers.",
        "topics": [WATER],
        "positions": [_stance("farmers", "backs-rationing")],
    },
    {
        "id": "p1",
        "published": "2025-06-18T09:00:00Z",
        "source": "marlow-gazette.example",
        "title": "Marlow wins the regional water polo final",
        "text": "The Marlow water polo team beat Dunmore 9-7 in the regional final on "
        "Saturday in front of a packed crowd.",
        "topics": [],
        "positions": [],
    },
]
EXPECTED_SHIFTS = 2  # w4 (council) and w5 (union), counted by hand in the comment above

DESIGN_KEYS = {
    "topics": {"precision", "recall", "f1", "per_topic"},
    "positions": {"precision", "recall", "f1"},
    "shifts": {"precision", "recall", "f1", "expected", "detected"},
}


def _write_jsonl(path: Path, records: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return path


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*STANCEWATCH, *args],
        cwd=ROOT,
        env={**os.environ, "HF_HUB_OFFLINE": "1"},
        capture_output=True,
        text=True,
        timeout=120,
    )


def _assert_fractions(figures: Mapping[str, Any]) -> None:
    for key in ("precision", "recall", "f1"):
        assert 0.0 <= figures[key] <= 1.0, (key, figures)


@pytest.fixture(scope="module")
def watchlist_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("watchlists")
    (folder / "marlow.yaml").write_text(WATCHLIST_YAML, encoding="utf-8")
    return folder


@pytest.fixture(scope="module")
def watchlist(watchlist_dir: Path) -> Watchlist:
    result = load_watchlists(watchlist_dir)
    assert result.watchlist is not None, result.problems
    return result.watchlist


@pytest.fixture(scope="module")
def figures(watchlist: Watchlist, embedder: Embedder) -> dict[str, Any]:
    return evaluate(watchlist, RECORDS, embedder)


@pytest.fixture(scope="module")
def data_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _write_jsonl(tmp_path_factory.mktemp("data") / "labeled.jsonl", RECORDS)


@pytest.mark.model
def test_json_output_has_the_documented_figures_and_counts_shifts_in_time_order(
    watchlist_dir: Path, data_file: Path
) -> None:
    done = _run("eval", "--watchlists", str(watchlist_dir), "--data", str(data_file), "--json")
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    assert set(DESIGN_KEYS) | {"articles"} <= set(out)
    for key, fields in DESIGN_KEYS.items():
        assert set(out[key]) == fields, key
        _assert_fractions(out[key])
    assert "evidence" not in out  # per-article scores only with --evidence
    assert "position_mistakes" not in out
    assert out["articles"] == len(RECORDS)
    assert set(out["topics"]["per_topic"]) == TOPIC_IDS
    for per in out["topics"]["per_topic"].values():
        assert set(per) == {"precision", "recall", "f1"}
        _assert_fractions(per)
    assert out["shifts"]["expected"] == EXPECTED_SHIFTS
    assert isinstance(out["shifts"]["detected"], int) and out["shifts"]["detected"] >= 0
    # Every article is plainly on or plainly off each topic.
    assert out["topics"]["f1"] > 0.5, out["topics"]


def test_no_threshold_is_suggested_when_none_finds_a_labeled_article() -> None:
    # Every labeled article scored under 0.30 (or a guard refused it): each threshold tried
    # gives F1 0, and the tie-break suggested 0.80, the top of the range, for the user to copy.
    scored = {"t": [(0.21, True), (0.12, True), (None, True), (0.25, False)]}
    assert best_thresholds(scored) == {"t": {"threshold": None, "f1": 0.0}}


def test_the_thresholds_table_tells_a_topic_nothing_found_from_one_nothing_labeled(
    capsys: pytest.CaptureFixture[str],
) -> None:
    topic = {"precision": 1.0, "recall": 1.0, "f1": 1.0}
    missed = {"precision": None, "recall": 0.0, "f1": 0.0}
    print_eval(
        {
            "articles": 6,
            "topics": {**topic, "per_topic": {"dam": missed, "treaty": topic}},
            "baselines": {"keyword": topic, "whole_text_cosine": {**topic, "threshold": 0.5}},
            "best_thresholds": {
                "dam": {"threshold": None, "f1": 0.0, "current": 0.51, "labeled": 3},
                "treaty": {"threshold": None, "f1": None, "current": 0.51, "labeled": 0},
            },
        }
    )
    out = " ".join(capsys.readouterr().out.split())
    assert "no article in this file is labeled with: treaty" in out, out
    assert "no threshold from 0.30 to 0.80 finds any of their labeled articles: dam" in out, out


def test_best_thresholds_pick_the_most_precise_of_the_best() -> None:
    scored = {"t": [(0.9, True), (0.6, True), (0.55, False), (None, True), (0.2, False)]}
    # 0.56-0.60 keep both true hits and drop the false one: F1 0.8; the highest wins.
    assert best_thresholds(scored) == {"t": {"threshold": 0.6, "f1": 0.8}}


@pytest.mark.model
def test_threshold_suggestions_are_no_worse_than_the_current_thresholds(
    figures: dict[str, Any],
) -> None:
    best = figures["best_thresholds"]
    assert set(best) == TOPIC_IDS
    for topic_id, row in best.items():
        assert 0.30 <= row["threshold"] <= 0.80
        assert row["f1"] >= figures["topics"]["per_topic"][topic_id]["f1"]


@pytest.mark.model
def test_plain_output_names_precision_recall_and_f1_for_each_topic(
    figures: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    print_eval(figures)  # what `stancewatch eval` without --json prints
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert any(all(w in line for w in ("precision", "recall", "F1")) for line in lines), out
    for topic_id in TOPIC_IDS:
        row = next((line for line in lines if topic_id in line), None)
        assert row is not None, (topic_id, out)
        numbers = [float(n) for n in re.findall(r"\d+\.\d+", row)]
        assert len(numbers) == 3 and all(0.0 <= n <= 1.0 for n in numbers), row
    assert f"/ {EXPECTED_SHIFTS} expected" in out, out


@pytest.mark.model
def test_figures_do_not_depend_on_the_order_of_lines_in_the_file(
    tmp_path: Path, watchlist: Watchlist, embedder: Embedder, figures: dict[str, Any]
) -> None:
    path = _write_jsonl(tmp_path / "reversed.jsonl", RECORDS[::-1])
    again = evaluate(watchlist, load_records(path, TOPIC_IDS), embedder)
    for key in ("articles", "topics", "positions", "shifts", "baselines"):
        assert again[key] == figures[key], key


@pytest.mark.model
def test_records_without_position_labels_give_null_figures_in_the_documented_shape(
    watchlist: Watchlist, embedder: Embedder, capsys: pytest.CaptureFixture[str]
) -> None:
    # DESIGN.md's shape, figures null: `positions` and `shifts` were null themselves, so a
    # script reading out["shifts"]["expected"] on a topics-only file failed with TypeError.
    unlabeled = [{k: v for k, v in r.items() if k != "positions"} for r in RECORDS]
    out = evaluate(watchlist, unlabeled, embedder)
    assert out["positions"] == dict.fromkeys(DESIGN_KEYS["positions"])
    assert out["shifts"] == {
        **dict.fromkeys(("precision", "recall", "f1")),
        "expected": 0,
        "detected": 0,
    }
    assert out["articles"] == len(RECORDS)
    _assert_fractions(out["topics"])
    json.dumps(out)  # still printable with --json
    print_eval(out)  # and the table has nothing to say about stances
    assert "Positions and shifts" not in capsys.readouterr().out


@pytest.mark.model
def test_keyword_and_whole_text_baselines_are_reported_in_the_same_run(
    figures: dict[str, Any],
) -> None:
    baselines = figures["baselines"]
    # The keyword baseline matches on the topic-name words ("water", "rationing", "marlow";
    # "harbour", "bridge", "tolls"): it finds all six on-topic articles and wrongly flags
    # the water polo final, 6 true and 1 false positive over the 14 (article, topic) pairs.
    assert baselines["keyword"]["precision"] == round(6 / 7, 4)
    assert baselines["keyword"]["recall"] == 1.0
    cosine = baselines["whole_text_cosine"]
    _assert_fractions(cosine)
    assert set(cosine["per_topic"]) == TOPIC_IDS
    assert 0.0 < cosine["threshold"] < 1.0
    nearest = baselines["nearest_example"]
    _assert_fractions(nearest["positions"])
    _assert_fractions(nearest["shifts"])
    # The baselines are scored against the same labels as the matcher.
    assert nearest["shifts"]["expected"] == figures["shifts"]["expected"] == EXPECTED_SHIFTS


GOOD_LINE = json.dumps(RECORDS[0])


@pytest.fixture
def bad_data(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[Path, list[str]]:
    path = tmp_path / "bad.jsonl"
    content, fragments = request.param
    if content is not None:
        path.write_text(content, encoding="utf-8")
    return path, [f.format(path=path) for f in fragments]


@pytest.mark.parametrize(
    "bad_data",
    [
        pytest.param((None, ["{path}"]), id="missing-file"),
        pytest.param((f"{GOOD_LINE}\n{{not json\n", ["{path}:2:"]), id="line-not-json"),
        pytest.param(
            (
                f"{GOOD_LINE}\n" + json.dumps({"id": "x", "text": "t", "topics": []}),
                ["{path}:2:", "title"],
            ),
            id="missing-title",
        ),
        pytest.param(
            (json.dumps({**RECORDS[0], "topics": ["moon-landing"]}), ["{path}:1:", "moon-landing"]),
            id="unknown-topic",
        ),
        pytest.param(
            (json.dumps({**RECORDS[0], "topics": None}), ["{path}:1:", "topics"]),
            id="topics-null",
        ),
        pytest.param(
            (f"{GOOD_LINE}\n{GOOD_LINE}", ["{path}:2:", "already used on line 1"]),
            id="duplicate-id",
        ),
        pytest.param(
            (
                json.dumps(
                    {
                        **RECORDS[0],
                        "topics": ["water-rationing"],
                        "positions": [
                            {"actor": "mayor", "topic": "water-rationing", "position": "x"}
                        ],
                    }
                ),
                ["{path}:1:", "unknown actor 'mayor'"],
            ),
            id="unknown-actor",
        ),
        pytest.param(
            (
                f"{GOOD_LINE}\n"
                + json.dumps({k: v for k, v in RECORDS[1].items() if k != "published"}),
                ["{path}:2:", "'published'"],
            ),
            id="missing-published",
        ),
        pytest.param(
            (
                json.dumps({**RECORDS[0], "published": "19/08/2025"}),
                ["{path}:1:", "'published'", "19/08/2025"],
            ),
            id="unreadable-date",
        ),
        pytest.param(
            (json.dumps({**RECORDS[0], "published": 1755594000}), ["{path}:1:", "'published'"]),
            id="date-not-a-string",
        ),
        pytest.param(
            (json.dumps({**RECORDS[0], "title": None}), ["{path}:1:", "'title'"]),
            id="title-null",
        ),
        pytest.param(
            (json.dumps({**RECORDS[0], "text": None}), ["{path}:1:", "'text'"]),
            id="text-null",
        ),
        pytest.param(
            (json.dumps({**RECORDS[0], "id": None}), ["{path}:1:", "'id'"]),
            id="id-null",
        ),
        pytest.param(
            (json.dumps({**RECORDS[0], "id": " "}), ["{path}:1:", "'id'"]),
            id="id-blank",
        ),
        pytest.param(
            (json.dumps({**RECORDS[0], "id": {"n": 1}}), ["{path}:1:", "'id'"]),
            id="id-object",
        ),
        pytest.param(("", ["{path}"]), id="empty-file"),
        pytest.param(("\n  \n", ["{path}"]), id="blank-lines-only"),
    ],
    indirect=True,
)
def test_bad_data_exits_non_zero_with_a_one_line_error_and_no_traceback(
    watchlist_dir: Path, bad_data: tuple[Path, list[str]]
) -> None:
    path, fragments = bad_data
    done = _run("eval", "--watchlists", str(watchlist_dir), "--data", str(path), "--json")
    assert done.returncode != 0
    assert done.stdout == ""
    assert "Traceback" not in done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("error: ")
    for fragment in fragments:
        assert fragment in lines[0], (fragment, lines[0])


def test_an_id_the_watchlists_lack_names_the_folder_they_were_read_from(
    watchlist_dir: Path, tmp_path: Path
) -> None:
    # Without --watchlists, eval reads ./watchlists: a newcomer's own topic ids were then
    # "unknown topic(s) ['dam-filling']", with nothing to say which watchlists were meant.
    path = _write_jsonl(tmp_path / "other.jsonl", [{**RECORDS[0], "topics": ["dam-filling"]}])
    done = _run("eval", "--watchlists", str(watchlist_dir), "--data", str(path), "--json")
    assert done.returncode == 1
    (line,) = done.stderr.strip().splitlines()
    assert f"{path}:1:" in line and "dam-filling" in line
    assert str(watchlist_dir) in line and "--watchlists" in line


def test_a_file_saved_with_a_byte_order_mark_is_read(tmp_path: Path) -> None:
    path = tmp_path / "bom.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in RECORDS), encoding="utf-8-sig")
    records = load_records(path, TOPIC_IDS)
    assert sorted(r["id"] for r in records) == sorted(r["id"] for r in RECORDS)


def test_evidence_without_json_is_refused(watchlist_dir: Path, data_file: Path) -> None:
    done = _run("eval", "--watchlists", str(watchlist_dir), "--data", str(data_file), "--evidence")
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr.strip() == "error: --evidence needs --json"


@pytest.mark.model
def test_a_topic_no_article_is_labeled_with_gets_no_made_up_figures(
    watchlist: Watchlist, embedder: Embedder, capsys: pytest.CaptureFixture[str]
) -> None:
    # No article is about the harbour tolls: recall, F1 and a "best" threshold are undefined.
    records = [r for r in RECORDS if "harbour-tolls" not in r["topics"]]
    out = evaluate(watchlist, records, embedder)
    json.dumps(out)
    tolls = out["topics"]["per_topic"]["harbour-tolls"]
    assert tolls["recall"] is None and tolls["f1"] is None
    best = out["best_thresholds"]["harbour-tolls"]
    assert best["threshold"] is None and best["f1"] is None
    assert best["labeled"] == 0
    assert out["best_thresholds"][WATER]["threshold"] is not None
    assert out["best_thresholds"][WATER]["labeled"] == 5

    print_eval(out)
    lines = capsys.readouterr().out.splitlines()
    rows = [line for line in lines if "harbour-tolls" in line and "│" in line]
    assert len(rows) == 2, lines  # the figures row and the thresholds row
    figures_row, thresholds_row = rows
    assert figures_row.count("—") >= 2, figures_row  # recall and F1
    assert re.findall(r"\d\.\d+", thresholds_row) == [f"{best['current']:.2f}"], thresholds_row
    assert any("no article" in line and "harbour-tolls" in line for line in lines), lines


@pytest.mark.model
def test_a_file_with_no_labeled_article_chooses_no_cosine_baseline_threshold(
    watchlist: Watchlist, embedder: Embedder, capsys: pytest.CaptureFixture[str]
) -> None:
    # A file of negatives only: every threshold is as good as another, and the baseline
    # showed "@ 0.05", the first it tried, as if it had been chosen.
    records = [{**r, "topics": [], "positions": []} for r in RECORDS]
    out = evaluate(watchlist, records, embedder)
    cosine = out["baselines"]["whole_text_cosine"]
    assert cosine["threshold"] is None
    assert json.loads(json.dumps(out))["baselines"]["whole_text_cosine"]["threshold"] is None

    print_eval(out)
    lines = capsys.readouterr().out.splitlines()
    [row] = [line for line in lines if "whole-text cosine" in line]
    assert "whole-text cosine @ —" in row, row
    assert not re.findall(r"\d\.\d+", row), row


# --- Reading odd but valid data files ---

ONE_RECORD = {
    "id": "a1",
    "published": "2025-06-02T09:00:00Z",
    "title": "Council rations water",
    "text": "The council said it would ration water.",
    "topics": [],
}


@pytest.mark.parametrize("separator", ["\u2028", "\u2029", "\x85"])
def test_unicode_line_separators_inside_a_string_do_not_split_the_line(
    tmp_path: Path, separator: str
) -> None:
    # JSON allows these raw inside strings; json.dumps(ensure_ascii=False) writes them raw.
    second = {**ONE_RECORD, "id": "a2", "text": f"First paragraph.{separator}Second paragraph."}
    path = tmp_path / "data.jsonl"
    path.write_text(
        json.dumps(ONE_RECORD) + "\n" + json.dumps(second, ensure_ascii=False) + "\n",
        encoding="utf-8",
    )
    records = load_records(path, set())
    assert [r["id"] for r in records] == ["a1", "a2"]
    assert separator in records[1]["text"]


def test_crlf_line_endings_are_read(tmp_path: Path) -> None:
    path = tmp_path / "data.jsonl"
    path.write_bytes((json.dumps(ONE_RECORD) + "\r\n").encode())
    assert [r["id"] for r in load_records(path, set())] == ["a1"]


def test_iso_dates_in_their_other_spellings_are_read_in_time_order(tmp_path: Path) -> None:
    # RFC 3339 allows a lower-case "z"; a date alone and an offset without a colon are
    # ISO 8601 too. All name instants, and replay follows the instants, not the text.
    spellings = {
        "late": "2025-06-02T09:00:00z",
        "early": "2025-06-01",
        "middle": "2025-06-02T10:30:00+0200",
    }
    path = tmp_path / "data.jsonl"
    path.write_text(
        "".join(
            json.dumps({**ONE_RECORD, "id": key, "published": when}) + "\n"
            for key, when in spellings.items()
        ),
        encoding="utf-8",
    )
    assert [r["id"] for r in load_records(path, set())] == ["early", "middle", "late"]


@pytest.mark.parametrize(
    "line",
    [
        pytest.param("[" * 100_000 + "]" * 100_000, id="deep-nesting"),
        pytest.param('{"id": 1' + "0" * 5000 + "}", id="5000-digit-number"),
    ],
)
def test_json_the_decoder_refuses_is_a_line_error_not_a_traceback(
    tmp_path: Path, line: str
) -> None:
    path = tmp_path / "data.jsonl"
    path.write_text(json.dumps(ONE_RECORD) + "\n" + line + "\n", encoding="utf-8")
    with pytest.raises(EvalDataError, match=rf"{path}:2: not valid JSON"):
        load_records(path, set())


def test_a_file_in_another_encoding_is_refused_at_the_line_of_its_first_bad_byte(
    tmp_path: Path,
) -> None:
    # An old editor saves the third article's "café" as Latin-1: the error gave a byte
    # offset into the whole file ("position 412"), and no line to open.
    third = {**ONE_RECORD, "id": "a3", "text": "Talks over coffee at the café."}
    path = tmp_path / "data.jsonl"
    lines = [json.dumps(ONE_RECORD), json.dumps({**ONE_RECORD, "id": "a2"})]
    lines.append(json.dumps(third, ensure_ascii=False))
    path.write_bytes("\n".join(lines).encode("latin-1"))
    column = lines[2].index("é") + 1
    with pytest.raises(EvalDataError) as refused:
        load_records(path, set())
    assert str(refused.value).startswith(f"{path}:3: not UTF-8 text: byte 0xe9 at column {column}")


def test_a_file_saved_as_utf16_says_so_rather_than_blaming_latin1(tmp_path: Path) -> None:
    # Windows PowerShell's `>` writes UTF-16 with a byte order mark.
    path = tmp_path / "data.jsonl"
    path.write_text(json.dumps(ONE_RECORD) + "\n", encoding="utf-16")
    with pytest.raises(EvalDataError, match=rf"{path}:1: not UTF-8 text: .*UTF-16"):
        load_records(path, set())


@pytest.mark.parametrize(
    ("key", "meant"),
    [("position", "positions"), ("Positions", "positions"), ("stances", "positions")],
)
def test_a_misspelled_labels_key_is_an_error_not_labels_silently_dropped(
    tmp_path: Path, key: str, meant: str
) -> None:
    # Under any other key the stances were ignored: the article left out of the position
    # figures, which then rested on fewer articles than the user labeled, with no word said.
    stance = {"actor": "council", "topic": WATER, "position": "backs-rationing"}
    labeled = {**ONE_RECORD, "id": "a2", "topics": [WATER], key: [stance]}
    path = _write_jsonl(tmp_path / "data.jsonl", [ONE_RECORD, labeled])
    said = f"{path}:2: unknown key {key!r}: did you mean {meant!r}?"
    with pytest.raises(EvalDataError, match=re.escape(said)):
        load_records(path, TOPIC_IDS)


def test_keys_of_the_user_s_own_are_kept_out_of_the_way(tmp_path: Path) -> None:
    # Notes and provenance are what people add to labeled data; they are not mistakes.
    noted = {**ONE_RECORD, "notes": "labeled by A.", "published_at": "2025-06-02T09:00:00Z"}
    path = _write_jsonl(tmp_path / "data.jsonl", [noted])
    assert [r["id"] for r in load_records(path, set())] == ["a1"]


@pytest.mark.parametrize("key", ["title", "text"])
def test_half_a_character_is_replaced_not_a_crash_in_the_tokenizer(
    tmp_path: Path, key: str
) -> None:
    # Valid JSON ("\ud83d", an emoji cut in half by a length limit); the tokenizer raised
    # TypeError on it deep inside the model, after minutes of work.
    bad = {**ONE_RECORD, key: "Water \ud83d rationing \U0001f4a7"}
    path = tmp_path / "data.jsonl"
    path.write_text(json.dumps(bad) + "\n", encoding="utf-8")
    [record] = load_records(path, set())
    assert record[key] == "Water \ufffd rationing \U0001f4a7"


# --- The keyword baseline in any script ---

DESCRIPTION = "A topic described at enough length."


def _topic(topic_id: str, name: str) -> Topic:
    return Topic(id=topic_id, name=name, description=DESCRIPTION)


def test_accented_and_non_latin_names_give_whole_words() -> None:
    topics = [_topic("zoelle", "Zölle auf Elektroautos"), _topic("voda", "Водные ограничения")]
    keywords = baseline_keywords(topics)
    assert sorted(keywords["zoelle"]) == ["auf", "elektroautos", "zölle"]  # not "z", "lle"
    assert sorted(keywords["voda"]) == ["водные", "ограничения"]  # not [] (never matches)


def _eval_article(title: str, text: str) -> Article:
    when = datetime(2025, 6, 2, tzinfo=UTC)
    return Article(
        id="a1",
        feed_url="eval",
        source="eval",
        url="eval:a1",
        title=title,
        text=text,
        published=when,
        fetched=when,
    )


def test_a_cyrillic_topic_name_finds_its_articles() -> None:
    article = _eval_article("Водные ограничения в Марлоу", "Город вводит ограничения.")
    topics = [_topic("voda", "Водные ограничения"), _topic("tolls", "Harbour bridge tolls")]
    assert keyword_baseline([article], topics) == [{"voda"}]


def test_a_keyword_that_ends_in_punctuation_finds_its_articles() -> None:
    # The matcher's guard finds "U.K." and "C++"; the baseline, reading them with \b, found
    # no article for them and so reported a weaker baseline than the keywords give.
    article = _eval_article("U.K. weighs a C++ rule for new contracts", "Ministers met on Monday.")
    topics = [
        replace(_topic("uk", "British procurement"), keywords=("U.K.",)),
        replace(_topic("cpp", "Programming languages"), keywords=("C++",)),
        replace(_topic("net", "Frameworks"), keywords=(".NET",)),
    ]
    assert keyword_baseline([article], topics) == [{"uk", "cpp"}]


# --- eval shows the watchlist warnings check shows ---


FEW_EXAMPLES_WATCHLIST = """\
actors:
  - id: council
    name: Marlow City Council
    aliases: [Harte]
topics:
  - id: water-rationing
    name: Water rationing in Marlow
    description: Limits on household and farm water use during a drought.
    positions:
      - id: backs-rationing
        label: supports rationing water
        examples: ["We must ration water now."]
      - id: opposes-rationing
        label: opposes water rationing
"""


def test_eval_prints_watchlist_warnings(tmp_path: Path) -> None:
    folder = tmp_path / "watchlists"
    folder.mkdir()
    (folder / "marlow.yaml").write_text(FEW_EXAMPLES_WATCHLIST, encoding="utf-8")
    data = tmp_path / "empty.jsonl"
    data.write_text("", encoding="utf-8")  # refused before the model loads: a fast test
    done = _run("eval", "--watchlists", str(folder), "--data", str(data))
    assert done.returncode == 1
    assert done.stderr.count("warning: fewer than 2 distinct examples") == 2, done.stderr
    assert "no labeled articles" in done.stderr


def test_eval_on_watchlists_without_topics_says_there_is_nothing_to_evaluate(
    tmp_path: Path,
) -> None:
    folder = tmp_path / "watchlists"
    folder.mkdir()
    (folder / "actors.yaml").write_text(
        "actors:\n  - id: council\n    name: Marlow City Council\n", encoding="utf-8"
    )
    data = tmp_path / "data.jsonl"
    data.write_text(json.dumps({**ONE_RECORD}) + "\n", encoding="utf-8")
    done = _run("eval", "--watchlists", str(folder), "--data", str(data))
    assert done.returncode == 1
    assert (
        done.stderr.strip().splitlines()[-1] == f"error: {folder}: no topics, nothing to evaluate"
    )


def test_overall_topic_figures_are_null_where_no_article_is_labeled_with_any_topic() -> None:
    # A file of negatives only (to count false alarms): recall and F1 have no meaning, and
    # 0.000 read as "the matcher fails", as it does for a single unlabeled topic.
    quiet = score_topics([set(), set()], [set(), set()], ["a", "b"])
    assert {k: quiet[k] for k in ("precision", "recall", "f1")} == dict.fromkeys(
        ("precision", "recall", "f1")
    )
    alarmed = score_topics([set(), set()], [{"a"}, set()], ["a", "b"])
    assert (alarmed["precision"], alarmed["recall"], alarmed["f1"]) == (0.0, None, None)
    labeled = score_topics([{"a"}, set()], [{"a"}, {"b"}], ["a", "b"])
    assert (labeled["precision"], labeled["recall"], labeled["f1"]) == (0.5, 1.0, 0.6667)


def test_the_thresholds_table_says_how_many_articles_each_suggestion_rests_on(
    capsys: pytest.CaptureFixture[str],
) -> None:
    # A new team's first file: a suggestion drawn from 4 articles must not look as solid as
    # one drawn from 40; --json said so ("labeled"), the table did not.
    topic = {"precision": 1.0, "recall": 1.0, "f1": 1.0}
    print_eval(
        {
            "articles": 44,
            "topics": {**topic, "per_topic": {"dam": topic, "treaty": topic}},
            "baselines": {"keyword": topic, "whole_text_cosine": {**topic, "threshold": 0.5}},
            "best_thresholds": {
                "dam": {"threshold": 0.73, "f1": 1.0, "current": 0.51, "labeled": 4},
                "treaty": {"threshold": 0.6, "f1": 0.9, "current": 0.51, "labeled": 40},
            },
        }
    )
    lines = capsys.readouterr().out.splitlines()
    assert any("labeled" in line for line in lines if "current" in line), lines
    dam = next(line for line in lines if "│ dam" in line)
    treaty = next(line for line in lines if "│ treaty" in line)
    assert re.findall(r"│\s*(\d+)\s*│", dam) == ["4"], dam
    assert re.findall(r"│\s*(\d+)\s*│", treaty) == ["40"], treaty


def test_a_method_that_finds_no_stance_still_shows_its_zeros(
    capsys: pytest.CaptureFixture[str],
) -> None:
    # 0.000 is a figure (stances labeled, none found), unlike the null of nothing labeled.
    topic = {"precision": 1.0, "recall": 1.0, "f1": 1.0}
    zero = {"precision": 0.0, "recall": 0.0, "f1": 0.0}
    print_eval(
        {
            "articles": 4,
            "topics": {**topic, "per_topic": {"dam": topic}},
            "baselines": {"keyword": topic, "whole_text_cosine": {**topic, "threshold": 0.5}},
            "positions": zero,
            "shifts": {**zero, "expected": 2, "detected": 0},
        }
    )
    out = capsys.readouterr().out
    assert "Positions and shifts" in out
    assert "0 detected / 2 expected" in out
