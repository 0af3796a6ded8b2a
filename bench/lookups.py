"""`python -m bench.lookups`: section 8 of docs/benchmarks.md, what a lookup costs.

`get_integrated_accounts` of N integrated accounts against the emulator in a process of its own
(every account added through its hooks), on loopback and with added latency: the requests it
sends, against the floor of ceil(N / page size) (the emulator serves Truto's pages of 100 at
most), and its wall time, against the floor's round trips. The lookup runs as in a program:
settings from the environment, one client for every call, the shipped client-side pacing.

    python -m bench.lookups --accounts 1000 --rounds 7 --write docs/benchmarks.md
"""

from __future__ import annotations

import argparse
import math
import os
import statistics
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from truto_pulumi import get_integrated_accounts

from .emulator import EmulatorProcess, emulator_process
from .report import LOOKUPS_BEGIN, LOOKUPS_END, machine, spread, table, write_markdown

INTEGRATIONS = ("hubspot", "salesforce")
"""Accounts alternate between these, so that a filtered lookup reads half of them."""

SECTION = Path(__file__).with_name("lookups.md")
"""The section's text: a template with the figures' fields."""


def _lookup_rounds(
    emulator: EmulatorProcess, rounds: int, integration: str | None
) -> tuple[list[int], list[float], int]:
    """Requests and wall seconds of each lookup, and the accounts it returned."""
    requests: list[int] = []
    seconds: list[float] = []
    found = 0
    for _ in range(rounds):
        emulator.clear_journal()
        started = time.perf_counter()
        found = len(get_integrated_accounts(integration=integration))
        seconds.append(time.perf_counter() - started)
        requests.append(sum(1 for e in emulator.journal() if e["path"] == "/integrated-account"))
    return requests, seconds, found


def measure(n: int, rounds: int, latencies: Sequence[float]) -> tuple[str, int]:
    """The section's table, and the emulator's page size."""
    rows = []
    with emulator_process() as emulator:
        for index in range(n):
            emulator.add_account(integration=INTEGRATIONS[index % len(INTEGRATIONS)])
        page = int(emulator.client().get("/_emulator/account-page-limit").json()["limit"])
        os.environ["TRUTO_API_TOKEN"] = emulator.api_token
        os.environ["TRUTO_BASE_URL"] = emulator.url
        for latency in latencies:
            emulator.set_latency(latency)
            for integration in (None, INTEGRATIONS[0]):
                requests, seconds, found = _lookup_rounds(emulator, rounds, integration)
                floor = math.ceil(found / page) if found else 1
                floor_wall = f"{floor * latency:.2f}" if latency else "-"
                print(
                    f"latency {latency * 1000:.0f} ms, {integration or 'all'}: {found} "
                    f"accounts, {statistics.median(requests)} requests, {seconds}",
                    file=sys.stderr,
                )
                rows.append(
                    [
                        f"{latency * 1000:.0f}",
                        f"integration={integration}" if integration else "none",
                        found,
                        f"{statistics.median(requests):g}",
                        floor,
                        f"{statistics.median(requests) / floor:.2f}",
                        spread(seconds),
                        floor_wall,
                    ]
                )
    header = (
        "added latency (ms)|filter|accounts|requests|floor|requests / floor|wall (s)"
        "|floor's wall (s)"
    )
    return table(header, rows), page


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.lookups", description=__doc__)
    parser.add_argument("--accounts", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--latencies", type=float, nargs="+", default=[0.0, 0.05, 0.15])
    parser.add_argument("--write", type=Path, help="replace section 8 of this Markdown file")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    found, page = measure(args.accounts, args.rounds, args.latencies)
    section = SECTION.read_text(encoding="utf-8").format(
        begin=LOOKUPS_BEGIN,
        end=LOOKUPS_END,
        n=args.accounts,
        rounds=args.rounds,
        date=time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        seconds=time.perf_counter() - started,
        machine=machine(),
        page=page,
        table=found,
    )
    print(section)
    if args.write is not None:
        write_markdown(args.write, lookups=section)
    return 0


if __name__ == "__main__":
    sys.exit(main())
