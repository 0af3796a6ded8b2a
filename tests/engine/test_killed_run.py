"""A `pulumi up` killed hard in a project folder, then the recovery docs/reliability.md gives:
Truto ends with exactly the stack's servers, each once, under its declared name, once what the
killed run left has reached its provisional expiry (Truto deletes it then), and `destroy`
leaves none.

The kill lands at a chosen moment of an `up` creating 8 servers: POSTs in flight, renames in
flight, lost answers being settled. `kill -9` of the CLI's process group is a CI runner
cancelled hard (the engine starts each plugin in a process group of its own, so the provider
host outlives it); killing the host too is an OOM kill of the whole job; killing the host alone
fails the run, and the next `up` leaves exactly the stack's servers.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from devkit.project import ProjectFolder
from truto_pulumi._create import PROVISIONAL_MARGIN
from truto_pulumi._inputs import parse_timestamp
from truto_pulumi._mark import read_mark
from truto_pulumi.emulator import Emulator

from ..kit import ACCOUNT

pytestmark = pytest.mark.engine

ProgramProject = Callable[[str], ProjectFolder]

SERVERS = 8
FLEET_PROGRAM = f"""
from truto_pulumi import TrutoMcpServer

for index in range({SERVERS}):
    TrutoMcpServer(f"agent-{{index}}", integrated_account_id="{ACCOUNT}",
                   config={{"methods": ["read"]}})
