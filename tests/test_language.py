"""The language check: English or not, and "unknown" when a text is too short to tell."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.language import MAX_CHARS, MIN_FEED_ITEMS, Language, feed_language, read_language
from tests.language_samples import HARD_ENGLISH, NOT_ENGLISH, SHORT

ROOT = Path(__file__).resolve().parents[1]
PASSAGES = [(lang, text) for lang, texts in NOT_ENGLISH.items() for text in texts]


@pytest.mark.parametrize(("language", "text"), PASSAGES, ids=[p[0] for p in PASSAGES])
def test_a_passage_in_another_language_is_not_english(language: str, text: str) -> None:
    assert read_language(text) is Language.OTHER, language


def test_the_samples_cover_latin_scripts_and_others() -> None:
    for language in ("german", "french", "spanish", "polish", "russian", "ukrainian"):
        assert language in NOT_ENGLISH
    for language in ("arabic", "chinese", "japanese", "korean", "greek", "hindi"):
        assert language in NOT_ENGLISH


@pytest.mark.parametrize("text", HARD_ENGLISH)
def test_english_dense_with_names_and_figures_is_english(text: str) -> None:
    assert read_language(text) is Language.ENGLISH


def test_every_english_article_in_the_examples_is_english() -> None:
    texts = [
        f"{row['title']}\n\n{row['text']}"
        for path in sorted((ROOT / "examples" / "eval").rglob("*.jsonl"))
        for row in map(json.loads, path.read_text(encoding="utf-8").splitlines())
    ]
    assert len(texts) > 1000
    wrong = [t[:80] for t in texts if read_language(t) is not Language.ENGLISH]
    assert wrong == []


@pytest.mark.parametrize("text", SHORT)
def test_a_headline_or_a_few_words_are_unknown_in_any_language(text: str) -> None:
    assert read_language(text) is Language.UNKNOWN


def test_a_headline_alone_is_unknown_even_in_cyrillic() -> None:
    # The case that made this check: a headline is not enough to call a feed foreign.
    assert read_language("Лавров: Украина никогда не вступит в НАТО, заявил он") == "unknown"


def test_an_english_article_quoting_a_line_in_russian_is_english() -> None:
    text = (
        "The foreign minister repeated that Moscow would not accept foreign troops in Ukraine. "
        "«Этого не будет», he said, before leaving the briefing without taking any questions "
        "from the reporters who had waited for him."
    )
    assert read_language(text) is Language.ENGLISH


def test_only_the_start_of_a_long_text_is_read() -> None:
    # Full-text articles can be long: the check reads a bounded prefix, so its cost is flat.
    start = " ".join(HARD_ENGLISH * 5)
    assert len(start) > MAX_CHARS
    assert read_language(start + " Славянский текст" * 50_000) is Language.ENGLISH


def test_a_feed_is_other_only_with_enough_items_and_a_clear_majority() -> None:
    other, english, unknown = Language.OTHER, Language.ENGLISH, Language.UNKNOWN
    assert feed_language([other] * MIN_FEED_ITEMS) is other
    assert feed_language([other] * (MIN_FEED_ITEMS - 1)) is unknown
    # Headlines only: no verdicts, whatever their number.
    assert feed_language([unknown] * 50) is unknown
    assert feed_language([other] * 4 + [unknown] * 20) is unknown
    # A few foreign items among English ones.
    assert feed_language([english] * 8 + [other] * 2) is english
    # Half and half: no clear majority either way.
    assert feed_language([english] * 5 + [other] * 5) is unknown
    assert feed_language([english] * 3 + [other] * 7) is other


def test_feeds_of_terse_generated_english_never_read_as_foreign() -> None:
    # The bench's generated items are terse ("Museum attendance in Rome climbed to 2498
    # thousand visitors last year"): a few read as not English alone, never a feed.
    import random

    from bot.bench_news import generate_items

    items = generate_items(2_000, random.Random(7), "feed")
    readings = [read_language(f"{item.title}\n\n{item.text}") for item in items]
    assert readings.count(Language.ENGLISH) > 0.98 * len(readings)
    feeds = [readings[start : start + 10] for start in range(0, len(readings), 10)]
    assert all(feed_language(feed) is not Language.OTHER for feed in feeds)
