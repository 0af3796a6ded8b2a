"""Running the emulator: uvicorn on loopback in a background thread, plus hook helpers."""

from __future__ import annotations

import contextlib
import secrets
import threading
import time
from collections.abc import Generator, Iterable
from datetime import datetime
from types import TracebackType
from typing import Any

import httpx
import uvicorn

from .app import HOOK_PREFIX, create_app
from .protocol import DroppingH11Protocol
from .state import JSONObject, format_timestamp


class _ThreadedServer(uvicorn.Server):
    """A uvicorn server that never touches signal handlers (it runs off the main thread)."""

    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        yield


class Emulator:
    """The Truto MCP API emulator served over real HTTP on `host` (loopback by default).

    Use as a context manager (or call :meth:`start` / :meth:`stop`)::

        with Emulator(token="t") as emu:
            httpx.post(f"{emu.url}/integrated-account/{ia}/mcp", json={"name": "x"},
                       headers={"Authorization": f"Bearer {emu.token}"})
            assert emu.journal()[0]["status"] == 201

    `port=0` picks a free port; `.url` tells which one was taken.
    """

    def __init__(
        self,
        *,
        token: str | None = None,
        accounts: Iterable[str] | None = None,
        latency: float = 0.0,
        rate_limit: tuple[int, float] | None = None,
        public_base_url: str | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        startup_timeout: float = 10.0,
    ) -> None:
        self.token = token or f"emulator-{secrets.token_urlsafe(16)}"
        self.host = host
        self._requested_port = port
        self._startup_timeout = startup_timeout
        self.app = create_app(
            token=self.token,
            accounts=accounts,
            latency=latency,
            rate_limit=rate_limit,
            public_base_url=public_base_url,
        )
        self._server: _ThreadedServer | None = None
        self._thread: threading.Thread | None = None
        self._failure: BaseException | None = None
        self._port: int | None = None
        self._hooks: httpx.Client | None = None

    # -- lifecycle

    @property
    def port(self) -> int:
        if self._port is None:
            raise RuntimeError("the emulator is not running")
        return self._port

    @property
    def url(self) -> str:
        """Base URL of the API, e.g. `http://127.0.0.1:54321` (no trailing slash)."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    def start(self) -> Emulator:
        if self._thread is not None:
            raise RuntimeError("the emulator is already running")
        config = uvicorn.Config(
            self.app,
            host=self.host,
            port=self._requested_port,
            http=DroppingH11Protocol,
            ws="none",
            lifespan="off",
            log_level="warning",
            access_log=False,
            timeout_graceful_shutdown=2,
        )
        self._server = server = _ThreadedServer(config)
        self._failure = None
        self._thread = threading.Thread(target=self._serve, name="truto-emulator", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + self._startup_timeout
        while not server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(
                    f"the Truto emulator did not start on {self.host}:{self._requested_port}"
                ) from self._failure
            time.sleep(0.01)
        self._port = int(server.servers[0].sockets[0].getsockname()[1])
        self._hooks = httpx.Client(base_url=f"{self.url}{HOOK_PREFIX}", timeout=10.0)
        return self

    def _serve(self) -> None:
        assert self._server is not None
        try:
            self._server.run()
        except BaseException as exc:  # uvicorn reports a failed bind with SystemExit
            self._failure = exc

    def stop(self) -> None:
        """Shut uvicorn down and wait for its thread. Idempotent."""
        if self._hooks is not None:
            self._hooks.close()
            self._hooks = None
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=10.0)
        self._server = None
        self._thread = None
        self._port = None

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def __enter__(self) -> Emulator:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # -- clients

    def client(self, **kwargs: Any) -> httpx.Client:
        """An httpx client for the API: base URL and bearer token preset."""
        headers = {"Authorization": f"Bearer {self.token}", **kwargs.pop("headers", {})}
        return httpx.Client(base_url=self.url, headers=headers, **kwargs)

    def _hook(self, method: str, path: str, body: Any = None) -> Any:
        if self._hooks is None:
            raise RuntimeError("the emulator is not running")
        kwargs: dict[str, Any] = {} if body is None else {"json": body}
        response = self._hooks.request(method, path, **kwargs)
        response.raise_for_status()
        return response.json()

    # -- hooks

    def journal(self) -> list[JSONObject]:
        """Every API request so far: `method, path, query, body, status, ts, fault`."""
        entries: list[JSONObject] = self._hook("GET", "/journal")
        return entries

    def clear_journal(self) -> None:
        self._hook("DELETE", "/journal")

    def inject(
        self, *, method: str | None = None, path: str | None = None, times: int = 1, **action: Any
    ) -> JSONObject:
        """Make the next `times` matching API requests misbehave; see `faults.py` for actions.

        `emu.inject(method="POST", status=429, retry_after=1)`,
        `emu.inject(path=r"/mcp$", drop=True)`, `emu.inject(lose_answer=True, status=500)`.
        """
        rule: JSONObject = self._hook(
            "POST", "/faults", {"method": method, "path": path, "times": times, "action": action}
        )
        return rule

    def faults(self) -> list[JSONObject]:
        """The pending fault rules (with their remaining `times`)."""
        rules: list[JSONObject] = self._hook("GET", "/faults")
        return rules

    def clear_faults(self) -> None:
        self._hook("DELETE", "/faults")

    def servers(self) -> list[JSONObject]:
        """Every live server of every account, including `token` and `url`."""
        servers: list[JSONObject] = self._hook("GET", "/servers")
        return servers

    def edit_server(self, server_id: str, **fields: Any) -> JSONObject:
        """Change `name`, `config` (replaced whole) or `expires_at` (any time, even past)."""
        if isinstance(fields.get("expires_at"), datetime):
            fields["expires_at"] = format_timestamp(fields["expires_at"])
        server: JSONObject = self._hook("PATCH", f"/servers/{server_id}", fields)
        return server

    def delete_server(self, server_id: str) -> None:
        self._hook("DELETE", f"/servers/{server_id}")

    def reset(self) -> None:
        """Forget servers, journal and faults; latency and rate limit back to the start values."""
        self._hook("POST", "/reset")

    def set_latency(self, seconds: float) -> None:
        """Seconds added to every API answer from now on."""
        self._hook("POST", "/latency", {"seconds": seconds})

    def set_rate_limit(self, requests: int | None, per_seconds: float = 10.0) -> None:
        """Enforce `requests` per `per_seconds` per token (429 beyond); None disables it."""
        self._hook("POST", "/rate-limit", {"requests": requests, "per_seconds": per_seconds})


@contextlib.contextmanager
def run_emulator(**kwargs: Any) -> Generator[Emulator, None, None]:
    """`with run_emulator(token="t") as emu: ...`; keyword arguments as for :class:`Emulator`."""
    emulator = Emulator(**kwargs)
    emulator.start()
    try:
        yield emulator
    finally:
        emulator.stop()
