"""Closing a connection without any HTTP answer, from inside an ASGI app.

ASGI has no message for "hang up". Raising before `http.response.start` does not do it either:
uvicorn then answers a well-formed `500 Internal Server Error`. So the emulator runs uvicorn with
:class:`DroppingH11Protocol`, uvicorn's h11 protocol plus a scope extension whose `drop()` closes
the TCP transport before a single byte of the answer was written. The client sees the connection
closed (httpx: `RemoteProtocolError: Server disconnected without sending a response`).

Served by anything else, :func:`drop_connection` falls back to sending a status line with a
`Content-Length` it never honours and then raising: the client sees an incomplete answer.
"""

from __future__ import annotations

from typing import Any, cast

from starlette.types import Receive, Scope, Send
from uvicorn.protocols.http.h11_impl import H11Protocol

DROP_EXTENSION = "truto_emulator.drop_connection"


class ConnectionDroppedError(Exception):
    """Raised by the fallback of :func:`drop_connection` to abort the answer."""


class DroppingH11Protocol(H11Protocol):
    """uvicorn's h11 protocol, advertising the `truto_emulator.drop_connection` extension."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        inner = self.app

        async def app(scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] == "http":
                extensions = scope.setdefault("extensions", {})
                extensions[DROP_EXTENSION] = {"drop": self._drop}
            await inner(cast(Any, scope), cast(Any, receive), cast(Any, send))

        self.app = cast(Any, app)

    def _drop(self) -> None:
        if self.cycle is not None:
            # Tell the request cycle the peer is gone: uvicorn then neither writes a 500
            # for the unanswered request nor logs an error about it.
            self.cycle.disconnected = True
        self.transport.close()


async def drop_connection(scope: Scope, send: Send) -> None:
    """Close the connection of this request without sending an HTTP answer."""
    extension = scope.get("extensions", {}).get(DROP_EXTENSION)
    if extension is not None:
        extension["drop"]()
        return
    await send(
        {
            "type": "http.response.start",
            "status": 502,
            "headers": [(b"content-length", b"1"), (b"connection", b"close")],
        }
    )
    raise ConnectionDroppedError("connection dropped on purpose by an injected fault")
