"""Section 9: the real engine with Truto 50-300 ms away, up to 1,000 servers, beside the floor.

`python -m bench.engine --cells 200@150 1000@150 [--rounds 3]` (N@milliseconds; or `--latency
50 150 300 --sizes 200`) runs, per cell and round, a fresh stack of each variant through `up`,
a no-op `preview`, `refresh`, an `update` of every server and `destroy`, against the emulator
with that added latency and Truto's rate limit (500 requests per 10 s, 429 beyond):

- *ours*: `TrutoMcpServer` with client-side pacing at 49 requests per second and the provider
  host widened to `truto:hostConcurrency` 16 (an opt-in setting);
- *ours, host as is*: the same with the default `truto:hostConcurrency` 0, Pulumi's host of
  four workers;
- *ours, --parallel 16*: ours with the engine sending 16 calls at once (`PULUMI_PARALLEL`), as
  it does by default on four cores;
- *reference*: `bench/reference_provider.py`, one request per operation (retrying a 429);
- *null*: a provider that calls nothing: the engine's and the host's own cost.

The floor of an operation making one request per server is max(N x latency / 4, N / 50 per
second) plus the null provider's time in the same round: the four calls Pulumi's host serves
at once, Truto's rate, and the engine's own work.
"""

from __future__ import annotations

import os
import statistics
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from .emulator import EmulatorProcess
from .report import spread, table

VARIANTS = ("ours", "ours, host as is", "ours, --parallel 16", "reference", "null")
OPERATIONS = ("up", "preview", "refresh", "update", "destroy")
HOST_CALLS = 4
"""The engine calls Pulumi's Python provider host serves at once (`max_workers=4`)."""
TRUTO_RATE = 50.0
"""Truto's rate limit per API token: 500 requests per 10 s."""
TRUTO_LIMIT = (500, 10.0)
ENGINE_ENV = {"PULUMI_SKIP_CHECKPOINTS": "true"}
"""Every variant: the engine writes the state once at the end of a command, not after each
step (a `file://` backend rewrites the whole state file at each one: quadratic in N)."""


def settings(variant: str) -> dict[str, str]:
    """The `truto:` stack config of a variant beyond its token and URL."""
    return {} if variant == "ours, host as is" else {"hostConcurrency": "16"}


def environment(variant: str) -> dict[str, str]:
    """What a variant adds to the CLI's environment: the engine's `--parallel`."""
    return {"PULUMI_PARALLEL": "16"} if variant == "ours, --parallel 16" else {}


def http_floor(operation: str, n: int, latency: float) -> float:
    """Seconds the HTTP of one request per server takes at best: the host's four calls at once,
    or Truto's rate, whichever binds; a no-op preview sends nothing."""
    if operation == "preview":
        return 0.0
    return max(n * latency / HOST_CALLS, n / TRUTO_RATE)


@dataclass
class Round:
    """One variant's round: wall seconds per operation, 429s drawn, the host's peak memory."""

    seconds: dict[str, float] = field(default_factory=dict)
    requests: dict[str, int] = field(default_factory=dict)
    throttled: int = 0
    peak_kib: int = 0


class HostMemory:
    """Samples the peak resident memory (VmHWM) of the dynamic provider hosts this process's
    CLIs start, while it runs: a host exits with its command."""

    def __init__(self, every: float = 0.1) -> None:
        self.peak_kib = 0
        self._every = every
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    @contextmanager
    def sampling(self) -> Iterator[HostMemory]:
        self._thread.start()
        try:
            yield self
        finally:
            self._stop.set()
            self._thread.join()

    def _sample(self) -> None:
        while not self._stop.wait(self._every):
            for pid in _provider_hosts():
                self.peak_kib = max(self.peak_kib, _peak_kib(pid))


def _provider_hosts() -> list[int]:
    """Pids of `python -m pulumi.dynamic` processes descending from this one."""
    mine, found = os.getpid(), []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            argv = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if b"pulumi.dynamic" in argv and _descends(int(entry.name), mine):
            found.append(int(entry.name))
    return found


