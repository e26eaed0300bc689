"""Topic matching with the real model: which topics an article is about, and why."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest

from bot.matching.embedder import Embedder
from bot.matching.topics import TopicMatcher, TopicScore
from bot.models import Actor, Article, Topic

WATER = Topic(
    id="water-rationing",
    name="Water rationing",
    description="Cities limiting household water use during a drought: rationing schedules, "
    "hosepipe bans, tanker deliveries and cuts to mains supply.",
    examples=(
        "The city will cut mains water to households for twelve hours a day.",
        "A hosepipe ban comes into force on Monday as reservoirs run low.",
    ),
    exclude=("The bottled water company reported record sales.",),
)
SCHOOLS = Topic(
    id="school-closures",
    name="School closures",
    description="Schools shut by authorities: closures, remote lessons, reopening dates.",
    examples=(
        "All primary schools in the district will close until further notice.",
        "Pupils will be taught online while their schools stay shut.",
    ),
)
ARMS = Topic(
    id="arms-to-ukraine",
    name="Arms for Ukraine",
    description="Deliveries of weapons and military aid to Ukraine's armed forces.",
    examples=("A new package of air-defence missiles is on its way to Kyiv.",),
)
UKRAINE = Actor("ukraine", "Ukraine", ("Ukraine", "Ukrainian", "Kyiv"))
USA = Actor("usa", "United States", ("United States", "US", "Washington"))


def _article(title: str, text: str) -> Article:
    now = datetime(2026, 5, 1, tzinfo=UTC)
    return Article("a1", "feed", "Test Wire", "https://example.org/a1", title, text, now, now)


def _scores(matcher: TopicMatcher, article: Article) -> dict[str, TopicScore]:
    return {s.topic_id: s for s in matcher.score(article, matcher.embed(article))}


def _matched(matcher: TopicMatcher, article: Article) -> set[str]:
    return {topic for topic, s in _scores(matcher, article).items() if s.matched}


DROUGHT = _article(
    "Capital orders water cuts as reservoirs fall to record low",
    "Households in the capital will lose mains water every night from Thursday, the utility "
    "said, as the drought drags on. Tankers will supply hospitals. A ban on filling "
    "swimming pools and watering gardens is already in force.",
)


@pytest.fixture(scope="module")
def matcher(embedder: Embedder) -> TopicMatcher:
    return TopicMatcher([WATER, SCHOOLS], embedder)


def test_an_article_on_one_topic_matches_it_and_shows_the_passage(matcher: TopicMatcher) -> None:
    scores = _scores(matcher, DROUGHT)
    assert _matched(matcher, DROUGHT) == {"water-rationing"}
    assert scores["water-rationing"].score > scores["school-closures"].score
    # The alert quotes the passage that matched: a sentence of this article.
    passage = scores["water-rationing"].passage
    assert passage in f"{DROUGHT.title}\n{DROUGHT.text}"
    assert "water" in passage.lower()


def test_an_article_on_two_topics_lists_both(matcher: TopicMatcher) -> None:
    both = _article(
        "Schools close and taps run dry as drought deepens",
        "The education ministry closed every school in the province on Monday and moved "
        "lessons online until further notice. Schools will reopen only when toilets and "
        "kitchens have running water again, the minister said. The water board cut mains "
        "supply to homes for twelve hours a day and banned hosepipes.",
    )
    assert _matched(matcher, both) == {"water-rationing", "school-closures"}


def test_unrelated_news_matches_nothing(matcher: TopicMatcher) -> None:
    football = _article(
        "Late penalty sends United into the cup final",
        "A penalty in the last minute of extra time gave United a 2-1 win on Saturday. "
        "The manager praised his players' patience in a tense second half.",
    )
    assert _matched(matcher, football) == set()


def test_a_declared_near_miss_pushes_its_look_alikes_down(embedder: Embedder) -> None:
    bottled = _article(
        "Bottled water maker posts record sales in hot summer",
        "The bottled water company said sales rose by a third as temperatures soared, and "
        "it plans a new bottling plant next year.",
    )
    without = TopicMatcher([replace(WATER, exclude=()), SCHOOLS], embedder)
    with_exclude = TopicMatcher([WATER, SCHOOLS], embedder)
    before = _scores(without, bottled)["water-rationing"].score
    after = _scores(with_exclude, bottled)["water-rationing"].score
    assert after < before
    assert not _scores(with_exclude, bottled)["water-rationing"].matched


def test_keywords_guard_a_topic(embedder: Embedder) -> None:
    guarded = TopicMatcher([replace(WATER, keywords=("desalination",)), SCHOOLS], embedder)
    scores = _scores(guarded, DROUGHT)
    assert scores["water-rationing"].score >= guarded.threshold(WATER)
    assert not scores["water-rationing"].matched  # on-topic, but no keyword in the text
    assert guarded.refusal(WATER, DROUGHT) is None  # WATER itself has no keywords
    assert guarded.topics[0].keywords
    assert guarded.refusal(guarded.topics[0], DROUGHT) == "none of its keywords appear"


def test_a_keyword_that_ends_or_starts_in_punctuation_lets_its_articles_through(
    embedder: Embedder,
) -> None:
    # "U.K.", "C++", ".NET": written as admins write them, they must be found; a word
    # boundary after the final dot never held, so such a topic silently matched nothing.
    for keyword in ("U.K.", "C++", ".NET"):
        guarded = replace(WATER, keywords=(keyword,))
        matcher = TopicMatcher([guarded, SCHOOLS], embedder)
        drought = _article(
            DROUGHT.title, f"{DROUGHT.text} Engineers wrote the meter software in {keyword} here."
        )
        assert matcher.refusal(guarded, drought) is None, keyword
        assert _scores(matcher, drought)["water-rationing"].matched, keyword
    uk = replace(WATER, keywords=("U.K.",))
    # Still whole words: "U.K.S" is not "U.K.", and "AT&T" is not found in "CAT&T".
    assert TopicMatcher([uk], embedder).refusal(uk, _article("x", "The U.K.S plan.")) is not None
    att = replace(WATER, keywords=("AT&T",))
    assert TopicMatcher([att], embedder).refusal(att, _article("x", "CAT&T rose.")) is not None


def test_a_topic_about_a_named_actor_needs_an_article_that_names_it(embedder: Embedder) -> None:
    matcher = TopicMatcher([ARMS, WATER], embedder, actors=[UKRAINE, USA])
    elsewhere = _article(
        "Taiwan takes delivery of new air-defence missiles",
        "Taiwan received a first batch of air-defence missiles and launchers from the United "
        "States on Tuesday, its defence ministry said, as part of a package of military aid.",
    )
    for_kyiv = replace(
        elsewhere,
        title="Kyiv takes delivery of new air-defence missiles",
        text=elsewhere.text.replace("Taiwan", "Ukraine"),
    )
    taiwan = _scores(matcher, elsewhere)["arms-to-ukraine"]
    assert taiwan.score >= matcher.threshold(ARMS)  # close in meaning...
    assert not taiwan.matched  # ...but the topic's name names Ukraine and the article does not
    assert matcher.refusal(ARMS, elsewhere) == "the article names none of: Ukraine"
    assert matcher.refusal(ARMS, for_kyiv) is None
    assert _scores(matcher, for_kyiv)["arms-to-ukraine"].matched
    # Without actors in the watchlist there is nothing to check against.
    plain = TopicMatcher([ARMS, WATER], embedder)
    assert _scores(plain, elsewhere)["arms-to-ukraine"].matched


def test_an_outlet_or_an_origin_named_after_a_place_does_not_name_the_actor(
    embedder: Embedder,
) -> None:
    matcher = TopicMatcher([ARMS, WATER], embedder, actors=[UKRAINE, USA])
    taiwan = _article(
        "Taiwan takes delivery of new air-defence missiles",
        "Taiwan received a first batch of air-defence missiles on Tuesday, the Kyiv "
        "Independent reported, citing a Kyiv-based analyst who follows arms sales in Asia.",
    )
    assert matcher.refusal(ARMS, taiwan) == "the article names none of: Ukraine"


def test_an_actor_named_only_in_the_description_does_not_guard_the_topic(
    embedder: Embedder,
) -> None:
    # The description names the United States in passing; the topic is not about it.
    water = replace(WATER, description=WATER.description + " Compared with the United States.")
    matcher = TopicMatcher([water, SCHOOLS], embedder, actors=[UKRAINE, USA])
    assert _scores(matcher, DROUGHT)["water-rationing"].matched
    assert matcher.refusal(water, DROUGHT) is None
