"""`stancewatch demo` tells the story examples/demo/README.md describes, alert for alert."""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from rich.console import Console

from bot.demo import run_demo
from bot.watchlists import load_watchlists
from tests.test_watchlists import SHIPPED

pytestmark = pytest.mark.model


async def test_the_demo_alerts_what_its_readme_promises_and_nothing_else() -> None:
    watchlist = load_watchlists(SHIPPED, env={}).watchlist
    assert watchlist is not None
    out = io.StringIO()
    assert await run_demo(watchlist, Console(file=out, width=100)) == 0
    text = out.getvalue()
    steps = re.findall(r"(\d+) alerts, (\d+) folded into an earlier alert", text)
    assert steps == [("0", "0"), ("2", "0"), ("2", "1"), ("2", "0")]
    assert "Demo done: 6 alerts, 2 position shifts" in text
    # Items the README lists as silent: same-war news and confounders.
    for silent in ("drone attack", "helicopter", "loan guarantee", "Congo", "rail strike"):
        assert silent.lower() not in text.lower(), silent


OWN_WATCHLIST = """\
topics:
  - id: roaming-fees
    name: Mobile roaming charges
    description: Fees mobile users pay when they use their phone abroad.
"""


def _demo(cwd: Path, *args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    inherited = {k: v for k, v in os.environ.items() if not k.startswith("STANCEWATCH_")}
    return subprocess.run(
        [sys.executable, "-m", "bot", "demo", *args],
        cwd=cwd,
        env={**inherited, "HF_HUB_OFFLINE": "1", **env},
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_the_demo_shows_its_story_wherever_it_is_run_and_whatever_the_service_watches(
    tmp_path: Path,
) -> None:
    # An operator's shell points STANCEWATCH_WATCHLISTS at their own files, or they are in
    # another folder: the snapshots are news on the shipped topics, so the demo reads those.
    own = tmp_path / "own"
    own.mkdir()
    (own / "telecoms.yaml").write_text(OWN_WATCHLIST, encoding="utf-8")
    root = Path(__file__).resolve().parents[1]
    done = _demo(tmp_path, env={"STANCEWATCH_WATCHLISTS": str(own), "PYTHONPATH": str(root)})
    assert done.returncode == 0, done.stderr[-3000:]
    assert "Demo done: 6 alerts, 2 position shifts" in done.stdout


async def test_a_demo_on_a_watchlist_its_snapshots_are_not_about_says_so(tmp_path: Path) -> None:
    own = tmp_path / "own"
    own.mkdir()
    (own / "telecoms.yaml").write_text(OWN_WATCHLIST, encoding="utf-8")
    watchlist = load_watchlists(own, env={}).watchlist
    assert watchlist is not None
    out = io.StringIO()
    assert await run_demo(watchlist, Console(file=out, width=100)) == 0
    text = " ".join(out.getvalue().split())
    assert "Demo done: 0 alerts" in text
    # Not a silent "0 alerts" that reads as a broken bot: what the snapshots are about,
    # and how to see them alert.
    assert "without --watchlists" in text
