"""Cold start: from starting the provider host to its first answered Check; import times."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from dataclasses import dataclass

from pulumi.dynamic import ResourceProvider

from truto_pulumi.testing import ProviderHost

from .workload import MCP_SERVER_TYPE, desired

__all__ = [
    "HOST_PRELUDE",
    "ColdStart",
    "FirstCheckCost",
    "ImportTime",
    "cold_start",
    "first_check_cost",
    "import_time",
]

_IMPORTTIME = re.compile(r"^import time:\s*(\d+)\s*\|\s*(\d+)\s*\|(\s*)(\S+)\s*$")
HOST_PRELUDE = "import dill, grpc, pulumi.runtime, pulumi.dynamic"
"""What `python -m pulumi.dynamic` has imported before it unpickles a provider."""


def _child_env() -> dict[str, str]:
    """This environment, with PYTHONPATH set so a child imports what this process imports."""
    paths = [p or os.getcwd() for p in sys.path]
    return {**os.environ, "PYTHONPATH": os.pathsep.join(dict.fromkeys(paths))}


@dataclass(frozen=True)
class ColdStart:
    """Seconds: host process start until its port is open, then Configure + first Check."""

    host_ready: float
    first_check: float

    @property
    def total(self) -> float:
        return self.host_ready + self.first_check


def cold_start(provider: ResourceProvider, config: dict[str, str]) -> ColdStart:
    """Start a fresh host and time it until it answers the first Check for `provider`."""
    from pulumi.dynamic.dynamic import serialize_provider

    news = {**desired(1)["srv-0000"], "__provider": serialize_provider(provider)}
    urn = f"urn:pulumi:bench::bench::{MCP_SERVER_TYPE}::srv-0000"
    host = ProviderHost(env={"TRUTO_API_TOKEN": "", "TRUTO_BASE_URL": ""})
    started = time.perf_counter()
    try:
        host.start()
        ready = time.perf_counter()
        host.configure(config)
        result = host.check(urn, {}, news)
        answered = time.perf_counter()
    finally:
        host.stop()
    if result.failures:
        raise RuntimeError(f"cold-start Check failed: {result.failures}")
    return ColdStart(ready - started, answered - ready)


@dataclass(frozen=True)
class ImportTime:
    """Microseconds `python -X importtime` reports for importing `module` after `prelude`."""

    module: str
    prelude: str
    cumulative_us: int
    heaviest: list[tuple[str, int]]
    """Top-level packages it pulled in, by the summed self time of their modules (us)."""


def import_time(module: str, *, prelude: str = "") -> ImportTime:
    """Run a fresh interpreter with `-X importtime`; what importing `module` costs after `prelude`.

    With a prelude (e.g. what the provider host already imported) only the imports that remain
    are counted.
    """
    statement = f"{prelude}; import {module}" if prelude else f"import {module}"
    completed = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", statement],
        capture_output=True,
        text=True,
        check=True,
        env=_child_env(),
    )
    rows: list[tuple[int, int, int, str]] = []  # (self, cumulative, depth, name)
    for line in completed.stderr.splitlines():
        match = _IMPORTTIME.match(line)
        if match:
            rows.append((int(match[1]), int(match[2]), len(match[3]), match[4]))
    # Children are printed before their parent: the statement's import is the last top-level
    # row, and its subtree is every row after the previous top-level row.
    top = [i for i, row in enumerate(rows) if row[2] <= 1]
    last = top[-1]
    start = top[-2] + 1 if len(top) > 1 else 0
    roots: dict[str, int] = {}
    for own, _, _, name in rows[start : last + 1]:
        root = name.split(".")[0]
        roots[root] = roots.get(root, 0) + own
    heaviest = sorted(roots.items(), key=lambda item: -item[1])[:6]
    return ImportTime(module, prelude, rows[last][1], heaviest)


@dataclass(frozen=True)
class FirstCheckCost:
    """Where a provider's first Check goes, in a fresh interpreter that imported the prelude."""

    import_s: float
    configure_s: float
    first_check_s: float
    second_check_s: float


_BREAKDOWN = """
import json, sys, time
{prelude}
from pulumi.dynamic import ConfigureRequest
from pulumi.dynamic.config import Config
t0 = time.perf_counter()
from {module} import {cls} as P
t1 = time.perf_counter()
provider = P()
provider.configure(ConfigureRequest(Config(json.loads(sys.argv[1]), "bench")))
t2 = time.perf_counter()
provider.check({{}}, json.loads(sys.argv[2]))
t3 = time.perf_counter()
provider.check({{}}, json.loads(sys.argv[2]))
t4 = time.perf_counter()
print(json.dumps([t1 - t0, t2 - t1, t3 - t2, t4 - t3]))
"""


def first_check_cost(
    provider: type[ResourceProvider], config: dict[str, str], *, prelude: str = HOST_PRELUDE
) -> FirstCheckCost:
    """Import, configure and two Checks of `provider`, timed in a fresh interpreter."""
    import json

    script = _BREAKDOWN.format(
        prelude=prelude, module=provider.__module__, cls=provider.__qualname__
    )
    news = desired(1)["srv-0000"]
    completed = subprocess.run(
        [sys.executable, "-c", script, json.dumps(config), json.dumps(news)],
        capture_output=True,
        text=True,
        check=True,
        env=_child_env(),
    )
    import_s, configure_s, first_s, second_s = json.loads(completed.stdout.strip().splitlines()[-1])
    return FirstCheckCost(import_s, configure_s, first_s, second_s)