"""

RECOVERY = (
    ("cancel", "--yes"),
    ("stack", "export", "--show-secrets"),  # piped into `python -m truto_pulumi.recover --yes`
    ("refresh", "--clear-pending-creates", "--yes"),
    ("up", "--yes"),
)
"""What docs/reliability.md says to run after a killed pipeline, in order."""

Journal = list[dict[str, Any]]

HOLD = 300 + PROVISIONAL_MARGIN
"""How far ahead a marked POST's provisional expiry lies: the default operation timeout and the
margin."""

IN_FLIGHT = 3
"""Requests of one kind under way when the kill comes: the host serves four calls at a time
(`python -m pulumi.dynamic` has four workers), one of which lists the account first."""

MOMENTS: dict[str, tuple[dict[str, Any], Callable[[Journal], bool], float]] = {
    # fault injected, when to kill, and how long after the kill what was in flight may land
    "posts_in_flight": (
        {"method": "POST", "times": SERVERS, "delay": 4.0},
        lambda journal: arrived(journal, "POST") >= IN_FLIGHT,
        4.5,
    ),
    "renames_in_flight": (
        {"method": "PATCH", "times": SERVERS, "delay": 3.0},
        lambda journal: arrived(journal, "PATCH") >= IN_FLIGHT,
        3.5,
    ),
    "settling_lost_answers": (
        {"method": "POST", "times": SERVERS, "drop": True, "act_after": 4.0},
        lambda journal: arrived(journal, "POST") >= IN_FLIGHT and arrived(journal, "GET") >= 2,
        4.5,
    ),
}


def arrived(journal: Journal, method: str) -> int:
    """How many requests of `method` reached the emulator (answered or not)."""
    return sum(1 for entry in journal if entry["method"] == method)


def wait_for(condition: Callable[[], bool], what: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def provider_hosts(cli_pid: int) -> list[int]:
    """The dynamic provider hosts (`python -m pulumi.dynamic`) the CLI `cli_pid` started."""
    parents: dict[int, int] = {}
    hosts: list[int] = []
    for proc in Path("/proc").glob("[0-9]*"):
        with contextlib.suppress(OSError):  # a process that ended meanwhile
            parents[int(proc.name)] = int((proc / "stat").read_text().rpartition(")")[2].split()[1])
            if b"pulumi.dynamic" in (proc / "cmdline").read_bytes().split(b"\0"):
                hosts.append(int(proc.name))

    def descends(pid: int) -> bool:
        while pid > 1 and pid != cli_pid:
            pid = parents.get(pid, 0)
        return pid == cli_pid

    return [pid for pid in hosts if descends(pid)]


def alive(pid: int) -> bool:
    """Whether process `pid` runs (a zombie, ended but not yet reaped, does not)."""
    with contextlib.suppress(OSError):
        return (Path("/proc") / str(pid) / "stat").read_text().rpartition(")")[2].split()[0] != "Z"
    return False


def recover(project: ProjectFolder, emulator: Emulator) -> str:
    """Run the recovery of docs/reliability.md; what `truto_pulumi.recover` printed."""
    printed = ""
    for command in RECOVERY:
        result = project.pulumi(*command, check=False)
        assert result.returncode == 0, f"pulumi {' '.join(command)}:\n{result.text}"
        if command[:2] == ("stack", "export"):
            removed = subprocess.run(
                [sys.executable, "-m", "truto_pulumi.recover", "--yes"],
                input=result.stdout,
                env={**os.environ, "TRUTO_API_TOKEN": emulator.api_token,
                     "TRUTO_BASE_URL": emulator.url},
                capture_output=True, text=True, timeout=120, check=False,
            )  # fmt: skip
            assert removed.returncode == 0, removed.stderr
            assert emulator.api_token not in removed.stdout + removed.stderr
            printed = removed.stdout
    return printed


def leftovers_expire(emulator: Emulator, state: dict[str, Any]) -> None:
    """What a killed run left carries its create mark and a provisional expiry within the
    create's hold; Truto's time moved past it, they are gone."""
    held = {resource["id"] for resource in state.values()}
    latest = datetime.now(UTC) + timedelta(seconds=HOLD + 5)
    for server in emulator.servers():
        if server["id"] not in held:
            assert read_mark(server["name"]) is not None, server["name"]
            assert parse_timestamp(server["expires_at"]) <= latest, server["expires_at"]
    emulator.advance_clock(HOLD + 5)


def assert_truto_holds_exactly_the_stack(project: ProjectFolder, emulator: Emulator) -> None:
    leftovers_expire(emulator, project.servers())
    live = {server["id"]: server["name"] for server in emulator.servers()}
    state = {name: resource["id"] for name, resource in project.servers().items()}
    assert sorted(state) == sorted(f"agent-{index}" for index in range(SERVERS))
    unknown = {
        server_id: name for server_id, name in live.items() if server_id not in state.values()
    }
    assert sorted(live) == sorted(state.values()), f"servers the stack does not know: {unknown}"
    assert all(live[server_id] == name for name, server_id in state.items())
    assert not [name for name, count in Counter(live.values()).items() if count > 1]


def kill_all(pids: list[int]) -> None:
    """Kill the processes still alive among `pids`: a test leaves none running."""
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


KILLS = [
    pytest.param("posts_in_flight", "cli_group_and_host", id="posts_in_flight-cli_group_and_host"),
    pytest.param(
        "renames_in_flight", "cli_group_and_host", id="renames_in_flight-cli_group_and_host"
    ),
    pytest.param("settling_lost_answers", "cli_group", id="settling_lost_answers-cli_group"),
    pytest.param("posts_in_flight", "host", id="posts_in_flight-host"),
]
"""Four kills that differ in who is left: POSTs in flight when every process dies land with
nobody to rename them (they expire); renames in flight when every process dies is the window
no design closes, renames that land after the last process that could record them
(`truto_pulumi.recover` finds them); lost answers being settled when the CLI alone dies leave
the host, which outlived it, to finish or abandon its work; the host alone killed fails the run,
leaving no pending operation, and the next `up` (no recovery) finishes the job."""


@pytest.mark.parametrize(("moment", "killed"), KILLS)
def test_a_killed_up_and_the_readme_recovery_leave_exactly_the_stacks_servers(
    program_project: ProgramProject,
    emulator: Emulator,
    moment: str,
    killed: str,
    request: pytest.FixtureRequest,
) -> None:
    project = program_project(FLEET_PROGRAM)
    fault, ready, lands_within = MOMENTS[moment]
    emulator.inject(**fault)
    run = project.start("up", "--yes", "--skip-preview", "--parallel", str(SERVERS))
    wait_for(lambda: ready(emulator.journal()), moment)
    hosts = provider_hosts(run.pid)
    request.addfinalizer(lambda: kill_all(hosts))  # a host that outlived its CLI, idle by then
    if killed != "host":
        os.killpg(run.pid, signal.SIGKILL)
    if killed != "cli_group":
        for pid in hosts:
            os.kill(pid, signal.SIGKILL)
    if killed == "host":  # not the residual window of docs/reliability.md
        assert arrived(emulator.journal(), "PATCH") == 0
    output, _ = run.communicate(timeout=120)
    # What was in flight lands (or the host that outlived the CLI removes it).
    time.sleep(lands_within)
    # The host that outlived its CLI leaves once its work is done: no process keeps the token.
    wait_for(lambda: not [pid for pid in hosts if alive(pid)], "the host to exit", timeout=30)
    emulator.clear_faults()

    if killed == "host":
        assert run.returncode != 0, output
        assert project.export().get("pending_operations") in (None, [])
        project.pulumi("up", "--yes", "--skip-preview")
    else:
        removed = recover(project, emulator)
        if moment == "renames_in_flight":  # renames landed with nobody to record them
            assert removed.count("deleted MCP server") >= 1, removed

    assert_truto_holds_exactly_the_stack(project, emulator)
    project.pulumi("refresh", "--yes", "--skip-preview", "--expect-no-changes")
    project.pulumi("destroy", "--yes", "--skip-preview")
    assert emulator.servers() == []
