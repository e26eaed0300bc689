"""What every delivery offers the outbox, and how its failures are described."""

from __future__ import annotations

from typing import Protocol

from bot.models import Alert, Destination


class DeliveryError(Exception):
    """A delivery failed; says whether to retry, when, and whether the destination is broken."""

    def __init__(
        self,
        message: str,
        *,
        retry_after_s: float | None = None,
        permanent: bool = False,
        destination_broken: bool = False,
    ) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s
        self.permanent = permanent  # retrying the same request cannot succeed
        self.destination_broken = (
            destination_broken  # missing channel, lost permission, revoked token
        )


class Delivery(Protocol):
    """Sends and edits alert messages on one platform."""

    def handles(self, destination: Destination) -> bool:
        """True when this delivery can reach the destination."""
        ...

    async def send(self, destination: Destination, alert: Alert) -> str | None:
        """Post the alert; return the platform's message id (for later edits), if any."""
        ...

    async def edit(self, destination: Destination, message_ref: str, alert: Alert) -> None:
        """Replace a posted alert with its new version (a story folded in more sources)."""
        ...

    async def notify_admins(self, text: str) -> None:
        """Tell this platform's admins something once (a feed paused, a channel lost)."""
        ...
