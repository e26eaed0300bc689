"""A local aiohttp server on a free port of 127.0.0.1: the demo, bench and soak serve feeds
(and fake webhooks) with it, so the real fetcher and deliveries are exercised offline."""

from __future__ import annotations

from aiohttp import web


async def serve_local(app: web.Application) -> tuple[web.AppRunner, int]:
    """Start serving `app` on 127.0.0.1; return the runner (to clean up) and the port."""
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = int(site._server.sockets[0].getsockname()[1])  # type: ignore[union-attr]
    return runner, port


class LocalServer:
    """An aiohttp app served on a free port of 127.0.0.1; subclasses add its routes."""

    port: int = 0
    _runner: web.AppRunner | None = None

    def add_routes(self, app: web.Application) -> None:
        """Add this server's routes to `app`."""
        raise NotImplementedError

    async def start(self) -> None:
        """Listen on a free port of 127.0.0.1."""
        app = web.Application()
        self.add_routes(app)
        self._runner, self.port = await serve_local(app)

    async def stop(self) -> None:
        """Stop listening."""
        if self._runner is not None:
            await self._runner.cleanup()
