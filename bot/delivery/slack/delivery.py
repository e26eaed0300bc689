"""Alerts to Slack: channels through the bot token, incoming webhooks, follower mentions and DMs."""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any, TypeVar

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.webhook.async_client import AsyncWebhookClient

from bot.delivery.base import ATTEMPT_LIMIT_S, DeliveryError, SentPlainer
from bot.delivery.digest import digests_to_dm
from bot.delivery.direct import DirectMessage, RefusesDms, queue_digest_dm, queue_dms
from bot.delivery.mentions import FollowUp, queue_follow_ups
from bot.delivery.slack.errors import (
    BLOCK_ERRORS,
    BROKEN,
    DM_REFUSED,
    EDIT_GONE,
    SLACK_DOWN,
    TOKEN_REFUSED,
    WEBHOOK_BROKEN,
    WEBHOOK_CODE,
    blocks_refused,
    card_refused,
    error_code,
    http_status,
    is_slack_reply,
    retry_after_s,
    unreachable,
    what_went_wrong,
)
from bot.delivery.slack.pacing import ChannelPacer
from bot.delivery.slack.recall import LostAnswers, digest_key, listed_key, post_key, reply_key
from bot.delivery.slack.render import (
    SlackMessage,
    digest_parts,
    followup_mentions,
    in_slack_spelling,
    render_alert,
    render_digest,
    render_text,
)
from bot.models import Alert, Destination, DestinationKind, Digest
from bot.settings import Settings
from bot.store.protocol import Store

log = logging.getLogger(__name__)

T = TypeVar("T")

PLATFORM = "slack"
PACE_S = 1.0  # Slack: "about one message per second per channel"
# One Slack request may take as long as one delivery attempt may (base.ATTEMPT_LIMIT_S), so a
# stalled Slack ends inside the stop grace like a stalled Discord does.
TIMEOUT_S = int(ATTEMPT_LIMIT_S)
# What a post beside the alert (extra mentions, a DM, an admin notice) may raise: logged, never
# raised, so it can neither fail the alert nor make the outbox post it again.
_SIDE_POST_ERRORS = (SlackApiError, DeliveryError, aiohttp.ClientError, TimeoutError, OSError)
DM_MEMORY = 10_000  # followers' DM channel ids kept


def api_base(url: str) -> str:
    """The Web API base URL with the trailing slash slack_sdk needs."""
    return url if url.endswith("/") else url + "/"


def _sent(message_ref: str | None, refusal: DeliveryError | None) -> str | SentPlainer | None:
    """What the outbox gets back: the message ref, with the refusal if the text went alone."""
    return message_ref if refusal is None else SentPlainer(message_ref, refusal)


