"""What every delivery offers the outbox, and how its failures are described."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

from bot.models import Alert, Destination, Digest


def day_label(moment: datetime | None, missing: str) -> str:
    """A day as every alert and reply prints it, "21 Nov 2026" in UTC (a time without a zone
    is UTC); `missing` when there is none. The year stays: a "before" may be a year old."""
    if moment is None:
        return missing
    return (moment.astimezone(UTC) if moment.tzinfo else moment).strftime("%d %b %Y")


# The longest one delivery attempt should take, up to the platform's answer. Discord
# enforces it on each of its requests (a 5xx or a long rate-limit wait goes back to the
# outbox at once instead of being sat out). It is below the 10 s stop grace
# (service.STOP_GRACE_S), and the outbox starts no delivery on the way down that could not
# end inside that grace (one that makes two calls may not: the stop cuts it at the grace).
ATTEMPT_LIMIT_S = 8.0


class DeliveryError(Exception):
    """A delivery failed; says whether to retry, when, and whether the destination is broken."""

    def __init__(
        self,
        message: str,
        *,
        retry_after_s: float | None = None,
        permanent: bool = False,
        destination_broken: bool = False,
        unavailable: bool = False,
        refused: str | None = None,
    ) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s
        self.permanent = permanent  # retrying the same request cannot succeed
        self.destination_broken = (
            destination_broken  # missing channel, lost permission, revoked token
        )
        # The platform failed or did not answer (5xx, network, time limit): every delivery
        # to this destination would fail alike just now, so the others wait with this one.
        self.unavailable = unavailable
        # The platform refused this payload (an HTTP 400): what it refused, as a stable
        # kind ("HTTP 400 code 50035 at embeds.N.url"); admins hear once per destination and
        # kind, since it is our rendering that needs fixing.
        self.refused = refused

    @property
    def holds_destination(self) -> bool:
        """True when the destination's later deliveries should wait for this one's retry."""
        if self.permanent:
            return False  # this row is given up on; the next one may well go through
        return self.destination_broken or self.unavailable or self.retry_after_s is not None


@dataclass(frozen=True)
class SentPlainer:
    """The platform refused the alert as rendered and took a plainer form of it instead."""

    message_ref: str | None
    refusal: DeliveryError  # what the platform said about the full form


class Delivery(Protocol):
    """Sends and edits alert messages, and sends digests, on one platform."""

    def handles(self, destination: Destination) -> bool:
        """True when this delivery can reach the destination."""
        ...

    async def send(self, destination: Destination, alert: Alert) -> str | SentPlainer | None:
        """Post the alert; return the platform's message id (for later edits), if any."""
        ...

    async def edit(
        self, destination: Destination, message_ref: str, alert: Alert
    ) -> SentPlainer | None:
        """Replace a posted alert with its new version (a story folded in more sources)."""
        ...

    def digest_parts(self, destination: Destination, digest: Digest) -> list[Digest]:
        """The digest as messages this platform takes: whole items, in order, none left out."""
        ...

    async def send_digest(self, destination: Destination, digest: Digest) -> None:
        """Post one part of a digest (as `digest_parts` split it)."""
        ...

    async def notify_admins(self, text: str) -> None:
        """Tell this platform's admins something once (a feed paused, a channel lost)."""
        ...
