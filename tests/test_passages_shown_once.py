"""A matched passage already on the card (the headline, a summary sentence) is not repeated.

Checked on what each platform would show: the terminal's lines, Discord's embed and
Slack's blocks, all rendered from one alert.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime

import pytest

from bot.delivery.console import alert_lines
from bot.delivery.discord.render import render_alert as discord_render
from bot.delivery.slack.render import render_alert as slack_render
from bot.models import Alert, StanceLine, TopicLine

LEAD = "Norway will fund two more air-defence batteries for Ukraine, its defence minister said."
LATER = "Deliveries are due before the winter, according to the ministry."
TITLE = "Oslo pays for air defence batteries"
SUMMARY = f"{LEAD} The batteries come from a German maker. {LATER}"
ELSEWHERE = "The parliament in Oslo approved the money in a late vote on Tuesday."


def _discord(alert: Alert) -> str:
    return json.dumps(discord_render(alert).embed, ensure_ascii=False)


def _slack(alert: Alert) -> str:
    return json.dumps(slack_render(alert).blocks, ensure_ascii=False)


def _console(alert: Alert) -> str:
    return "\n".join(alert_lines(alert))


RENDERERS: dict[str, Callable[[Alert], str]] = {
    "terminal": _console,
    "discord": _discord,
    "slack": _slack,
}


def _alert(*passages: str, stances: tuple[StanceLine, ...] = ()) -> Alert:
    names = ("Arms shipments", "Air defence", "Aid budgets")
    return Alert(
        id="story-oslo",
        title=TITLE,
        url="https://news.example/oslo-air-defence",
        source="News Example",
        published=datetime(2026, 11, 20, 8, 0, tzinfo=UTC),
        topics=tuple(
            TopicLine(f"t{i}", names[i], 0.7 - i / 100, p) for i, p in enumerate(passages)
        ),
        summary=SUMMARY,
        stances=stances,
    )


@pytest.mark.parametrize("platform", RENDERERS)
def test_a_passage_the_summary_or_headline_holds_is_pointed_to_not_repeated(
    platform: str,
) -> None:
    shown = RENDERERS[platform](_alert(LEAD, TITLE, LATER))
    assert shown.count("Norway will fund two more air-defence batteries") == 1
    assert shown.count("Deliveries are due before the winter") == 1
    # The headline is shown as often as on a card whose passages are elsewhere.
    assert shown.count(TITLE) == RENDERERS[platform](_alert(ELSEWHERE)).count(TITLE)
    assert "matched the summary's first sentence" in shown
    assert "matched the headline" in shown
    assert "matched the summary's third sentence" in shown


@pytest.mark.parametrize("platform", RENDERERS)
def test_a_passage_the_card_does_not_hold_is_shown_by_itself(platform: str) -> None:
    # A passage that is only part of a summary sentence is not what the summary shows.
    part = "Norway will fund two more air-defence batteries."
    shown = RENDERERS[platform](_alert(ELSEWHERE, part))
    assert "The parliament in Oslo approved the money" in shown
    assert shown.count("Norway will fund two more air-defence batteries") == 2
    assert "matched the" not in shown


def _stance(quote: str, *, shift: bool) -> StanceLine:
    return StanceLine(
        actor_name="Norway",
        topic_name="Air defence",
        now_label="funds air defence for Ukraine",
        now_quote=quote,
        before_label="holds back new funding" if shift else None,
        before_source="News Example" if shift else None,
        before_date=datetime(2026, 10, 1, tzinfo=UTC) if shift else None,
    )


@pytest.mark.parametrize("platform", RENDERERS)
def test_a_restated_quote_the_summary_holds_is_pointed_to(platform: str) -> None:
    shown = RENDERERS[platform](_alert(ELSEWHERE, stances=(_stance(LEAD, shift=False),)))
    assert shown.count("Norway will fund two more air-defence batteries") == 1
    assert "funds air defence for Ukraine" in shown
    assert "(the summary's first sentence)" in shown


@pytest.mark.parametrize("platform", RENDERERS)
def test_a_shift_keeps_its_quote_beside_the_claim(platform: str) -> None:
    # The quote is the evidence for "position shifted": it stays, even if the summary has it.
    shown = RENDERERS[platform](_alert(ELSEWHERE, stances=(_stance(LEAD, shift=True),)))
    assert shown.count("Norway will fund two more air-defence batteries") == 2


@pytest.mark.parametrize("platform", RENDERERS)
def test_a_passage_that_is_the_headline_without_its_outlet_points_to_the_headline(
    platform: str,
) -> None:
    # Aggregated feeds sign headlines ("… | Example Post"); the body's copy of the headline
    # (the summary leaves it out) can be the best passage.
    signed = replace(_alert(f"{TITLE}."), title=f"{TITLE} | Example Post")
    shown = RENDERERS[platform](signed)
    assert shown.count(TITLE) == RENDERERS[platform](_alert(ELSEWHERE)).count(TITLE)
    assert "matched the headline" in shown


@pytest.mark.parametrize("platform", RENDERERS)
def test_a_shift_dates_its_before_alike_on_every_platform(platform: str) -> None:
    # The terminal said "01 Oct" where Discord and Slack said "01 Oct 2026": a "before" can
    # be a year old, and a day without its year reads as this year's.
    stance = replace(_stance(LEAD, shift=True), before_date=datetime(2025, 10, 1, tzinfo=UTC))
    shown = RENDERERS[platform](_alert(ELSEWHERE, stances=(stance,)))
    assert "01 Oct 2025" in shown
