"""`stancewatch eval`: replay labeled articles, measure topics and positions against baselines."""

from __future__ import annotations

import codecs
import difflib
import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from bot.encoding import not_utf8
from bot.matching.embedder import Embedder
from bot.matching.topics import TopicMatcher, contains_any
from bot.models import Article, Topic, Watchlist


class EvalDataError(ValueError):
    """The labeled data file is not in the format `stancewatch eval` reads."""


class UnknownIdError(EvalDataError):
    """A labeled topic, actor or position the watchlists do not have: often the data was
    written for other watchlists than the ones read."""


REQUIRED = ("id", "published", "title", "text", "topics")
KNOWN_KEYS = (*REQUIRED, "source", "url", "positions")


def load_records(
    path: Path, topic_ids: set[str], watchlist: Watchlist | None = None
) -> list[dict[str, Any]]:
    """Read JSON Lines labeled articles in time order; every problem names its line.

    With the watchlist, position labels are checked too: a typo in an actor or position id
    would otherwise only show up as lower recall.
    """
    records: list[dict[str, Any]] = []
    seen: dict[str, int] = {}
    for number, line in enumerate(_lines(path), 1):
        if not line.strip():
            continue
        where = f"{path}:{number}"
        record = _checked_record(where, line, topic_ids)
        record_id = str(record["id"])
        if record_id in seen:
            raise EvalDataError(f"{where}: id {record_id!r} already used on line {seen[record_id]}")
        seen[record_id] = number
        if "positions" in record:
            _check_positions(where, record["positions"], record["topics"], watchlist)
        records.append(record)
    if not records:
        raise EvalDataError(f"{path}: no labeled articles")
    return sorted(records, key=published_order)


def _lines(path: Path) -> list[str]:
    """The file's lines, read as UTF-8; an unreadable file or byte names where it is."""
    try:
        # Editors on Windows save JSON Lines with a byte order mark: not part of line 1.
        raw = path.read_bytes().removeprefix(codecs.BOM_UTF8)
    except OSError as exc:
        raise EvalDataError(f"{path}: cannot read: {exc}") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        bad_line, message = not_utf8(raw, exc.start)
        raise EvalDataError(f"{path}:{bad_line}: {message}") from None
    # Split on "\n" only: str.splitlines() also breaks at U+2028, U+2029 and NEL, which
    # JSON allows raw inside strings (json.dumps(ensure_ascii=False) writes them so).
    return [line.removesuffix("\r") for line in text.split("\n")]


def _checked_record(where: str, line: str, topic_ids: set[str]) -> dict[str, Any]:
    """One line read as a labeled article (its position labels are checked apart, after
    its id); EvalDataError says what is wrong with it."""
    try:
        record = json.loads(line)
    except json.JSONDecodeError as exc:
        raise EvalDataError(f"{where}: not valid JSON: {exc.msg}") from None
    except (ValueError, RecursionError) as exc:  # a 5000-digit number, deep nesting
        raise EvalDataError(f"{where}: not valid JSON: {exc}") from None
    if not isinstance(record, dict):
        raise EvalDataError(f"{where}: each line must be a JSON object")
    for key in record:
        meant = _misnamed(key, record)
        if meant is not None:
            raise EvalDataError(f"{where}: unknown key {key!r}: did you mean {meant!r}?")
    missing = [key for key in REQUIRED if key not in record]
    if missing:
        keys = ", ".join(repr(key) for key in missing)
        raise EvalDataError(f"{where}: missing key{'s' if len(missing) > 1 else ''} {keys}")
    # str() would make null "None" and an object its repr: ids that name no article.
    record_id = record["id"]
    if isinstance(record_id, bool) or not isinstance(record_id, str | int):
        raise EvalDataError(f"{where}: 'id' must be a string or a whole number")
    if not str(record_id).strip():
        raise EvalDataError(f"{where}: 'id' is empty")
    for key in ("title", "text"):
        if not isinstance(record[key], str):
            raise EvalDataError(f"{where}: {key!r} must be a string")
        # "\ud83d" alone is valid JSON (often half an emoji cut by a length limit) but
        # no text the model's tokenizer takes: it becomes U+FFFD, as in a feed's text.
        record[key] = _whole_characters(record[key])
    try:
        parse_published(record["published"])
    except ValueError as exc:
        raise EvalDataError(f"{where}: {exc}") from None
    topics = record["topics"]
    if not isinstance(topics, list) or not all(isinstance(t, str) for t in topics):
        raise EvalDataError(f"{where}: 'topics' must be a list of topic ids")
    unknown = set(topics) - topic_ids
    if unknown:
        raise UnknownIdError(f"{where}: unknown topic(s) {sorted(unknown)}")
    return record


