"""Runs every section of the benchmark in order, printing progress to stderr."""

from __future__ import annotations

import sys
import time

from pulumi.dynamic import ResourceProvider

from truto_pulumi.provider import TrutoMcpServerProvider
from truto_pulumi.testing import ProviderHost

from .coldstart import HOST_PRELUDE, cold_start, first_check_cost, import_time
from .emulator import EmulatorProcess
from .lifecycle import LifecycleRun, host_lifecycle, raw_lifecycle
from .machine import describe_machine, load_average
from .methods import method_costs
from .ratelimit import LIMITER_KEY, rate_limited_create
from .reference_provider import ReferenceProvider
from .results import LOOPBACK, OURS, RAW, REF, TRIVIAL, VARIANTS, Plan, Results, latency_label
from .state import state_cost
from .throughput import emulator_throughput
from .trivial_provider import TrivialProvider

__all__ = ["run_benchmarks"]

_HOST_ENV = {"TRUTO_API_TOKEN": "", "TRUTO_BASE_URL": ""}
_PROVIDERS: dict[str, type[ResourceProvider]] = {
    OURS: TrutoMcpServerProvider,
    REF: ReferenceProvider,
    TRIVIAL: TrivialProvider,
}


class _Progress:
    def __init__(self) -> None:
        self.started = time.perf_counter()

    def __call__(self, message: str) -> None:
        elapsed = time.perf_counter() - self.started
        print(f"[{elapsed:6.1f}s] {message}", file=sys.stderr, flush=True)


class _Bench:
    """The emulator, one warm host per provider, and the sections that use them."""

    def __init__(
        self,
        plan: Plan,
        results: Results,
        progress: _Progress,
        emulator: EmulatorProcess,
        hosts: dict[str, ProviderHost],
    ) -> None:
        self.plan = plan
        self.results = results
        self.progress = progress
        self.emulator = emulator
        self.hosts = hosts
        # Sections 1-3 measure code, so the client-side limiter is off; section 6 measures it.
        self.config = emulator.config(**{LIMITER_KEY: "0"})

    def lifecycle(self, variant: str, n: int) -> LifecycleRun:
        if variant == RAW:
            return raw_lifecycle(self.emulator, n)
        provider = _PROVIDERS[variant]()
        return host_lifecycle(variant, self.hosts[variant], provider, self.emulator, n, self.config)

    def rounds(
        self, variants: tuple[str, ...], n: int, count: int, label: str
    ) -> dict[str, list[LifecycleRun]]:
        """`count` rounds, the variants interleaved and rotated so drift hits all alike."""
        runs: dict[str, list[LifecycleRun]] = {variant: [] for variant in variants}
        for variant in variants:  # warm-up, not counted
            self.lifecycle(variant, self.plan.warmup_n)
        for index in range(count):
            shift = index % len(variants)
            for variant in variants[shift:] + variants[:shift]:
                run = self.lifecycle(variant, n)
                runs[variant].append(run)
                self.progress(
                    f"{label} N={n} round {index + 1}/{count}: {variant} {run.seconds:.2f} s"
                )
        return runs

    def throughput(self) -> None:
        self.progress("emulator throughput")
        for workers in (4, 8):
            self.results.throughput.append(
                emulator_throughput(
                    self.emulator, workers=workers, requests=self.plan.throughput_requests
                )
            )

    def calls(self) -> None:
        self.progress("HTTP calls per operation, N=1")
        self.lifecycle(OURS, 1)  # the host imports and configures our provider here
        self.results.calls_one = self.lifecycle(OURS, 1)

    def overhead(self) -> None:
        settings = ((0.0, self.plan.rounds), (self.plan.latency, self.plan.latency_rounds))
        for latency, count in settings:
            label = latency_label(latency)
            self.emulator.set_latency(latency)
            runs = self.rounds(VARIANTS, self.plan.n, count, label)
            self.results.overhead[label] = runs
        self.emulator.set_latency(0.0)

    def scale(self) -> None:
        for n, count in sorted(self.plan.scale.items()):
            loopback = self.results.overhead.get(LOOPBACK, {})
            if n == self.plan.n and count <= self.plan.rounds and loopback:
                self.results.scale[n] = {variant: loopback[variant] for variant in (RAW, OURS)}
            else:
                self.results.scale[n] = self.rounds((RAW, OURS), n, count, "scale")

    def state(self) -> None:
        self.progress("state cost")
        for name in (OURS, REF):
            provider = _PROVIDERS[name]()
            self.results.state[name] = state_cost(
                self.hosts[name], provider, self.emulator, self.config
            )

    def methods(self) -> None:
        self.progress("per-call cost of provider methods (in-process)")
        self.results.methods = method_costs(
            {name: _PROVIDERS[name] for name in (REF, OURS)},
            self.emulator,
            self.config,
            n=self.plan.method_n,
            rounds=self.plan.method_rounds,
        )

    def cold(self) -> None:
        config = self.emulator.config()  # as a user would configure it
        for index in range(self.plan.cold_rounds):
            for name in (OURS, TRIVIAL):
                start = cold_start(_PROVIDERS[name](), config)
                self.results.cold.setdefault(name, []).append(start)
            self.progress(f"cold start round {index + 1}/{self.plan.cold_rounds}")
        for _ in range(self.plan.import_rounds):
            for module, prelude in (
                ("truto_pulumi.provider", HOST_PRELUDE),
                ("truto_pulumi", ""),
                ("bench.trivial_provider", HOST_PRELUDE),
            ):
                key = f"{module} after the host's imports" if prelude else f"{module} alone"
                self.results.imports.setdefault(key, []).append(
                    import_time(module, prelude=prelude)
                )
            for name in (OURS, REF):
                self.results.first_check.setdefault(name, []).append(
                    first_check_cost(_PROVIDERS[name], config)
                )
        self.progress("import times")

    def ratelimit(self) -> None:
        for n in self.plan.ratelimit_ns:
            for setting in (None, "0"):
                run = rate_limited_create(
                    self.emulator, n, limiter_setting=setting, limit=self.plan.ratelimit_limit
                )
                self.results.ratelimit.append(run)
                self.progress(
                    f"rate limit N={n} {run.limiter}: {run.seconds:.1f} s, {run.rejected} x 429"
                )


def run_benchmarks(plan: Plan) -> Results:
    """Measure everything the report shows: ~5 minutes in full, ~15 s in quick mode."""
    progress = _Progress()
    results = Results(plan=plan, machine=describe_machine())
    mode = "quick smoke run" if plan.quick else "full run"
    progress(
        f"{mode} on {results.machine.usable_cores} usable core(s), Python {results.machine.python}"
    )
    with (
        EmulatorProcess() as emulator,
        ProviderHost(env=_HOST_ENV) as ours_host,
        ProviderHost(env=_HOST_ENV) as ref_host,
    ):
        bench = _Bench(plan, results, progress, emulator, {OURS: ours_host, REF: ref_host})
        bench.throughput()
        bench.calls()
        bench.overhead()
        bench.scale()
        bench.state()
        bench.methods()
        bench.cold()
        bench.ratelimit()
    results.load_after = load_average()
    results.seconds = time.perf_counter() - progress.started
    progress(f"done in {results.seconds:.0f} s")
    return results
