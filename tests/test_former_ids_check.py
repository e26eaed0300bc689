"""`former_ids:` in the watchlists: `stancewatch check` names each former id that could not
be carried over (its item's own id, a current id, one two items claim), file, line and key,
and lists the renames it found."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _check(folder: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", "check", "--watchlists", str(folder)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )


CLAIMS = """\
topics:
  - id: nato-membership
    name: NATO membership
    description: Ukraine's bid to join the NATO alliance and the allies' answers to it.
    former_ids: [nato, nato-membership]
    positions:
      - id: supports
        label: supports Ukraine joining the alliance
        former_ids: [backs, rejects]
      - id: rejects
        label: rejects Ukraine joining the alliance
        former_ids: [backs]
  - id: arms
    name: Arms shipments
    description: Weapons and ammunition that allies send to Ukraine's armed forces.
    former_ids: [nato, guarantees]
    positions:
      - id: backs
        label: backs sending more weapons
        former_ids: [supports]
actors:
  - id: united-states
    name: United States
    former_ids: [usa]
"""
OTHER = """\
topics:
  - id: guarantees
    name: Security guarantees
    description: Post-war security guarantees for Ukraine and who would give them.
actors:
  - id: usa
    name: USA
"""


def test_check_names_each_former_id_that_cannot_be_carried(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(CLAIMS, encoding="utf-8")
    (tmp_path / "b.yaml").write_text(OTHER, encoding="utf-8")
    done = _check(tmp_path)
    assert done.returncode == 1 and "Traceback" not in done.stderr, done.stderr
    a, b = tmp_path / "a.yaml", tmp_path / "b.yaml"
    errors = [line for line in done.stderr.splitlines() if "former id" in line]
    expected = [
        f"{a}:5: topics[0].former_ids[1]: former id 'nato-membership' is this topic's own id",
        f"{a}:9: topics[0].positions[0].former_ids[1]: former id 'rejects' is the id of a"
        f" current position of topic 'nato-membership' ({a}:10)",
        f"{a}:12: topics[0].positions[1].former_ids[0]: former id 'backs' is also claimed by"
        f" position 'supports' ({a}:9)",
        f"{a}:16: topics[1].former_ids[0]: former id 'nato' is also claimed by topic"
        f" 'nato-membership' ({a}:5)",
        f"{a}:16: topics[1].former_ids[1]: former id 'guarantees' is the id of a current"
        f" topic ({b}:2)",
        f"{a}:24: actors[0].former_ids[0]: former id 'usa' is the id of a current actor ({b}:6)",
    ]
    for line in expected:
        assert [e for e in errors if e.startswith(line)], (line, errors)
    # A position's former id is its topic's alone: 'supports' under 'arms' is no error.
    assert len(errors) == len(expected), errors


def test_check_says_which_ids_are_renamed(tmp_path: Path) -> None:
    text = OTHER.replace("  - id: usa\n", "  - id: united-states\n    former_ids: [usa]\n")
    (tmp_path / "w.yaml").write_text(text, encoding="utf-8")
    done = _check(tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[1:] == [
        "renamed: actor 'usa' is now 'united-states': its follows and history are"
        " carried over when the watchlists load"
    ]
