"""Full-text extraction for feeds that only carry a teaser."""

from __future__ import annotations

import builtins
import logging
from typing import Any

import pytest

from bot.feeds.fulltext import decode_page, extract_main_text

ARTICLE = """<!DOCTYPE html><html><head><title>Talks resume</title>
<script>var tracking = "do not keep this";</script></head><body>
<nav><a href="/">Home</a> | <a href="/world">World</a> | <a href="/sport">Sport</a></nav>
<article><h1>Talks resume in Geneva</h1>
<p>Delegations from both sides returned to the negotiating table in Geneva on Tuesday,
officials said, after a pause of almost three weeks in the talks.</p>
<p>The agenda includes a prisoner exchange and the reopening of a grain corridor through
the Black Sea, according to a draft seen by reporters at the venue.</p>
<p>Diplomats cautioned that any agreement on security guarantees would take far longer to
reach, and that neither delegation had changed its position on the main questions.</p>
</article>
<footer>Copyright 2025 Example Wire. All rights reserved.</footer></body></html>"""


def test_extracts_article_paragraphs_without_boilerplate() -> None:
    text = extract_main_text(ARTICLE)
    assert text is not None
    assert "Delegations from both sides returned" in text
    assert "grain corridor" in text
    assert "\n\n" in text  # paragraphs kept apart, like feed text
    assert "do not keep this" not in text
    assert "All rights reserved" not in text


def test_page_without_an_article_gives_none() -> None:
    stub = "<html><body><nav>Home</nav><p>Please enable JavaScript.</p></body></html>"
    assert extract_main_text(stub) is None
    assert extract_main_text("   ") is None


def test_missing_trafilatura_degrades_to_none(monkeypatch: pytest.MonkeyPatch) -> None:
    real_import = builtins.__import__

    def refuse(name: str, *args: Any, **kwargs: Any) -> Any:
        if name == "trafilatura":
            raise ImportError("No module named 'trafilatura'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", refuse)
    assert extract_main_text(ARTICLE) is None


def test_terminal_escapes_in_a_page_are_dropped() -> None:
    page = ARTICLE.replace("in Geneva on Tuesday", "in \x1b[31mGeneva\x1b[0m on Tuesday\x07")
    text = extract_main_text(page)
    assert text is not None
    assert "in Geneva on Tuesday," in text
    assert "\x1b" not in text and "\x07" not in text


def _page(body: str, head: str = "") -> str:
    head = f"<html><head>{head}<title>T</title></head>"
    return f"{head}<body><article><p>{body}</p></article></body></html>"


ACCENTED = (
    "Le café du “Palais” a rouvert – les délégués, déjà arrivés, ont salué la décision. "
    "Les négociations reprennent à Genève mardi, selon un communiqué du ministère."
)


def test_a_page_in_windows_1252_keeps_its_accents_and_quotes() -> None:
    # No charset anywhere in the page (the HTTP header is not seen): not UTF-8, so 1252.
    text = extract_main_text(_page(ACCENTED).encode("windows-1252"))
    assert text is not None and "�" not in text
    assert "café du “Palais” a rouvert – les délégués, déjà" in text


def test_a_charset_declared_only_in_a_meta_tag_is_used() -> None:
    meta = '<meta http-equiv="Content-Type" content="text/html; charset=ISO-8859-1">'
    latin = ACCENTED.replace("“", '"').replace("”", '"').replace("–", "-")
    assert "déjà arrivés" in (extract_main_text(_page(latin, meta).encode("latin-1")) or "")
    koi8 = '<meta charset="koi8-r">'
    russian = "Переговоры возобновятся во вторник в Женеве, сообщили в министерстве. " * 3
    assert "Переговоры возобновятся" in (
        extract_main_text(_page(russian, koi8).encode("koi8-r")) or ""
    )


def test_utf8_bytes_and_a_bom_decode_as_utf8() -> None:
    assert decode_page("déjà".encode()) == "déjà"
    assert decode_page(b"\xef\xbb\xbf" + "déjà".encode()) == "déjà"


def test_a_paywall_stub_is_not_article_text(caplog: pytest.LogCaptureFixture) -> None:
    stub = _page(
        "Subscribe to continue reading. Already a subscriber? Sign in. Get unlimited "
        "digital access to all our journalism for just $1 a week, cancel anytime."
    )
    with caplog.at_level(logging.INFO, logger="bot.feeds.fulltext"):
        assert extract_main_text(stub, url="https://news.example/a") is None
    (line,) = [r.getMessage() for r in caplog.records if r.name == "bot.feeds.fulltext"]
    assert "https://news.example/a" in line and "subscription prompt" in line


def test_a_teaser_before_the_paywall_prompt_is_kept_without_the_prompt() -> None:
    teaser = "Delegations from both sides returned to the negotiating table in Geneva on Tuesday."
    page = (
        f"<html><body><article><p>{teaser} {teaser}</p>"
        "<p>This article is for subscribers only. Already a subscriber? Log in.</p>"
        "</article></body></html>"
    )
    text = extract_main_text(page)
    assert text is not None and text.startswith("Delegations") and "subscriber" not in text


def test_a_page_without_article_text_says_so_in_one_line(caplog: pytest.LogCaptureFixture) -> None:
    links = "<html><body><div>" + "<a href='/x'>Link</a> " * 50 + "</div></body></html>"
    with caplog.at_level(logging.INFO):
        assert extract_main_text(links, url="https://news.example/b") is None
    lines = [r for r in caplog.records if r.levelno >= logging.INFO]
    assert [r.getMessage() for r in lines] == [
        "full text of https://news.example/b not used: no article text found; "
        "the feed's summary is kept"
    ]
