"""Numbers derived from the raw results: summaries, ratios, and the goals met or missed."""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass

from .lifecycle import LifecycleRun
from .results import LOOPBACK, OURS, RAW, REF, TRIVIAL, Results, latency_label
from .stats import Summary, ratio

__all__ = [
    "FLOOR",
    "Goal",
    "Ratio",
    "calls_per_resource",
    "cold_ratio",
    "goals",
    "lifecycle_ratio",
    "limiter_engaged",
    "per_resource",
    "scale_deviation",
    "totals",
    "traffic_per_resource",
]

FLOOR = {"create": 1, "no-op plan": 0, "update": 1, "refresh": 1, "destroy": 1}
"""The HTTP calls per resource an operation cannot do without."""

PROVIDER_BUDGET = 128
REF_BUDGET = 1.10
RAW_BUDGET = 1.20
FLAT_BUDGET = 0.20
COLD_BUDGET = 1.3


def totals(runs: Sequence[LifecycleRun]) -> Summary:
    """Wall seconds of whole lifecycles."""
    return Summary.of([run.seconds for run in runs])


def phase_summary(runs: Sequence[LifecycleRun], phase: str) -> Summary:
    return Summary.of([run.phases[phase].seconds for run in runs])


def per_resource(runs: Sequence[LifecycleRun]) -> Summary:
    """Milliseconds per resource of a whole lifecycle."""
    return totals(runs).scaled(1000 / runs[0].n)


@dataclass(frozen=True)
class Ratio:
    """Ratio of medians, and the spread of the per-round (paired) ratios."""

    of_medians: float
    paired: Summary


def lifecycle_ratio(
    top: Sequence[LifecycleRun], bottom: Sequence[LifecycleRun], phase: str | None = None
) -> Ratio:
    def seconds(run: LifecycleRun) -> float:
        return run.seconds if phase is None else run.phases[phase].seconds

    medians = ratio(
        statistics.median(seconds(r) for r in top), statistics.median(seconds(r) for r in bottom)
    )
    paired = [ratio(seconds(a), seconds(b)) for a, b in zip(top, bottom, strict=False)]
    return Ratio(medians, Summary.of(paired or [math.nan]))


def calls_per_resource(runs: Sequence[LifecycleRun], phase: str) -> tuple[float, float]:
    """(min, max) over rounds of the HTTP requests per resource in `phase`."""
    values = [run.phases[phase].requests / run.n for run in runs]
    return min(values), max(values)


def traffic_per_resource(run: LifecycleRun) -> tuple[float, float]:
    """(gRPC calls, HTTP requests) per resource over a whole lifecycle, Configure left out."""
    calls = sum(
        count
        for phase in run.phases.values()
        for method, count in phase.grpc.items()
        if method != "Configure"
    )
    requests = sum(phase.requests for phase in run.phases.values())
    return calls / run.n, requests / run.n


def scale_deviation(results: Results) -> dict[int, float]:
    """Per-resource median time of each N relative to the smallest N, minus 1."""
    medians = {n: per_resource(runs[OURS]).median for n, runs in sorted(results.scale.items())}
    if not medians:
        return {}
    base = medians[min(medians)]
    return {n: value / base - 1 for n, value in medians.items()}


def cold_ratio(results: Results) -> float:
    ours = Summary.of([c.total for c in results.cold[OURS]]).median
    trivial = Summary.of([c.total for c in results.cold[TRIVIAL]]).median
    return ratio(ours, trivial)


def limiter_engaged(results: Results, n: int) -> bool | None:
    """Whether the shipped limiter paced the `n`-server create (None: no such pair of runs)."""
    runs = {run.limiter.endswith("=0"): run for run in results.ratelimit if run.n == n}
    if len(runs) != 2:
        return None
    shipped, disabled = runs[False], runs[True]
    return shipped.peak_per_second < 0.9 * disabled.peak_per_second


@dataclass(frozen=True)
class Goal:
    name: str
    target: str
    measured: str
    met: bool
    sentence: str


def _calls_goal(results: Results) -> Goal:
    ours_runs = [run for setting in results.overhead.values() for run in setting[OURS]]
    n = ours_runs[0].n if ours_runs else 0
    off: list[str] = []
    measured: list[str] = []
    for phase, floor in FLOOR.items():
        one = results.calls_one.phases[phase].requests if results.calls_one else math.nan
        low, high = calls_per_resource(ours_runs, phase) if ours_runs else (math.nan, math.nan)
        measured.append(f"{one:g}/{high:g}")
        if one != floor or low != floor or high != floor:
            off.append(phase)
    met = not off
    sentence = (
        f"Every operation makes exactly the floor of HTTP calls per resource, for one server and "
        f"for {n} (no retries, no extra reads)."
        if met
        else f"Above the floor in: {', '.join(off)}."
    )
    return Goal(
        "HTTP calls per operation at the floor",
        "1, 0, 1, 1, 1",
        f"{', '.join(measured)} (N=1/N={n})",
        met,
        sentence,
    )


