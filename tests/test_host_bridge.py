"""`_host_bridge`, against stand-ins of Pulumi's dynamic provider host: expected failures by
their message, the request's URN, warnings to the engine, the widened pool, the exit with the
engine, and each reach that no longer works said once (`reach_lost`)."""

from __future__ import annotations

import logging
import socket
import sys
import threading
import traceback
import weakref
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from importlib.machinery import ModuleSpec
from types import ModuleType, SimpleNamespace
from typing import Any, TypeVar

import pytest
from pulumi.dynamic import ConfigureRequest
from pulumi.dynamic.config import Config
from pulumi.runtime.proto import engine_pb2

from truto_pulumi._errors import TrutoConfigError
from truto_pulumi._host_bridge import (
    FULL_TRACEBACKS_ENV,
    HOST_MODULE,
    EngineLogHandler,
    exit_with_engine,
    quiet_expected_failures,
    request_over,
    request_urn,
    send_warnings_to_engine,
    widen_host,
)
from truto_pulumi._run import RunState
from truto_pulumi._settings import ProviderSettings, resolve_settings
from truto_pulumi.provider import TrutoMcpServerProvider, _request_urn

_T = TypeVar("_T")


def fake_host(name: str = HOST_MODULE) -> ModuleType:
    """A module shaped like `pulumi/dynamic/__main__.py`: it formats errors with `traceback`."""
    host = ModuleType("__main__")
    host.__spec__ = ModuleSpec(name, loader=None)
    host.traceback = traceback  # type: ignore[attr-defined]
    host._abort_with_traceback = lambda fn: fn  # type: ignore[attr-defined]
    return host


def formatted(host: ModuleType, error: Exception) -> str:
    """What the host would send the engine for `error`."""
    try:
        raise error
    except Exception:
        text: str = host.traceback.format_exc()
    return text


