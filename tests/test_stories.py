"""Story keys: a re-issued or lightly rewritten headline is recognised as the same story."""

from __future__ import annotations

from bot.stories import _jaccard, new_story_id, title_key


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
