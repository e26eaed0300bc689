"""The terminal alert: a feed's link must not inject rich markup or crash the print, and a
long quote keeps its indent when it wraps."""

from __future__ import annotations

import io
from dataclasses import replace
from datetime import UTC, datetime

import pytest
from rich.console import Console

from bot.delivery.console import ConsoleDelivery
from bot.models import Alert, StanceLine, TopicLine

WHEN = datetime(2025, 8, 18, tzinfo=UTC)


def alert(url: str) -> Alert:
    return Alert(
        id="s1",
        title="Allies offer guarantees",
        url=url,
        source="Example Wire",
        published=WHEN,
        topics=(TopicLine("sg", "Security guarantees", 0.7, "Allies offer."),),
        summary="Allies offer guarantees.",
    )


def printed(url: str) -> str:
    out = io.StringIO()
    console = Console(file=out, force_terminal=True, width=400, color_system="truecolor")
    ConsoleDelivery(console)._print(alert(url), edited=False)
    return out.getvalue()


@pytest.mark.parametrize("url", ["https://ok.example/[/link]", "https://ok.example/[/]"])
def test_a_closing_tag_in_the_link_does_not_crash_the_print(url: str) -> None:
    assert "ok.example" in printed(url)


def test_a_link_cannot_style_itself_or_link_elsewhere() -> None:
    url = "https://ok.example/a][bold red]INJECTED[/bold red][link=https://evil.example]Click"
    out = printed(url)
    assert "\x1b]8;id=" in out  # still a hyperlink
    assert ";https://evil.example\x1b\\" not in out  # but never to the injected target
    assert "\x1b[1;31mINJECTED" not in out  # and no injected style
    assert "[bold red]INJECTED[/bold red]" in out  # the URL is shown as written


def test_a_space_in_the_link_is_not_a_style() -> None:
    out = printed("https://reuters.com/x bold red")
    assert "\x1b[1;31m" not in out


def test_a_long_shift_quote_stays_indented_under_its_now_line() -> None:
    quote = " ".join(
        ["The ministry said deliveries of shells would stop until further notice."] * 3
    )
    shifted = StanceLine(
        "Germany",
        "Arms shipments",
        "halts deliveries",
        quote,
        before_label="keeps sending weapons",
        before_source="Example Wire",
        before_date=WHEN,
    )
    out = io.StringIO()
    console = Console(file=out, width=60, color_system=None)
    ConsoleDelivery(console)._print(
        replace(alert("https://ok.example/a"), stances=(shifted,)), False
    )
    body = [line[2:] for line in out.getvalue().splitlines() if line.startswith("│ ")]
    now = next(i for i, line in enumerate(body) if line.lstrip().startswith("Now:"))
    before = next(i for i, line in enumerate(body) if line.lstrip().startswith("Before:"))
    assert before - now > 2  # the quote wrapped over several lines
    assert all(line.startswith("  ") for line in body[now : before + 1])