def _misnamed(key: str, record: Mapping[str, Any]) -> str | None:
    """The key of the format that `key` was probably meant to be, when the record lacks
    it; None for a key of the user's own (notes, provenance), which is ignored.

    Labels under a misspelled key would be silently dropped: position figures resting on
    fewer articles than were labeled, and nothing said.
    """
    if key in KNOWN_KEYS:
        return None
    absent = [known for known in KNOWN_KEYS if known not in record]
    close = difflib.get_close_matches(key.lower(), absent, n=1, cutoff=0.8)
    if close:
        return close[0]
    # Stances under another name ("stances", "labels"): recognised by what they hold.
    value = record[key]
    holds_stances = isinstance(value, list) and any(
        isinstance(item, dict) and {"actor", "position"} <= item.keys() for item in value
    )
    return "positions" if holds_stances and "positions" in absent else None


def _whole_characters(text: str) -> str:
    """The text with each lone UTF-16 surrogate replaced by U+FFFD."""
    return text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")


def _check_positions(
    where: str, labels: Any, topics: list[str], watchlist: Watchlist | None
) -> None:
    """Each position label is {actor, topic, position}, naming ids the watchlist knows."""
    if not isinstance(labels, list):
        raise EvalDataError(f"{where}: 'positions' must be a list")
    for label in labels:
        if not isinstance(label, dict) or not all(
            isinstance(label.get(k), str) for k in ("actor", "topic", "position")
        ):
            raise EvalDataError(f"{where}: each position needs 'actor', 'topic' and 'position'")
        if label["topic"] not in topics:
            raise EvalDataError(f"{where}: position on {label['topic']!r}, not in 'topics'")
        if watchlist is None:
            continue
        topic = watchlist.topic(label["topic"])
        if not any(a.id == label["actor"] for a in watchlist.actors):
            raise UnknownIdError(f"{where}: unknown actor {label['actor']!r}")
        if topic is None or topic.position(label["position"]) is None:
            raise UnknownIdError(
                f"{where}: unknown position {label['position']!r} for {label['topic']!r}"
            )


def parse_published(value: Any) -> datetime:
    """A record's `published` as a UTC instant; ValueError says what is wrong with it.

    Replay order decides which stance counts as a shift, so a missing or unreadable date
    is an error rather than a guess. A date without a zone is taken as UTC.
    """
    if not isinstance(value, str):
        raise ValueError(f"'published' must be an ISO 8601 date-time string, got {value!r}")
    try:
        # RFC 3339 allows a lower-case "z" for UTC; fromisoformat reads only "Z".
        text = value.strip()
        text = text[:-1] + "+00:00" if text[-1:] in ("Z", "z") else text
        published = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(
            f"'published' is not an ISO 8601 date-time like 2025-08-19T09:00:00Z: {value!r}"
        ) from None
    return published if published.tzinfo else published.replace(tzinfo=UTC)


def published_order(record: Mapping[str, Any]) -> datetime:
    """A record's publication time as a UTC instant, for replay in time order.

    Sorting the raw strings would put 09:00+05:00 after 06:00Z.
    """
    return parse_published(record.get("published"))


