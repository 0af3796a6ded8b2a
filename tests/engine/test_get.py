"""`TrutoMcpServer.get` under the real engine: a read-only reference to a server made elsewhere
(Truto's dashboard, another stack). The engine reads it at every run (the provider's Read) and
never creates, updates or deletes it, also when the program stops declaring it or the stack is
destroyed."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from devkit.project import ProjectFolder, changed
from truto_pulumi.emulator import Emulator

from ..kit import ACCOUNT
from ..lifecycle.helpers import account_read, api_calls, item_path, made_in_dashboard
from .conftest import failed

pytestmark = pytest.mark.engine

MISSING_ID = "0d5e7c1a-0000-4000-8000-00000000dead"
SHOWN = ("name", "config", "token_known", "integrated_account_id", "environment_integration_id")
PROGRAM = f"""
import pulumi
from truto_pulumi import TrutoMcpServer

server_id = pulumi.Config("app").get("ref")
if server_id:  # one reference, `ref`, exporting its outputs
    ref = TrutoMcpServer.get("ref", server_id, {ACCOUNT!r})
    pulumi.export("id", ref.id)
    for key in {(*SHOWN, "token", "url")!r}:
        pulumi.export(key, getattr(ref, key))
"""


def referencing(project: ProjectFolder, server_id: str | None) -> None:
    """The program holds a reference to `server_id`, or declares nothing (None)."""
    if server_id is None:
        project.pulumi("config", "rm", "app:ref")
    else:
        project.pulumi("config", "set", "app:ref", server_id)


def test_get_reads_a_server_with_gets_only_and_neither_dropping_it_nor_destroy_changes_it(
    program_project: Callable[[str], ProjectFolder], emulator: Emulator
) -> None:
    """A server made outside Pulumi (Truto's dashboard) with its token, then referenced."""
    project = program_project(PROGRAM)
    answered = made_in_dashboard(emulator, ACCOUNT, name="dashboard", config={"methods": ["read"]})
    emulator.clear_journal()
    # As Truto holds it: `config` without the defaults the API echoes.
    (existing,) = [s for s in emulator.servers() if s["id"] == answered["id"]]
    referencing(project, existing["id"])

    project.pulumi("up", "--yes", "--skip-preview")

    assert changed(project) == {"create": 1}  # the stack; a read is no change
    assert api_calls(emulator) == [
        ("GET", item_path(existing["id"]), None),
        account_read(),  # the installed integration of its account
    ]
    shown = project.pulumi("stack", "output", "--json", "--show-secrets").json()
    install = emulator.environment()["default_environment_integration_id"]
    assert {key: shown[key] for key in ("id", *SHOWN)} == {
        "id": existing["id"],
        "name": "dashboard",
        "config": {"methods": ["read"]},
        "token_known": False,
        "integrated_account_id": ACCOUNT,
        "environment_integration_id": install,
    }
    assert shown.get("token") is None  # Truto shows a token and url to their create only
    assert shown.get("url") is None
    state = project.servers()["ref"]
    assert (state["id"], state.get("external")) == (existing["id"], True)
    assert existing["token"] not in project.text() + str(project.export())

    emulator.clear_journal()
    project.pulumi("refresh", "--yes", "--skip-preview")
    assert changed(project) == {}

    emulator.edit_server(existing["id"], name="renamed in the dashboard")
    project.pulumi("up", "--yes", "--skip-preview")  # the reference follows the server
    assert project.pulumi("stack", "output", "name").stdout.strip() == "renamed in the dashboard"
    (live,) = emulator.servers()
    renamed = {**existing, "name": "renamed in the dashboard", "updated_at": live["updated_at"]}
    assert live == renamed

    referencing(project, None)
    project.pulumi("up", "--yes", "--skip-preview")
    assert changed(project) == {"discard": 1}

    referencing(project, existing["id"])
    project.pulumi("up", "--yes", "--skip-preview")
    project.pulumi("destroy", "--yes", "--skip-preview")
    assert changed(project) == {"delete": 1, "discard": 1}  # the reference only discarded

    referencing(project, MISSING_ID)
    assert f"MCP server {MISSING_ID} does not exist" in failed(
        project, "up", "--yes", "--skip-preview"
    )

    assert {method for method, _, _ in api_calls(emulator)} == {"GET"}  # nothing changed it
    assert emulator.servers() == [renamed]
    assert project.servers() == {}
