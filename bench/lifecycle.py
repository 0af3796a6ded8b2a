"""One lifecycle of N servers: create -> no-op plan -> update -> refresh -> destroy.

`host_lifecycle` drives a provider through the real provider host the way the engine does (via
`truto_pulumi.testing.Stack`, four workers); `raw_lifecycle` makes the same HTTP requests with
plain httpx from four threads. Each phase records its wall time, the HTTP requests the emulator
received, the gRPC calls the host answered and the CPU each process used.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from pulumi.dynamic import ResourceProvider

from truto_pulumi.testing import ProviderHost, Stack

from .cpu import CpuClock
from .emulator import EmulatorProcess
from .workload import MCP_SERVER_TYPE, PATCH_FIELD, desired

__all__ = [
    "PHASES",
    "BenchError",
    "LifecycleRun",
    "PhaseRun",
    "host_lifecycle",
    "raw_lifecycle",
]

PHASES = ("create", "no-op plan", "update", "refresh", "destroy")


class BenchError(RuntimeError):
    """A run did not do what it should have (wrong ops, failed calls): its numbers are void."""


@dataclass(frozen=True)
class PhaseRun:
    """One phase: wall seconds, HTTP requests by "METHOD status", gRPC calls, CPU by process."""

    seconds: float
    http: dict[str, int]
    grpc: dict[str, int]
    cpu: dict[str, float]

    @property
    def requests(self) -> int:
        return sum(self.http.values())

    @property
    def failed_requests(self) -> int:
        return sum(n for key, n in self.http.items() if not key.split()[-1].startswith("2"))


@dataclass(frozen=True)
class LifecycleRun:
    """All phases of one lifecycle of `n` servers by one variant."""

    variant: str
    n: int
    phases: dict[str, PhaseRun] = field(default_factory=dict)

    @property
    def seconds(self) -> float:
        return sum(phase.seconds for phase in self.phases.values())

    def cpu(self, process: str) -> float:
        return sum(phase.cpu.get(process, 0.0) for phase in self.phases.values())


def _measure(
    emulator: EmulatorProcess, host: ProviderHost | None, action: Callable[[], None]
) -> PhaseRun:
    emulator.clear_journal()
    if host is not None:
        host.reset_calls()
    pids: dict[str, int | None] = {"driver": None, "emulator": emulator.pid}  # None: this one
    if host is not None:
        pids["host"] = host.pid
    clock = CpuClock(pids)
    clock.start()
    started = time.perf_counter()
    action()
    seconds = time.perf_counter() - started
    cpu = clock.stop()
    http = Counter(f"{entry['method']} {entry['status']}" for entry in emulator.journal())
    grpc = Counter(call.method for call in host.calls) if host is not None else Counter()
    failed = [call for call in (host.calls if host is not None else []) if not call.ok]
    if failed:
        raise BenchError(f"{len(failed)} gRPC call(s) failed, e.g. {failed[0]}")
    return PhaseRun(seconds, dict(http), dict(grpc), cpu)


def _expect(what: str, got: Iterable[str], op: str, n: int) -> None:
    ops = Counter(got)
    if ops != Counter({op: n}):
        raise BenchError(f"{what}: expected {n} x {op}, got {dict(ops)}")


def host_lifecycle(
    variant: str,
    host: ProviderHost,
    provider: ResourceProvider,
    emulator: EmulatorProcess,
    n: int,
    config: dict[str, str],
) -> LifecycleRun:
    """Take `n` servers through the five phases with `provider` served by `host`."""
    stack = Stack(host, provider, type_token=MCP_SERVER_TYPE, config=config, parallel=4)
    first, second = desired(n), desired(n, generation=1)

    def create() -> None:
        _expect("create", stack.up(first).ops.values(), "create", n)

    def plan() -> None:
        changes = stack.preview(first).changes
        if changes:
            raise BenchError(f"no-op plan is not empty: {len(changes)} change(s)")

    def update() -> None:
        _expect("update", stack.up(second).ops.values(), "update", n)

    def refresh() -> None:
        outcomes = stack.refresh()
        if len(outcomes) != n or any(o.deleted for o in outcomes.values()):
            raise BenchError("refresh lost servers")

    def destroy() -> None:
        stack.destroy()
        if stack.resources:
            raise BenchError(f"destroy left {len(stack.resources)} server(s)")

    actions = (create, plan, update, refresh, destroy)
    run = LifecycleRun(variant, n)
    for phase, action in zip(PHASES, actions, strict=True):
        run.phases[phase] = _measure(emulator, host, action)
    return run


def raw_lifecycle(emulator: EmulatorProcess, n: int, *, workers: int = 4) -> LifecycleRun:
    """The same HTTP requests with one plain `httpx.Client` shared by `workers` threads."""
    first, second = desired(n), desired(n, generation=1)
    ids: dict[str, str] = {}

    with emulator.client(timeout=30.0) as http:

        def send(method: str, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
            response = http.request(method, path, json=body)
            response.raise_for_status()
            answer: dict[str, Any] = response.json()
            return answer

        def each(fn: Callable[[str], None]) -> None:
            with ThreadPoolExecutor(max_workers=workers) as pool:
                list(pool.map(fn, first))

        def path(name: str, with_id: bool = True) -> str:
            base = f"/integrated-account/{first[name]['integrated_account_id']}/mcp"
            return f"{base}/{ids[name]}" if with_id else base

        def create_one(name: str) -> None:
            body = {key: first[name][key] for key in ("name", "config")}
            ids[name] = str(send("POST", path(name, with_id=False), body)["id"])

        def update_one(name: str) -> None:
            send("PATCH", path(name), {PATCH_FIELD: second[name][PATCH_FIELD]})

        def read_one(name: str) -> None:
            send("GET", path(name))

        def delete_one(name: str) -> None:
            send("DELETE", path(name))

        def nothing() -> None:
            """A no-op plan needs no request."""

        actions: tuple[Callable[[], None], ...] = (
            lambda: each(create_one),
            nothing,
            lambda: each(update_one),
            lambda: each(read_one),
            lambda: each(delete_one),
        )
        run = LifecycleRun("raw httpx", n)
        for phase, action in zip(PHASES, actions, strict=True):
            run.phases[phase] = _measure(emulator, None, action)
    if len(ids) != n:
        raise BenchError(f"raw baseline created {len(ids)} of {n} servers")
    return run
