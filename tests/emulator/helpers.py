"""What the emulator tests share: the emulator served in this thread, paths, the error check."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta, timezone
from typing import Any

import httpx

from truto_pulumi.emulator import create_app
from truto_pulumi.emulator._hooks import HOOK_PREFIX, EmulatorHooks
from truto_pulumi.emulator._state import format_timestamp

START = datetime(2024, 1, 10, 10, 0, tzinfo=timezone.utc)
"""The fake clock's epoch."""
TOKEN = "test-token"
BASE_URL = "http://truto.test"


class InProcess(httpx.BaseTransport):
    """Hands each request to an ASGI app in this thread: no socket, no server."""

    def __init__(self, app: Any) -> None:
        self._asgi = httpx.ASGITransport(app=app)

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        async def serve() -> httpx.Response:
            answer = await self._asgi.handle_async_request(request)
            content = await answer.aread()
            return httpx.Response(answer.status_code, headers=answer.headers, content=content)

        return asyncio.run(serve())


class InProcessEmulator(EmulatorHooks):
    """`Emulator`'s hooks client and API client, on an app served in this thread."""

    def __init__(self, **settings: Any) -> None:
        self._transport = InProcess(create_app(api_token=TOKEN, **settings))
        self._api_url, self._api_token = BASE_URL, TOKEN
        self._hooks = httpx.Client(transport=self._transport, base_url=BASE_URL + HOOK_PREFIX)

    def client(self, **kwargs: Any) -> httpx.Client:
        return super().client(transport=self._transport, **kwargs)

    def close(self) -> None:
        self._close_hooks()


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