@pytest.fixture
def said(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> pytest.LogCaptureFixture:
    """What `reach_lost` says in the test (`.messages`), as a fresh process would."""
    monkeypatch.setattr("truto_pulumi._host_bridge._said", set())
    monkeypatch.setattr(logging.getLogger("truto_pulumi"), "propagate", True)
    caplog.set_level(logging.WARNING, logger="truto_pulumi")
    return caplog


def test_in_the_host_an_expected_failure_is_its_message_alone_and_any_other_its_traceback() -> None:
    host = fake_host()
    assert quiet_expected_failures({"__main__": host}) is True
    patched = host.traceback
    assert quiet_expected_failures({"__main__": host}) is True  # a second configure
    assert host.traceback is patched
    error = TrutoConfigError("truto:baseUrl must be an http(s) URL")
    assert formatted(host, error) == "truto:baseUrl must be an http(s) URL"
    text = formatted(host, KeyError("__provider"))
    assert text.startswith("Traceback (most recent call last):")
    assert text.rstrip().endswith("KeyError: '__provider'")


@pytest.mark.parametrize(
    "case",
    [
        pytest.param("no_main", id="outside_any_program"),
        pytest.param("another_program", id="outside_the_host"),
        pytest.param("formats_otherwise", id="other_format"),
        pytest.param("adds_no_traceback", id="host_adds_no_traceback"),
        pytest.param("full_tracebacks", id="environment_variable_keeps_every_traceback"),
    ],
)
def test_a_host_that_is_not_as_expected_is_left_as_it_is(
    monkeypatch: pytest.MonkeyPatch, case: str
) -> None:
    host = fake_host("pytest.__main__" if case == "another_program" else HOST_MODULE)
    own = ModuleType("traceback")
    if case == "formats_otherwise":
        vars(host)["traceback"] = own
    elif case == "adds_no_traceback":
        del host._abort_with_traceback
    elif case == "full_tracebacks":
        monkeypatch.setenv(FULL_TRACEBACKS_ENV, "1")
    assert quiet_expected_failures({} if case == "no_main" else {"__main__": host}) is False
    if case == "formats_otherwise":
        assert host.traceback is own
    else:
        assert formatted(host, TrutoConfigError("bad")).startswith("Traceback")


def handle(request: Any, context: Any, action: Callable[[], _T]) -> _T:
    """Run `action` as the host's servicer runs a provider method: its request and gRPC context
    in a caller frame."""
    return action()


URN = "urn:pulumi:dev::p::pulumi-python:dynamic/truto:McpServer::reader"


def test_a_warning_during_a_request_goes_to_the_engine_on_that_resource() -> None:
    sent: list[Any] = []
    logger = logging.getLogger("truto_pulumi.test_bridge")
    handler = EngineLogHandler(SimpleNamespace(Log=sent.append))
    logger.addHandler(handler)
    try:
        handle(
            SimpleNamespace(urn=URN),
            SimpleNamespace(),
            lambda: logger.warning("removed MCP server %s", "s1"),
        )
        logger.warning("outside any request")
    finally:
        logger.removeHandler(handler)
    assert [(r.severity, r.message, r.urn) for r in sent] == [
        (engine_pb2.WARNING, "removed MCP server s1", URN),
        (engine_pb2.WARNING, "outside any request", ""),
    ]


@pytest.mark.parametrize(
    ("context", "urn", "over"),
    [
        pytest.param(SimpleNamespace(is_active=lambda: True), URN, False, id="engine_waiting"),
        pytest.param(SimpleNamespace(is_active=lambda: False), URN, True, id="engine_gone"),
        pytest.param(SimpleNamespace(), URN, False, id="context_without_is_active"),
        pytest.param(None, None, False, id="outside_the_hosts_call"),
    ],
)
def test_the_request_urn_and_whether_the_request_is_over_come_from_the_hosts_call(
    context: Any, urn: str | None, over: bool
) -> None:
    def ask() -> tuple[str | None, bool]:
        return request_urn(), request_over()

    asked = ask() if context is None else handle(SimpleNamespace(urn=URN), context, ask)
    assert asked == (urn, over)


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


def in_worker(pool: ThreadPoolExecutor, call: Callable[[], _T]) -> _T:
    """`call()` run by a worker of `pool`, as the host runs a provider's `configure`."""
    return pool.submit(call).result(timeout=10)


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
            in_worker(pool, lambda: None)
        in_worker(pool, lambda: provider.configure(ConfigureRequest(config)))
        assert pool._max_workers == workers
        together = threading.Barrier(workers, timeout=10)  # as many calls at once
        assert all(f.result(10) >= 0 for f in [pool.submit(together.wait) for _ in range(workers)])


# --- a reach that no longer works is said, once ------------------------------------------------


def _unwidened_host(monkeypatch: pytest.MonkeyPatch) -> None:
    """Configure asks for more workers, not from one of the pool's: the pool cannot be found."""
    monkeypatch.setitem(sys.modules, "__main__", fake_host())
    config = Config({"truto:apiToken": "t", "truto:hostConcurrency": "8"}, "demo")
    TrutoMcpServerProvider().configure(ConfigureRequest(config))


def _host_of_other_format(monkeypatch: pytest.MonkeyPatch) -> None:
    host = fake_host()
    vars(host)["traceback"] = ModuleType("traceback")
    assert quiet_expected_failures({"__main__": host}) is False


def _hidden_urn(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "__main__", fake_host())
    assert _request_urn() is None


def _hidden_config_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    assert resolve_settings(SimpleNamespace(get=lambda key: None).get, {}).api_token is None


def _no_pulumi_command(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("truto_pulumi._run.cli_command_line", lambda pid: [])
    assert RunState(ProviderSettings(api_token=None)).replaces(URN) is False


@pytest.mark.parametrize(
    ("lose", "what", "without"),
    [
        (_unwidened_host, "widen the pool", "truto:hostConcurrency has no effect"),
        (_host_of_other_format, "shorten the provider host's report", "the host's traceback"),
        (_hidden_urn, "read the URN", "the create marks of new servers carry no tag"),
        (_hidden_config_keys, "list the stack's config keys", "setting is ignored"),
        (_no_pulumi_command, "read the `pulumi` command", "adopts its server again"),
    ],
)
def test_a_reach_that_no_longer_works_is_said_once_with_what_the_provider_does_without_it(
    monkeypatch: pytest.MonkeyPatch,
    said: pytest.LogCaptureFixture,
    lose: Callable[[pytest.MonkeyPatch], None],
    what: str,
    without: str,
) -> None:
    lose(monkeypatch)
    lose(monkeypatch)
    (message,) = said.messages
    assert message.startswith(f"truto-pulumi cannot {what}")
    assert without in message


# --- the host exits with its engine ------------------------------------------------------------


@pytest.mark.slow  # listens on a loopback port: the engine stand-in
def test_the_host_exits_once_its_engine_is_gone_and_its_operations_are_done() -> None:
    engine = socket.create_server(("127.0.0.1", 0))
    address = f"127.0.0.1:{engine.getsockname()[1]}"
    operations = [True]
    exited = threading.Event()

    watching = exit_with_engine(
        lambda: operations[0],
        argv=["pulumi.dynamic", address],
        modules={"__main__": fake_host()},
        every=0.05,
        exit_process=lambda code: exited.set(),
    )

    assert watching
    assert not exited.wait(0.3)  # the engine answers
    engine.close()
    assert not exited.wait(0.3)  # gone, but an operation is under way
    operations[0] = False
    assert exited.wait(2.0)
