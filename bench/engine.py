"""Section 7: `pulumi up` / `preview` / `refresh` / `destroy` of N servers by the real engine.

Ours; the reference provider declaring what a program needs to use a server (its two inputs,
`token` and `url`), with `token` and `url` secret as this product requires; the reference
declaring every property TrutoMcpServer declares ("same surface"); the reference declaring only
its two inputs, which leaves `token` and `url` in plain text in the state ("plain"); a provider
that calls nothing ("null": the engine's and the host's own cost). The pinned CLI
(`make pulumi`), the Automation API, the emulator in its own process; medians, variants
interleaved.

    python -m bench.engine [--sizes 50 200] [--rounds 3] [--write docs/benchmarks.md]

With `--cells N@MS ...` or `--latency MS ...`, section 9 instead (`bench/distance.py`): Truto
that many milliseconds away, beside the floor.
"""

from __future__ import annotations

import argparse
import pickle
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pulumi

from devkit.project import pulumi_cli
from truto_pulumi import TrutoMcpServer

from . import distance
from .emulator import EmulatorProcess, emulator_process
from .engine_stack import EngineStack
from .null_provider import NullProvider, NullResource
from .reference_provider import ReferenceProvider, ReferenceServer
from .report import DISTANCE_BEGIN, ENGINE_BEGIN, TEMPLATE, spread, table, write_markdown

ACCOUNT = "4f5a1c2e-0000-4000-8000-0000000000be"
OPERATIONS = ("up", "preview", "refresh", "destroy")
VARIANTS = ("ours", "reference", "reference, same surface", "reference, plain", "null")
SURFACES = {
    "reference": "token url",
    "reference, same surface": (
        "config expires_at adopt_id url token created_at updated_at created_by token_known"
    ),
}
ROOT = Path(__file__).resolve().parents[1]


@contextmanager
def pickler_left_as_found() -> Iterator[None]:
    """Undo what `pulumi.dynamic`'s `serialize_provider` leaves patched on pickle's pure-Python
    Pickler. It wraps the patch of the previous call on every call, so that past about 950
    dynamic resources in one process, pickling a provider exceeds the recursion limit: run each
    program declaring many inside this."""
    pickler: Any = pickle._Pickler
    saved = pickler._batch_setitems, pickler.save_dict
    try:
        yield
    finally:
        pickler._batch_setitems, pickler.save_dict = saved


def declare(variant: str, n: int, generation: int = 0) -> None:
    """The program: N servers of one variant (renamed in each `generation`)."""
    for i in range(n):
        name = f"bench-{i}" if generation == 0 else f"bench-{i}-v{generation}"
        props = {"integrated_account_id": ACCOUNT, "name": name}
        if variant.startswith("ours"):
            TrutoMcpServer(f"s{i}", integrated_account_id=ACCOUNT, name=name)
        elif variant in SURFACES:
            surface = {**props, **dict.fromkeys(SURFACES[variant].split())}
            secret = pulumi.ResourceOptions(additional_secret_outputs=["token", "url"])
            ReferenceServer(ReferenceProvider(), f"s{i}", surface, secret)
        elif variant == "reference, plain":
            ReferenceServer(ReferenceProvider(), f"s{i}", props)
        else:
            NullResource(NullProvider(), f"s{i}", props)


Sample = tuple[float, float, float]
"""One operation: wall seconds, the program's CPU seconds, the CLI's and its hosts' CPU seconds."""


def _cpu_seconds() -> tuple[float, float]:
    """CPU time of this process (the program) and of its finished children (the CLI, with the
    provider hosts it started and waited for); the emulator, still running, is not counted."""
    own, children = (
        resource.getrusage(resource.RUSAGE_SELF),
        resource.getrusage(resource.RUSAGE_CHILDREN),
    )
    return own.ru_utime + own.ru_stime, children.ru_utime + children.ru_stime


