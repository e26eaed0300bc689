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
    code = "import sys, bot.pipeline, bot.commands, bot.app; print('\\n'.join(sorted(sys.modules)))"
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=Path(__file__).resolve().parents[1],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    loaded = set(done.stdout.split())
    assert "bot.pipeline" in loaded and "bot.app" in loaded
    heavy = sorted(m for m in loaded if m.split(".")[0] in HEAVY)
    assert heavy == []
