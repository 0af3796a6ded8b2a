"""Rate-limit behaviour: a large create against the emulator enforcing Truto's limit.

Run once with the client-side limiter as shipped (stack config without the key) and once with
`truto:maxRequestsPerSecond = 0` (disabled). Each run gets a fresh provider host, because the
host configures a provider once and keeps it.
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass

from truto_pulumi.provider import TrutoMcpServerProvider
from truto_pulumi.testing import ProviderHost, Stack, UpError

from .emulator import EmulatorProcess
from .workload import MCP_SERVER_TYPE, desired

__all__ = ["LIMITER_KEY", "RateLimitRun", "rate_limited_create"]

LIMITER_KEY = "truto:maxRequestsPerSecond"


@dataclass(frozen=True)
class RateLimitRun:
    """One create of `n` servers under the emulator's limit of `limit` requests per `window` s."""

    limiter: str
    n: int
    limit: int
    window: float
    seconds: float
    created: int
    failed: int
    statuses: dict[str, int]
    peak_per_second: int
    """The most requests the emulator received in any one-second span."""
    peak_per_window: int
    """The most requests the emulator accepted in any span of `window` seconds."""

    @property
    def rejected(self) -> int:
        return self.statuses.get("429", 0)


def _peak(times: list[float], span: float) -> int:
    times = sorted(times)
    best, start = 0, 0
    for end, moment in enumerate(times):
        while times[start] <= moment - span:
            start += 1
        best = max(best, end - start + 1)
    return best


def rate_limited_create(
    emulator: EmulatorProcess,
    n: int,
    *,
    limiter_setting: str | None,
    limit: tuple[int, float] = (500, 10.0),
) -> RateLimitRun:
    """Create `n` servers through a fresh host; `limiter_setting` None leaves the key unset."""
    emulator.reset()
    emulator.set_rate_limit(*limit)
    extra = {} if limiter_setting is None else {LIMITER_KEY: limiter_setting}
    try:
        with ProviderHost(env={"TRUTO_API_TOKEN": "", "TRUTO_BASE_URL": ""}) as host:
            stack = Stack(
                host,
                TrutoMcpServerProvider(),
                type_token=MCP_SERVER_TYPE,
                config=emulator.config(**extra),
            )
            started = time.perf_counter()
            try:
                ops = stack.up(desired(n)).ops
                failed = 0
            except UpError as error:
                ops, failed = error.result.ops, len(error.errors)
            seconds = time.perf_counter() - started
        journal = emulator.journal()
    finally:
        emulator.reset()  # forget the servers and the window; no limit, no latency
    statuses = Counter(str(entry["status"]) for entry in journal)
    accepted = [float(e["ts"]) for e in journal if e["status"] != 429]
    label = "as shipped (key unset)"
    if limiter_setting is not None:
        label = f"{LIMITER_KEY}={limiter_setting}"
    return RateLimitRun(
        limiter=label,
        n=n,
        limit=limit[0],
        window=limit[1],
        seconds=seconds,
        created=sum(1 for op in ops.values() if op == "create"),
        failed=failed,
        statuses=dict(sorted(statuses.items())),
        peak_per_second=_peak([float(e["ts"]) for e in journal], 1.0),
        peak_per_window=_peak(accepted, limit[1]),
    )