def record_article(record: Mapping[str, Any]) -> Article:
    """Turn a labeled record into the Article the pipeline would see."""
    published = parse_published(record.get("published"))
    return Article(
        id=str(record["id"]),
        feed_url="eval",
        source=str(record.get("source") or "eval"),
        url=str(record.get("url") or f"eval:{record['id']}"),
        title=str(record["title"]),
        text=str(record["text"]),
        published=published,
        fetched=published,
    )


@dataclass(frozen=True)
class Counts:
    """True positives, false positives and false negatives."""

    tp: int = 0
    fp: int = 0
    fn: int = 0

    def __add__(self, other: Counts) -> Counts:
        return Counts(self.tp + other.tp, self.fp + other.fp, self.fn + other.fn)

    def figures(self) -> dict[str, float]:
        """Precision, recall and F1 (0 where undefined)."""
        precision = self.tp / (self.tp + self.fp) if self.tp + self.fp else 0.0
        recall = self.tp / (self.tp + self.fn) if self.tp + self.fn else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        return {"precision": round(precision, 4), "recall": round(recall, 4), "f1": round(f1, 4)}


def score_topics(
    gold: Sequence[set[str]], predicted: Sequence[set[str]], topic_ids: Sequence[str]
) -> dict[str, Any]:
    """Micro-averaged figures over (article, topic) pairs, and per topic."""
    per_topic: dict[str, Counts] = {t: Counts() for t in topic_ids}
    for truth, guess in zip(gold, predicted, strict=True):
        for topic in topic_ids:
            per_topic[topic] += Counts(
                int(topic in truth and topic in guess),
                int(topic not in truth and topic in guess),
                int(topic in truth and topic not in guess),
            )
    total = sum(per_topic.values(), Counts())
    return {
        **measured_figures(total),
        "per_topic": {t: measured_figures(c) for t, c in per_topic.items()},
    }


def measured_figures(counts: Counts) -> dict[str, float | None]:
    """Precision, recall and F1, None where nothing was there to measure.

    Recall and F1 are None when nothing is labeled (no article with the topic, no stance,
    no shift), and precision too when nothing was found either. A 0.000 there would read
    as "the matcher fails this topic", a 1.000 as a method that earned it; either would
    drag an average. Precision stays when something was found: every find was a false alarm.
    """
    figures: dict[str, float | None] = dict(counts.figures())
    if counts.tp + counts.fn == 0:
        figures.update(recall=None, f1=None)
        if counts.fp == 0:
            figures["precision"] = None
    return figures


_STOP = {"for", "of", "the", "and", "to", "in", "on", "a", "an", "with"}


def baseline_keywords(topics: Sequence[Topic]) -> dict[str, list[str]]:
    """Keywords for the keyword baseline: a topic's `keywords`, else its distinctive name words.

    Name words shared by every topic ("Ukraine" in all three of ours) are dropped: they
    say nothing about which topic an article is on.
    """
    words = {
        # \w, not [a-z0-9]: "Zölle" is one word, not "z" and "lle"; a Cyrillic name has words.
        t.id: {w for w in re.findall(r"\w+", t.name.lower()) if w not in _STOP}
        for t in topics
    }
    common = set.intersection(*words.values()) if len(words) > 1 else set()
    return {t.id: list(t.keywords) or sorted(words[t.id] - common) for t in topics}


def keyword_baseline(records: Sequence[Article], topics: Sequence[Topic]) -> list[set[str]]:
    """Baseline (a): a topic matches when any of its keywords occurs in the article."""
    keywords = baseline_keywords(topics)
    predicted = []
    for article in records:
        # The guard's own test of a word: "U.K." and "C++" have no \b at their ends.
        text = f"{article.title}\n{article.text}"
        predicted.append({t for t, words in keywords.items() if contains_any(text, words)})
    return predicted


