"""Sections 1-6 of docs/benchmarks.md (bench/template.md), measured in one run.

Each section measures, keeps its numbers in `raw` (written as JSON) and fills its fields of
the template. Within a round the variants run back to back, in an order that rotates between
rounds, so the drift of a busy machine hits them alike.
"""

from __future__ import annotations

import json
import statistics
import sys
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

from pulumi.dynamic import ResourceProvider
from pulumi.dynamic.dynamic import serialize_provider

from devkit import (
    MAX_REQUESTS_PER_SECOND_KEY,
    MCP_SERVER_TYPE,
    NO_TRUTO_ENV,
    ProviderHost,
    SimulatedStack,
    UpError,
)
from truto_pulumi.provider import TrutoMcpServerProvider

from .coldstart import cold_start
from .emulator import EmulatorProcess, emulator_process
from .lifecycle import FLOOR, PHASES, Lifecycle, desired, host_lifecycle, raw_lifecycle
from .null_provider import NullProvider
from .reference_provider import ReferenceProvider
from .report import ENGINE_BEGIN, TEMPLATE, machine, spread, table

RAW, REF, OURS, NULL = "raw httpx", "reference", "ours", "null"
PROVIDERS: dict[str, type[ResourceProvider]] = {
    OURS: TrutoMcpServerProvider,
    REF: ReferenceProvider,
    NULL: NullProvider,
}
LIMITER = MAX_REQUESTS_PER_SECOND_KEY


@dataclass(frozen=True)
class BenchPlan:
    n: int  # servers in sections 1 and 2
    rounds: dict[float, int]  # the emulator's added latency (s) -> rounds
    scale: dict[int, int]  # N -> rounds; N == n reuses the loopback rounds
    cold_rounds: int
    ratelimit_ns: tuple[int, ...]
    limit: tuple[int, float]  # the emulator's rate limit: requests per seconds
    warmup: int  # servers in an uncounted lifecycle before each set of rounds


FULL = BenchPlan(200, {0.0: 9, 0.03: 3}, {50: 9, 200: 9, 800: 3}, 5, (300, 600), (500, 10.0), 50)
QUICK = BenchPlan(20, {0.0: 1, 0.03: 1}, {10: 1, 20: 1, 40: 1}, 1, (30,), (20, 2.0), 5)


