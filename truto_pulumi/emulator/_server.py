"""Running the emulator: uvicorn on loopback in a background thread, with its hook client."""

from __future__ import annotations

import contextlib
import secrets
import threading
import time
import warnings
from collections.abc import Generator, Iterable
from types import TracebackType
from typing import Any

import uvicorn

from ._app import create_app, deprecated_token_keyword
from ._hooks import EmulatorHooks
from ._protocol import DroppingH11Protocol
from ._readings import Readings
from ._state import ACCOUNT_PAGE_LIMIT


class _ThreadedServer(uvicorn.Server):
    """A uvicorn server that never touches signal handlers (it runs off the main thread)."""

    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        yield


class Emulator(EmulatorHooks):
    """The Truto MCP API emulator served over real HTTP on `host` (loopback by default).

    Use as a context manager (or call :meth:`start` / :meth:`stop`)::

        with Emulator(api_token="t") as emu:
            httpx.post(f"{emu.url}/integrated-account/{ia}/mcp", json={"name": "x"},
                       headers={"Authorization": f"Bearer {emu.api_token}"})
            assert emu.journal()[0]["status"] == 201

    `port=0` picks a free port; `.url` tells which one was taken. The settings are those of
    :func:`create_app`.
    """

    def __init__(
        self,
        *,
        api_token: str | None = None,
        accounts: Iterable[str] | None = None,
        latency: float = 0.0,
        rate_limit: tuple[int, float] | None = None,
        public_base_url: str | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        startup_timeout: float = 10.0,
        token: str | None = None,
        account_page_limit: int = ACCOUNT_PAGE_LIMIT,
        readings: Readings | None = None,
    ) -> None:
        api_token = deprecated_token_keyword(api_token, token)
        self.api_token = api_token or f"emulator-{secrets.token_urlsafe(16)}"
        self.host = host
        self._requested_port = port
        self._startup_timeout = startup_timeout
        self.app = create_app(
            api_token=self.api_token,
            accounts=accounts,
            latency=latency,
            rate_limit=rate_limit,
            public_base_url=public_base_url,
            account_page_limit=account_page_limit,
            readings=readings,
        )
        self._server: _ThreadedServer | None = None
        self._thread: threading.Thread | None = None
        self._failure: BaseException | None = None
        self._port: int | None = None

    @property
    def token(self) -> str:
        """Deprecated: the API token, now `api_token`."""
        warnings.warn("Emulator.token is now Emulator.api_token", DeprecationWarning, stacklevel=2)
        return self.api_token

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
        self._open_hooks(self.url, self.api_token)
        return self

    def _serve(self) -> None:
        assert self._server is not None
        try:
            self._server.run()
        except BaseException as exc:  # uvicorn reports a failed bind with SystemExit
            self._failure = exc

    def stop(self) -> None:
        """Shut uvicorn down and wait for its thread. Idempotent."""
        self._close_hooks()
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=10.0)
        self._server = None
        self._thread = None
        self._port = None

    def __enter__(self) -> Emulator:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


@contextlib.contextmanager
def run_emulator(**kwargs: Any) -> Generator[Emulator, None, None]:
    """`with run_emulator(api_token="t") as emu: ...`; keywords as for :class:`Emulator`."""
    emulator = Emulator(**kwargs)
    emulator.start()
    try:
        yield emulator
    finally:
        emulator.stop()
