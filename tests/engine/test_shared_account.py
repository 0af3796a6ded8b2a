"""Two stacks of one project share an integrated account and a server name: a create whose
answer is lost never deletes the other stack's server, whenever that one was made (the same
stack in another backend, its create in flight: `tests/lifecycle/test_faults.py::
test_the_next_create_removes_only_what_a_killed_run_of_an_earlier_release_left`)."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest

from devkit.project import ProjectFolder
from truto_pulumi.emulator import Emulator

from ..kit import ACCOUNT

pytestmark = pytest.mark.engine

ProgramProject = Callable[[str], ProjectFolder]

PROGRAM = f"""
from truto_pulumi import TrutoMcpServer

TrutoMcpServer("agent", integrated_account_id="{ACCOUNT}", name="support-agent",
               config={{"methods": ["read"]}})
"""


def state_ids(project: ProjectFolder, stack: str) -> list[str]:
    project.pulumi("stack", "select", stack)
    return [resource["id"] for resource in project.servers().values()]


def live_names(emulator: Emulator) -> dict[str, str]:
    return {server["id"]: server["name"] for server in emulator.servers()}


def test_a_gateway_504_while_another_stack_makes_the_same_name_deletes_nothing(
    program_project: ProgramProject, emulator: Emulator
) -> None:
    """`dev`'s POST is at the gateway while `prod` makes its server of the same name; the
    gateway answers 504 and Truto made nothing. `dev` cannot know whether its server will still
    appear, so it fails saying so, and deletes nothing; its next `up` creates its server."""
    project = program_project(PROGRAM)
    project.pulumi("config", "set", "truto:operationTimeoutSeconds", "6")
    project.pulumi("stack", "init", "prod")  # beside `dev`, on the same Truto account
    project.set_config(
        {"truto:baseUrl": emulator.url}, secret={"truto:apiToken": emulator.api_token}
    )
    emulator.inject(method="POST", status=504, delay=3.0)
    dev = project.start("up", "--yes", "--skip-preview", "--stack", "dev")
    while emulator.faults():  # dev's POST has reached the gateway
        time.sleep(0.05)
    project.pulumi("up", "--yes", "--skip-preview", "--stack", "prod")
    output, _ = dev.communicate(timeout=120)

    assert dev.returncode != 0
    assert "Truto may still make it, so nothing was put in the state" in output
    assert "its name would end in '[pulumi creating " in output
    (prod,) = state_ids(project, "prod")
    assert live_names(emulator) == {prod: "support-agent"}
    assert [entry["method"] for entry in emulator.journal()].count("DELETE") == 0

    project.pulumi("up", "--yes", "--skip-preview", "--stack", "dev")

    (dev_id,) = state_ids(project, "dev")
    assert live_names(emulator) == {prod: "support-agent", dev_id: "support-agent"}
