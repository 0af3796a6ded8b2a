"""How this provider fits Pulumi's dynamic provider host (`python -m pulumi.dynamic`), which
hands a provider neither the request's URN nor a way to talk to the engine:

- `request_urn`, `request_over`: the engine request a thread serves, read from the host's call;
- `quiet_expected_failures`: a `TrutoError` reaches the user as its message alone, not the
  host's twenty lines of traceback (TRUTO_PULUMI_TRACEBACKS=1 keeps them, to debug the provider);
- `send_warnings_to_engine`: the provider's warnings become warnings on their resource;
- `widen_host`: more than the host's four engine calls at once (`truto:hostConcurrency`);
- `exit_with_engine`: the host, which outlives a killed CLI, exits once its work is done.

Each is feature-detected; one that finds the host not as expected says so (`reach_lost`).
"""

from __future__ import annotations

import inspect
import logging
import os
import re
import socket
import sys
import threading
import time
import traceback
import weakref
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from importlib import metadata
from types import ModuleType
from typing import Any, Protocol

from ._errors import TrutoError

__all__ = [
    "FULL_TRACEBACKS_ENV",
    "HOST_MODULE",
    "EngineLogHandler",
    "exit_with_engine",
    "in_host",
    "quiet_expected_failures",
    "reach_lost",
    "request_over",
    "request_urn",
    "send_warnings_to_engine",
    "widen_host",
]

HOST_MODULE = "pulumi.dynamic.__main__"
"""The module the engine runs as the dynamic provider host."""

FULL_TRACEBACKS_ENV = "TRUTO_PULUMI_TRACEBACKS"
"""Set to 1 to keep the host's traceback for every failure."""


class _QuietTraceback(ModuleType):
    """The `traceback` module as the host sees it, with `format_exc` giving a `TrutoError`'s
    message alone."""

    def __init__(self) -> None:
        super().__init__("traceback")

    def __getattr__(self, name: str) -> Any:
        return getattr(traceback, name)

    @staticmethod
    def format_exc(limit: int | None = None, chain: bool = True) -> str:
        error = sys.exc_info()[1]
        if isinstance(error, TrutoError):
            return str(error)
        return traceback.format_exc(limit, chain)


def quiet_expected_failures(modules: dict[str, ModuleType] | None = None) -> bool:
    """Make the running dynamic provider host report a `TrutoError` by its message; True when
    it did (or had already), False where the host is not there or formats errors otherwise."""
    if os.environ.get(FULL_TRACEBACKS_ENV, "") not in ("", "0"):
        return False
    host = _running_host(sys.modules if modules is None else modules)
    if host is None or not callable(getattr(host, "_abort_with_traceback", None)):
        return False  # a host that adds no traceback (gRPC reports the message)
    current = getattr(host, "traceback", None)
    if isinstance(current, _QuietTraceback):
        return True
    if current is not traceback:
        reach_lost(
            "shorten the provider host's report of an expected failure",
            "each failure it explains comes with the host's traceback of about twenty lines",
        )
        return False
    host.traceback = _QuietTraceback()  # type: ignore[attr-defined]
    return True


def in_host() -> bool:
    """Whether this process is Pulumi's dynamic provider host."""
    return _running_host(sys.modules) is not None


_said: set[str] = set()


def reach_lost(what: str, consequence: str) -> None:
    """Warn once per process that a reach into Pulumi's internals no longer works in the
    installed `pulumi`, and what the provider does without it: never silently less."""
    if what in _said:
        return
    _said.add(what)
    logging.getLogger(_LOGGER).warning(
        "truto-pulumi cannot %s in pulumi %s: %s. Please report this, with the pulumi version",
        what,
        metadata.version("pulumi"),
        consequence,
    )


def _running_host(modules: dict[str, ModuleType]) -> ModuleType | None:
    """The dynamic provider host's module, when this process is that host."""
    for module in (modules.get("__main__"), modules.get(HOST_MODULE)):
        if module is not None and getattr(module.__spec__, "name", None) == HOST_MODULE:
            return module
    return None


_HOST_FRAMES = 40
"""How far up the call stack `request_urn` looks for the host's request (a log record's handler
runs about ten frames below the provider method)."""


def request_urn() -> str | None:
    """The URN of the engine request this thread serves. The Python host never passes it to the
    provider, but its servicer method (`Create(self, request, context)`) holds the request."""
    request, _ = _host_call()
    urn = getattr(request, "urn", None)
    return urn if isinstance(urn, str) else None


def request_over() -> bool:
    """Whether the engine request this thread serves is over before its answer: the engine
    that sent it is gone (the CLI killed) or the host is stopping. False outside the host."""
    _, context = _host_call()
    is_active = getattr(context, "is_active", None)
    return callable(is_active) and is_active() is False


def _host_call() -> tuple[Any, Any]:
    """The `request` and `context` of the host's servicer method this thread runs under."""
    frame = inspect.currentframe()
    try:
        for _ in range(_HOST_FRAMES):
            if frame is None:
                break
            request = frame.f_locals.get("request")
            urn = getattr(request, "urn", None)
            if isinstance(urn, str) and urn.startswith("urn:pulumi:"):
                return request, frame.f_locals.get("context")
            frame = frame.f_back
        return None, None
    finally:
        del frame  # a frame held in a local would keep the whole stack alive


class _Engine(Protocol):
    def Log(self, request: Any) -> Any: ...  # noqa: N802 (the gRPC method's name)


