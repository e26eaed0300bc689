"""A member Discord will not DM is told so, once, in the reply to their next command."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType
from typing import Any

from bot.models import Destination, DestinationKind

APP_ID = "900000000000000002"
CHANNEL_ID = "700000000000000001"
GUILD_ID = "800000000000000001"
CHANNEL = Destination(DestinationKind.DISCORD_CHANNEL, CHANNEL_ID)
READER = "300000000000000002"
EPHEMERAL = 64
DM_MESSAGES = rf"/channels/(?!{CHANNEL_ID})\d+/messages"
CLOSED = "your direct messages are closed to this server"


def callback(fake: Any, payload: dict[str, Any]) -> dict[str, Any]:
    """The JSON the bot sent as the interaction's initial response."""
    seen = fake.only("POST", rf"/interactions/{payload['id']}/{payload['token']}/callback")
    return dict(seen.json)


def answered(fake: Any, payload: dict[str, Any]) -> dict[str, Any]:
    """The answer the member sees, edited into the response the bot deferred first."""
    assert callback(fake, payload)["type"] == 5
    path = rf"/webhooks/{APP_ID}/{payload['token']}/messages/@original"
    return dict(fake.only("PATCH", path).json)


async def dms_refused(dk: ModuleType, app: Any, fake: Any) -> None:
    """The reader follows by DM; Discord refuses their DMs (50007) on the next alert."""
    app.store.follow("discord", GUILD_ID, READER, "arms-shipments", True, datetime.now(UTC))
    refusal = {"message": "Cannot send messages to this user", "code": 50007}
    fake.fail("POST", DM_MESSAGES, 403, refusal)
    dk.queue(app, dk.alert(topics=("arms-shipments",)), [CHANNEL])
    while await app.outbox.drain():
        pass


async def test_the_next_command_tells_the_member_once_and_following_marks_the_follow(
    dk: ModuleType, tmp_path: Path
) -> None:
    async with dk.fake_discord() as fake:
        app = dk.make_app(tmp_path, fake)
        async with dk.running(app) as runtime:
            await dms_refused(dk, app, fake)
            first = dk.command_payload("following", user_id=READER)
            await dk.invoke(runtime, first)
            again = dk.command_payload("following", user_id=READER)
            await dk.invoke(runtime, again)
            # Someone else in the server owes nothing.
            other = dk.command_payload("following", user_id="300000000000000009")
            await dk.invoke(runtime, other)
        assert callback(fake, first)["data"]["flags"] == EPHEMERAL
        told = answered(fake, first)
        description = told["embeds"][0]["description"]
        assert f"I couldn't DM you ({CLOSED})" in description
        assert "mentioned in the channel instead for: Arms shipments." in description
        assert "/follow <topic> dm:True turns them back on" in description
        assert "• Arms shipments — mentioned in the channel: I could not DM you" in description
        later = answered(fake, again)["embeds"][0]["description"]
        assert CLOSED not in later
        assert "• Arms shipments — mentioned in the channel: I could not DM you" in later
        assert CLOSED not in str(answered(fake, other))


async def test_beside_a_public_answer_the_note_comes_privately(
    dk: ModuleType, tmp_path: Path
) -> None:
    async with dk.fake_discord() as fake:
        app = dk.make_app(tmp_path, fake)
        async with dk.running(app) as runtime:
            await dms_refused(dk, app, fake)
            topics = dk.command_payload("topics", user_id=READER)
            await dk.invoke(runtime, topics)
        assert not callback(fake, topics).get("data", {}).get("flags")
        public = answered(fake, topics)
        assert CLOSED not in str(public)
        note = fake.only("POST", rf"/webhooks/{APP_ID}/{topics['token']}$").json
        assert note["flags"] == EPHEMERAL
        assert CLOSED in note["embeds"][0]["description"]


async def test_following_by_dm_again_ends_the_switch(dk: ModuleType, tmp_path: Path) -> None:
    async with dk.fake_discord() as fake:
        app = dk.make_app(tmp_path, fake)
        async with dk.running(app) as runtime:
            await dms_refused(dk, app, fake)
            follow = dk.command_payload(
                "follow",
                [dk.option("topic", "arms-shipments"), dk.option("dm", True, kind=5)],
                user_id=READER,
            )
            await dk.invoke(runtime, follow)
            following = dk.command_payload("following", user_id=READER)
            await dk.invoke(runtime, following)
        answer = answered(fake, follow)["embeds"][0]["description"]
        assert "by direct message" in answer and CLOSED not in answer
        listed = answered(fake, following)["embeds"][0]["description"]
        assert listed == "• Arms shipments — by DM"
