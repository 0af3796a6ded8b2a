"""Replacing a server adopted with `adopt_id`, by the real CLI in a project folder, while the
program still declares `adopt_id`.

Every replacement the provider is told of (a changed `replacement_trigger`, a replacing input,
or `--refresh`: a Check with olds, a Diff or a Read of the URN first) makes a new server (token
and url known) and the engine deletes the old one. A bare `pulumi up --replace <urn>` calls
Check without olds, then Create: the same as a first create, so it adopts the server again, and
the delete of the old one keeps it, saying so. A resource new to the stack still adopts.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from devkit.project import ProjectFolder
from truto_pulumi.emulator import Emulator

from ..kit import ACCOUNT
from ..lifecycle.helpers import api_calls, item_path, made_in_dashboard

pytestmark = pytest.mark.engine

ProgramProject = Callable[[str], ProjectFolder]


def program(adopt_ids: dict[str, str], *, trigger: str | None = None) -> str:
    """A program declaring one adopting TrutoMcpServer per name (with a replacement trigger)."""
    opts = ""
    if trigger is not None:
        opts = f", opts=pulumi.ResourceOptions(replacement_trigger={trigger!r})"
    lines = ["import pulumi", "from truto_pulumi import TrutoMcpServer", ""]
    lines += [
        f"TrutoMcpServer({name!r}, integrated_account_id={ACCOUNT!r}, name={name!r}, "
        f"adopt_id={server_id!r}{opts})"
        for name, server_id in adopt_ids.items()
    ]
    return "\n".join(lines) + "\n"


def adopted_legacy(
    program_project: ProgramProject, emulator: Emulator
) -> tuple[ProjectFolder, dict[str, Any]]:
    """A project whose `legacy` adopted a dashboard-made server (one `up`); journal cleared."""
    existing = made_in_dashboard(emulator, ACCOUNT, name="legacy")
    project = program_project(program({"legacy": existing["id"]}))
    project.pulumi("up", "--yes", "--skip-preview")
    state = project.servers()["legacy"]
    assert (state["id"], state["outputs"]["token_known"]) == (existing["id"], False)
    emulator.clear_journal()
    return project, existing


def assert_rotated(
    project: ProjectFolder, emulator: Emulator, old: dict[str, Any], *, refreshed: bool = False
) -> None:
    """`legacy` holds a new server whose token and url are in the state; the old one is gone,
    deleted after the create (whose calls: tests/lifecycle/test_lifecycle.py). `refreshed`: the
    `up` read the old one first (`--refresh`), in its preview and again in the update."""
    state = project.servers()["legacy"]
    assert state["id"] != old["id"], "nothing rotated: the replacement kept the adopted server"
    assert state["outputs"]["token_known"] is True
    assert {"token", "url"} <= set(state["outputs"])
    (live,) = emulator.servers()
    assert (live["id"], live["name"]) == (state["id"], "legacy")
    calls = [(method, path) for method, path, _ in api_calls(emulator)]
    read = [("GET", item_path(old["id"]))] * (2 if refreshed else 0)
    assert calls[: len(read)] == read
    assert [method for method, _ in calls[len(read) :]] == ["GET", "GET", "POST", "PATCH", "DELETE"]
    assert calls[-1] == ("DELETE", item_path(old["id"]))
    project.pulumi("preview", "--expect-no-changes")


def test_up_replace_refresh_of_an_adopted_server_that_still_declares_adopt_id_rotates_it(
    program_project: ProgramProject, emulator: Emulator
) -> None:
    """`--replace` alone: `test_a_bare_replace_keeps_the_adopted_server_saying_so_and_...`."""
    project, existing = adopted_legacy(program_project, emulator)
    urn = project.servers()["legacy"]["urn"]
    project.pulumi("up", "--replace", urn, "--refresh", "--yes")
    assert_rotated(project, emulator, existing, refreshed=True)


def test_a_changed_replacement_trigger_rotates_an_adopted_server(
    program_project: ProgramProject, emulator: Emulator
) -> None:
    existing = made_in_dashboard(emulator, ACCOUNT, name="legacy")
    project = program_project(program({"legacy": existing["id"]}, trigger="v1"))
    project.pulumi("up", "--yes", "--skip-preview")
    assert project.servers()["legacy"]["id"] == existing["id"]
    emulator.clear_journal()
    (project.folder / "__main__.py").write_text(program({"legacy": existing["id"]}, trigger="v2"))

    project.pulumi("up", "--yes")

    assert_rotated(project, emulator, existing)


def test_a_bare_replace_keeps_the_adopted_server_saying_so_and_a_new_resource_still_adopts(
    program_project: ProgramProject, emulator: Emulator
) -> None:
    project, existing = adopted_legacy(program_project, emulator)
    second = made_in_dashboard(emulator, ACCOUNT, name="second")
    urn = project.servers()["legacy"]["urn"]
    source = program({"legacy": existing["id"], "second": second["id"]})
    (project.folder / "__main__.py").write_text(source)
    emulator.clear_journal()

    result = project.pulumi("up", "--replace", urn, "--yes")

    states = project.servers()
    assert {name: (s["id"], s["outputs"]["token_known"]) for name, s in states.items()} == {
        "legacy": (existing["id"], False),
        "second": (second["id"], False),
    }
    assert sorted(s["id"] for s in emulator.servers()) == sorted([existing["id"], second["id"]])
    assert [m for m, _, _ in api_calls(emulator) if m not in ("GET",)] == []
    assert f"MCP server {existing['id']} was NOT rotated" in result.stdout
    assert "remove adopt_id from the program" in result.stdout
