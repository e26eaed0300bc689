"""A feed the English-only model cannot read: admins are told once, and `/feeds` says so."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from rich.console import Console

from bot.app import build_app
from bot.commands import Commands
from bot.delivery.console import ConsoleDelivery
from bot.matching.hashing import HashingEmbedder
from bot.models import Feed, Route, Watchlist
from bot.settings import Settings
from tests.conftest import rss
from tests.one_feed import DRILLS, OneFeed, one_feed, serve_local
from tests.reliability.helpers import OFF_TOPIC, ON_TOPIC

# Items of a Russian-language outlet, written for this test: a headline and a lead each.
RUSSIAN = [
    (
        "Лавров исключил вступление Украины в НАТО",
        "Министр иностранных дел России заявил журналистам, что Москва никогда не примет "
        "членство Украины в альянсе и не допустит иностранных военных на её территории.",
    ),
    (
        "В Кремле оценили итоги переговоров в Стамбуле",
        "Песков сказал, что встреча делегаций была полезной, однако до прекращения огня ещё "
        "далеко, а дата следующего раунда пока не согласована сторонами.",
    ),
    (
        "Европейские страны обсуждают гарантии безопасности для Киева",
        "Министры обороны нескольких государств Европы провели встречу, на которой говорили "
        "о возможном размещении миротворческого контингента после перемирия.",
    ),
    (
        "Германия передаст Украине новые системы ПВО",
        "Правительство в Берлине объявило о дополнительной партии зенитных комплексов, "
        "которые должны прибыть до конца весны вместе с запасом ракет к ним.",
    ),
    (
        "Венгрия снова заблокировала заявление о членстве Киева в альянсе",
        "Будапешт не поддержал совместный текст, сославшись на риск прямого столкновения "
        "союзников с Россией, и предложил вернуться к вопросу позже.",
    ),
    (
        "Ночью над регионами сбиты десятки беспилотников",
        "Военные сообщили о масштабной атаке на энергетические объекты в нескольких "
        "областях; в ряде городов утром частично отсутствовало электричество.",
    ),
    (
        "Макрон допустил отправку европейских военных на Украину",
        "Президент Франции заявил, что союзники готовы направить силы поддержки, если будет "
        "подписано соглашение о прекращении огня и его соблюдение будет проверяться.",
    ),
]
LATER_RUSSIAN = [
    (
        "Стороны обменялись пленными при посредничестве ОАЭ",
        "По данным обеих сторон, домой вернулись более ста военнослужащих; следующий обмен "
        "может состояться уже в ближайшие недели, сообщили посредники.",
    ),
    (
        "Москва ответила на предложение о воздушном перемирии",
        "В МИД России заявили, что готовы рассмотреть идею прекращения ударов по "
        "энергетике, но только при гарантиях, что перерыв не используют для перевооружения.",
    ),
]
AFTER_RESTART = [
    (
        "Польша усилила охрану границы с Белоруссией",
        "На восточную границу направлены дополнительные подразделения, а пограничники "
        "сообщили о росте числа попыток незаконного пересечения за последнюю неделю.",
    ),
]

# What the admin reads in the notice and in `/feeds`.
NOT_ENGLISH_LINE = "not in English"


class NoticeRecorder(ConsoleDelivery):
    """The console delivery, keeping the admin notices it was given."""

    def __init__(self) -> None:
        super().__init__(Console(file=None, quiet=True))
        self.notices: list[str] = []

    async def notify_admins(self, text: str) -> None:
        self.notices.append(text)


def _feed_body(items: list[tuple[str, str]]) -> bytes:
    return rss(
        "Вести",
        [
            {"title": title, "description": lead, "link": f"https://vesti.example/{n}"}
            for n, (title, lead) in enumerate(items)
        ],
    )


def _feeds_line(served: OneFeed) -> str:
    reply = Commands(served.app).feeds()
    [(name, value)] = reply.fields
    assert name == "News"
    return value


def _language_notices(recorder: NoticeRecorder) -> list[str]:
    return [n for n in recorder.notices if NOT_ENGLISH_LINE in n]


def _language_warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [
        r.getMessage()
        for r in caplog.records
        if r.levelno == logging.WARNING and NOT_ENGLISH_LINE in r.getMessage()
    ]


@pytest.mark.model
async def test_a_russian_feed_tells_admins_once_on_the_day_it_is_added(
    tmp_path: Path, embedder: Any, caplog: pytest.LogCaptureFixture
) -> None:
    recorder = NoticeRecorder()
    caplog.set_level(logging.WARNING)
    async with one_feed(
        tmp_path, _feed_body(RUSSIAN), embedder=embedder, console=recorder
    ) as served:
        # The first poll is history (nothing alerted), but it is read: the admin hears today.
        report = await served.poll()
        assert report.new_articles == len(RUSSIAN)
        [notice] = _language_notices(recorder)
        assert "News" in notice and "English only" in notice
        assert NOT_ENGLISH_LINE in _feeds_line(served)
        assert len(_language_warnings(caplog)) == 1

        # More Russian items: nothing said again.
        served.body = _feed_body(RUSSIAN + LATER_RUSSIAN)
        report = await served.poll()
        assert report.new_articles == len(LATER_RUSSIAN)
        assert len(_language_notices(recorder)) == 1

        # Nor after a restart; `/feeds` still says it.
        await served.restart()
        assert NOT_ENGLISH_LINE in _feeds_line(served)
        served.body = _feed_body(RUSSIAN + LATER_RUSSIAN + AFTER_RESTART)
        report = await served.poll()
        assert report.new_articles == len(AFTER_RESTART)
        assert len(_language_notices(recorder)) == 1
        assert len(_language_warnings(caplog)) == 1
        assert NOT_ENGLISH_LINE in _feeds_line(served)

        # Items are still stored (and scored) as before: nothing is dropped.
        stored = served.app.store.db.execute("SELECT COUNT(*) FROM articles").fetchone()[0]
        assert stored == len(RUSSIAN) + len(LATER_RUSSIAN) + len(AFTER_RESTART)
        scored = served.app.store.db.execute(
            "SELECT COUNT(DISTINCT article_id) FROM matches"
        ).fetchone()[0]
        assert scored == stored


@pytest.mark.model
async def test_an_english_feed_tells_admins_nothing(tmp_path: Path, embedder: Any) -> None:
    recorder = NoticeRecorder()
    async with one_feed(
        tmp_path, _feed_body(ON_TOPIC + OFF_TOPIC), embedder=embedder, console=recorder
    ) as served:
        await served.poll()
        assert recorder.notices == []
        assert NOT_ENGLISH_LINE not in _feeds_line(served)


@pytest.mark.model
async def test_a_few_foreign_items_in_an_english_feed_tell_nothing(
    tmp_path: Path, embedder: Any
) -> None:
    recorder = NoticeRecorder()
    mixed = ON_TOPIC + RUSSIAN[:2] + OFF_TOPIC
    async with one_feed(tmp_path, _feed_body(mixed), embedder=embedder, console=recorder) as served:
        await served.poll()
        # Then a run of foreign items, still a minority of what the feed carried lately.
        served.body = _feed_body(mixed + LATER_RUSSIAN)
        await served.poll()
        assert recorder.notices == []
        assert NOT_ENGLISH_LINE not in _feeds_line(served)


async def test_headlines_only_in_russian_tell_nothing(tmp_path: Path) -> None:
    # A headline is too short to tell a language by: no verdict, no notice.
    recorder = NoticeRecorder()
    headlines = [(title, "") for title, _ in RUSSIAN + LATER_RUSSIAN]
    async with one_feed(
        tmp_path,
        _feed_body(headlines),
        embedder=HashingEmbedder(english_only=True),
        console=recorder,
    ) as served:
        await served.poll()
        assert recorder.notices == []
        assert NOT_ENGLISH_LINE not in _feeds_line(served)


async def test_with_a_multilingual_model_a_russian_feed_tells_nothing(tmp_path: Path) -> None:
    # The hashing embedder stands in for a model that reads any language (it has no notion
    # of one), as a multilingual model named in STANCEWATCH_MODEL would.
    recorder = NoticeRecorder()
    async with one_feed(
        tmp_path, _feed_body(RUSSIAN), embedder=HashingEmbedder(), console=recorder
    ) as served:
        await served.poll()
        assert recorder.notices == []
        assert NOT_ENGLISH_LINE not in _feeds_line(served)


async def test_a_stand_in_for_the_english_model_is_told_like_the_real_one(
    tmp_path: Path,
) -> None:
    # The same Russian feed, with a stand-in that says it reads English only: the notice
    # depends on what the model reads, not on which embedder class is behind it.
    recorder = NoticeRecorder()
    async with one_feed(
        tmp_path,
        _feed_body(RUSSIAN),
        embedder=HashingEmbedder(english_only=True),
        console=recorder,
    ) as served:
        await served.poll()
        assert len(_language_notices(recorder)) == 1


async def test_several_feeds_not_in_english_are_one_notice_naming_each(tmp_path: Path) -> None:
    # A team adding a dozen regional feeds at once hears it once, not a dozen times.
    async def answer(request: web.Request) -> web.Response:
        # Each outlet's own items (the same links would be one outlet's copies).
        name = request.match_info["name"]
        body = _feed_body(RUSSIAN).replace(b"vesti.example", f"{name}.example".encode())
        return web.Response(body=body, content_type="application/rss+xml")

    server = web.Application()
    server.router.add_get("/{name}.xml", answer)
    runner, port = await serve_local(server)
    names = ("Vesti", "Kommersant", "Izvestia")
    feeds = tuple(Feed(f"http://127.0.0.1:{port}/{n}.xml", n, 600.0) for n in names)
    recorder = NoticeRecorder()
    app = build_app(
        Settings(db_path=tmp_path / "s.db"),
        Watchlist(topics=(DRILLS,), feeds=feeds, routes=(Route(("*",)),)),
        embedder=HashingEmbedder(english_only=True),
        deliveries=[recorder],
    )
    try:
        await app.pipeline.poll()
        [notice] = _language_notices(recorder)
        assert all(name in notice for name in names)
        assert notice.startswith("3 feeds are not in English")
        await app.pipeline.poll()
        assert len(_language_notices(recorder)) == 1
    finally:
        await app.close()  # the fetcher's session too, not just the database
        await runner.cleanup()
