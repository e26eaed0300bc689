"""The bundled evaluation data: every labeled file loads against the watchlist it belongs to.

A typo in an actor or position id would otherwise only show up as a lower figure in
`stancewatch eval`; here it fails with the file and line.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.evaluation import load_records
from bot.watchlists import load_watchlists

ROOT = Path(__file__).resolve().parents[1]
EVAL = ROOT / "examples" / "eval"


def _pairs() -> list[tuple[Path, Path]]:
    """(watchlist folder, data file): top-level files use the shipped watchlist; each
    subfolder carries its own."""
    pairs = [(ROOT / "watchlists", data) for data in sorted(EVAL.glob("*.jsonl"))]
    for folder in sorted(p for p in EVAL.iterdir() if p.is_dir()):
        pairs += [(folder / "watchlists", data) for data in sorted(folder.glob("*.jsonl"))]
    return pairs


def test_there_is_data_for_more_than_one_watchlist() -> None:
    assert len({folder for folder, _ in _pairs()}) >= 3


@pytest.mark.parametrize(("folder", "data"), _pairs(), ids=lambda p: p.parent.name + "/" + p.name)
def test_labeled_data_matches_its_watchlist(folder: Path, data: Path) -> None:
    loaded = load_watchlists(folder, env={})
    assert loaded.errors == ()
    assert loaded.watchlist is not None
    topic_ids = {t.id for t in loaded.watchlist.topics}
    records = load_records(data, topic_ids, loaded.watchlist)
    assert len(records) >= 30
    # Every file has articles off every topic, or matching could not be judged on it.
    assert any(not r["topics"] for r in records)
