"""Posts Slack may have taken without saying so, found again instead of posted twice.

chat.postMessage has no idempotency key. So every post carries message metadata naming its
outbox row, and when a try ends without a clear answer (our time limit, a connection dropped
after the request went out, an HTTP 5xx, `fatal_error` or `internal_error`), the next try
first reads the channel's recent messages (a thread's, for a reply; the DM's, for a DM) for
that key. If the history cannot be read, the post goes again: a possible duplicate, never a
lost alert. A try begun by an earlier process (the outbox keeps which rows had one) is
looked for the same way, since the row's last scheduled retry.
"""

from __future__ import annotations

import hashlib
import logging
from collections import OrderedDict
from collections.abc import Callable, Mapping
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.web.async_slack_response import AsyncSlackResponse

from bot.delivery import direct, mentions
from bot.delivery.slack.errors import answer_lost, error_code, what_went_wrong
from bot.models import DestinationKind
from bot.store.rows import OutboxRow

log = logging.getLogger(__name__)

EVENT_TYPE = "stancewatch_alert"
# Slack stamps a message with its own clock: look from a minute before our first try, so a
# clock a little behind Slack's cannot hide the message.
CLOCK_MARGIN_S = 60.0
# Messages read back: the retry comes seconds to minutes after the first try, and we post
# at most one message a second to a channel, so ours is among the newest few.
LOOKUP_LIMIT = 50
UNSURE_MEMORY = 10_000  # keys kept whose post may have landed
HISTORY_SCOPES = "channels:history (groups:history for a private channel)"
DM_HISTORY_SCOPE = "im:history"
_DMS = "DMs"  # what an unreadable DM history is told once for: all DMs, not each one


def post_key(destination_key: str, alert_id: str) -> str:
    """The key of an alert's post to a destination (its outbox row: one post per pair)."""
    return f"post {destination_key} {alert_id}"


def reply_key(destination_key: str, ident: str) -> str:
    """The key of a follow-up reply (`ident`: the row's alert id and version)."""
    return f"mention {destination_key} {ident}"


def digest_key(destination_key: str, alert_ids: list[str]) -> str:
    """The key of one digest part, by the alerts it lists (hashed: a part lists many)."""
    listed = hashlib.sha256(",".join(alert_ids).encode()).hexdigest()[:24]
    return f"digest {destination_key} {listed}"


def listed_key(destination_key: str, alert_id: str) -> str:
    """What stands, across a restart, for a digest part that listed this alert: the part's
    own key names all its alerts, which only the digest built at the retry knows."""
    return f"listed {destination_key} {alert_id}"


def recall_key(row: OutboxRow) -> str | None:
    """The key to look for before sending this outbox row's message again, if Slack may
    hold it from a try an earlier process began; None for a row not posted to Slack."""
    if row.action == mentions.MENTION_ACTION:
        channel = mentions.mentioned_channel(row.destination)
        if channel is None or channel.kind is not DestinationKind.SLACK_CHANNEL:
            return None
        return reply_key(channel.key, f"{row.alert_id}:{row.version}")
    dm = direct.DirectMessage.from_key(row.destination)
    if dm is not None and dm.platform != "slack":
        return None
    if dm is None and not row.destination.startswith(f"{DestinationKind.SLACK_CHANNEL.value}:"):
        return None  # an incoming webhook has no history to read; Discord has nonces
    if row.action in ("held", direct.DIGEST_DM_ACTION):
        return listed_key(row.destination, row.alert_id)
    if row.action in ("post", direct.DM_ACTION):
        return post_key(row.destination, row.alert_id)
    return None


def metadata(key: str) -> dict[str, Any]:
    """The message metadata that marks a post as ours, with its key."""
    return {"event_type": EVENT_TYPE, "event_payload": {"key": key}}


def carries(message: Mapping[str, Any], key: str) -> bool:
    """True when a message from Slack's history is the post with this key."""
    found = message.get("metadata")
    if not isinstance(found, dict) or found.get("event_type") != EVENT_TYPE:
        return False
    payload = found.get("event_payload")
    return isinstance(payload, dict) and payload.get("key") == key


