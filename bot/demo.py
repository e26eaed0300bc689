"""`stancewatch demo`: replay the bundled feed snapshots through the real pipeline, offline."""

from __future__ import annotations

import asyncio
import tempfile
from dataclasses import replace
from pathlib import Path

from aiohttp import web
from rich.console import Console

from bot.app import build_app
from bot.delivery.console import ConsoleDelivery
from bot.local_http import LocalServer
from bot.models import Feed, Route, Watchlist
from bot.settings import Settings

DEMO_DIR = Path(__file__).resolve().parent.parent / "examples" / "demo"
# The watchlists the snapshots were written for, beside the program (in the image, a link to
# /watchlists): the demo reads these, not STANCEWATCH_WATCHLISTS, unless given --watchlists.
SHIPPED_WATCHLISTS = DEMO_DIR.parent.parent / "watchlists"
STEP_NOTES = {
    1: "first poll: articles are stored and matched to build position history, not alerted",
}


class _SnapshotServer(LocalServer):
    """Serves one step's feed files over local HTTP, so the real fetcher reads them."""

    def __init__(self) -> None:
        self.folder = DEMO_DIR / "1"

    async def _feed(self, request: web.Request) -> web.StreamResponse:
        path = self.folder / request.match_info["name"]
        if not path.is_file():
            raise web.HTTPNotFound()
        return web.Response(body=path.read_bytes(), content_type="application/rss+xml")

    def add_routes(self, app: web.Application) -> None:
        """GET /<name> is a feed file of the current step."""
        app.router.add_get("/{name}", self._feed)


def demo_watchlist(base: Watchlist, port: int, outlets: list[str]) -> Watchlist:
    """The shipped topics and actors, fed by the demo outlets, routed to the terminal."""
    feeds = tuple(
        Feed(f"http://127.0.0.1:{port}/{name}.xml", name.replace("-", " ").title(), 600.0)
        for name in outlets
    )
    return replace(base, feeds=feeds, routes=(Route(("*",)),))


async def run_demo(base: Watchlist, console: Console | None = None) -> int:
    """Replay every step; print what each step did and the alerts it produced."""
    console = console or Console()
    steps = sorted(
        (p for p in DEMO_DIR.iterdir() if p.is_dir() and p.name.isdigit()),
        key=lambda p: int(p.name),
    )
    if not steps:
        console.print(f"[red]no demo snapshots under {DEMO_DIR}[/red]")
        return 1
    outlets = sorted(p.stem for p in steps[0].glob("*.xml"))
    server = _SnapshotServer()
    await server.start()
    delivery = ConsoleDelivery(console)
    with tempfile.TemporaryDirectory(prefix="stancewatch-demo-") as tmp:
        settings = Settings(db_path=Path(tmp) / "demo.db")
        app = build_app(settings, demo_watchlist(base, server.port, outlets), deliveries=[delivery])
        # The snapshots are dated May 2026 and replayed as today's news: no age limit.
        app.pipeline.max_alert_age = None
        try:
            for step in steps:
                server.folder = step
                note = STEP_NOTES.get(int(step.name), "new items since the last poll")
                console.rule(f"[bold]Step {step.name}[/bold] — {note}")
                report = await app.pipeline.poll(app.watchlist.feeds)
                await app.outbox.drain()
                console.print(
                    f"[dim]{report.new_articles} new articles, {report.matched} on a tracked "
                    f"topic, {report.alerts} alerts, {report.folded} folded into an earlier "
                    f"alert[/dim]"
                )
        finally:
            await app.close()
            await server.stop()
    # An edited alert is printed again: count each story's alert (and its shifts) once.
    alerts = {a.id: a for a in delivery.sent}
    shifts = sum(len(a.shifts) for a in alerts.values())
    console.rule(f"[bold]Demo done[/bold]: {len(alerts)} alerts, {shifts} position shifts")
    if not alerts:
        # A bare "0 alerts" reads as a broken bot; it means the topics are not the news.
        console.print(
            "No alerts: the demo's snapshots are news on the shipped watchlist's topics"
            f" ({SHIPPED_WATCHLISTS}), not on these. Run `stancewatch demo` without"
            " --watchlists to see them alert."
        )
    return 0


def demo(base: Watchlist) -> int:
    """Run the demo to completion."""
    return asyncio.run(run_demo(base))
