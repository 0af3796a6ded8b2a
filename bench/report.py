"""`docs/benchmarks.md` (tables) and `docs/benchmarks.json` (the raw numbers) from a run."""

from __future__ import annotations

import dataclasses
import json
import math
import statistics
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from .analysis import (
    FLOOR,
    calls_per_resource,
    cold_ratio,
    goals,
    lifecycle_ratio,
    limiter_engaged,
    per_resource,
    phase_summary,
    scale_deviation,
    totals,
    traffic_per_resource,
)
from .lifecycle import PHASES, LifecycleRun
from .methods import METHODS
from .results import LOOPBACK, OURS, RAW, REF, TRIVIAL, VARIANTS, Results, latency_label
from .stats import Summary

__all__ = ["render_markdown", "to_json", "write_report"]

_UNSTABLE = 0.25
"""A measurement whose rounds spread more than this (max-min over median) is flagged."""


def _table(header: Sequence[str], rows: Iterable[Sequence[object]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return [*lines, ""]


def _s(seconds: float) -> str:
    return f"{seconds:.3f}" if seconds < 10 else f"{seconds:.2f}"


def _mmm(summary: Summary, fmt: str = "{:.3f}") -> str:
    """`median (min-max)`."""
    if summary.rounds == 1:
        return fmt.format(summary.median)
    low, mid, high = (fmt.format(v) for v in (summary.min, summary.median, summary.max))
    return f"{mid} ({low}-{high})"


def _med(values: Iterable[float]) -> float:
    items = list(values)
    return statistics.median(items) if items else math.nan


def _header(results: Results) -> list[str]:
    m, plan = results.machine, results.plan
    load = " / ".join(f"{x:.2f}" for x in m.load_before) if m.load_before else "n/a"
    after = " / ".join(f"{x:.2f}" for x in results.load_after) if results.load_after else "n/a"
    packages = ", ".join(f"{name} {version}" for name, version in m.packages.items())
    lines = [
        "# Benchmarks",
        "",
        "Written by `make bench` (or `python -m bench`); do not edit by hand. "
        "Raw numbers: [`benchmarks.json`](benchmarks.json).",
        "",
    ]
    if plan.quick:
        lines += [
            "> **Quick smoke run** (`--quick`): small N, one round. These numbers only show",
            "> that the benchmark works; they are not representative.",
            "",
        ]
    lines += [
        f"- Date: {m.date}; whole run: {results.seconds:.0f} s",
        f"- Machine: {m.usable_cores} usable core(s) of {m.cores}; {m.platform}",
        f"- Python {m.python}; {packages}",
        f"- Load average (1/5/15 min) before: {load}; after: {after}",
        "- Setup: the emulator (`python -m truto_pulumi.emulator`) in its own process on "
        "loopback; the provider host is the real `python -m pulumi.dynamic`, driven over gRPC "
        "by `truto_pulumi.testing.Stack` (the engine's calls, four workers, like the engine "
        "and the host's own four threads). Rounds of the variants are interleaved and rotated.",
        "- Times are wall seconds, `median (min-max)` over rounds.",
        "",
    ]
    return lines


def _goals(results: Results) -> list[str]:
    rows = [
        (g.name, g.target, g.measured, "met" if g.met else "**missed**", g.sentence)
        for g in goals(results)
    ]
    return ["## Goals", "", *_table(("Goal", "Target", "Measured", "Verdict", "Comment"), rows)]


def _calls(results: Results) -> list[str]:
    ours_runs = [run for setting in results.overhead.values() for run in setting[OURS]]
    if not ours_runs or results.calls_one is None:
        return []
    n, one = ours_runs[0].n, results.calls_one
    rows = []
    for phase in PHASES:
        low, high = calls_per_resource(ours_runs, phase)
        per_n = f"{low:g}" if low == high else f"{low:g}-{high:g}"
        grpc = ours_runs[0].phases[phase].grpc
        calls = ", ".join(
            f"{method} {count / n:g}"
            for method, count in sorted(grpc.items())
            if method != "Configure"
        )
        seen = ", ".join(f"{k} x{v}" for k, v in sorted(ours_runs[0].phases[phase].http.items()))
        rows.append(
            (phase, FLOOR[phase], one.phases[phase].requests, per_n, seen or "-", calls or "-")
        )
    return [
        "## 1. HTTP calls per operation",
        "",
        f"Counted by the emulator's journal. N={n}: per resource, over all {len(ours_runs)} "
        "rounds of section 2 (both settings); requests seen are from the first round. The "
        "gRPC calls are what the engine stand-in sent the host per resource, plus one "
        "`Configure` per stack.",
        "",
        *_table(
            (
                "Operation",
                "Floor",
                "Ours, N=1",
                f"Ours, N={n} (per resource)",
                f"Requests seen, N={n}",
                "gRPC calls per resource",
            ),
            rows,
        ),
    ]


def _cpu_cell(runs: Sequence[LifecycleRun]) -> str:
    parts = []
    for process in ("driver", "host", "emulator"):
        values = [run.cpu(process) for run in runs if process in run.phases[PHASES[0]].cpu]
        if values:
            parts.append(f"{_med(values):.2f}")
        else:
            parts.append("-")
    return " / ".join(parts)


def _overhead(results: Results) -> list[str]:
    lines = [
        "## 2. Overhead against raw HTTP",
        "",
        f"N={results.plan.n} servers through create -> no-op plan -> update (one field) -> "
        "refresh -> destroy. (a) raw httpx: the same HTTP requests from four threads sharing one "
        "`httpx.Client`; (b) reference provider: `bench/reference_provider.py` (shared client, "
        "no validation) through the same host and engine calls; ours: `TrutoMcpServerProvider` "
        "with `truto:maxRequestsPerSecond=0` (the client-side limiter is measured in section 6, "
        "here it would only show its own pacing). CPU: seconds used per lifecycle by the "
        "benchmark process (engine stand-in or httpx threads), the provider host, and the "
        "emulator.",
        "",
    ]
    for setting, runs in results.overhead.items():
        rows = []
        for variant in VARIANTS:
            variant_runs = runs[variant]
            phases = [_mmm(phase_summary(variant_runs, phase)) for phase in PHASES]
            rows.append((variant, _mmm(totals(variant_runs)), *phases, _cpu_cell(variant_runs)))
        lines += [
            f"### {setting}, N={runs[OURS][0].n}, {len(runs[OURS])} round(s)",
            "",
            *_table(("Variant", "Total s", *PHASES, "CPU s: driver / host / emulator"), rows),
        ]
    ratio_rows = []
    for label, top, bottom in (
        ("(b) / (a): what the host costs", REF, RAW),
        ("ours / (b): what our code adds", OURS, REF),
        ("ours / (a): all of it", OURS, RAW),
    ):
        cells = []
        for runs in results.overhead.values():
            r = lifecycle_ratio(runs[top], runs[bottom])
            cells.append(f"{r.of_medians:.2f} (rounds {r.paired.min:.2f}-{r.paired.max:.2f})")
        ratio_rows.append((label, *cells))
    lines += [
        "### Ratios",
        "",
        "Ratio of the median totals; in brackets the range of the per-round ratios (each "
        "round's variants ran back to back).",
        "",
        *_table(("Ratio", *results.overhead), ratio_rows),
    ]
    phase_rows = []
    for phase in PHASES:
        cells = []
        for runs in results.overhead.values():
            r = lifecycle_ratio(runs[OURS], runs[REF], phase)
            cells.append(f"{r.of_medians:.2f}")
        phase_rows.append((phase, *cells))
    lines += [
        "Ours / (b) per phase:",
        "",
        *_table(("Phase", *results.overhead), phase_rows),
    ]
    return lines


def _where(results: Results) -> list[str]:
    lines = ["## Where the time goes", ""]
    host_rows = []
    calls = requests = 0.0
    for setting, runs in results.overhead.items():
        n = runs[OURS][0].n
        calls, requests = traffic_per_resource(runs[OURS][0])
        ref = _med(run.cpu("host") for run in runs[REF]) / n * 1000
        ours = _med(run.cpu("host") for run in runs[OURS]) / n * 1000
        driver = _med(run.cpu("driver") for run in runs[REF]) / n * 1000
        raw = _med(run.cpu("driver") for run in runs[RAW]) / n * 1000
        cells = (raw, driver, ref, ours)
        host_rows.append((setting, *(f"{c:.2f}" for c in cells), f"{ours - ref:+.2f}"))
    lines += [
        f"CPU milliseconds per resource and lifecycle ({calls:g} host calls, {requests:g} HTTP "
        "requests), medians. CPU time is steadier than wall time on a busy machine.",
        "",
        *_table(
            (
                "Setting",
                "raw httpx threads",
                "engine stand-in (b)",
                "host (b)",
                "host (ours)",
                "ours - (b) in the host",
            ),
            host_rows,
        ),
    ]
    if results.methods:
        rows = []
        for method in METHODS:
            ref = results.methods[REF][method] * 1e6
            ours = results.methods[OURS][method] * 1e6
            rows.append((method, f"{ref:.0f}", f"{ours:.0f}", f"{ours - ref:+.0f}"))
        lines += [
            f"Microseconds per call of each provider method in one thread, without the host "
            f"(median of {results.plan.method_rounds} interleaved rounds of "
            f"{results.plan.method_n} servers; create/update/read/delete "
            "include the HTTP round trip to the emulator, so their differences are mostly "
            "noise):",
            "",
            *_table(("Method", "reference", "ours", "ours - reference"), rows),
        ]
    return lines


def _scale(results: Results) -> list[str]:
    if not results.scale:
        return []
    deviation = scale_deviation(results)
    rows = []
    for n, runs in sorted(results.scale.items()):
        rows.append(
            (
                n,
                len(runs[OURS]),
                _mmm(totals(runs[OURS])),
                _mmm(per_resource(runs[OURS]), "{:.2f}"),
                f"{deviation[n]:+.0%}",
                _mmm(per_resource(runs[RAW]), "{:.2f}"),
            )
        )
    return [
        "## 3. Scale",
        "",
        "The same lifecycle on loopback for growing N (our provider; raw httpx as the control).",
        "",
        *_table(
            (
                "N",
                "Rounds",
                "Ours total s",
                "Ours ms per resource",
                f"vs N={min(results.scale)}",
                "Raw httpx ms per resource",
            ),
            rows,
        ),
    ]


def _cold(results: Results) -> list[str]:
    if not results.cold:
        return []
    rows = []
    for name in (OURS, TRIVIAL):
        starts = results.cold[name]
        rows.append(
            (
                name,
                _mmm(Summary.of([c.host_ready for c in starts])),
                _mmm(Summary.of([c.first_check for c in starts])),
                _mmm(Summary.of([c.total for c in starts])),
            )
        )
    import_rows = []
    for key, samples in results.imports.items():
        middle = sorted(samples, key=lambda s: s.cumulative_us)[len(samples) // 2]
        heavy = ", ".join(f"{name} {us / 1000:.0f}" for name, us in middle.heaviest[:5])
        import_rows.append(
            (
                f"`{key}`",
                _mmm(Summary.of([s.cumulative_us / 1000 for s in samples]), "{:.0f}"),
                heavy or "-",
            )
        )
    first_rows = []
    for name, parts in results.first_check.items():
        first_rows.append(
            (
                name,
                f"{_med(p.import_s for p in parts) * 1000:.1f}",
                f"{_med(p.configure_s for p in parts) * 1000:.1f}",
                f"{_med(p.first_check_s for p in parts) * 1000:.2f}",
                f"{_med(p.second_check_s for p in parts) * 1000:.3f}",
            )
        )
    return [
        "## 4. Cold start",
        "",
        "From starting `python -m pulumi.dynamic` until it answers the first Check: "
        "'host ready' is process start until its gRPC port accepts calls, then Configure and "
        "the first Check (which unpickles, imports and configures the provider). The trivial "
        "provider is `bench/trivial_provider.py`.",
        "",
        *_table(("Provider", "Host ready s", "Configure + first Check s", "Total s"), rows),
        f"Ratio ours / trivial (medians of the totals): **{cold_ratio(results):.2f}**.",
        "",
        "Import time (`python -X importtime`, cumulative ms; heaviest packages by summed self "
        "time, ms). 'After the host's imports' starts from what the host has already loaded "
        "(pulumi, grpc, dill), so it is what unpickling our provider adds:",
        "",
        *_table(("Import", "ms", "Heaviest packages (ms)"), import_rows),
        "Where the first Check goes, in a fresh interpreter that has the host's imports "
        "(milliseconds, medians):",
        "",
        *_table(("Provider", "import", "configure", "first check", "second check"), first_rows),
    ]


def _state(results: Results) -> list[str]:
    if not results.state:
        return []
    rows = [
        (
            name,
            cost.provider_chars,
            cost.outputs_bytes,
            cost.outputs_without_provider_bytes,
            cost.inputs_bytes,
        )
        for name, cost in results.state.items()
    ]
    ours = results.state.get(OURS)
    keys = ", ".join(f"`{k}`" for k in ours.output_keys) if ours else "-"
    return [
        "## 5. State cost",
        "",
        "Per resource, as compact JSON (the engine stores inputs and outputs; both carry "
        "`__provider`).",
        "",
        *_table(
            (
                "Provider",
                "`__provider` chars",
                "Outputs bytes",
                "Outputs without `__provider`",
                "Inputs bytes",
            ),
            rows,
        ),
        f"Our outputs: {keys}.",
        "",
    ]


def _ratelimit(results: Results) -> list[str]:
    if not results.ratelimit:
        return []
    limit, window = results.plan.ratelimit_limit
    rows = [
        (
            run.n,
            run.limiter,
            _s(run.seconds),
            run.rejected,
            f"{run.created}/{run.n}",
            run.peak_per_second,
            run.peak_per_window,
        )
        for run in results.ratelimit
    ]
    notes = []
    for n in results.plan.ratelimit_ns:
        pair = {run.limiter.endswith("=0"): run for run in results.ratelimit if run.n == n}
        if len(pair) != 2:
            continue
        shipped, disabled = pair[False], pair[True]
        engaged = limiter_engaged(results, n)
        if engaged is False and not results.plan.quick:
            notes.append(
                f"- N={n}: {n} requests stay under the limiter's 10-second budget, so it let "
                f"every one through at once: {shipped.seconds:.2f} s with it, "
                f"{disabled.seconds:.2f} s without, {shipped.rejected} 429s."
            )
            continue
        notes.append(
            f"- N={n}: the shipped limiter took {shipped.seconds / disabled.seconds:.1f}x the "
            f"time of no limiter ({shipped.seconds - disabled.seconds:+.1f} s) and saw "
            f"{shipped.rejected} 429s against {disabled.rejected} without it."
        )
    return [
        "## 6. Rate-limit behaviour",
        "",
        f"Create N servers (`up`) with the emulator enforcing {limit} requests per {window:g} s "
        "(429 with `Retry-After`, which the client honours). A fresh host per run.",
        "",
        *_table(
            (
                "Servers",
                "Client-side limiter",
                "Wall s",
                "429s",
                "Created",
                "Peak requests in 1 s",
                f"Peak accepted in {window:g} s",
            ),
            rows,
        ),
        *notes,
        "",
    ]


def _checks(results: Results) -> list[str]:
    lines = ["## Checks on the measurement", ""]
    if results.throughput:
        rows = [
            (
                t.workers,
                t.requests,
                f"{t.per_second:.0f}",
                "-" if t.emulator_busy is None else f"{t.emulator_busy:.0%}",
            )
            for t in results.throughput
        ]
        lines += [
            "Emulator throughput: GETs of one server from plain httpx threads sharing one "
            "client; 'emulator CPU' is its share of one core (it serves on one thread).",
            "",
            *_table(("Threads", "Requests", "Requests/s", "Emulator CPU"), rows),
        ]
    busiest = 0.0
    fastest = 0.0
    for runs in results.overhead.values():
        for variant in (REF, OURS):
            for run in runs[variant]:
                for phase in run.phases.values():
                    if phase.seconds > 0.05 and "emulator" in phase.cpu:
                        busiest = max(busiest, phase.cpu["emulator"] / phase.seconds)
                    if phase.requests and phase.seconds > 0:
                        fastest = max(fastest, phase.requests / phase.seconds)
    capacity = max((t.per_second for t in results.throughput), default=math.nan)
    lines += [
        f"- The providers' lifecycles reached at most {fastest:.0f} requests/s in any phase, "
        f"{fastest / capacity:.0%} of what the emulator answers to plain httpx "
        f"({capacity:.0f}/s), and kept the emulator at most {busiest:.0%} busy: the emulator "
        "is not the bottleneck.",
    ]
    m = results.machine
    busy_rows = []
    busiest_cores = 0.0
    for setting, runs in results.overhead.items():
        for variant in VARIANTS:
            used = _med(
                sum(run.cpu(p) for p in ("driver", "host", "emulator")) / run.seconds
                for run in runs[variant]
            )
            busiest_cores = max(busiest_cores, used)
            busy_rows.append((setting, variant, f"{used:.2f}"))
    cores = m.usable_cores or 1
    verdict = (
        f"at most {busiest_cores:.2f} on average, below the {cores} available: the machine is "
        "enough, though on loopback the engine stand-in and the host compete for the cores "
        "(part of what (b)/(a) measures)"
        if busiest_cores < 0.9 * cores
        else f"{busiest_cores:.2f} on average: the machine was saturated, so loopback numbers "
        "include waiting for a core"
    )
    lines += [
        f"- Cores: the run saw {m.usable_cores} usable core(s) ({m.cores} in the machine). "
        f"Cores busy during a lifecycle (the three processes' CPU over wall time): {verdict}.",
        "",
        *_table(("Setting", "Variant", "Cores busy (median)"), busy_rows),
    ]
    stability: list[tuple[str, Summary]] = []
    for setting, runs in results.overhead.items():
        for variant in VARIANTS:
            stability.append((f"{setting}, {variant}", totals(runs[variant])))
    for n, runs in sorted(results.scale.items()):
        stability.append((f"scale N={n}, {OURS}", totals(runs[OURS])))
    for name, starts in results.cold.items():
        stability.append((f"cold start, {name}", Summary.of([c.total for c in starts])))
    unstable = [label for label, summary in stability if summary.spread > _UNSTABLE]
    lines += [
        "Stability: spread of the rounds, (max - min) / median"
        + (f"; above {_UNSTABLE:.0%}: {'; '.join(unstable)}." if unstable else ".")
        + " Ratios use medians, which one slow round does not move.",
        "",
        *_table(
            ("Measurement", "Rounds", "Spread"),
            ((label, s.rounds, f"{s.spread:.0%}") for label, s in stability),
        ),
    ]
    return lines


def render_markdown(results: Results) -> str:
    """The whole report as Markdown."""
    lines = [
        *_header(results),
        *_goals(results),
        *_calls(results),
        *_overhead(results),
        *_where(results),
        *_scale(results),
        *_cold(results),
        *_state(results),
        *_ratelimit(results),
        *_checks(results),
    ]
    return "\n".join(lines).rstrip() + "\n"


def _plain(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def to_json(results: Results) -> dict[str, Any]:
    """The raw results, plus the goals as judged, as plain JSON data."""
    data: dict[str, Any] = _plain(results)
    data["goals"] = _plain(goals(results))
    latency = latency_label(results.plan.latency)
    data["ratios"] = {
        setting: {
            "host_cost_b_over_a": lifecycle_ratio(runs[REF], runs[RAW]).of_medians,
            "our_code_ours_over_b": lifecycle_ratio(runs[OURS], runs[REF]).of_medians,
            "all_ours_over_a": lifecycle_ratio(runs[OURS], runs[RAW]).of_medians,
        }
        for setting, runs in results.overhead.items()
        if setting in (LOOPBACK, latency)
    }
    return _plain(data)  # type: ignore[no-any-return]


def write_report(results: Results, directory: Path) -> tuple[Path, Path]:
    """Write `benchmarks.md` and `benchmarks.json` into `directory`; returns both paths."""
    directory.mkdir(parents=True, exist_ok=True)
    markdown = directory / "benchmarks.md"
    raw = directory / "benchmarks.json"
    engine = engine_section(markdown.read_text(encoding="utf-8")) if markdown.exists() else ""
    markdown.write_text(render_markdown(results) + engine, encoding="utf-8")
    raw.write_text(json.dumps(to_json(results), indent=1) + "\n", encoding="utf-8")
    return markdown, raw


ENGINE_BEGIN = "<!-- bench.engine -->"
ENGINE_END = "<!-- /bench.engine -->"


def engine_section(markdown: str) -> str:
    """The section `python -m bench.engine` wrote into `markdown`, kept across `make bench`."""
    start, end = markdown.find(ENGINE_BEGIN), markdown.find(ENGINE_END)
    if start < 0 or end < start:
        return ""
    return "\n" + markdown[start : end + len(ENGINE_END)] + "\n"
