"""The core stays light: heavy and platform libraries load only where they are needed."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HEAVY = (
    "discord",
    "slack_bolt",
    "slack_sdk",
    "apscheduler",
    "sentence_transformers",
    "torch",
    "feedparser",
)


def test_core_imports_no_heavy_or_platform_library() -> None:
    core = (
        "bot.pipeline, bot.commands, bot.app, bot.positions.extract, bot.positions.assign,"
        " bot.positions.shifts, bot.positions.evaluate"
    )
    code = f"import sys, {core}; print('\\n'.join(sorted(sys.modules)))"
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=Path(__file__).resolve().parents[1],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    loaded = set(done.stdout.split())
    assert {"bot.pipeline", "bot.app", "bot.positions.evaluate"} <= loaded
    heavy = sorted(m for m in loaded if m.split(".")[0] in HEAVY)
    assert heavy == []