class LostAnswers:
    """Posts each message with its key, and finds one whose answer was lost before a retry."""

    def __init__(self, clock: Callable[[], float]) -> None:
        self.clock = clock  # seconds since the epoch, as Slack's ts count them
        # Keys whose last try may have been taken, with when the first such try began.
        self._unsure: OrderedDict[str, float] = OrderedDict()
        self._told: set[str] = set()  # channels whose unreadable history was logged

    async def post(
        self, client: AsyncWebClient, channel: str, key: str, **fields: Any
    ) -> AsyncSlackResponse:
        """chat.postMessage with the key in its metadata; remembers a try whose answer was
        lost, so the next one looks before posting."""
        started = self.clock()
        try:
            response = await client.chat_postMessage(
                channel=channel, metadata=metadata(key), **fields
            )
        except Exception as exc:
            if answer_lost(exc):
                self.may_have_landed(key, started)
            raise
        self._unsure.pop(key, None)
        return response

    def recall(self, rows: list[OutboxRow]) -> None:
        """Look before sending again the messages of these rows, which an earlier process
        began to send and never marked sent (cut at a stop, a crash, a lost answer)."""
        for row in rows:
            key = recall_key(row)
            if key is not None:
                # Its try began after its next try was set (`scheduled_at`), or after it
                # was queued; the lookup's margin covers a try booked as failed later.
                self.may_have_landed(key, (row.scheduled_at or row.created).timestamp())

    def carry_over(self, key: str, earlier: list[str]) -> None:
        """The post with `key` is what the posts with these keys became (a digest part built
        again after a restart, from the alerts it lists): look for it if any may have landed."""
        since = [self._unsure.pop(k) for k in earlier if k in self._unsure]
        if since:
            self.may_have_landed(key, min(since))

    def may_have_landed(self, key: str, since: float) -> None:
        """A try of the post with this key, begun no earlier than `since` (epoch seconds),
        may have been taken: the next try looks for it first."""
        # The earliest try counts: a second lost answer may follow a first one.
        self._unsure.setdefault(key, since)
        while len(self._unsure) > UNSURE_MEMORY:
            self._unsure.popitem(last=False)

    async def find(
        self,
        client: AsyncWebClient,
        channel: str,
        key: str,
        thread_ts: str | None = None,
        *,
        dm: bool = False,
    ) -> str | None:
        """The ts of the post with this key if an earlier try landed unanswered, else None.

        Asks Slack only after such a try. If the history cannot be read, None: posting
        again may show the message twice, but never loses it. `dm`: the channel is a DM's,
        whose history needs another scope.
        """
        since = self._unsure.get(key)
        if since is None:
            return None
        oldest = f"{since - CLOCK_MARGIN_S:.6f}"
        try:
            if thread_ts:
                answer = await client.conversations_replies(
                    channel=channel,
                    ts=thread_ts,
                    oldest=oldest,
                    limit=LOOKUP_LIMIT,
                    include_all_metadata=True,
                )
            else:
                answer = await client.conversations_history(
                    channel=channel, oldest=oldest, limit=LOOKUP_LIMIT, include_all_metadata=True
                )
        except (SlackApiError, aiohttp.ClientError, TimeoutError, OSError) as exc:
            self._unreadable(channel, exc, dm=dm)
            return None
        messages = answer.get("messages")
        for message in messages if isinstance(messages, list) else []:
            if isinstance(message, dict) and carries(message, key) and message.get("ts"):
                self._unsure.pop(key, None)
                log.info(
                    "Slack had taken %s unanswered (ts %s): not posted again", key, message["ts"]
                )
                return str(message["ts"])
        return None

    def _unreadable(self, channel: str, exc: BaseException, *, dm: bool) -> None:
        """Say once per channel (once for all DMs) why its history could not be read, and
        what to add."""
        if (_DMS if dm else channel) in self._told:
            return
        self._told.add(_DMS if dm else channel)
        scope = DM_HISTORY_SCOPE if dm else HISTORY_SCOPES
        if isinstance(exc, SlackApiError):
            needed = exc.response.get("needed") if error_code(exc) == "missing_scope" else None
            scope = str(needed or scope)
        if dm:
            # One line for all followers: a missing scope fails every DM alike.
            log.warning(
                "could not read the recent messages of Slack DM %s (%s), so a DM Slack took"
                " without answering may show twice: the bot needs the %s scope (said once"
                " for all DMs)",
                channel,
                what_went_wrong(exc),
                scope,
            )
            return
        log.warning(
            "could not read the recent messages of Slack channel %s (%s), so a post Slack took"
            " without answering may show twice there: the bot needs the %s scope and to be in"
            " the channel (said once per channel)",
            channel,
            what_went_wrong(exc),
            scope,
        )