def goals(results: Results) -> list[Goal]:
    """The issue's goals, each judged on this run's numbers."""
    found = [_calls_goal(results)]
    loopback = results.overhead.get(LOOPBACK)
    if loopback:
        r = lifecycle_ratio(loopback[OURS], loopback[REF])
        host = lifecycle_ratio(loopback[REF], loopback[RAW])
        found.append(
            Goal(
                "Our provider / reference provider, loopback",
                f"<= {REF_BUDGET:.2f}",
                f"{r.of_medians:.2f}",
                r.of_medians <= REF_BUDGET,
                f"Through the same host our provider takes {r.of_medians:.2f}x the reference's "
                f"wall time (per-round ratios {r.paired.min:.2f}-{r.paired.max:.2f}); the host "
                f"itself costs {host.of_medians:.1f}x raw HTTP on loopback.",
            )
        )
    latency = latency_label(results.plan.latency)
    slow = results.overhead.get(latency)
    if slow:
        r = lifecycle_ratio(slow[OURS], slow[RAW])
        host = lifecycle_ratio(slow[REF], slow[RAW])
        ours_ref = lifecycle_ratio(slow[OURS], slow[REF])
        met = r.of_medians <= RAW_BUDGET
        excess = statistics.median(r.seconds for r in slow[REF]) - statistics.median(
            r.seconds for r in slow[RAW]
        )
        plan_part = statistics.median(r.phases["no-op plan"].seconds for r in slow[REF])
        whose = (
            "within budget"
            if met
            else (
                f"the reference provider alone is at {host.of_medians:.2f}x, so the excess is "
                f"the host's, not ours (ours / reference {ours_ref.of_medians:.2f}): (b) - (a) "
                f"is {excess:.2f} s per lifecycle, {plan_part:.2f} s of it the no-op plan's "
                "Check + Diff calls alone"
                if host.of_medians > RAW_BUDGET
                else f"ours / reference is {ours_ref.of_medians:.2f}: the excess is ours"
            )
        )
        found.append(
            Goal(
                f"Our provider / raw httpx, {latency}",
                f"<= {RAW_BUDGET:.2f}",
                f"{r.of_medians:.2f}",
                met,
                f"With {latency} our provider takes {r.of_medians:.2f}x raw httpx; {whose}.",
            )
        )
    deviation = scale_deviation(results)
    if deviation:
        worst = max(deviation.values(), key=abs)
        ns = sorted(deviation)
        found.append(
            Goal(
                f"Time per resource flat from N={ns[0]} to N={ns[-1]}",
                f"within +/-{FLAT_BUDGET:.0%}",
                ", ".join(f"N={n}: {d:+.0%}" for n, d in sorted(deviation.items())),
                abs(worst) <= FLAT_BUDGET,
                f"Per-resource time moves at most {worst:+.0%} against N={ns[0]}.",
            )
        )
    if OURS in results.state:
        chars = results.state[OURS].provider_chars
        found.append(
            Goal(
                "`__provider` size",
                f"<= {PROVIDER_BUDGET} characters",
                f"{chars} characters",
                chars <= PROVIDER_BUDGET,
                f"The pickle is the class reference only ({chars} characters), stored once per "
                "resource.",
            )
        )
    if results.cold.get(OURS) and results.cold.get(TRIVIAL):
        cold = cold_ratio(results)
        ours_first = Summary.of([c.first_check for c in results.cold[OURS]]).median
        trivial_first = Summary.of([c.first_check for c in results.cold[TRIVIAL]]).median
        parts = results.first_check.get(OURS, [])
        where = (
            f"; in a fresh interpreter, importing it takes "
            f"{statistics.median(p.import_s for p in parts) * 1000:.0f} ms, configure "
            f"{statistics.median(p.configure_s for p in parts) * 1000:.0f} ms and the first "
            f"check {statistics.median(p.first_check_s for p in parts) * 1000:.1f} ms"
            if parts
            else ""
        )
        found.append(
            Goal(
                "Cold start: ours / trivial provider",
                f"<= {COLD_BUDGET}",
                f"{cold:.2f}",
                cold <= COLD_BUDGET,
                f"The host itself starts alike for both; Configure + first Check takes "
                f"{ours_first * 1000:.0f} ms with ours against {trivial_first * 1000:.0f} ms"
                f"{where}.",
            )
        )
    return found
