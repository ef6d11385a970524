"""A local HTTP server on 127.0.0.1 for the tests' stand-ins, and free ports.

`LocalHttpServer` serves an aiohttp application on a free port of 127.0.0.1 in the running
event loop: the Bot API stand-in (`tests.telegram_api`), the feed server (`tests.feed_server`),
the webhook load balancer (`tests.webhook_balancer`) and the tests' own webhooks use it. Each
of them is a `Served`: started by ``async with``, stopped at its end.

Example:
    app = web.Application()
    app.router.add_get("/rss.xml", handler)
    async with LocalHttpServer(app) as server:
        feed = server.url("/rss.xml")
"""

from __future__ import annotations

import socket
from types import TracebackType
from typing import Any, Self

from aiohttp import web

HOST = "127.0.0.1"


class Served:
    """A server used as ``async with server:``: `start` on entry, `stop` on exit."""

    async def start(self) -> None:
        """Starts serving."""
        raise NotImplementedError

    async def stop(self) -> None:
        """Stops serving and lets go of what `start` took."""
        raise NotImplementedError

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()


class LocalHttpServer(Served):
    """Serves ``app`` on a free port of 127.0.0.1 from `start` (or ``async with``) to `stop`."""

    def __init__(self, app: web.Application, **runner_options: Any) -> None:
        """``runner_options`` go to `aiohttp.web.AppRunner` (``access_log``, ...)."""
        self.app = app
        self.runner_options = runner_options
        self._runner: web.AppRunner | None = None
        self.port = 0

    async def start(self) -> None:
        """Starts listening on a free port of 127.0.0.1, in the running event loop."""
        self._runner = web.AppRunner(self.app, **self.runner_options)
        await self._runner.setup()
        await web.TCPSite(self._runner, HOST, 0).start()
        self.port = self._runner.addresses[0][1]

    async def stop(self) -> None:
        """Closes the connections and stops listening; nothing if not started."""
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    def url(self, path: str = "/") -> str:
        """The URL of ``path`` on this server."""
        return f"http://{HOST}:{self.port}/{path.lstrip('/')}"


def free_port() -> int:
    """A port of 127.0.0.1 that nobody listens on now (free until someone takes it)."""
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])
