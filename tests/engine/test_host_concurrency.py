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
import pulumi
from truto_pulumi import TrutoMcpServer

suffix = pulumi.Config("app").get("suffix") or ""
for i in range({SERVERS}):
    TrutoMcpServer(f"s{{i}}", integrated_account_id="{ACCOUNT}", name=f"server {{i}}{{suffix}}")
"""


def test_up_serves_the_engines_parallel_calls_only_when_host_concurrency_is_set(
    program_project: Callable[[str], ProjectFolder], emulator: Emulator
) -> None:
    """An `up` creating the servers with the default, then one renaming them all with
    `truto:hostConcurrency` set."""
    project = program_project(PROGRAM)
    parallel = {"PULUMI_PARALLEL": "8"}  # the engine's default on two cores, on any machine
    emulator.set_latency(LATENCY)
    try:
        project.pulumi("up", "--yes", "--skip-preview", env=parallel)
        as_is = peak_in_flight(emulator.journal(), LATENCY)
        project.set_config({"truto:hostConcurrency": "16", "app:suffix": " v2"})
        emulator.clear_journal()
        project.pulumi("up", "--yes", "--skip-preview", env=parallel)
        widened = peak_in_flight(emulator.journal(), LATENCY)
    finally:
        emulator.set_latency(0)
    assert sorted(s["name"] for s in emulator.servers()) == sorted(
        f"server {i} v2" for i in range(SERVERS)
    )
    assert [e["method"] for e in emulator.journal()] == ["PATCH"] * SERVERS
    assert as_is <= 4, as_is
    assert 6 <= widened <= 8, widened