def cosine_baseline(
    articles: Sequence[Article],
    topics: Sequence[Topic],
    gold: Sequence[set[str]],
    embedder: Embedder,
) -> tuple[list[set[str]], float | None]:
    """Baseline (b): whole text vs topic description, at the single best threshold (oracle).

    No threshold when none gives an F1 above 0 (a file with no article labeled with any of
    the topics: F1 is undefined at every one): then the baseline finds nothing, and the
    threshold is None rather than the first one tried, which nobody chose.
    """
    texts = [f"{a.title}. {a.text}" for a in articles]
    sims = embedder.encode(texts) @ embedder.encode([t.description for t in topics]).T
    best: tuple[float, float | None, list[set[str]]] = (0.0, None, [set() for _ in articles])
    for threshold in np.arange(0.05, 0.95, 0.01):
        predicted = [{topics[int(j)].id for j in np.flatnonzero(row >= threshold)} for row in sims]
        f1 = score_topics(gold, predicted, [t.id for t in topics])["f1"] or 0.0
        if f1 > best[0]:
            best = (f1, round(float(threshold), 2), predicted)
    return best[2], best[1]


# The lowest and highest per-topic threshold `best_thresholds` tries, in hundredths; the
# table names them when no threshold between them finds a topic's labeled articles.
THRESHOLDS_TRIED = (30, 80)


def best_thresholds(
    scored: Mapping[str, Sequence[tuple[float | None, bool]]],
) -> dict[str, dict[str, float | None]]:
    """Per topic, the threshold that would have given the best F1 on these articles.

    `scored` holds, per topic, each article's score (None when a guard refuses the topic
    whatever the score) and whether the article is labeled with the topic. Ties go to the
    higher threshold: the more precise of equally good choices. A topic no article is
    labeled with gets None: every threshold scores F1 0 there, and the tie-break would
    otherwise suggest the highest, a number someone might copy. So does a topic whose
    labeled articles all score below the lowest threshold tried (F1 0: none would help).
    """
    out: dict[str, dict[str, float | None]] = {}
    for topic_id, pairs in scored.items():
        if not any(labeled for _, labeled in pairs):
            out[topic_id] = {"threshold": None, "f1": None}
            continue
        best = (-1.0, 0.0)
        lowest, highest = THRESHOLDS_TRIED
        for threshold in (step / 100 for step in range(highest, lowest - 1, -1)):
            hits = [score is not None and score >= threshold for score, _ in pairs]
            labels = [labeled for _, labeled in pairs]
            counts = Counts(
                sum(h and y for h, y in zip(hits, labels, strict=True)),
                sum(h and not y for h, y in zip(hits, labels, strict=True)),
                sum(y and not h for h, y in zip(hits, labels, strict=True)),
            )
            f1 = counts.figures()["f1"]
            if f1 > best[0]:
                best = (f1, threshold)
        out[topic_id] = {"threshold": best[1] if best[0] > 0 else None, "f1": best[0]}
    return out


@dataclass(frozen=True)
class TopicReplay:
    """What the matcher made of each labeled article, in the records' order."""

    predicted: list[set[str]]  # the topics each article matched
    evidence: dict[str, list[dict[str, Any]]]  # per article id: every topic's score and passage
    # Per topic, each article's score (None where a guard refuses the topic) and its label.
    scored: dict[str, list[tuple[float | None, bool]]]


def replay_topics(
    matcher: TopicMatcher,
    topics: Sequence[Topic],
    articles: Sequence[Article],
    gold: Sequence[set[str]],
) -> TopicReplay:
    """Score every article against every topic, as the pipeline would."""
    replay = TopicReplay([], {}, {t.id: [] for t in topics})
    for article, truth in zip(articles, gold, strict=True):
        scores = matcher.score(article, matcher.embed(article))
        replay.predicted.append({s.topic_id for s in scores if s.matched})
        replay.evidence[article.id] = [
            {"topic": s.topic_id, "score": s.score, "passage": s.passage, "matched": s.matched}
            for s in scores
        ]
        for topic in topics:
            score = next(s.score for s in scores if s.topic_id == topic.id)
            # A refused topic scores nothing: no threshold would have let it match.
            refused = matcher.refusal(topic, article) is not None
            replay.scored[topic.id].append((None if refused else score, topic.id in truth))
    return replay


