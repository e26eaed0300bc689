"""`stancewatch demo` tells the story examples/demo/README.md describes, alert for alert."""

from __future__ import annotations

import io
import re

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
