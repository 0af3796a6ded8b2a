"""Through the real engine: `pulumi up` / `preview` / `refresh` / `destroy` of N servers.

Ours against the reference provider (the same HTTP calls and nothing else) and a provider that
calls nothing (the engine's and the provider host's own cost per resource), all under the same
pinned CLI, through the Automation API, against the emulator in a process of its own. Medians of
a few rounds, measured in one run; prints a Markdown table.

    python -m bench.engine [--sizes 50 200] [--rounds 3]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import pulumi

from tests.engine.driver import EngineStack, pulumi_cli
from truto_pulumi import TrutoMcpServer
from truto_pulumi.resource import _pickler_left_as_found

from .emulator import EmulatorProcess
from .reference_provider import ReferenceProvider, ReferenceServer
from .report import ENGINE_BEGIN, ENGINE_END, engine_section
from .trivial_provider import NullProvider, NullResource

ACCOUNT = "4f5a1c2e-0000-4000-8000-0000000000be"
OPERATIONS = ("up", "preview", "refresh", "destroy")
ROOT = Path(__file__).resolve().parents[1]


def program(variant: str, n: int) -> Callable[[], None]:
    """N servers declared with one provider."""

    def declare() -> None:
        for i in range(n):
            props = {"integrated_account_id": ACCOUNT, "name": f"bench-{i}"}
            if variant == "ours":
                TrutoMcpServer(f"s{i}", integrated_account_id=ACCOUNT, name=f"bench-{i}")
            elif variant == "reference":
                ReferenceServer(ReferenceProvider(), f"s{i}", props)
            elif variant == "reference, secret":  # token and url kept secret, as ours does
                secret = pulumi.ResourceOptions(additional_secret_outputs=["token", "url"])
                ReferenceServer(ReferenceProvider(), f"s{i}", props, secret)
            else:
                NullResource(NullProvider(), f"s{i}", props)

    return declare


def one_round(variant: str, n: int, emulator: EmulatorProcess, cli: str) -> dict[str, float]:
    """Seconds each operation took, for one fresh stack."""
    # The reference and no-HTTP resources are plain dynamic resources: undo the pickle patch
    # pulumi.dynamic leaves per resource, as TrutoMcpServer does, or rounds add up to a crash.
    with _pickler_left_as_found(), tempfile.TemporaryDirectory(prefix="bench-engine-") as folder:
        stack = EngineStack(Path(folder), cli, env={"PYTHONPATH": str(ROOT)})
        stack.configure(emulator.token, emulator.url, maxRequestsPerSecond="0")
        stack.program = program(variant, n)
        seconds: dict[str, float] = {}
        for operation in OPERATIONS:
            started = time.perf_counter()
            if operation in ("up", "preview"):
                getattr(stack, operation)({})
            else:
                getattr(stack, operation)()
            seconds[operation] = time.perf_counter() - started
        if emulator.server_count():
            raise RuntimeError(f"{variant} left servers behind")
        return seconds


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.engine")
    parser.add_argument("--sizes", type=int, nargs="+", default=[50, 200])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument(
        "--write", type=Path, help="put the table into this Markdown file (docs/benchmarks.md)"
    )
    args = parser.parse_args(argv)
    cli = pulumi_cli()
    if cli is None:
        print("no pulumi CLI: run `make pulumi`", file=sys.stderr)
        return 2
    variants = ("ours", "reference", "reference, secret", "null")
    rows = [
        "| N | operation | ours (s) | reference (s) | reference, secret token/url (s) "
        "| no HTTP (s) | ours / reference | ours / reference, secret |",
        "|---|---|---|---|---|---|---|---|",
    ]
    with EmulatorProcess() as emulator:
        for n in args.sizes:
            times: dict[str, dict[str, list[float]]] = {
                v: {o: [] for o in OPERATIONS} for v in variants
            }
            for round_ in range(args.rounds):
                for variant in variants:  # interleaved, so drift hits every variant alike
                    measured = one_round(variant, n, emulator, cli)
                    for operation, seconds in measured.items():
                        times[variant][operation].append(seconds)
                    print(f"N={n} round {round_ + 1} {variant}: {measured}", file=sys.stderr)
            for operation in OPERATIONS:
                ours, ref, secret, null = (statistics.median(times[v][operation]) for v in variants)
                cells = (
                    *(f"{t:.2f}" for t in (ours, ref, secret, null)),
                    f"{ours / ref:.2f}",
                    f"{ours / secret:.2f}",
                )
                rows.append(f"| {n} | {operation} | " + " | ".join(cells) + " |")
    table = "\n".join(rows)
    print(table)
    if args.write is not None:
        write_section(args.write, table, args.rounds, cli)
    return 0


def _cli_version(cli: str) -> str:
    done = subprocess.run([cli, "version"], capture_output=True, text=True, check=True)
    return done.stdout.strip()


def write_section(path: Path, table: str, rounds: int, cli: str) -> None:
    """Replace (or add) this benchmark's section of `path`."""
    when = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    section = "\n".join(
        [
            ENGINE_BEGIN,
            "## 7. Through the real engine",
            "",
            f"Written by `python -m bench.engine --write docs/benchmarks.md` on {when} with the"
            f" pinned CLI (`pulumi version`: {_cli_version(cli)}); median of {rounds} rounds,"
            " variants interleaved.",
            "Each round is a fresh stack: `up` (create N), `preview`, `refresh`, `destroy`,"
            " through the Automation API against the emulator in its own process. *Reference,"
            " secret* is the reference provider with `token` and `url` secret, as ours keeps them"
            " (the engine encrypts them in every state it writes). *No HTTP* is a provider that"
            " calls nothing: the engine's and the provider host's own cost.",
            "",
            table,
            ENGINE_END,
        ]
    )
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    kept = engine_section(text)
    text = text.replace(kept.strip(), "").rstrip() if kept else text.rstrip()
    path.write_text(text + "\n\n" + section + "\n", encoding="utf-8")


if __name__ == "__main__":
    sys.exit(main())
