"""Full-text extraction for feeds that only carry a teaser."""

from __future__ import annotations

import builtins
from typing import Any

import pytest

from bot.feeds.fulltext import extract_main_text

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
