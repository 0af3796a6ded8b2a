"""`truto:hostConcurrency` through the `pulumi` CLI in a project folder, as a pipeline runs it:
by default an `up` of 24 servers with Truto 0.3 s away gets the four calls at once Pulumi's
provider host serves, as any other dynamic provider of the program does; after `pulumi config
set truto:hostConcurrency 16`, as many as the engine's `--parallel` sends. The emulator's
journal tells how many requests it held at once."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from devkit.project import ProjectFolder
from truto_pulumi.emulator import Emulator

from ..kit import ACCOUNT, peak_in_flight

pytestmark = pytest.mark.engine

SERVERS = 24
LATENCY = 0.3
PROGRAM = f"""
from truto_pulumi import TrutoMcpServer

for i in range({SERVERS}):
    TrutoMcpServer(f"s{{i}}", integrated_account_id="{ACCOUNT}", name=f"server {{i}}")
"""


def test_up_serves_the_engines_parallel_calls_only_when_host_concurrency_is_set(
    program_project: Callable[[str], ProjectFolder], emulator: Emulator
) -> None:
    project = program_project(PROGRAM)
    parallel = {"PULUMI_PARALLEL": "8"}  # the engine's default on two cores, on any machine
    emulator.set_latency(LATENCY)
    try:
        project.pulumi("config", "set", "truto:hostConcurrency", "16")
        project.pulumi("up", "--yes", env=parallel)
        widened = peak_in_flight(emulator.journal(), LATENCY)
        assert len(emulator.servers()) == SERVERS
        project.pulumi("destroy", "--yes", env=parallel)
        assert emulator.servers() == []

        project.pulumi("config", "rm", "truto:hostConcurrency")  # the default: the host as is
        emulator.clear_journal()
        project.pulumi("up", "--yes", env=parallel)
        as_is = peak_in_flight(emulator.journal(), LATENCY)
        assert sorted(s["name"] for s in emulator.servers()) == sorted(
            f"server {i}" for i in range(SERVERS)
        )
        project.pulumi("destroy", "--yes", env=parallel)
    finally:
        emulator.set_latency(0)
    assert 6 <= widened <= 8, widened
    assert as_is <= 4, as_is
