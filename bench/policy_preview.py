"""`python -m bench.policy_preview`: what the guardrails policy pack adds to a preview.

`pulumi preview` of a project folder declaring N servers (each compliant with the default
pack, so the time is the rules' and not the printing of violations), with and without
`--policy-pack examples/guardrails`, runs interleaved, against the emulator in its own process;
medians. The pack's `venv` is this run's virtualenv, which has `truto-pulumi[policy]`.

    python -m bench.policy_preview [--servers 1000] [--rounds 3]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

from devkit.project import ProjectFolder, checkout_copy, pulumi_cli

from .emulator import emulator_process
from .report import machine, spread, table

ACCOUNT = "8d0c1f52-6b1e-4c7e-9a43-0d6f2f0c1a11"
PROGRAM = """\
import datetime
from truto_pulumi import TrutoMcpServer

expires = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(days=30)
for i in range({n}):
    TrutoMcpServer(
        f"s{{i}}",
        integrated_account_id="{account}",
        name=f"mcp-{{i}}",
        expires_at=expires.strftime("%Y-%m-%dT%H:%M:%SZ"),
        config={{"methods": ["read"], "tags": ["t"], "tool_exposure": "discovery"}},
    )
"""


def measure(servers: int, rounds: int) -> str:
    """The table: median preview seconds without and with the pack, and the difference."""
    cli = pulumi_cli()
    if cli is None:
        raise SystemExit("no pulumi CLI: `make pulumi`")
    root = Path(tempfile.mkdtemp(prefix="bench-policy-"))
    pack = checkout_copy(root / "checkout", "guardrails")
    (pack / "venv").symlink_to(sys.prefix)
    folder = root / "program"
    folder.mkdir()
    (folder / "Pulumi.yaml").write_text(
        "name: policy-bench\nruntime:\n  name: python\n  options:\n"
        f"    toolchain: pip\n    virtualenv: {sys.prefix}\n"
    )
    (folder / "__main__.py").write_text(PROGRAM.format(n=servers, account=ACCOUNT))
    seconds: dict[str, list[float]] = {"without": [], "with": []}
    with emulator_process() as emulator:
        project = ProjectFolder(folder, cli, root / "pulumi")
        project.pulumi("stack", "init", "bench")
        project.set_config(
            {"truto:baseUrl": emulator.url}, secret={"truto:apiToken": emulator.api_token}
        )
        for _ in range(rounds):
            for variant, args in (("without", ()), ("with", ("--policy-pack", str(pack)))):
                started = time.perf_counter()
                project.pulumi("preview", *args)
                seconds[variant].append(time.perf_counter() - started)
                print(f"{variant}: {seconds[variant][-1]:.1f} s", file=sys.stderr)
    added = statistics.median(seconds["with"]) - statistics.median(seconds["without"])
    rows = [
        [
            servers,
            spread(seconds["without"], "{:.1f}"),
            spread(seconds["with"], "{:.1f}"),
            f"{added:.1f}",
            f"{added / servers * 1000:.1f}",
        ]
    ]
    header = "servers|preview s|with --policy-pack s|added s|added ms per server"
    return f"{table(header, rows)}\n{rounds} rounds, median (min-max); {machine()}\n"


if __name__ == "__main__":
    parser = argparse.ArgumentParser(prog="python -m bench.policy_preview")
    parser.add_argument("--servers", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=3)
    options = parser.parse_args()
    print(measure(options.servers, options.rounds))