class SlackDelivery:
    """Posts and edits alerts on Slack; tells admins once when a destination breaks."""

    platform = PLATFORM

    def __init__(
        self,
        store: Store,
        settings: Settings,
        client: AsyncWebClient | None = None,
        *,
        team_id: str = "",
        pace_s: float = PACE_S,
        webhook_factory: Callable[[str], AsyncWebhookClient] | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.store = store
        self.clock = clock  # the outbox's: DM rows are queued in its time
        self.settings = settings
        self.client = client  # None: no bot token, webhooks only
        self.team_id = team_id
        self.pacer = ChannelPacer(pace_s)
        # Posts whose answer was lost are looked for before they are posted again.
        self.lost_answers = LostAnswers(lambda: self.clock().timestamp())
        # What an earlier process began to send and never marked sent: Slack may have it.
        self.lost_answers.recall(self.store.unsent_tried_messages())
        self._webhook_factory = webhook_factory or (
            lambda url: AsyncWebhookClient(url=url, timeout=TIMEOUT_S, retry_handlers=[])
        )
        # True once a channel has told admins that Slack refuses the bot token; a post that
        # goes through sets it back, so a later refusal is told again.
        self._token_refusal_told = False
        # Each follower's DM channel id: conversations.open is rate limited (Tier 3), and
        # asking it again for every alert dropped DMs in a busy hour.
        self._dm_channels: OrderedDict[str, str] = OrderedDict()

    def handles(self, destination: Destination) -> bool:
        """Webhooks always; channels only with a bot token."""
        if destination.kind is DestinationKind.SLACK_WEBHOOK:
            return True
        return destination.kind is DestinationKind.SLACK_CHANNEL and self.client is not None

    async def identify(self) -> str:
        """The workspace (team) id of the bot token, from auth.test; cached."""
        if not self.team_id:
            assert self.client is not None
            response = await self.client.auth_test()
            self.team_id = str(response.get("team_id") or "")
            log.info("Slack bot connected to team %s as %s", self.team_id, response.get("user_id"))
        return self.team_id

    # --- sending -----------------------------------------------------------------------

    async def send(self, destination: Destination, alert: Alert) -> str | SentPlainer | None:
        """Post the alert; return "channel:ts" in bot mode, None for a webhook (wrapped in a
        SentPlainer when Slack refused the card and took its text alone)."""
        if destination.kind is DestinationKind.SLACK_WEBHOOK:
            message = render_alert(replace(alert, mentions=()))
            return _sent(None, await self._post_webhook(destination, message))
        mentioned, direct = await self._audience(destination, alert)
        pinging = replace(alert, mentions=tuple(mentioned))
        response, refusal = await self._call_channel(
            destination,
            destination.target,
            render_alert(pinging),
            key=post_key(destination.key, alert.id),
        )
        self._token_refusal_told = False
        channel = str(response.get("channel") or destination.target)
        ts = str(response.get("ts") or "")
        if not ts:
            # Accepted (ok) without a ts: a proxy or a fake. Posted all the same, so it is
            # sent, never posted again; "channel:" tells `edit` there is nothing to update.
            log.warning(
                "Slack accepted alert %s in %s but gave no ts: later updates to it are skipped",
                alert.id,
                channel,
            )
        # Extra mentions (replies in the card's thread) and DMs go through the outbox as
        # rows of their own: retried like posts, sent once, never holding this channel.
        self._queue_follow_ups(alert.id, destination, channel, ts, followup_mentions(pinging))
        queue_dms(self.store, alert.id, PLATFORM, self.team_id, direct, self.clock())
        return _sent(f"{channel}:{ts}", refusal)

    def digest_parts(self, destination: Destination, digest: Digest) -> list[Digest]:
        """The digest as messages within Slack's limits (see render.digest_parts)."""
        return digest_parts(digest)

    async def send_digest(self, destination: Destination, digest: Digest) -> None:
        """Post one digest part: to a webhook with no pings; to a channel with its followers
        mentioned (on the first part only) and its items DMed to those who asked.

        Refused blocks are not re-sent as the text fallback alone, as an alert's are: that
        text names the topics, not the items, so the alerts would be lost in it.
        """
        if destination.kind is DestinationKind.SLACK_WEBHOOK:
            message = render_digest(replace(digest, mentions=()))
            await self._post_webhook(destination, message, text_alone=False)
            return
        team = await self._guard(destination, self.identify())
        mentioned: list[str] = []
        if digest.mention_topics:
            rows = self.store.followers(PLATFORM, team, list(digest.mention_topics))
            mentioned = [u for u, dm in rows if not dm]
        pinging = replace(digest, mentions=tuple(mentioned))
        message = render_digest(pinging)
        key = self._digest_key(destination.key, digest)
        response, _ = await self._call_channel(
            destination, destination.target, message, key=key, text_alone=False
        )
        self._token_refusal_told = False
        channel = str(response.get("channel") or destination.target)
        # As after an alert, what goes beside it is queued as outbox rows (the follow-ups
        # keyed by the part's first alert, which has no card here).
        ts = str(response.get("ts") or "")
        followups = followup_mentions(pinging)
        self._queue_follow_ups(digest.items[0].alert_id, destination, channel, ts, followups)
        for user, theirs in digests_to_dm(self.store, PLATFORM, team, digest):
            held = [item.alert_id for item in theirs.items]
            queue_digest_dm(self.store, PLATFORM, team, user, held, self.clock())

    def _digest_key(self, destination_key: str, digest: Digest) -> str:
        """The key of a digest part; looked for first if a part listing any of its alerts
        may have landed in an earlier process."""
        alert_ids = [item.alert_id for item in digest.items]
        key = digest_key(destination_key, alert_ids)
        self.lost_answers.carry_over(key, [listed_key(destination_key, a) for a in alert_ids])
        return key

    def _queue_follow_ups(
        self,
        alert_id: str,
        destination: Destination,
        channel: str,
        ts: str,
        messages: list[SlackMessage],
    ) -> None:
        """Queue the mentions the message had no room for, as replies in its thread."""
        follow_ups = [FollowUp(f"{channel}:{ts}", m.text, ()) for m in messages]
        queue_follow_ups(self.store, alert_id, destination, follow_ups, self.clock())

    async def send_follow_up(
        self, destination: Destination, follow_up: FollowUp, ident: str
    ) -> None:
        """Reply in the alert's thread with the mentions its card had no room for.

        A thread keeps the channel to one message per alert; a mention there still notifies.
        Failures leave as the post's would: a rate limit waits, an outage is retried.
        """
        assert self.client is not None  # handles() said so
        client = self.client
        channel, _, ts = follow_up.thread.partition(":")
        message = SlackMessage(text=follow_up.text)
        key = reply_key(destination.key, ident)

        async def reply() -> None:
            # A reply Slack took but did not answer is in the thread: not replied again.
            if await self.lost_answers.find(client, channel, key, thread_ts=ts or None):
                return
            async with self.pacer.slot(channel):
                await self.lost_answers.post(
                    client, channel, key, thread_ts=ts or None, **message.payload()
                )

        await self._guard(destination, reply(), channel)

    async def edit(
        self, destination: Destination, message_ref: str, alert: Alert
    ) -> SentPlainer | None:
        """Update a posted alert with chat.update; webhooks cannot edit, so nothing is sent."""
        if destination.kind is DestinationKind.SLACK_WEBHOOK:
            log.debug("webhook %s cannot edit; the update is not posted", destination.key)
            return None
        channel, colon, ts = message_ref.partition(":")
        if not colon:
            raise DeliveryError(f"bad Slack message ref {message_ref!r}", permanent=True)
        # No ts: Slack took the post without giving one (said when it was posted). "None":
        # how such a post was recorded before, so chat.update was refused at every retry.
        if ts in ("", "None"):
            log.info(
                "alert %s in %s: its post has no Slack ts, so this update is skipped",
                alert.id,
                channel,
            )
            return None
        mentioned, _direct = await self._audience(destination, alert)
        message = render_alert(replace(alert, mentions=tuple(mentioned)))
        _, refusal = await self._call_channel(destination, channel, message, ts=ts)
        return None if refusal is None else SentPlainer(message_ref, refusal)

    async def _audience(
        self, destination: Destination, alert: Alert
    ) -> tuple[list[str], list[str]]:
        """Followers of the alert's topics here: (to mention, to DM)."""
        team = await self._guard(destination, self.identify())
        rows = self.store.followers(PLATFORM, team, [t.topic_id for t in alert.topics])
        return [u for u, dm in rows if not dm], [u for u, dm in rows if dm]

    async def _call_channel(
        self,
        destination: Destination,
        channel: str,
        message: SlackMessage,
        ts: str | None = None,
        *,
        key: str = "",
        text_alone: bool = True,
    ) -> tuple[Mapping[str, Any], DeliveryError | None]:
        """Post the message under `key` (or update the one at `ts`); if Slack refuses its
        blocks, the text alone. A post Slack took on an unanswered try is not posted again.

        Returns Slack's answer and, when only the text went, what Slack said to the blocks.
        """
        assert self.client is not None
        client = self.client

        async def call(payload: SlackMessage) -> Mapping[str, Any]:
            async with self.pacer.slot(channel):
                if ts is None:
                    response = await self.lost_answers.post(
                        client,
                        channel,
                        key,
                        unfurl_links=False,
                        unfurl_media=False,
                        **payload.payload(),
                    )
                else:
                    response = await client.chat_update(channel=channel, ts=ts, **payload.payload())
            return response.data if isinstance(response.data, dict) else {}

        if ts is None:
            found = await self.lost_answers.find(client, channel, key)
            if found:
                return {"channel": channel, "ts": found}, None
        try:
            return await call(message), None
        except SlackApiError as exc:
            code = error_code(exc)
            if code not in BLOCK_ERRORS:
                raise await self._failure(destination, channel, exc) from exc
            if not text_alone:
                raise blocks_refused(code) from exc
            # The outbox tells admins once per kind of refusal; the log need not, per alert.
            log.debug("Slack refused the blocks (%s); sending the text alone", code)
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            raise unreachable("Slack", exc) from exc
        text_alone_call = call(SlackMessage(text=message.text))
        return await self._guard(destination, text_alone_call, channel), card_refused(code)

    async def _guard(self, destination: Destination, call: Awaitable[T], key: str = "") -> T:
        """Await a Slack call, turning its failures into DeliveryErrors."""
        try:
            return await call
        except SlackApiError as exc:
            raise await self._failure(destination, key or destination.target, exc) from exc
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            raise unreachable("Slack", exc) from exc

    async def _failure(
        self, destination: Destination, key: str, exc: SlackApiError
    ) -> DeliveryError:
        code = error_code(exc)
        headers = getattr(exc.response, "headers", None)
        return await self._classify(
            destination, key, code, http_status(exc), headers, slack_reply=is_slack_reply(exc)
        )

    async def _classify(
        self,
        destination: Destination,
        key: str,
        code: str,
        status: int,
        headers: Mapping[str, Any] | None,
        *,
        slack_reply: bool = True,
    ) -> DeliveryError:
        where = self._where(destination)
        if not slack_reply and status != 429:
            return self._not_slack(destination, status)
        if status == 429 or code == "ratelimited":
            wait = retry_after_s(headers)
            self.pacer.block(key, wait)
            return DeliveryError(
                f"Slack rate limited {where}; retry after {wait:.0f} s", retry_after_s=wait
            )
        table = WEBHOOK_BROKEN if destination.kind is DestinationKind.SLACK_WEBHOOK else BROKEN
        if table is BROKEN and code in TOKEN_REFUSED:
            return self._token_refused(code)
        if code in table:
            permanent, hint = table[code]
            after = (
                "Its alerts are kept, not retried: fix it, then run stancewatch outbox --replay."
                if permanent
                else "Its alerts are kept and retried."
            )
            # The outbox tells admins once, as "Alerts to <destination> are failing: <this>",
            # so this says what Slack answered and what to do, not again which destination.
            return DeliveryError(
                f"Slack answered {code}: {hint}. {after}",
                permanent=permanent,
                destination_broken=True,
            )
        if code in BLOCK_ERRORS:
            # Refused even as the text alone: our rendering needs a fix, so admins hear of it
            # once per kind (the outbox says so), as on Discord.
            return DeliveryError(
                f"Slack refused the message for {where}: {code}", permanent=True, refused=code
            )
        if code in EDIT_GONE or status in (400, 404, 410):
            return DeliveryError(f"Slack refused the message for {where}: {code}", permanent=True)
        if status >= 500 or code in SLACK_DOWN:
            # The destination's other alerts wait behind this one instead of each trying.
            return DeliveryError(
                f"Slack failed for {where}: {code} (HTTP {status})", unavailable=True
            )
        return DeliveryError(f"Slack error for {where}: {code} (HTTP {status})")

    def _token_refused(self, code: str) -> DeliveryError:
        """Slack refused the bot token: the first channel to meet it is marked failing (admins
        are told, and told again once it works); the others wait as in an outage."""
        first = not self._token_refusal_told
        self._token_refusal_told = True
        return DeliveryError(
            f"Slack answered {code}: {BROKEN[code][1]}. Alerts to every Slack channel are"
            " kept and retried.",
            destination_broken=first,
            unavailable=not first,
        )

    @staticmethod
    def _not_slack(destination: Destination, status: int) -> DeliveryError:
        """The address answered, but not as Slack does: a wrong URL, or a proxy's page.

        Not a refusal of this alert, so it is kept; the other alerts wait behind it.
        An error page of a real Slack outage (HTTP 5xx) is an outage, said to nobody.
        """
        if status >= 500:
            return DeliveryError(
                f"Slack failed for {SlackDelivery._where(destination)}: HTTP {status}",
                unavailable=True,
            )
        if destination.kind is DestinationKind.SLACK_WEBHOOK:
            what, hint = "the webhook URL", "check the webhook URL"
        else:
            what, hint = "the Slack API address", "check SLACK_API_BASE, or a proxy in between"
        # What the page said is left out: it is HTML at best, and never one clear line.
        return DeliveryError(
            f"{what} answered HTTP {status} with a page that is not Slack's: {hint}."
            " Its alerts are kept and retried.",
            destination_broken=True,
        )

    @staticmethod
    def _where(destination: Destination) -> str:
        if destination.kind is DestinationKind.SLACK_WEBHOOK:
            return destination.label  # the URL's last part is the secret: never shown
        return f"channel {destination.target}"

    # --- webhooks ----------------------------------------------------------------------

    async def _post_webhook(
        self, destination: Destination, message: SlackMessage, *, text_alone: bool = True
    ) -> DeliveryError | None:
        """Post to a webhook; return what Slack said to the blocks if only the text went."""
        response = await self._webhook_call(destination, message)
        if response[0] == 200:
            return None
        status, body, headers = response
        if status == 400 and body in BLOCK_ERRORS and message.blocks and not text_alone:
            raise blocks_refused(body)
        if status == 400 and body in BLOCK_ERRORS and message.blocks:
            log.debug("Slack refused the webhook blocks (%s); sending the text alone", body)
            refused = body
            status, body, headers = await self._webhook_call(
                destination, SlackMessage(message.text)
            )
            if status == 200:
                return card_refused(refused)
        raise await self._classify(
            destination,
            destination.key,
            body,
            status,
            headers,
            slack_reply=status == 200 or bool(WEBHOOK_CODE.match(body)),
        )

    async def _webhook_call(
        self, destination: Destination, message: SlackMessage
    ) -> tuple[int, str, Mapping[str, Any]]:
        client = self._webhook_factory(destination.target)
        async with self.pacer.slot(destination.key):
            try:
                response = await client.send(
                    text=message.text,
                    blocks=message.blocks or None,
                    unfurl_links=False,
                    unfurl_media=False,
                )
            except (aiohttp.ClientError, TimeoutError, OSError, ValueError) as exc:
                # Never str(exc): aiohttp errors quote the URL, which holds the webhook secret.
                raise unreachable(destination.label, exc) from exc
        # The body is a short error code ("no_service"); anything longer is not one of ours.
        return response.status_code, (response.body or "").strip()[:100], response.headers or {}

    # --- extra mentions, direct messages and admin notices --------------------------------

    async def send_dm(self, dm: DirectMessage, alert: Alert) -> None:
        """DM a follower the alert's card (no pings); its text alone if Slack refuses it.

        A rate limit, an outage or no answer leave as retryable errors, so the outbox tries
        again after Retry-After or its backoff; a user Slack will not DM leaves as a
        permanent one.
        """
        if self.client is None:
            raise DeliveryError("Slack DMs need SLACK_BOT_TOKEN")
        message = render_alert(replace(alert, mentions=()))
        key = post_key(dm.key, alert.id)
        try:
            channel = await self._dm_channel(dm.user_id)
            try:
                await self._post_dm(channel, message, key)
            except SlackApiError as exc:
                if error_code(exc) not in BLOCK_ERRORS:
                    raise
                await self._post_dm(channel, SlackMessage(text=message.text), key)
        except SlackApiError as exc:
            raise self._dm_failure(dm, exc) from exc
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            raise unreachable("Slack", exc) from exc

    def dm_digest_parts(self, digest: Digest) -> list[Digest]:
        """A follower's digest as messages within Slack's limits (see render.digest_parts)."""
        return digest_parts(digest)

    async def send_digest_dm(self, dm: DirectMessage, digest: Digest) -> None:
        """DM a follower one part of their digest (no pings); raises as `send_dm` does.

        Refused blocks are not re-sent as the text alone: that text names the topics, not
        the items (see `send_digest`).
        """
        if self.client is None:
            raise DeliveryError("Slack DMs need SLACK_BOT_TOKEN")
        key = self._digest_key(dm.key, digest)
        try:
            await self._post_dm(await self._dm_channel(dm.user_id), render_digest(digest), key)
        except SlackApiError as exc:
            raise self._dm_failure(dm, exc) from exc
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            raise unreachable("Slack", exc) from exc

    async def _dm_channel(self, user: str) -> str:
        """The follower's DM channel id, opened once a run (conversations.open is Tier 3)."""
        assert self.client is not None
        channel = self._dm_channels.get(user)
        if channel is None:
            opened = await self.client.conversations_open(users=user)
            found = opened.get("channel")
            channel = str(found.get("id") or "") if isinstance(found, dict) else ""
            if not channel:
                raise DeliveryError("Slack's conversations.open answer named no channel")
            self._dm_channels[user] = channel
            while len(self._dm_channels) > DM_MEMORY:
                self._dm_channels.popitem(last=False)
        return channel

    async def _post_dm(self, channel: str, message: SlackMessage, key: str) -> None:
        """Post a DM under `key`, unless an earlier try Slack took unanswered is found."""
        assert self.client is not None
        client = self.client
        if await self.lost_answers.find(client, channel, key, dm=True):
            return
        async with self.pacer.slot(channel):
            await self.lost_answers.post(
                client, channel, key, unfurl_links=False, unfurl_media=False, **message.payload()
            )

    def _dm_failure(self, dm: DirectMessage, exc: SlackApiError) -> DeliveryError:
        """What the outbox does with a DM Slack did not take: wait, retry, or give up."""
        code, status = error_code(exc), http_status(exc)
        where = f"DM to {dm.user_id}"
        if code in BROKEN:
            self._dm_channels.pop(dm.user_id, None)  # a DM channel gone: open it again
        if status == 429 or code == "ratelimited":
            wait = retry_after_s(getattr(exc.response, "headers", None))
            channel = self._dm_channels.get(dm.user_id)
            if channel:
                self.pacer.block(channel, wait)
            return DeliveryError(
                f"Slack rate limited the {where}; retry after {wait:.0f} s", retry_after_s=wait
            )
        if code in DM_REFUSED:
            return RefusesDms(f"Slack answered {code}")
        if code in BLOCK_ERRORS:
            return DeliveryError(f"Slack refused the {where}: {code}", permanent=True, refused=code)
        if status >= 500 or code in SLACK_DOWN or not is_slack_reply(exc):
            return DeliveryError(
                f"Slack failed for the {where}: {code} (HTTP {status})", unavailable=True
            )
        return DeliveryError(f"Slack error for the {where}: {code} (HTTP {status})")

    async def notify_admins(self, text: str) -> None:
        """Post to settings.slack_admin_channel when set — never raises.

        Unset, there is nothing to do: the console delivery already shows every notice.
        """
        channel = self.settings.slack_admin_channel
        if not channel:
            return
        if self.client is not None:
            message = render_text(f"Stancewatch: {in_slack_spelling(text)}")
            try:
                async with self.pacer.slot(channel):
                    await self.client.chat_postMessage(channel=channel, **message.payload())
                return
            except _SIDE_POST_ERRORS as exc:
                log.warning(
                    "could not post to the Slack admin channel %s (SLACK_ADMIN_CHANNEL): %s",
                    channel,
                    what_went_wrong(exc),
                )
        log.warning("Slack admin notice (not posted): %s", text)
