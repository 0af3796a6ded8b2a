"""One lifecycle of N servers: create, no-op plan, update (one field), refresh, destroy.

`host_lifecycle` drives a provider through the real provider host as the engine does
(`devkit.SimulatedStack`, four workers); `raw_lifecycle` sends the same requests with
plain httpx. Each phase records its wall time and the requests in the emulator's journal.
"""

from __future__ import annotations

import time
import uuid
from collections import Counter
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from pulumi.dynamic import ConfigureRequest, ResourceProvider
from pulumi.dynamic.config import Config

from devkit import MCP_SERVER_TYPE, ProviderHost, SimulatedStack

from .emulator import EmulatorProcess
from .reference_provider import ReferenceProvider

PHASES = ("create", "no-op plan", "update", "refresh", "destroy")
FLOOR = dict(zip(PHASES, (1, 0, 1, 1, 1), strict=True))
"""The HTTP requests per resource each phase cannot do without."""
ACCOUNTS = [str(uuid.UUID(int=0x6E3A_0000_0000_4000_8000_0000_0000_0000 + i)) for i in range(8)]


@dataclass
class Lifecycle:
    n: int
    seconds: dict[str, float] = field(default_factory=dict)
    requests: dict[str, int] = field(default_factory=dict)

    @property
    def total(self) -> float:
        return sum(self.seconds.values())


def desired(n: int, *, generation: int = 0) -> dict[str, dict[str, Any]]:
    """`n` servers by resource name, canonical already (so the reference provider sends the
    same bodies as ours); `generation` > 0 renames each one."""
    suffix = f" v{generation + 1}" if generation else ""
    return {
        f"srv-{i:04d}": {
            "integrated_account_id": ACCOUNTS[i % len(ACCOUNTS)],
            "name": f"Bench server {i}{suffix}",
            "config": {"methods": ["list", "read"], "tags": ["bench", "crm"]},
        }
        for i in range(n)
    }


def _timed_lifecycle(emulator: EmulatorProcess, n: int, *phases: Callable[[], object]) -> Lifecycle:
    """Time each phase; a failed request or a phase returning False voids the run."""
    run = Lifecycle(n)
    for name, phase in zip(PHASES, phases, strict=True):
        emulator.clear_journal()
        started = time.perf_counter()
        ok = phase()
        run.seconds[name] = time.perf_counter() - started
        statuses = Counter(int(entry["status"]) for entry in emulator.journal())
        if ok is False or any(status // 100 != 2 for status in statuses):
            raise RuntimeError(f"{name} went wrong (HTTP statuses {dict(statuses)})")
        run.requests[name] = statuses.total()
    return run


def host_lifecycle(
    host: ProviderHost,
    provider: ResourceProvider,
    emulator: EmulatorProcess,
    n: int,
    stack_config: Mapping[str, str],
) -> Lifecycle:
    """Take `n` servers through the five phases with `provider` served by `host`, restarted
    first: a lifecycle starts as a `pulumi up` does, with a provider process that has done
    nothing yet (ours lists each account once per process for what killed runs left)."""
    host.restart()
    stack = SimulatedStack(
        host, provider, type_token=MCP_SERVER_TYPE, stack_config=stack_config, parallel=4
    )
    first, second = desired(n), desired(n, generation=1)

    def up(servers: dict[str, dict[str, Any]], op: str) -> bool:
        return Counter(stack.up(servers).ops.values()) == Counter({op: n})

    def destroy() -> bool:
        stack.destroy()
        return not stack.resources

    return _timed_lifecycle(
        emulator,
        n,
        lambda: up(first, "create"),
        lambda: stack.preview(first).is_empty,
        lambda: up(second, "update"),
        lambda: sum(not outcome.deleted for outcome in stack.refresh().values()) == n,
        destroy,
    )


def raw_lifecycle(emulator: EmulatorProcess, n: int, stack_config: Mapping[str, str]) -> Lifecycle:
    """The same requests without host or engine: the reference provider's plain httpx calls,
    from four threads sharing its one client."""
    provider = ReferenceProvider()
    provider.configure(ConfigureRequest(Config(dict(stack_config), "bench")))
    first, second = desired(n), desired(n, generation=1)
    made: dict[str, tuple[str, dict[str, Any]]] = {}

    def create(name: str) -> None:
        created = provider.create(first[name])
        made[name] = (created.id, created.outs or {})

    def each(call: Callable[[str], object]) -> bool:
        with ThreadPoolExecutor(max_workers=4) as pool:
            list(pool.map(call, first))
        return True

    return _timed_lifecycle(
        emulator,
        n,
        lambda: each(create) and len(made) == n,
        lambda: None,  # a no-op plan needs no request
        lambda: each(lambda name: provider.update(*made[name], second[name])),
        lambda: each(lambda name: provider.read(*made[name])),
        lambda: each(lambda name: provider.delete(*made[name])),
    )