def _descends(pid: int, ancestor: int) -> bool:
    for _ in range(16):
        if pid == ancestor:
            return True
        try:
            pid = int((Path("/proc") / str(pid) / "stat").read_text().rpartition(")")[2].split()[1])
        except (OSError, IndexError, ValueError):
            return False
        if pid <= 1:
            return False
    return False


def _peak_kib(pid: int) -> int:
    try:
        for line in (Path("/proc") / str(pid) / "status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return 0


def run_round(steps: dict[str, Callable[[], object]], emulator: EmulatorProcess) -> Round:
    """Time each step (`up`, `preview`, ...) of one variant's round; count its requests and the
    429s it drew."""
    result = Round()
    with HostMemory().sampling() as memory:
        for operation, step in steps.items():
            emulator.clear_journal()
            started = time.perf_counter()
            step()
            result.seconds[operation] = time.perf_counter() - started
            statuses = [entry["status"] for entry in emulator.journal()]
            result.requests[operation] = len(statuses)
            result.throttled += statuses.count(429)
    result.peak_kib = memory.peak_kib
    return result


HEADER = (
    "N|latency ms|operation|ours s|host as is s|--parallel 16 s|reference s|null s|floor s"
    "|ours / floor|host as is / floor|--parallel 16 / floor|ours / reference"
)


def rows(n: int, latency_ms: int, rounds: dict[str, list[Round]]) -> list[list[object]]:
    """One row per operation: median seconds of each variant, the floor, and the medians
    (ranges) of the per-round ratios; the floor of a round uses that round's null time."""
    latency, found = latency_ms / 1000, []
    for operation in OPERATIONS:

        def seconds(variant: str, r: int, operation: str = operation) -> float:
            return rounds[variant][r].seconds[operation]

        count = len(rounds["ours"])
        floors = [http_floor(operation, n, latency) + seconds("null", r) for r in range(count)]
        ratio = {
            variant: [seconds(variant, r) / floors[r] for r in range(count)]
            for variant in VARIANTS[:3]
        }
        versus = [seconds("ours", r) / seconds("reference", r) for r in range(count)]
        found.append(
            [
                n,
                latency_ms,
                operation,
                *(spread([seconds(v, r) for r in range(count)], "{:.1f}") for v in VARIANTS),
                f"{statistics.median(floors):.1f}",
                *(spread(ratio[variant], "{:.2f}") for variant in VARIANTS[:3]),
                spread(versus, "{:.2f}"),
            ]
        )
    return found


def footer(cells: dict[tuple[int, int], dict[str, list[Round]]]) -> str:
    """Requests per server of ours, the 429s each variant drew, and the provider host's peak
    memory at the largest N."""
    requests = table(
        "N|latency ms|" + "|".join(f"requests per server, {op}" for op in OPERATIONS),
        [
            [
                n,
                ms,
                *(
                    f"{statistics.median(r.requests[op] for r in rounds['ours']) / n:.2f}"
                    for op in OPERATIONS
                ),
            ]
            for (n, ms), rounds in cells.items()
        ],
    )
    throttled = table(
        "N|latency ms|" + "|".join(f"429s, {v}" for v in VARIANTS),
        [
            [n, ms, *(max(r.throttled for r in rounds[v]) for v in VARIANTS)]
            for (n, ms), rounds in cells.items()
        ],
    )
    largest = max(n for n, _ in cells)
    memory = table(
        "N|latency ms|" + "|".join(f"host peak MiB, {v}" for v in VARIANTS),
        [
            [n, ms, *(f"{max(r.peak_kib for r in rounds[v]) / 1024:.0f}" for v in VARIANTS)]
            for (n, ms), rounds in cells.items()
            if n == largest
        ],
    )
    return requests + "\n" + throttled + "\n" + memory