class EngineLogHandler(logging.Handler):
    """Sends log records to the engine as diagnostics on the resource whose request is being
    served (or on the stack when none is), the way `pulumi.log.warn(resource=...)` does."""

    def __init__(self, engine: _Engine, level: int = logging.WARNING) -> None:
        super().__init__(level)
        self._engine = engine

    def emit(self, record: logging.LogRecord) -> None:
        from pulumi.runtime.proto import engine_pb2

        severity = engine_pb2.ERROR if record.levelno >= logging.ERROR else engine_pb2.WARNING
        try:
            self._engine.Log(
                engine_pb2.LogRequest(
                    severity=severity, message=self.format(record), urn=request_urn() or ""
                )
            )
        except Exception:  # the engine gone: say it where the host's output goes
            sys.stderr.write(self.format(record) + "\n")


_ENGINE_ADDRESS = re.compile(r"(?:127\.0\.0\.1|localhost|\[::1\]):\d{1,5}")
"""The engine's address as it starts a provider plugin: its first argument."""

_LOGGER = "truto_pulumi"


def send_warnings_to_engine(
    argv: Sequence[str] | None = None, modules: dict[str, ModuleType] | None = None
) -> bool:
    """In the dynamic provider host, route the `truto_pulumi` loggers' warnings to the engine
    (whose address the host is started with and ignores); True when they go there now."""
    if _running_host(sys.modules if modules is None else modules) is None:
        return False
    logger = logging.getLogger(_LOGGER)
    if any(isinstance(handler, EngineLogHandler) for handler in logger.handlers):
        return True
    args = sys.argv if argv is None else argv
    if len(args) < 2 or not _ENGINE_ADDRESS.fullmatch(args[1]):
        return False
    try:
        import grpc
        from pulumi.runtime.proto import engine_pb2_grpc
    except ImportError:
        return False
    engine = engine_pb2_grpc.EngineStub(grpc.insecure_channel(args[1]))
    logger.addHandler(EngineLogHandler(engine))
    logger.propagate = False  # not also as untyped text on the host's stderr
    return True


def exit_with_engine(
    busy: Callable[[], bool],
    *,
    argv: Sequence[str] | None = None,
    modules: dict[str, ModuleType] | None = None,
    every: float = 2.0,
    exit_process: Callable[[int], object] = os._exit,
) -> bool:
    """In the dynamic provider host, watch the engine (whose address the host is started with)
    and end the process once the engine refuses connections and `busy()` is false: a host
    whose CLI was killed finishes what it started, then leaves no process holding the API token.
    True when the watch runs."""
    if _running_host(sys.modules if modules is None else modules) is None:
        return False
    args = sys.argv if argv is None else argv
    if len(args) < 2 or not _ENGINE_ADDRESS.fullmatch(args[1]):
        return False
    host, _, port = args[1].rpartition(":")
    address = (host.strip("[]"), int(port))

    def watch() -> None:
        while _engine_answers(address):
            time.sleep(every)
        while busy():
            time.sleep(every / 4)
        exit_process(0)

    threading.Thread(target=watch, name="truto-engine-watch", daemon=True).start()
    return True


def _engine_answers(address: tuple[str, int]) -> bool:
    try:
        socket.create_connection(address, timeout=5.0).close()
    except ConnectionRefusedError:
        return False
    except OSError:
        return True  # a slow or odd answer is no proof that the engine is gone
    return True


def widen_host(
    calls: int,
    *,
    modules: dict[str, ModuleType] | None = None,
    thread: threading.Thread | None = None,
) -> int | None:
    """Let the dynamic provider host serve up to `calls` engine calls at once; the number of
    workers it has now, or None where this is not that host or its pool is not as expected (then
    nothing changed).

    The host serves the engine's calls from `ThreadPoolExecutor(max_workers=4)`, a local of its
    `main()`, so a provider waiting on Truto holds one of four workers whatever `--parallel`
    says. The calling thread (a worker of that pool, during `configure`) leads to the pool: its
    worker function holds a weak reference to it. The pool's limit is raised (never lowered)
    and its workers started; Truto's rate stays with the client's one limiter.
    """
    if _running_host(sys.modules if modules is None else modules) is None:
        return None
    pool = _serving_pool(threading.current_thread() if thread is None else thread)
    if pool is None:
        return None
    with pool._shutdown_lock:
        pool._max_workers = limit = max(pool._max_workers, calls)
        # The pool starts a worker on `submit` only when its count of idle workers (a hint,
        # grown by every finished call) is spent, so start them all now.
        for _ in range(_MOST_STARTS):
            if len(pool._threads) >= limit:
                break
            pool._adjust_thread_count()
        return len(pool._threads)


def _serving_pool(thread: threading.Thread) -> ThreadPoolExecutor | None:
    """The `ThreadPoolExecutor` whose worker `thread` is, when every part is as expected."""
    args = getattr(thread, "_args", None)
    if not isinstance(args, tuple) or not args or not isinstance(args[0], weakref.ref):
        return None
    if getattr(getattr(thread, "_target", None), "__module__", None) != "concurrent.futures.thread":
        return None
    pool = args[0]()
    if type(pool) is not ThreadPoolExecutor:
        return None
    limit = getattr(pool, "_max_workers", None)
    if type(limit) is not int or not callable(getattr(pool, "_adjust_thread_count", None)):
        return None
    if not hasattr(getattr(pool, "_shutdown_lock", None), "__enter__"):
        return None
    if not isinstance(getattr(pool, "_threads", None), set) or getattr(pool, "_shutdown", True):
        return None
    return pool


_MOST_STARTS = 100_000
"""Bounds the loop that starts workers: each turn starts one, or spends one idle-worker hint."""
