"""`_host_bridge`, against stand-ins of Pulumi's dynamic provider host: warnings to the engine
on their resource, the opt-in widened pool (said once when it no longer works), and the exit
with the engine."""

from __future__ import annotations

import logging
import socket
import sys
import threading
import weakref
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from importlib.machinery import ModuleSpec
from types import ModuleType, SimpleNamespace
from typing import Any

import pytest
from pulumi.dynamic import ConfigureRequest
from pulumi.dynamic.config import Config
from pulumi.runtime.proto import engine_pb2

from truto_pulumi._host_bridge import (
    HOST_MODULE,
    REQUEST_URN,
    EngineLogHandler,
    engine_gone,
    exit_with_engine,
    send_warnings_to_engine,
    widen_host,
)
from truto_pulumi.provider import TrutoMcpServerProvider


def fake_host(name: str = HOST_MODULE) -> ModuleType:
    """A module shaped like `pulumi/dynamic/__main__.py`."""
    host = ModuleType("__main__")
    host.__spec__ = ModuleSpec(name, loader=None)
    return host


URN = "urn:pulumi:dev::p::pulumi-python:dynamic/truto:McpServer::reader"


def test_a_warning_during_a_call_goes_to_the_engine_on_that_resource() -> None:
    sent: list[Any] = []
    logger = logging.getLogger("truto_pulumi.test_bridge")
    handler = EngineLogHandler(SimpleNamespace(Log=sent.append))
    logger.addHandler(handler)
    try:
        serving = REQUEST_URN.set(URN)
        logger.warning("removed MCP server %s", "s1")
        REQUEST_URN.reset(serving)
        logger.warning("outside any call")
    finally:
        logger.removeHandler(handler)
    assert [(r.severity, r.message, r.urn) for r in sent] == [
        (engine_pb2.WARNING, "removed MCP server s1", URN),
        (engine_pb2.WARNING, "outside any call", ""),
    ]


@pytest.mark.parametrize(
    ("argv", "modules", "routed"),
    [
        pytest.param(["host", "127.0.0.1:45123"], "host", True, id="host_with_engine_address"),
        pytest.param(["host", "[::1]:45123"], "host", True, id="ipv6_engine_address"),
        pytest.param(["host"], "host", False, id="no_engine_address"),
        pytest.param(["host", "--flag"], "host", False, id="not_an_address"),
        pytest.param(["pytest", "127.0.0.1:45123"], "elsewhere", False, id="not_the_host"),
    ],
)
def test_warnings_go_to_and_the_exit_watches_only_the_engine_that_started_the_host(
    argv: list[str], modules: str, routed: bool
) -> None:
    logger = logging.getLogger("truto_pulumi")
    before = (list(logger.handlers), logger.propagate)
    found = {"__main__": fake_host()} if modules == "host" else {}
    try:
        assert send_warnings_to_engine(argv, found) is routed
        assert send_warnings_to_engine(argv, found) is routed  # a second configure
        installed = [h for h in logger.handlers if isinstance(h, EngineLogHandler)]
        assert len(installed) == (1 if routed else 0)
        assert logger.propagate is not routed
    finally:
        logger.handlers[:], logger.propagate = before
    done, exited = threading.Event(), threading.Event()
    watching = exit_with_engine(
        lambda: not done.is_set(),
        argv=argv,
        modules=found,
        every=0.01,
        exit_process=lambda code: exited.set(),
    )
    assert watching is routed
    done.set()  # no engine listens there: a watch exits at once, now that nothing is under way
    assert exited.wait(5.0 if routed else 0) is routed


# --- widen_host: more than the host's four engine calls at once ---------------------------------


class _OwnPool(ThreadPoolExecutor):
    """A pool of another kind than the host's: its internals are not known."""


def _worker_like(pool: object, target: Callable[..., None] | None = None) -> Any:
    """A thread object shaped like a pool worker whose pool is `pool`."""
    import concurrent.futures.thread as pool_module

    return SimpleNamespace(
        _target=target or pool_module._worker, _args=(weakref.ref(pool), None, None, ())
    )


