"""A `destroy` right after an `up`, each in a provider host of its own as each `pulumi` command
gets, against Truto's rate limit (500 requests per 10 s, 429 beyond): what pacing that starts
from an empty log costs the second command, which Truto still counts the first one's requests
against.

`python -m bench.back_to_back [--servers 400] [--rounds 3]` prints, per round, the seconds of
each command, the 429s each drew and the requests each sent; then the medians.
"""

from __future__ import annotations

import argparse
import statistics
import time

from devkit import NO_TRUTO_ENV, ProviderHost, mcp_server_stack

from .emulator import EmulatorProcess, emulator_process
from .lifecycle import desired


def one_round(emulator: EmulatorProcess, servers: int) -> dict[str, float]:
    """An `up` of `servers`, then at once a `destroy`, each on a host of its own."""
    emulator.reset()
    emulator.set_rate_limit(500, 10.0)
    figures: dict[str, float] = {}
    with ProviderHost(env=NO_TRUTO_ENV) as host:
        stack = mcp_server_stack(
            host, api_token=emulator.api_token, base_url=emulator.url, new_host_each_run=True
        )
        for command, run in (
            ("up", lambda: stack.up(desired(servers))),
            ("destroy", stack.destroy),
        ):
            emulator.clear_journal()
            started = time.monotonic()
            run()
            figures[f"{command} s"] = time.monotonic() - started
            statuses = [entry["status"] for entry in emulator.journal()]
            figures[f"{command} 429s"] = statuses.count(429)
            figures[f"{command} requests"] = len(statuses)
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.back_to_back")
    parser.add_argument("--servers", type=int, default=400)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    rounds = []
    with emulator_process() as emulator:
        for number in range(1, args.rounds + 1):
            figures = one_round(emulator, args.servers)
            rounds.append(figures)
            print(f"round {number}: " + ", ".join(f"{k} {v:g}" for k, v in figures.items()))
    medians = {key: statistics.median(r[key] for r in rounds) for key in rounds[0]}
    print(f"median of {args.rounds} rounds, {args.servers} servers: " + ", ".join(
        f"{k} {v:g}" for k, v in medians.items()))  # fmt: skip


if __name__ == "__main__":
    main()
