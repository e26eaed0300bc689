"""Podcast-style items: a title and an <enclosure> (the audio), no <link>.

Their alert had no link at all, or, when the item's guid was not marked
isPermaLink="false", a link made of the guid ("ep14" became <feed host>/ep14, a page that
does not exist). The enclosure is the one thing such an item links to.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import rss
from tests.one_feed import OneFeed, one_feed

HISTORY = {"title": "Ferry timetable changes", "link": "https://example.org/ferry"}


def podcast(*items: str) -> bytes:
    return (
        '<?xml version="1.0"?><rss version="2.0"><channel><title>Harbour Hour</title>'
        f"{''.join(items)}</channel></rss>"
    ).encode()


def episode(title: str, audio: str, guid: str = "") -> str:
    return (
        f"<item><title>{title}</title>{guid}"
        "<description>Navy ships hold harbour drills with an exercise at sea.</description>"
        f'<enclosure url="{audio}" length="1000" type="audio/mpeg"/></item>'
    )


async def alerted(served: OneFeed, body: bytes) -> list[tuple[str, str]]:
    """Poll `body` after a first (history) poll; the (title, link) of each alert."""
    await served.poll()
    served.body = body
    await served.poll()
    await served.app.outbox.drain()
    return [(alert.title, alert.url) for alert in served.console.sent]


@pytest.mark.asyncio(loop_scope="function")
async def test_an_item_with_only_an_enclosure_links_to_it(tmp_path: Path) -> None:
    audio = "https://cdn.example/ep12.mp3"
    async with one_feed(tmp_path, rss("Pod", [HISTORY])) as served:
        sent = await alerted(served, podcast(episode("Episode 12: harbour drills", audio)))
    assert sent == [("Episode 12: harbour drills", audio)]


@pytest.mark.asyncio(loop_scope="function")
async def test_a_guid_that_is_no_address_is_not_made_the_items_link(tmp_path: Path) -> None:
    audio = "https://cdn.example/ep14.mp3"
    # isPermaLink is true unless the feed says otherwise, and "ep14" is no address.
    item = episode("Episode 14: harbour drills", audio, guid="<guid>ep14</guid>")
    async with one_feed(tmp_path, rss("Pod", [HISTORY])) as served:
        sent = await alerted(served, podcast(item))
    assert sent == [("Episode 14: harbour drills", audio)]


@pytest.mark.asyncio(loop_scope="function")
async def test_an_enclosure_item_is_alerted_once_though_its_signed_audio_link_changes(
    tmp_path: Path,
) -> None:
    # Podcast hosts sign their audio links anew for each request; the item stays one item.
    first = podcast(episode("Episode 15: harbour drills", "https://cdn.example/15.mp3?sig=a"))
    again = podcast(episode("Episode 15: harbour drills", "https://cdn.example/15.mp3?sig=b"))
    async with one_feed(tmp_path, rss("Pod", [HISTORY])) as served:
        sent = await alerted(served, first)
        served.body = again
        report = await served.poll()
        await served.app.outbox.drain()
    assert sent == [("Episode 15: harbour drills", "https://cdn.example/15.mp3?sig=a")]
    assert report.new_articles == 0
    assert len(served.console.sent) == 1


@pytest.mark.asyncio(loop_scope="function")
async def test_items_sharing_a_guid_are_not_told_apart_by_their_signed_audio_links(
    tmp_path: Path,
) -> None:
    # Told apart by their audio links, they would get new ids whenever the links are signed
    # anew, and be alerted again at every poll.
    def signed(sig: str) -> bytes:
        return podcast(
            *(
                episode(
                    f"Episode {n}: harbour drills",
                    f"https://cdn.example/{n}.mp3?sig={sig}",
                    guid="<guid>0</guid>",
                )
                for n in (16, 17)
            )
        )

    async with one_feed(tmp_path, rss("Pod", [HISTORY])) as served:
        await alerted(served, signed("a"))
        served.body = signed("b")
        report = await served.poll()
    assert report.new_articles == 0
