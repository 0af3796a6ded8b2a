"""Cold start: a fresh provider host until its first answered Check, and that first Check split
into import, configure and check in a fresh interpreter that has the host's imports."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

from pulumi.dynamic import ResourceProvider
from pulumi.dynamic.dynamic import serialize_provider

from devkit import MCP_SERVER_TYPE, NO_TRUTO_ENV, ProviderHost

from .lifecycle import desired

_SERVER = desired(1)["srv-0000"]
_SPLIT = """
import json, sys, time
import dill, grpc, pulumi.runtime, pulumi.dynamic  # what the host imports before unpickling
from pulumi.dynamic import ConfigureRequest
from pulumi.dynamic.config import Config
t0 = time.perf_counter()
from {module} import {name} as Provider
t1 = time.perf_counter()
(provider := Provider()).configure(ConfigureRequest(Config(json.loads(sys.argv[1]), "bench")))
t2 = time.perf_counter()
provider.check({{}}, json.loads(sys.argv[2]))
print(json.dumps([t1 - t0, t2 - t1, time.perf_counter() - t2]))
"""


def cold_start(provider: type[ResourceProvider], config: dict[str, str]) -> list[float]:
    """Seconds: host start until it accepts calls; Configure + first Check; import; configure;
    check (the last three in a fresh interpreter)."""
    news = {**_SERVER, "__provider": serialize_provider(provider())}
    started = time.perf_counter()
    with ProviderHost(env=NO_TRUTO_ENV) as host:
        ready = time.perf_counter()
        host.configure(config)
        checked = host.check(f"urn:pulumi:bench::bench::{MCP_SERVER_TYPE}::s", {}, news)
        answered = time.perf_counter()
    if checked.failures:
        raise RuntimeError(f"cold-start Check failed: {checked.failures}")
    script = _SPLIT.format(module=provider.__module__, name=provider.__qualname__)
    paths = os.pathsep.join(dict.fromkeys(p or os.getcwd() for p in sys.path))
    split = subprocess.run(
        [sys.executable, "-c", script, json.dumps(config), json.dumps(_SERVER)],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "PYTHONPATH": paths},
    )
    return [ready - started, answered - ready, *json.loads(split.stdout.splitlines()[-1])]