def _progress(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def _ratio(top: Sequence[Lifecycle], bottom: Sequence[Lifecycle]) -> str:
    """The ratio of the median totals, and the range of the per-round ratios."""
    medians = [statistics.median(r.total for r in runs) for runs in (top, bottom)]
    paired = [a.total / b.total for a, b in zip(top, bottom, strict=True)]
    rounds = f" (rounds {min(paired):.2f}-{max(paired):.2f})" if len(paired) > 1 else ""
    return f"{medians[0] / medians[1]:.2f}{rounds}"


class _Bench:
    def __init__(self, plan: BenchPlan, emulator: EmulatorProcess, hosts: dict[str, ProviderHost]):
        self.plan, self.emulator, self.hosts = plan, emulator, hosts
        # Sections 1-3 measure code: the client-side limiter would only add its pacing.
        self.stack_config = emulator.stack_config(**{LIMITER: "0"})
        self.raw: dict[str, Any] = {"plan": plan}
        self.fields: dict[str, Any] = {"n": plan.n, "machine": machine()}
        self.settings: dict[str, dict[str, list[Lifecycle]]] = {}

    def lifecycle(self, variant: str, n: int) -> Lifecycle:
        if variant == RAW:
            return raw_lifecycle(self.emulator, n, self.stack_config)
        provider = PROVIDERS[variant]()
        return host_lifecycle(self.hosts[variant], provider, self.emulator, n, self.stack_config)

    def rounds(self, variants: Sequence[str], n: int, count: int) -> dict[str, list[Lifecycle]]:
        runs: dict[str, list[Lifecycle]] = {variant: [] for variant in variants}
        for variant in variants:
            self.lifecycle(variant, self.plan.warmup)
        for index in range(count):
            shift = index % len(variants)
            for variant in [*variants[shift:], *variants[:shift]]:
                runs[variant].append(run := self.lifecycle(variant, n))
                _progress(f"N={n} round {index + 1}/{count} {variant}: {run.total:.2f} s")
        return runs

    def overhead(self) -> None:
        for latency, count in self.plan.rounds.items():
            self.emulator.set_latency(latency)
            label = f"{latency * 1000:g} ms latency" if latency else "loopback"
            self.settings[label] = self.rounds((RAW, REF, OURS), self.plan.n, count)
        self.emulator.set_latency(0.0)
        self.raw["lifecycles"] = self.settings
        rows = [
            [label, variant, len(runs[variant]), spread([r.total for r in runs[variant]])]
            + [f"{statistics.median(r.seconds[p] for r in runs[variant]):.3f}" for p in PHASES]
            for label, runs in self.settings.items()
            for variant in runs
        ]
        header = "Setting|Variant|Rounds|Total s|" + "|".join(f"{p} s" for p in PHASES)
        self.fields["overhead"] = table(header, rows)
        ratios = [
            [name, *(_ratio(runs[top], runs[bottom]) for runs in self.settings.values())]
            for name, top, bottom in (
                ("ours / reference: what our code adds", OURS, REF),
                ("reference / raw httpx: what the host adds", REF, RAW),
                ("ours / raw httpx: all of it", OURS, RAW),
            )
        ]
        self.fields["ratios"] = table("|".join(["Ratio", *self.settings]), ratios)

    def calls(self) -> None:
        one = self.lifecycle(OURS, 1)
        runs = [run for setting in self.settings.values() for run in setting[OURS]]
        self.raw["calls_n1"] = one.requests
        rows = []
        for phase in PHASES:
            per = sorted({run.requests[phase] / run.n for run in runs})
            many = f"{per[0]:g}" if len(per) == 1 else f"{per[0]:g}-{per[-1]:g}"
            rows.append((phase, FLOOR[phase], one.requests[phase], many))
        self.fields["lifecycles"] = len(runs)
        self.fields["calls"] = table(f"Operation|Floor|Ours, N=1|Ours, N={self.plan.n}", rows)

    def scale(self) -> None:
        found: dict[int, dict[str, list[Lifecycle]]] = {}
        for n, count in sorted(self.plan.scale.items()):
            reuse = self.settings["loopback"] if n == self.plan.n else {}
            found[n] = {v: reuse[v] for v in (RAW, OURS)} if reuse else {}
            found[n] = found[n] or self.rounds((RAW, OURS), n, count)
        self.raw["scale"] = found
        ms = {n: {v: [r.total * 1000 / n for r in found[n][v]] for v in (RAW, OURS)} for n in found}
        base = statistics.median(ms[min(ms)][OURS])
        rows = [
            (n, len(per[OURS]), spread(per[OURS], "{:.2f}"), spread(per[RAW], "{:.2f}"), vs)
            for n, per in ms.items()
            for vs in [f"{statistics.median(per[OURS]) / base - 1:+.0%}"]
        ]
        self.fields["scale"] = table(f"N|Rounds|Ours ms|Raw httpx ms|Ours vs N={min(ms)}", rows)

    def cold(self) -> None:
        stack_config = self.emulator.stack_config()  # as a user configures it
        found: dict[str, list[list[float]]] = {OURS: [], NULL: []}
        for index in range(self.plan.cold_rounds):
            for name, samples in found.items():
                samples.append(cold_start(PROVIDERS[name], stack_config))
            _progress(f"cold start round {index + 1}/{self.plan.cold_rounds}")
        self.raw["cold"] = found
        rows = [
            [name, *(spread([s[i] for s in samples]) for i in (0, 1))]
            + [f"{statistics.median(s[i] * 1000 for s in samples):.1f}" for i in (2, 3, 4)]
            for name, samples in found.items()
        ]
        ours, null = (statistics.median(sum(s[:2]) for s in found[name]) for name in found)
        self.fields["cold_ratio"] = ours / null
        header = "Provider|Host ready s|Configure + first Check s|import ms|configure ms|check ms"
        self.fields["cold"] = table(header, rows)

    def state(self) -> None:
        rows = []
        for name in (OURS, REF):
            provider = PROVIDERS[name]()
            stack = SimulatedStack(
                self.hosts[name],
                provider,
                type_token=MCP_SERVER_TYPE,
                stack_config=self.stack_config,
            )
            stack.up(desired(1))
            bags = next(iter(stack.resources.values()))
            stack.destroy()
            sizes = [
                len(json.dumps(bag, separators=(",", ":"))) for bag in (bags.inputs, bags.outputs)
            ]
            rows.append((name, len(serialize_provider(provider)), *sizes, sum(sizes)))
        self.raw["state"] = rows
        header = "Provider|`__provider` chars|Inputs bytes|Outputs bytes|State bytes per resource"
        self.fields["state"] = table(header, rows)

    def ratelimit(self) -> None:
        """Create N servers under the emulator's rate limit, the client-side limiter on and off."""
        rows = []
        for n in self.plan.ratelimit_ns:
            for setting in ({}, {LIMITER: "0"}):
                self.emulator.reset()  # no servers; the rate limit's window starts empty
                self.emulator.set_rate_limit(*self.plan.limit)
                stack_config = self.emulator.stack_config(**setting)
                with ProviderHost(env=NO_TRUTO_ENV) as host:  # it configures a provider once
                    stack = SimulatedStack(
                        host,
                        PROVIDERS[OURS](),
                        type_token=MCP_SERVER_TYPE,
                        stack_config=stack_config,
                    )
                    started = time.perf_counter()
                    try:
                        ops = stack.up(desired(n)).ops
                    except UpError as error:
                        ops = error.result.ops
                    seconds = time.perf_counter() - started
                journal = self.emulator.journal()
                times = sorted(float(entry["ts"]) for entry in journal)
                peak = max(sum(t <= s < t + 1 for s in times) for t in times)
                limiter = f"`{LIMITER}=0`" if setting else "as shipped (key unset)"
                created = sum(op == "create" for op in ops.values())
                rejected = sum(entry["status"] == 429 for entry in journal)
                rows.append((n, limiter, f"{seconds:.2f}", rejected, f"{created}/{n}", peak))
                _progress(f"rate limit N={n} {limiter}: {seconds:.1f} s")
        self.emulator.reset()
        self.raw["ratelimit"] = rows
        self.fields.update(limit=self.plan.limit[0], window=self.plan.limit[1])
        self.fields["ratelimit"] = table("N|Client-side limiter|Wall s|429s|Created|Peak", rows)


def run(plan: BenchPlan) -> tuple[str, str]:
    """Measure everything: the Markdown of sections 1-6 and the raw numbers as JSON."""
    started, date = time.perf_counter(), time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    with (
        emulator_process() as emulator,
        ProviderHost(env=NO_TRUTO_ENV) as ours,
        ProviderHost(env=NO_TRUTO_ENV) as reference,
    ):
        bench = _Bench(plan, emulator, {OURS: ours, REF: reference})
        _progress(bench.fields["machine"])
        for section in (bench.overhead, bench.calls, bench.scale, bench.cold, bench.state):
            section()
        bench.ratelimit()
    seconds = time.perf_counter() - started
    quick = "\n> **Quick smoke run**: small N, one round; not representative.\n"
    bench.fields.update(date=date, seconds=seconds, quick=quick if plan.n < FULL.n else "")
    template = TEMPLATE.read_text(encoding="utf-8").split(ENGINE_BEGIN)[0]
    numbers = dict(bench.raw, date=date, seconds=seconds, machine=bench.fields["machine"])
    raw = json.dumps(numbers, indent=1, default=asdict) + "\n"
    return template.format(**bench.fields), raw
