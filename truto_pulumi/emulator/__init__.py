"""A stateful local stand-in for Truto's MCP servers API (`/integrated-account/{ia}/mcp`).

Needs the `emulator` extra (starlette, uvicorn). In tests::

    from truto_pulumi.emulator import Emulator

    with Emulator(api_token="test-token") as emu:            # uvicorn on 127.0.0.1, a free port
        with emu.client() as api:                         # httpx, base URL + bearer token set
            created = api.post(f"/integrated-account/{ia}/mcp", json={"name": "docs"}).json()
        emu.inject(method="GET", status=503, times=2)     # the next two GETs answer 503
        emu.inject(method="POST", lose_answer=True)       # the next create happens, answer lost
        emu.edit_server(created["id"], name="renamed")    # out-of-band (dashboard) edit
        assert [e["status"] for e in emu.journal()] == [201]

From a shell: ``python -m truto_pulumi.emulator --port 8787 --api-token T`` (or ``truto-emulator``).
As an ASGI app: ``create_app(api_token="T")``. Test hooks live under ``/_emulator/`` (no auth):
``journal``, ``faults``, ``servers``, ``reset``, ``latency``, ``rate-limit``, ``config-rules``,
``health``. ``RemoteEmulator(url, api_token)`` calls them, with the methods of ``Emulator``
(``journal()``, ``inject(...)``, ``reset()``, ``client()``...), on an emulator running elsewhere,
such as one started from a shell.
"""

from __future__ import annotations

from types import TracebackType
from typing import TypeVar

from ._app import create_app
from ._hooks import EmulatorHooks
from ._server import Emulator, run_emulator

__all__ = ["Emulator", "RemoteEmulator", "create_app", "run_emulator"]

_Remote = TypeVar("_Remote", bound="RemoteEmulator")


class RemoteEmulator(EmulatorHooks):
    """An emulator running elsewhere (``python -m truto_pulumi.emulator`` in a process of its
    own), reached at `url` with `api_token`: the hooks and API client of :class:`Emulator`.

    A context manager; `close()` releases its HTTP client and leaves the emulator running.
    """

    def __init__(self, url: str, api_token: str) -> None:
        self.url = url.rstrip("/")
        self.api_token = api_token
        self._open_hooks(self.url, api_token)

    def close(self) -> None:
        """Release the hooks' HTTP client (idempotent)."""
        self._close_hooks()

    def __enter__(self: _Remote) -> _Remote:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
