"""Replacing a server adopted with `adopt_id`, by the real CLI in a project folder, while the
program still declares `adopt_id`: the replacement makes a new server (token and url known) and
the engine deletes the old one. A resource new to the stack still adopts.

The engine's calls for a `pulumi up --replace <urn>` are Check (without olds), Create, and the
delete of the old server: the same as a first create until the delete. The provider tells them
apart by the CLI's replace targets, and by the Check with olds, Diff or Read of the URN that
every other replacement (a changed `replacement_trigger`, a replacing input) makes first.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from devkit.project import ProjectFolder
from truto_pulumi.emulator import Emulator

from ..kit import ACCOUNT
from ..lifecycle.helpers import (
    account_read,
    api_calls,
    collection_path,
    item_path,
    made_in_dashboard,
    marked_post,
    masked_calls,
    renamed,
)

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


def urn_of(project: ProjectFolder, name: str) -> str:
    urn: str = project.servers()[name]["urn"]
    return urn


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
    """`legacy` holds a new server whose token and url are in the state; the old one is gone.
    The new one was POSTed under the stack's create mark, then given its declared name, before
    the old one was deleted. `refreshed`: the `up` read the old one first (`--refresh`), in its
    preview and again in the update."""
    state = project.servers()["legacy"]
    assert state["id"] != old["id"], "nothing rotated: the replacement kept the adopted server"
    assert state["outputs"]["token_known"] is True
    assert {"token", "url"} <= set(state["outputs"])
    (live,) = emulator.servers()
    assert (live["id"], live["name"]) == (state["id"], "legacy")
    read = [("GET", item_path(old["id"]), None)] * (2 if refreshed else 0)
    assert masked_calls(emulator) == [
        *read,
        account_read(),  # the create reads the account ...
        ("GET", collection_path(), None),  # ... and lists it for leftovers
        ("POST", collection_path(), marked_post("legacy", config={})),
        ("PATCH", item_path(live["id"]), renamed("legacy")),
        ("DELETE", item_path(old["id"]), None),
    ]
    project.pulumi("preview", "--expect-no-changes")


def test_up_replace_refresh_of_an_adopted_server_that_still_declares_adopt_id_rotates_it(
    program_project: ProgramProject, emulator: Emulator
) -> None:
    """`--replace` alone: `test_a_new_resource_still_adopts_in_the_up_that_rotates_another`."""
    project, existing = adopted_legacy(program_project, emulator)
    urn = urn_of(project, "legacy")
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


def test_a_new_resource_still_adopts_in_the_up_that_rotates_another(
    program_project: ProgramProject, emulator: Emulator
) -> None:
    project, existing = adopted_legacy(program_project, emulator)
    second = made_in_dashboard(emulator, ACCOUNT, name="second")
    urn = urn_of(project, "legacy")
    source = program({"legacy": existing["id"], "second": second["id"]})
    (project.folder / "__main__.py").write_text(source)
    emulator.clear_journal()

    project.pulumi("up", "--replace", urn, "--yes")

    states = project.servers()
    assert (states["second"]["id"], states["second"]["outputs"]["token_known"]) == (
        second["id"],
        False,
    )
    assert states["legacy"]["id"] not in (existing["id"], second["id"])
    assert states["legacy"]["outputs"]["token_known"] is True
    assert sorted(s["id"] for s in emulator.servers()) == sorted(
        [states["legacy"]["id"], second["id"]]
    )
    assert [m for m, _, _ in api_calls(emulator)].count("POST") == 1