def one_round(variant: str, n: int, emulator: EmulatorProcess, cli: str) -> list[Sample]:
    """A `Sample` of each operation on a fresh stack."""
    # Undo the pickle patch pulumi.dynamic leaves per resource of the other variants (ours
    # pickles its provider once), or the rounds add up to a crash.
    with pickler_left_as_found(), tempfile.TemporaryDirectory(prefix="bench-engine-") as folder:
        stack = EngineStack(Path(folder), cli, env={"PYTHONPATH": str(ROOT)})
        stack.configure(emulator.api_token, emulator.url, maxRequestsPerSecond="0")
        stack.program = lambda: declare(variant, n)
        seconds = []
        for step in (stack.up, stack.preview, stack.refresh, stack.destroy):
            started, (program, cli_and_hosts) = time.perf_counter(), _cpu_seconds()
            step()
            program_after, cli_and_hosts_after = _cpu_seconds()
            seconds.append(
                (
                    time.perf_counter() - started,
                    program_after - program,
                    cli_and_hosts_after - cli_and_hosts,
                )
            )
    if emulator.servers():
        raise RuntimeError(f"{variant} left servers behind")
    return seconds


def distance_round(
    variant: str, n: int, latency_ms: int, emulator: EmulatorProcess, cli: str
) -> distance.Round:
    """`distance.OPERATIONS` of one variant on a fresh stack, Truto `latency_ms` away."""
    with pickler_left_as_found(), tempfile.TemporaryDirectory(prefix="bench-distance-") as folder:
        env = {"PYTHONPATH": str(ROOT), **distance.ENGINE_ENV, **distance.environment(variant)}
        stack = EngineStack(Path(folder), cli, env=env)
        stack.configure(emulator.api_token, emulator.url, **distance.settings(variant))
        stack.program = lambda: declare(variant, n)

        def update() -> None:
            stack.program = lambda: declare(variant, n, generation=1)
            stack.up()

        emulator.set_latency(latency_ms / 1000)
        try:
            found = distance.run_round(
                {
                    "up": stack.up,
                    "preview": stack.preview,
                    "refresh": stack.refresh,
                    "update": update,
                    "destroy": stack.destroy,
                },
                emulator,
            )
        finally:
            emulator.set_latency(0)
    if emulator.servers():
        raise RuntimeError(f"{variant} left servers behind")
    return found


def distance_main(cells: list[tuple[int, int]], rounds: int, cli: str) -> str:
    """Section 9's tables: every variant, every cell, `rounds` times, variants interleaved."""
    found: dict[tuple[int, int], dict[str, list[distance.Round]]] = {}
    with emulator_process() as emulator:
        emulator.set_rate_limit(*distance.TRUTO_LIMIT)
        for n, latency_ms in cells:
            times: dict[str, list[distance.Round]] = {v: [] for v in distance.VARIANTS}
            for round_ in range(rounds):
                first = round_ % len(distance.VARIANTS)
                for variant in distance.VARIANTS[first:] + distance.VARIANTS[:first]:
                    times[variant].append(
                        result := distance_round(variant, n, latency_ms, emulator, cli)
                    )
                    print(
                        f"N={n} {latency_ms} ms round {round_ + 1} {variant}: {result}",
                        file=sys.stderr,
                        flush=True,
                    )
            found[(n, latency_ms)] = times
    rows = [row for (n, ms), times in found.items() for row in distance.rows(n, ms, times)]
    return table(distance.HEADER, rows) + "\n" + distance.footer(found)


def _cell(text: str) -> tuple[int, int]:
    """`200@150`: 200 servers, 150 ms."""
    n, _, ms = text.partition("@")
    return int(n), int(ms)


def _paired(
    ours: list[list[Sample]], other: list[list[Sample]], operation: int, cpu: bool, with_range: bool
) -> str:
    """The median of the per-round ratios of wall (or all CPU) seconds, with their range if asked:
    the variants of one round ran minutes apart at most, so pairing them cancels the machine's
    drift between rounds."""

    def measure(sample: Sample) -> float:
        return sample[1] + sample[2] if cpu else sample[0]

    ratios = [
        measure(a[operation]) / measure(b[operation]) for a, b in zip(ours, other, strict=True)
    ]
    return spread(ratios, "{:.2f}") if with_range else f"{statistics.median(ratios):.2f}"


SPLIT_HEADER = "N|operation|CPU s, ours|CPU s, reference|CPU s, same surface"


