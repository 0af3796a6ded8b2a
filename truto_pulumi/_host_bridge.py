"""How this provider fits Pulumi's dynamic provider host (`python -m pulumi.dynamic`), which
hands a provider neither the request's URN (it comes from the `__urn` input) nor the engine's
address (the plugin protocol's first argument). The one reach into the host's internals, a wider
pool, is opt-in (ARCHITECTURE.md) and says so once (`reach_lost`) when it no longer works."""

from __future__ import annotations

import logging
import os
import re
import socket
import sys
import threading
import time
import weakref
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextvars import ContextVar
from importlib import metadata
from types import ModuleType
from typing import Any

HOST_MODULE = "pulumi.dynamic.__main__"
_LOGGER = "truto_pulumi"
_said: set[str] = set()
_Modules = dict[str, ModuleType]
"""`sys.modules`, or what a test passes for it."""


def reach_lost(what: str, consequence: str) -> None:
    """Warn once per process that a reach into Pulumi's internals no longer works, and what the
    provider does without it: never silently less."""
    if what not in _said:
        _said.add(what)
        logging.getLogger(_LOGGER).warning(
            "truto-pulumi cannot %s in pulumi %s: %s. Please report this, with the pulumi version",
            what,
            metadata.version("pulumi"),
            consequence,
        )


def _running_host(modules: _Modules | None = None) -> ModuleType | None:
    """The dynamic provider host's module, when this process is that host."""
    modules = sys.modules if modules is None else modules
    for module in (modules.get("__main__"), modules.get(HOST_MODULE)):
        if module is not None and getattr(module.__spec__, "name", None) == HOST_MODULE:
            return module
    return None


def in_host() -> bool:
    """Whether this process is Pulumi's dynamic provider host."""
    return _running_host() is not None


URN_KEY = "__urn"
"""The input that tells the provider a resource's URN (the engine shows no `__` property)."""
REQUEST_URN: ContextVar[str | None] = ContextVar("truto_request_urn", default=None)
"""The URN of the resource whose engine call this context serves: where warnings land."""


class EngineLogHandler(logging.Handler):
    """Log records as engine diagnostics on `REQUEST_URN` (else the stack), as `pulumi.log`."""

    def __init__(self, engine: Any) -> None:
        super().__init__(logging.WARNING)
        self._engine = engine  # the engine's gRPC stub: its `Log`

    def emit(self, record: logging.LogRecord) -> None:
        from pulumi.runtime.proto import engine_pb2

        severity = engine_pb2.ERROR if record.levelno >= logging.ERROR else engine_pb2.WARNING
        text = self.format(record)
        try:
            self._engine.Log(
                engine_pb2.LogRequest(severity=severity, message=text, urn=REQUEST_URN.get() or "")
            )
        except Exception:  # the engine gone: say it where the host's output goes
            sys.stderr.write(text + "\n")


_ENGINE_ADDRESS = re.compile(r"(?:127\.0\.0\.1|localhost|\[::1\]):\d{1,5}")


def _engine_address(argv: Sequence[str] | None, modules: _Modules | None) -> str | None:
    """The engine's address in the dynamic provider host (its first argument); None elsewhere."""
    args = sys.argv if argv is None else argv
    if _running_host(modules) is None or len(args) < 2 or not _ENGINE_ADDRESS.fullmatch(args[1]):
        return None
    return args[1]


def send_warnings_to_engine(
    argv: Sequence[str] | None = None, modules: _Modules | None = None
) -> bool:
    """In the provider host, route the `truto_pulumi` warnings to the engine; whether it did."""
    logger = logging.getLogger(_LOGGER)
    address = _engine_address(argv, modules)
    if address is None:
        return False
    if not any(isinstance(handler, EngineLogHandler) for handler in logger.handlers):
        import grpc
        from pulumi.runtime.proto import engine_pb2_grpc

        logger.addHandler(
            EngineLogHandler(engine_pb2_grpc.EngineStub(grpc.insecure_channel(address)))
        )
        logger.propagate = False  # not also as untyped text on the host's stderr
    return True


def exit_with_engine(
    busy: Callable[[], bool],
    *,
    argv: Sequence[str] | None = None,
    modules: _Modules | None = None,
    every: float = 2.0,
    exit_process: Callable[[int], object] = os._exit,
) -> bool:
    """In the provider host, exit once the engine refuses connections and `busy()` is false: a
    host whose CLI was killed finishes its work, then holds no API token. Whether it watches."""
    engine = _engine_address(argv, modules)
    if engine is None:
        return False

    def watch() -> None:
        while not _refuses(engine):
            time.sleep(every)
        while busy():
            time.sleep(every / 4)
        exit_process(0)

    threading.Thread(target=watch, name="truto-engine-watch", daemon=True).start()
    return True


def engine_gone(argv: Sequence[str] | None = None, modules: _Modules | None = None) -> bool:
    """Whether this is the provider host and its engine is gone: nobody will record an answer."""
    engine = _engine_address(argv, modules)
    return engine is not None and _refuses(engine)


def _refuses(address: str) -> bool:
    """Whether the engine at `address` refuses a connection (a slow or odd answer is no proof)."""
    host, _, port = address.rpartition(":")
    try:
        socket.create_connection((host.strip("[]"), int(port)), timeout=5.0).close()
    except ConnectionRefusedError:
        return True
    except OSError:
        return False
    return False


def widen_host(
    calls: int,
    *,
    modules: _Modules | None = None,
    thread: threading.Thread | None = None,
) -> int | None:
    """Let the host serve up to `calls` engine calls at once, not the four of its `main()`'s
    pool, which the calling thread (a worker of it) leads to; the workers it has now, or None
    where this is not that host or its pool is not as expected (then nothing changed)."""
    thread = threading.current_thread() if thread is None else thread
    args = getattr(thread, "_args", None)  # a pool worker's: a weak reference to its pool first
    ref = args[0] if isinstance(args, tuple) and args else None
    pool = ref() if isinstance(ref, weakref.ref) else None
    as_expected = (
        _running_host(modules) is not None
        and getattr(getattr(thread, "_target", None), "__module__", None)
        == "concurrent.futures.thread"
        and type(getattr(pool, "_max_workers", None)) is int
        and callable(getattr(pool, "_adjust_thread_count", None))
        and hasattr(getattr(pool, "_shutdown_lock", None), "__enter__")
        and isinstance(getattr(pool, "_threads", None), set)
        and getattr(pool, "_shutdown", True) is False
    )
    if type(pool) is not ThreadPoolExecutor or not as_expected:
        return None
    with pool._shutdown_lock:
        pool._max_workers = limit = max(pool._max_workers, calls)
        # `submit` starts a worker only once its idle-worker hint is spent: start them all now
        # (each turn starts one or spends a hint; the bound stops an unforeseen pool looping).
        for _ in range(100_000):
            if len(pool._threads) >= limit:
                break
            pool._adjust_thread_count()
        return len(pool._threads)
