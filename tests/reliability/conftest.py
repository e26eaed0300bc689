"""Fixtures shared by the reliability tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.reliability.helpers import FeedServer, serving


@pytest.fixture
def feeds() -> Iterator[FeedServer]:
    """A local feed server for the test; each test sets its routes."""
    with serving(FeedServer()) as server:
        yield server
