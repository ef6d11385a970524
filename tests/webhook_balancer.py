"""A load balancer on 127.0.0.1 in front of several webhook workers, for tests.

Telegram posts a bot's updates to one URL; with several workers, that URL is a proxy or a
platform's router that hands each request to one of them. `LoadBalancer` does that: each POST
goes to the next backend in turn (or to the one ``pin`` names), with its path, body and the
headers Telegram sends, and the backend's answer goes back to the caller. ``forwarded`` records
which backend got which update and what it answered.
"""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass

import aiohttp
from aiohttp import web

from tests.http_server import LocalHttpServer, Served

#: The request headers passed on: the ones Telegram's webhook requests carry.
FORWARDED_HEADERS = ("Content-Type", "X-Telegram-Bot-Api-Secret-Token")


@dataclass(frozen=True)
class Forwarded:
    """One request passed on: to which backend, the update's id, the backend's status."""

    backend: int
    update_id: int | None
    status: int  # 502: the backend did not answer


class LoadBalancer(Served):
    """A reverse proxy for webhook requests, round robin over ``backends`` (base URLs)."""

    def __init__(self, backends: list[str]) -> None:
        self.backends = backends
        self.forwarded: list[Forwarded] = []
        self._turns = itertools.cycle(range(len(backends)))
        self._pinned: int | None = None
        app = web.Application()
        app.router.add_route("POST", "/{path:.*}", self._forward)
        self._http = LocalHttpServer(app, access_log=None)
        self._session: aiohttp.ClientSession | None = None

    @property
    def port(self) -> int:
        return self._http.port

    def pin(self, backend: int | None) -> None:
        """Send every request to ``backend`` from now on (None: round robin again)."""
        self._pinned = backend

    def url(self, path: str) -> str:
        """The public URL of ``path``, as the bot's settings give it to Telegram."""
        return self._http.url(path)

    async def start(self) -> None:
        self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10))
        await self._http.start()

    async def stop(self) -> None:
        await self._http.stop()
        if self._session is not None:
            await self._session.close()

    async def _forward(self, request: web.Request) -> web.Response:
        assert self._session is not None
        backend = self._pinned if self._pinned is not None else next(self._turns)
        body = await request.read()
        headers = {k: request.headers[k] for k in FORWARDED_HEADERS if k in request.headers}
        target = self.backends[backend].rstrip("/") + request.path_qs
        update_id = _update_id(body)
        try:
            async with self._session.post(target, data=body, headers=headers) as answer:
                content = await answer.read()
                self.forwarded.append(Forwarded(backend, update_id, answer.status))
                return web.Response(
                    status=answer.status, body=content, content_type=answer.content_type
                )
        except (aiohttp.ClientError, TimeoutError):
            self.forwarded.append(Forwarded(backend, update_id, 502))
            return web.Response(status=502, text="backend did not answer")


def _update_id(body: bytes) -> int | None:
    try:
        data = json.loads(body)
    except ValueError:
        return None
    return data.get("update_id") if isinstance(data, dict) else None