def baseline_figures(
    articles: Sequence[Article],
    topics: Sequence[Topic],
    gold: Sequence[set[str]],
    embedder: Embedder,
) -> dict[str, Any]:
    """The keyword and whole-text cosine baselines' figures, to read the matcher's against."""
    topic_ids = [t.id for t in topics]
    cosine_predicted, cosine_threshold = cosine_baseline(articles, topics, gold, embedder)
    return {
        "keyword": score_topics(gold, keyword_baseline(articles, topics), topic_ids),
        "whole_text_cosine": {
            **score_topics(gold, cosine_predicted, topic_ids),
            "threshold": cosine_threshold,
        },
    }


def threshold_suggestions(
    matcher: TopicMatcher,
    topics: Sequence[Topic],
    scored: Mapping[str, Sequence[tuple[float | None, bool]]],
) -> dict[str, dict[str, Any]]:
    """Per topic, the best threshold on these articles beside the one in use.

    Chosen on this file, so confirm it on another before relying on it. `labeled` says how
    many articles each suggestion rests on (0: none, no suggestion).
    """
    best = best_thresholds(scored)
    return {
        t.id: {
            **best[t.id],
            "current": matcher.threshold(t),
            "labeled": sum(labeled for _, labeled in scored[t.id]),
        }
        for t in topics
    }


def evaluate(
    watchlist: Watchlist,
    records: Sequence[Mapping[str, Any]],
    embedder: Embedder,
    matcher: TopicMatcher | None = None,
) -> dict[str, Any]:
    """Every figure `stancewatch eval --json` prints."""
    topics = watchlist.topics
    matcher = matcher or TopicMatcher.for_watchlist(watchlist, embedder)
    articles = [record_article(r) for r in records]
    gold = [set(r["topics"]) for r in records]
    replay = replay_topics(matcher, topics, articles, gold)
    # The keys' order is the order `--json` prints them in: kept as users have seen it.
    result: dict[str, Any] = {
        "articles": len(records),
        "topics": score_topics(gold, replay.predicted, [t.id for t in topics]),
        "baselines": baseline_figures(articles, topics, gold, embedder),
        # DESIGN.md's shape whatever the file labels: figures null where nothing was
        # labeled, so a script reading them needs no special case for a topics-only file.
        "positions": measured_figures(Counts()),
        "shifts": {**measured_figures(Counts()), "expected": 0, "detected": 0},
        "evidence": replay.evidence,
        "best_thresholds": threshold_suggestions(matcher, topics, replay.scored),
    }
    if any("positions" in r for r in records) and any(t.positions for t in topics):
        _add_position_figures(result, watchlist, records, embedder, replay.predicted)
    result["data_sha256"] = data_fingerprint(records)
    return result


def _add_position_figures(
    result: dict[str, Any],
    watchlist: Watchlist,
    records: Sequence[Mapping[str, Any]],
    embedder: Embedder,
    predicted: Sequence[set[str]],
) -> None:
    """Fill in the stance and shift figures, replayed on the topics each article matched."""
    from bot.positions.evaluate import evaluate_positions

    by_id = dict(zip((str(r["id"]) for r in records), predicted, strict=True))
    figures = evaluate_positions(
        watchlist, records, embedder, lambda r: sorted(by_id[str(r["id"])])
    )
    result["positions"] = figures["positions"]
    result["shifts"] = figures["shifts"]
    result["baselines"]["nearest_example"] = figures.get("baseline")
    # Read with `evidence`: each wrong stance or shift, with its quote.
    result["position_mistakes"] = figures["mistakes"]


def data_fingerprint(records: Sequence[Mapping[str, Any]]) -> str:
    """A short hash of the records' ids, so two runs can be told to be on the same data."""
    return hashlib.sha256(json.dumps([r["id"] for r in records]).encode()).hexdigest()[:12]
