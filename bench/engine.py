"""Section 7: `pulumi up` / `preview` / `refresh` / `destroy` of N servers by the real engine.

Ours; the reference provider declaring the two inputs it sends; the reference declaring every
property TrutoMcpServer declares, `token` and `url` secret ("same surface"); a provider that
calls nothing ("null": the engine's and the host's own cost). The pinned CLI (`make pulumi`),
the Automation API, the emulator in its own process; medians, variants interleaved.

    python -m bench.engine [--sizes 50 200] [--rounds 3] [--write docs/benchmarks.md]
"""

from __future__ import annotations

import argparse
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pulumi

from tests.engine.driver import EngineStack, pulumi_cli
from truto_pulumi import TrutoMcpServer
from truto_pulumi._resource import _pickler_left_as_found

from .emulator import EmulatorProcess, emulator_process
from .null_provider import NullProvider, NullResource
from .reference_provider import ReferenceProvider, ReferenceServer
from .report import ENGINE_BEGIN, TEMPLATE, table, write_markdown

ACCOUNT = "4f5a1c2e-0000-4000-8000-0000000000be"
OPERATIONS = ("up", "preview", "refresh", "destroy")
VARIANTS = ("ours", "reference", "reference, same surface", "null")
SURFACE = "config expires_at adopt_id url token created_at updated_at created_by token_known"
ROOT = Path(__file__).resolve().parents[1]


def declare(variant: str, n: int) -> None:
    """The program: N servers of one variant."""
    for i in range(n):
        props = {"integrated_account_id": ACCOUNT, "name": f"bench-{i}"}
        if variant == "ours":
            TrutoMcpServer(f"s{i}", integrated_account_id=ACCOUNT, name=f"bench-{i}")
        elif variant == "reference":
            ReferenceServer(ReferenceProvider(), f"s{i}", props)
        elif variant == "reference, same surface":
            surface = {**props, **dict.fromkeys(SURFACE.split())}
            secret = pulumi.ResourceOptions(additional_secret_outputs=["token", "url"])
            ReferenceServer(ReferenceProvider(), f"s{i}", surface, secret)
        else:
            NullResource(NullProvider(), f"s{i}", props)


def _cpu_seconds() -> float:
    """CPU time of this process (the program) and of its finished children (the CLI and the
    provider hosts it started); the emulator, still running, is not counted."""
    own, children = (
        resource.getrusage(resource.RUSAGE_SELF),
        resource.getrusage(resource.RUSAGE_CHILDREN),
    )
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def one_round(
    variant: str, n: int, emulator: EmulatorProcess, cli: str
) -> list[tuple[float, float]]:
    """(wall seconds, CPU seconds) of each operation on a fresh stack."""
    # Undo the pickle patch pulumi.dynamic leaves per plain dynamic resource (TrutoMcpServer
    # does it itself), or the rounds add up to a crash.
    with _pickler_left_as_found(), tempfile.TemporaryDirectory(prefix="bench-engine-") as folder:
        stack = EngineStack(Path(folder), cli, env={"PYTHONPATH": str(ROOT)})
        stack.configure(emulator.token, emulator.url, maxRequestsPerSecond="0")
        stack.program = lambda: declare(variant, n)
        seconds = []
        for step in (lambda: stack.up({}), lambda: stack.preview({}), stack.refresh, stack.destroy):
            started, cpu = time.perf_counter(), _cpu_seconds()
            step()
            seconds.append((time.perf_counter() - started, _cpu_seconds() - cpu))
    if emulator.servers():
        raise RuntimeError(f"{variant} left servers behind")
    return seconds


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.engine")
    parser.add_argument("--sizes", type=int, nargs="+", default=[50, 200])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--write", type=Path, help="put the table into this Markdown file")
    args = parser.parse_args(argv)
    cli = pulumi_cli()
    if cli is None:
        print("no pulumi CLI: run `make pulumi`", file=sys.stderr)
        return 2
    header = (
        "N|operation|ours (s)|reference (s)|reference, same surface (s)|no HTTP (s)"
        "|ours / reference|ours / reference, same surface"
        "|CPU: ours / reference|CPU: ours / reference, same surface"
    )
    rows = []
    with emulator_process() as emulator:
        for n in args.sizes:
            times: dict[str, list[list[tuple[float, float]]]] = {v: [] for v in VARIANTS}
            for round_ in range(args.rounds):
                for variant in VARIANTS:
                    times[variant].append(seconds := one_round(variant, n, emulator, cli))
                    print(f"N={n} round {round_ + 1} {variant}: {seconds}", file=sys.stderr)
            for i, operation in enumerate(OPERATIONS):
                t = [statistics.median(r[i][0] for r in times[v]) for v in VARIANTS]
                cpu = [statistics.median(r[i][1] for r in times[v]) for v in VARIANTS]
                ratios = (t[0] / t[1], t[0] / t[2], cpu[0] / cpu[1], cpu[0] / cpu[2])
                rows.append([n, operation, *(f"{x:.2f}" for x in (*t, *ratios))])
    found = table(header, rows)
    print(found)
    if args.write is not None:
        version = subprocess.run([cli, "version"], capture_output=True, text=True, check=True)
        when = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
        template = TEMPLATE.read_text(encoding="utf-8")
        section = template[template.index(ENGINE_BEGIN) :].format(
            date=when, version=version.stdout.strip(), rounds=args.rounds, table=found
        )
        write_markdown(args.write, engine=section)
    return 0


if __name__ == "__main__":
    sys.exit(main())