def _split(rounds: list[list[Sample]] | None, operation: int) -> str:
    """Median CPU seconds of the program + of the CLI and its provider hosts."""
    if rounds is None:
        return "-"
    program = statistics.median(r[operation][1] for r in rounds)
    return f"{program:.2f} + {statistics.median(r[operation][2] for r in rounds):.2f}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.engine")
    parser.add_argument("--sizes", type=int, nargs="+", default=[50, 200])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument(
        "--variants",
        nargs="+",
        choices=VARIANTS,
        default=list(VARIANTS),
        metavar="VARIANT",
        help=f"which of {', '.join(map(repr, VARIANTS))} to run (ours always runs)",
    )
    parser.add_argument("--write", type=Path, help="put the table into this Markdown file")
    parser.add_argument(
        "--latency", type=int, nargs="+", metavar="MS", help="section 9 at each --sizes"
    )
    parser.add_argument(
        "--cells", type=_cell, nargs="+", metavar="N@MS", help="section 9 at these cells"
    )
    args = parser.parse_args(argv)
    variants = tuple(v for v in VARIANTS if v == "ours" or v in args.variants)
    cli = pulumi_cli()
    if cli is None:
        print("no pulumi CLI: run `make pulumi`", file=sys.stderr)
        return 2
    cells = list(args.cells or []) + [(n, ms) for n in args.sizes for ms in args.latency or []]
    if cells:
        started = time.perf_counter()
        found = distance_main(cells, args.rounds, cli)
        print(found)
        if args.write is not None:
            _write(args, cli, DISTANCE_BEGIN, found, time.perf_counter() - started)
        return 0
    header = (
        "N|operation|ours (s)|reference (s)|same surface (s)|plain (s)|no HTTP (s)"
        "|ours / reference|CPU: ours / reference|CPU: ours / same surface|ours / plain"
    )
    rows, split_rows = [], []
    with emulator_process() as emulator:
        for n in args.sizes:
            times: dict[str, list[list[Sample]]] = {v: [] for v in variants}
            for round_ in range(args.rounds):
                # Each round starts with another variant, so none always runs first.
                first = round_ % len(variants)
                for variant in variants[first:] + variants[:first]:
                    times[variant].append(seconds := one_round(variant, n, emulator, cli))
                    print(f"N={n} round {round_ + 1} {variant}: {seconds}", file=sys.stderr)
            for i, operation in enumerate(OPERATIONS):
                medians = [
                    f"{statistics.median(r[i][0] for r in times[v]):.2f}" if v in times else "-"
                    for v in VARIANTS
                ]
                ratios = [
                    _paired(times["ours"], times[other], i, cpu, with_range)
                    if other in times
                    else "-"
                    for other, cpu, with_range in (
                        ("reference", False, True),
                        ("reference", True, True),
                        ("reference, same surface", True, False),
                        ("reference, plain", False, False),
                    )
                ]
                rows.append([n, operation, *medians, *ratios])
                split_rows.append([n, operation, *(_split(times.get(v), i) for v in VARIANTS[:3])])
    found = table(header, rows) + "\n" + table(SPLIT_HEADER, split_rows)
    print(found)
    if args.write is not None:
        _write(args, cli, ENGINE_BEGIN, found, 0.0)
    return 0


def _write(args: argparse.Namespace, cli: str, begin: str, found: str, seconds: float) -> None:
    """Put a section (that of `begin` in the template) into `args.write`."""
    version = subprocess.run([cli, "version"], capture_output=True, text=True, check=True)
    template = TEMPLATE.read_text(encoding="utf-8")
    start = template.index(begin)
    end = template.index("<!-- /", start)
    section = template[start : template.index("-->", end) + 3].format(
        date=time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        version=version.stdout.strip(),
        rounds=args.rounds,
        table=found,
        command=" ".join(["python -m bench.engine", *sys.argv[1:]]),
        seconds=seconds,
    )
    if begin == DISTANCE_BEGIN:
        write_markdown(args.write, distance=section)
    else:
        write_markdown(args.write, engine=section)


if __name__ == "__main__":
    sys.exit(main())
