"""What the emulator tests share: the emulator served in this thread, times, paths, the error
check."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from truto_pulumi.emulator import create_app
from truto_pulumi.emulator._app import Emulation
from truto_pulumi.emulator._hooks import HOOK_PREFIX, EmulatorHooks
from truto_pulumi.emulator._state import format_timestamp

START = datetime(2024, 1, 10, 10, 0, tzinfo=UTC)
"""The fake clock's epoch."""
TOKEN = "test-token"
BASE_URL = "http://truto.test"
CREATE = {"name": "x", "config": {}}


class InProcessEmulator(EmulatorHooks):
    """`Emulator`'s hooks client and API client, on an app served in this thread (each request
    handed to the ASGI app: no socket, no server)."""

    def __init__(self, **settings: Any) -> None:
        app = create_app(api_token=TOKEN, **settings)
        self.emulation: Emulation = app.state.emulation
        self._asgi = httpx.ASGITransport(app=app)
        self._transport = httpx.MockTransport(self._serve)
        self._api_url, self._api_token = BASE_URL, TOKEN
        self._hooks = httpx.Client(transport=self._transport, base_url=BASE_URL + HOOK_PREFIX)

    def _serve(self, request: httpx.Request) -> httpx.Response:
        async def serve() -> httpx.Response:
            answer = await self._asgi.handle_async_request(request)
            content = await answer.aread()
            return httpx.Response(answer.status_code, headers=answer.headers, content=content)

        return asyncio.run(serve())

    def client(self, **kwargs: Any) -> httpx.Client:
        return super().client(transport=self._transport, **kwargs)


def snapshot(emu: InProcessEmulator) -> list[Any]:
    """The emulator's contents and settings (not its journal)."""
    emulation, limiter = emu.emulation, emu.emulation.rate_limiter
    store, limit = emulation.store, limiter and (limiter.requests, limiter.per_seconds)
    shown = [store.all_servers(), store.all_accounts(), store.account_page_limit, store.readings]
    return [*shown, emulation.faults.pending(), emulation.latency, limit]


def at(seconds: float) -> str:
    """A timestamp `seconds` after START."""
    return format_timestamp(START + timedelta(seconds=seconds))


def mcp_path(account: str, server_id: str | None = None) -> str:
    base = f"/integrated-account/{account}/mcp"
    return base if server_id is None else f"{base}/{server_id}"


def assert_error(response: httpx.Response, status: int, error: str | None = None) -> None:
    """The answer is Truto's error body with this status (and reason phrase)."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert set(body) == {"statusCode", "error", "message"}
    assert body["statusCode"] == status
    assert body["message"]
    if error is not None:
        assert body["error"] == error
