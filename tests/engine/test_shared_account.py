"""Two stacks of one project share an integrated account and a server name: a create whose
answer is lost never deletes the other stack's server, whenever that one was made."""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable
from pathlib import Path

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


def second_stack(project: ProjectFolder, emulator: Emulator, name: str = "prod") -> None:
    """Stack `name` beside `dev`, on the same Truto account."""
    project.pulumi("stack", "init", name)
    project.set_config(
        {"truto:baseUrl": emulator.url}, secret={"truto:apiToken": emulator.api_token}
    )


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
    second_stack(project, emulator)
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


def test_the_same_stack_in_another_backend_never_deletes_a_server_in_flight(
    program_project: ProgramProject, emulator: Emulator, tmp_path: Path
) -> None:
    """Stack `dev` of this project in two backends (personal stacks in two organizations, a
    pipeline's temporary backend), on one account: the other backend's `up` runs while this
    one's server is between its marked POST and its rename. Each keeps its own server."""
    here = program_project(PROGRAM)
    copy = tmp_path / "elsewhere"
    shutil.copytree(here.folder, copy, ignore=shutil.ignore_patterns("Pulumi.dev.yaml"))
    elsewhere = ProjectFolder(copy, here.cli, tmp_path / "other-backend")
    second_stack(elsewhere, emulator, "dev")
    emulator.inject(method="PATCH", delay=12.0)  # this backend's rename, held
    up_here = here.start("up", "--yes", "--skip-preview")
    while emulator.faults():
        time.sleep(0.05)

    elsewhere.pulumi("up", "--yes", "--skip-preview")
    assert up_here.poll() is None  # the rename was still in flight throughout
    output, _ = up_here.communicate(timeout=120)

    assert up_here.returncode == 0, output
    (mine,) = state_ids(here, "dev")
    (theirs,) = state_ids(elsewhere, "dev")
    assert live_names(emulator) == {mine: "support-agent", theirs: "support-agent"}
