"""The positions modules load without the model libraries or any platform library."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HEAVY = ("sentence_transformers", "torch", "discord", "slack_bolt", "slack_sdk", "apscheduler")


def test_positions_import_is_light() -> None:
    modules = "bot.positions.extract, bot.positions.assign, bot.positions.shifts"
    code = f"import sys, {modules}, bot.positions.evaluate; print(' '.join(sys.modules))"
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=Path(__file__).resolve().parents[2],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    loaded = set(done.stdout.split())
    assert "bot.positions.evaluate" in loaded
    assert sorted(m for m in loaded if m.split(".")[0] in HEAVY) == []
