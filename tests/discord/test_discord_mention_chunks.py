"""A follow-up that pings more followers than one message holds goes out as several
messages, and Discord keeps every one of them."""

from __future__ import annotations

import re
from pathlib import Path
from types import ModuleType

from bot.delivery.mentions import FollowUp
from bot.models import Destination, DestinationKind

CHANNEL_ID = "700000000000000001"
CHANNEL = Destination(DestinationKind.DISCORD_CHANNEL, CHANNEL_ID)


async def test_a_follow_up_longer_than_one_message_pings_everyone_it_names(
    dk: ModuleType, tmp_path: Path
) -> None:
    # 200 mentions are about 4,400 characters: three messages. Each carries a nonce so that
    # a retry returns it; one nonce for all three made Discord hand back the first message
    # for the second and third, and their followers were never pinged.
    users = tuple(str(300000000000000100 + n) for n in range(200))
    async with dk.fake_discord() as fake:
        app = dk.make_app(tmp_path, fake, wl=dk.watchlist(webhook=False))
        async with dk.running(app) as runtime:
            follow_up = FollowUp(thread="", text="", users=users)
            await runtime.delivery.send_follow_up(CHANNEL, follow_up, "story-1:1")
            # A retry of the same row (its post was taken, the answer lost) adds nothing.
            await runtime.delivery.send_follow_up(CHANNEL, follow_up, "story-1:1")
        sent = [m for m in fake.messages.values() if m["channel_id"] == CHANNEL_ID]
        assert len(sent) >= 3
        pinged = [u for m in sent for u in re.findall(r"<@(\d+)>", m["content"])]
        assert sorted(pinged) == sorted(users)
