"""Which destinations an alert goes to, from the watchlist's routes and what is configured."""

from __future__ import annotations

from collections.abc import Collection, Sequence

from bot.models import Destination, DestinationKind, Watchlist

CONSOLE = Destination(DestinationKind.CONSOLE)

_ROUTE_FIELDS = (
    ("discord_channel", DestinationKind.DISCORD_CHANNEL),
    ("discord_webhook", DestinationKind.DISCORD_WEBHOOK),
    ("slack_channel", DestinationKind.SLACK_CHANNEL),
    ("slack_webhook", DestinationKind.SLACK_WEBHOOK),
)


def routed_destinations(
    topic_ids: Sequence[str], watchlist: Watchlist, enabled: Collection[DestinationKind]
) -> list[Destination]:
    """Destinations of every route covering these topics, in route order (maybe none).

    A route field left empty (an unset ${VAR}) or of a kind that is not enabled (a channel
    id without a bot token) is skipped rather than failing every delivery.
    """
    found: dict[str, Destination] = {}
    for route in watchlist.routes:
        if not any(route.covers(t) for t in topic_ids):
            continue
        for name, kind in _ROUTE_FIELDS:
            target = getattr(route, name)
            if target and kind in enabled:
                destination = Destination(kind, target)
                found.setdefault(destination.key, destination)
    return list(found.values())


def destinations_for(
    topic_ids: Sequence[str], watchlist: Watchlist, enabled: Collection[DestinationKind]
) -> list[Destination]:
    """Destinations of every route covering these topics; the console when none can be used."""
    return routed_destinations(topic_ids, watchlist, enabled) or [CONSOLE]


class DestinationRegistry(dict[str, Destination]):
    """Every destination the watchlist names, by key, with the watchlist that names them.

    The outbox stores keys, not URLs. When a row's key is no longer here (a route's webhook
    URL or channel id was replaced), `routed` says where the alert's topics go now, so the
    row can follow them (bot/delivery/outbox.py).
    """

    def __init__(self, watchlist: Watchlist) -> None:
        super().__init__()
        self.watchlist = watchlist

    def routed(self, topic_ids: Sequence[str]) -> list[Destination]:
        """Where the routes send these topics now, of every kind; no console fallback.

        Which kinds this process can reach is for the caller to decide (it knows its
        deliveries). The console is left out: a topic whose route was removed on purpose
        must not have its backlog printed to the terminal instead.
        """
        return routed_destinations(topic_ids, self.watchlist, tuple(DestinationKind))


def destination_registry(watchlist: Watchlist) -> DestinationRegistry:
    """Every destination the watchlist names, by key (the outbox stores keys, not URLs)."""
    registry = DestinationRegistry(watchlist)
    registry[CONSOLE.key] = CONSOLE
    for route in watchlist.routes:
        for name, kind in _ROUTE_FIELDS:
            target = getattr(route, name)
            if target:
                destination = Destination(kind, target)
                registry[destination.key] = destination
    return registry


# The destination kinds that reach each chat platform: (channel posts, webhooks).
PLATFORM_KINDS: dict[str, tuple[DestinationKind, DestinationKind]] = {
    "discord": (DestinationKind.DISCORD_CHANNEL, DestinationKind.DISCORD_WEBHOOK),
    "slack": (DestinationKind.SLACK_CHANNEL, DestinationKind.SLACK_WEBHOOK),
}


def channel_targets(topic_id: str, watchlist: Watchlist, platform: str) -> list[str]:
    """The channel ids the routes post a topic's alerts to on a platform."""
    channel, _ = PLATFORM_KINDS[platform]
    return [d.target for d in routed_destinations([topic_id], watchlist, (channel,))]


def platform_reach(topic_id: str, watchlist: Watchlist, platform: str) -> tuple[bool, bool]:
    """(by a channel, by a webhook): how the routes bring a topic's alerts to a platform.

    Only channel posts mention followers or DM them; a webhook carries the alert alone.
    """
    channel, webhook = PLATFORM_KINDS[platform]
    kinds = {d.kind for d in destinations_for([topic_id], watchlist, (channel, webhook))}
    return channel in kinds, webhook in kinds
