"""Story keys: a re-issued or lightly rewritten headline is recognised as the same story."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest

from bot.models import Article
from bot.store.sqlite import SQLiteStore
from bot.stories import _jaccard, find_story, new_story_id, title_key

NOW = datetime(2025, 8, 20, 12, 0, tzinfo=UTC)


def test_title_key_ignores_case_punctuation_order_and_stop_words() -> None:
    assert title_key("Allies offer Ukraine security guarantees") == title_key(
        "ALLIES OFFER UKRAINE SECURITY GUARANTEES!"
    )
    assert title_key("The allies offer guarantees to Ukraine") == title_key(
        "Ukraine: allies offer guarantees"
    )


def test_title_key_differs_for_different_stories() -> None:
    assert title_key("Allies offer Ukraine security guarantees") != title_key(
        "Russia rejects Western troops in Ukraine"
    )
    assert (
        _jaccard(
            title_key("Allies offer Ukraine security guarantees"),
            title_key("Russia rejects Western troops in Ukraine"),
        )
        < 0.6
    )


def test_story_id_is_stable_per_article() -> None:
    assert new_story_id("a-1") == new_story_id("a-1")
    assert new_story_id("a-1") != new_story_id("a-2")


def _store_with_story(tmp_path: Path, title: str, vector: np.ndarray) -> SQLiteStore:
    store = SQLiteStore(tmp_path / "s.db")
    article = Article(
        "a-1", "https://f.example/rss", "F", "https://f.example/1", title, "", NOW, NOW
    )
    store.add_story(new_story_id("a-1"), article, title_key(title), vector, NOW)
    return store


def _unit(index: int) -> np.ndarray:
    vector = np.zeros(8, dtype=np.float32)
    vector[index] = 1.0
    return vector


@pytest.mark.parametrize(
    "title",
    ["Live updates", "Morning briefing", "Letters", "Photos of the day", "Breaking news"],
)
def test_generic_headlines_do_not_fold_different_stories(tmp_path: Path, title: str) -> None:
    # Same recurring headline, different leads (orthogonal title+lead vectors).
    store = _store_with_story(tmp_path, title, _unit(0))
    assert find_story(store, title_key(title), _unit(1), NOW) is None
    # The same slot with the same lead (a re-issue) is still one story, by its vector.
    assert find_story(store, title_key(title), _unit(0), NOW) is not None
    store.close()


def test_a_specific_headline_still_folds_on_its_words(tmp_path: Path) -> None:
    title = "Allies offer Ukraine security guarantees"
    store = _store_with_story(tmp_path, title, _unit(0))
    rewrite = title_key("Allies offer security guarantees to Ukraine")
    assert find_story(store, rewrite, _unit(1), NOW) is not None
    store.close()


def test_a_headline_in_another_script_folds_on_its_words(tmp_path: Path) -> None:
    # A Russian outlet re-issues its item under the same headline with a new lead: every
    # word is Cyrillic, and a key of ASCII words alone was empty, so it never folded.
    title = "Лавров отверг гарантии безопасности для Киева"
    store = _store_with_story(tmp_path, title, _unit(0))
    reissue = title_key("Лавров отверг гарантии безопасности для Киева!")
    assert find_story(store, reissue, _unit(1), NOW) is not None
    store.close()


def test_accented_words_are_not_split_into_shared_fragments(tmp_path: Path) -> None:
    # Criticism, then praise: two pieces of news. Read as ASCII fragments ("m", "ller",
    # "u", "ert"), the accented words made four of six words shared and folded the second.
    store = _store_with_story(tmp_path, "Müller äußert Kritik", _unit(0))
    assert find_story(store, title_key("Müller äußert Lob"), _unit(1), NOW) is None
    store.close()