@pytest.mark.parametrize(
    "breakage",
    [
        "outside_the_host",
        "a_thread_of_no_pool",
        "a_subclass",
        "no__max_workers",
        "_threads_not_a_set",
        "shut_down",
        "worker_function_of_another_module",
    ],
)
def test_outside_the_host_or_in_a_pool_not_as_expected_nothing_is_widened(breakage: str) -> None:
    """Feature detection: any part of the host's pool not as Python's makes it a no-op."""
    pool = (_OwnPool if breakage == "a_subclass" else ThreadPoolExecutor)(max_workers=4)
    target = None
    if breakage == "no__max_workers":
        pool._limit = pool.__dict__.pop("_max_workers")  # type: ignore[attr-defined]
    elif breakage == "_threads_not_a_set":
        pool._threads = []  # type: ignore[assignment]
    elif breakage == "shut_down":
        pool.shutdown()
    elif breakage == "worker_function_of_another_module":
        target = print
    thread = threading.current_thread() if breakage == "a_thread_of_no_pool" else None
    modules = {} if breakage == "outside_the_host" else {"__main__": fake_host()}
    widened = widen_host(16, modules=modules, thread=thread or _worker_like(pool, target))
    assert widened is None
    assert pool.__dict__.get("_max_workers", 4) == 4


@pytest.mark.parametrize(
    ("size", "stack_config", "workers"),
    [
        pytest.param(4, {}, 4, id="by_default_the_host_as_it_is"),
        pytest.param(4, {"truto:hostConcurrency": "16"}, 16, id="as_set"),
        pytest.param(4, {"truto:hostConcurrency": "0"}, 4, id="zero_leaves_the_host_as_it_is"),
        pytest.param(16, {"truto:hostConcurrency": "8"}, 16, id="never_narrowed"),
    ],
)
def test_configure_widens_the_hosts_pool_as_truto_host_concurrency_says_with_every_worker_started(
    monkeypatch: pytest.MonkeyPatch, size: int, stack_config: dict[str, str], workers: int
) -> None:
    monkeypatch.setitem(sys.modules, "__main__", fake_host())
    provider = TrutoMcpServerProvider()
    config = Config({"truto:apiToken": "t", **stack_config}, "demo")
    with ThreadPoolExecutor(max_workers=size) as pool:
        for _ in range(20):  # finished calls leave the pool believing it has idle workers
            pool.submit(lambda: None).result(timeout=10)
        # by a worker of the pool, as the host runs a provider's `configure`
        pool.submit(provider.configure, ConfigureRequest(config)).result(timeout=10)
        assert pool._max_workers == workers
        together = threading.Barrier(workers, timeout=10)  # as many calls at once
        assert all(f.result(10) >= 0 for f in [pool.submit(together.wait) for _ in range(workers)])


def test_a_host_whose_pool_cannot_be_widened_says_so_once(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """Configure asks for more workers, not from one of the pool's: the pool cannot be found."""
    monkeypatch.setattr("truto_pulumi._host_bridge._said", set())
    monkeypatch.setattr(logging.getLogger("truto_pulumi"), "propagate", True)
    caplog.set_level(logging.WARNING, logger="truto_pulumi")
    monkeypatch.setitem(sys.modules, "__main__", fake_host())
    config = Config({"truto:apiToken": "t", "truto:hostConcurrency": "8"}, "demo")
    for _ in range(2):
        TrutoMcpServerProvider().configure(ConfigureRequest(config))
    (message,) = caplog.messages
    assert message.startswith("truto-pulumi cannot widen the pool")
    assert "truto:hostConcurrency has no effect" in message


# --- the host exits with its engine ------------------------------------------------------------


@pytest.mark.slow  # listens on a loopback port: the engine stand-in
def test_the_host_exits_once_its_engine_is_gone_and_its_operations_are_done() -> None:
    engine = socket.create_server(("127.0.0.1", 0))
    host: dict[str, Any] = {
        "argv": ["pulumi.dynamic", f"127.0.0.1:{engine.getsockname()[1]}"],
        "modules": {"__main__": fake_host()},
    }
    operations = [True]
    exited = threading.Event()

    watching = exit_with_engine(
        lambda: operations[0], every=0.05, exit_process=lambda code: exited.set(), **host
    )

    assert watching
    assert not exited.wait(0.3)  # the engine answers
    assert engine_gone(**host) is False
    engine.close()
    assert engine_gone(**host) is True  # what a create asks before it renames its server
    assert engine_gone() is False  # outside the host
    assert not exited.wait(0.3)  # gone, but an operation is under way
    operations[0] = False
    assert exited.wait(2.0)
