"""Truto's documented refusals through the CLI in a project folder: its words, what to do."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from devkit.project import ProjectFolder
from truto_pulumi.emulator import Emulator

from ..kit import ACCOUNT

pytestmark = pytest.mark.engine

ProgramProject = Callable[[str], ProjectFolder]


# --- what Truto documents it refuses, through the CLI in a project folder ---------------------

TOOLS = [{"resource": "contacts", "method": "list", "tags": ["crm"]}]
"""The one tool of the account in the refusal tests."""

SCOPED = f"""
import pulumi
from truto_pulumi import TrutoMcpServer

TrutoMcpServer(
    "scoped",
    integrated_account_id="{ACCOUNT}",
    config={{"tags": pulumi.Config("app").require_object("tags")}},
)
"""


def test_a_config_that_matches_no_tool_fails_with_trutos_words_and_what_to_do(
    program_project: ProgramProject, emulator: Emulator
) -> None:
    emulator.set_readings(account_tools={ACCOUNT: TOOLS})
    project = program_project(SCOPED)
    project.pulumi("config", "set", "app:tags", '["hr"]')

    refused_create = project.pulumi("up", "--yes", "--skip-preview", check=False)

    assert refused_create.returncode != 0
    assert emulator.servers() == []
    project.pulumi("config", "set", "app:tags", '["crm"]')
    project.pulumi("up", "--yes", "--skip-preview")
    project.pulumi("config", "set", "app:tags", '["hr"]')
    refused_patch = project.pulumi("up", "--yes", "--skip-preview", check=False)

    assert refused_patch.returncode != 0
    for refused, nothing in ((refused_create, "created"), (refused_patch, "changed")):
        assert "No tools match the given methods and tags" in refused.text
        assert f"Nothing was {nothing}." in refused.text
        assert "match no tool of the integrated account" in refused.text
    assert [s["config"] for s in emulator.servers()] == [{"tags": ["crm"]}]
    assert project.servers()["scoped"]["outputs"]["config"] == {"tags": ["crm"]}


MANY = f"""
from truto_pulumi import TrutoMcpServer

for n in range(4):
    TrutoMcpServer(f"server-{{n}}", integrated_account_id="{ACCOUNT}")
"""


def test_a_create_beyond_the_plan_limit_fails_with_trutos_words_and_keeps_what_was_made(
    program_project: ProgramProject, emulator: Emulator
) -> None:
    emulator.set_readings(plan_limit=2)
    project = program_project(MANY)

    up = project.pulumi("up", "--yes", "--skip-preview", check=False)

    assert up.returncode != 0
    assert "Your plan allows 2 MCP servers" in up.text
    assert "beyond the plan's limit on MCP servers" in up.text
    made = {s["id"] for s in emulator.servers()}
    assert len(made) == 2
    assert {r["id"] for r in project.servers().values()} == made
