"""Fixtures for the positions tests.

The real model is the session-scoped `embedder` of tests/conftest.py: it loads once per
test session and every assigner here shares it.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.matching.embedder import Embedder
from bot.models import Actor, Position, Topic, Watchlist
from bot.positions.assign import PositionAssigner
from bot.watchlists import load_watchlists

ROOT = Path(__file__).resolve().parents[2]

# A watchlist that shares no actor, topic or word with the shipped one: the code must not
# depend on ours.
ENERGY = Watchlist(
    actors=(
        Actor("poland", "Poland", ("Poland", "Polish", "Warsaw", "Tusk")),
        Actor("eu", "European Union", ("EU", "European Commission", "Brussels", "von der Leyen")),
    ),
    topics=(
        Topic(
            id="coal-exit",
            name="Coal phase-out",
            description="Plans to close coal power plants and mines, the date of a coal exit, "
            "and subsidies that keep coal-fired electricity running.",
            examples=("The government set 2035 as the year its last coal plant will close.",),
            positions=(
                Position(
                    "backs-exit",
                    "supports closing coal plants on schedule",
                    (
                        "The ministry confirmed the coal plants would close by 2030.",
                        "We are ready to shut the last mine and move to wind power.",
                    ),
                    "for",
                ),
                Position(
                    "resists-exit",
                    "rejects or delays closing coal plants",
                    (
                        "The government refused to set a date for closing its coal plants.",
                        "The closure of the mines was postponed indefinitely.",
                    ),
                    "against",
                ),
            ),
        ),
    ),
)


@pytest.fixture(scope="session")
def shipped() -> Watchlist:
    """The watchlists shipped in watchlists/."""
    watchlist = load_watchlists(ROOT / "watchlists", env={}).watchlist
    assert watchlist is not None
    return watchlist


@pytest.fixture(scope="session")
def assigner(shipped: Watchlist, embedder: Embedder) -> PositionAssigner:
    """An assigner over the shipped topics, sharing the session's model."""
    return PositionAssigner([t for t in shipped.topics if t.positions], embedder)


@pytest.fixture(scope="session")
def energy_assigner(embedder: Embedder) -> PositionAssigner:
    """An assigner over a watchlist unlike ours."""
    return PositionAssigner(ENERGY.topics, embedder)


# A position for a limit: "limit" is what it is for, not a refusal.
CAPS = Topic(
    "production-caps",
    "Caps on plastic production",
    "Whether a treaty caps how much new plastic is made.",
    positions=(
        Position(
            "backs-cap",
            "backs a binding limit on plastic production",
            ("The delegation wants a global limit on new plastic output.",),
            "for",
        ),
        Position(
            "rejects-cap",
            "rejects any cap on production",
            ("The delegation refused to accept a cap on output.",),
            "against",
        ),
    ),
)
