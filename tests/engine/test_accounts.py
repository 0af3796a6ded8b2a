"""`examples/accounts` as users run it: its project folder, `pulumi install`, the README's
config, then preview and up as Truto's integrated accounts come, change status and go (the
emulator's account hooks). Plans are read from `pulumi preview --json`, the HTTP calls from the
emulator's journal. The program's lookup (`get_integrated_accounts`) runs in the program, at
preview too: its `GET /integrated-account` is the only call a preview makes."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from devkit.project import CliResult, ProjectFolder, planned, server_steps
from truto_pulumi.emulator import Emulator

from ..lifecycle.helpers import api_calls, item_path
from .conftest import failed

pytestmark = pytest.mark.engine

ExampleProject = Callable[[str], ProjectFolder]
INTEGRATION = "hubspot"
LOOKUP = ("GET", "/integrated-account", None)
"""The program's `get_integrated_accounts`, one page, as `api_calls` shows it."""
UP_LOOKUPS = [LOOKUP, LOOKUP]
"""`pulumi up --yes` runs the program twice, for its preview and for the update: each looks up."""


@pytest.fixture
def accounts_project(example_project: ExampleProject, emulator: Emulator) -> ProjectFolder:
    """examples/accounts installed, stack `dev` configured as its README says (the token as a
    secret, the emulator's URL, `integration`); the emulator is reset: no account listed."""
    project = example_project("accounts")
    project.set_config(
        {"truto:baseUrl": emulator.url, "integration": INTEGRATION},
        secret={"truto:apiToken": emulator.api_token},
    )
    return project


def resource(account: dict[str, Any]) -> str:
    """The example's resource name for an account."""
    return f"readonly-{account['id']}"


def moves(plan: dict[str, Any]) -> dict[str, str]:
    """The planned steps on servers that are not `same`: resource name -> op."""
    return {name: op for name, op in server_steps(plan).items() if op != "same"}


def live_accounts(emulator: Emulator) -> list[str]:
    """The accounts that have a server in the emulator, sorted."""
    return sorted(server["integrated_account_id"] for server in emulator.servers())


def diagnostics_of(result: CliResult, name: str) -> str:
    """What the CLI's Diagnostics section says about one TrutoMcpServer."""
    diagnostics = result.text.split("Diagnostics:", 1)[1]
    on_resource = diagnostics.split(f"pulumi-python:dynamic/truto:McpServer ({name}):", 1)[1]
    return on_resource.split("\n\n", 1)[0]


def test_a_new_account_gets_one_server_and_nothing_else_moves(
    accounts_project: ProjectFolder, emulator: Emulator
) -> None:
    project = accounts_project
    first = [emulator.add_account(integration=INTEGRATION) for _ in range(2)]
    emulator.add_account(integration="salesforce")  # another integration: no server
    plan = project.preview_plan()
    assert planned(plan) == {"create": 3}  # the stack and two servers
    assert moves(plan) == {resource(account): "create" for account in first}
    assert api_calls(emulator) == [LOOKUP]
    project.pulumi("up", "--yes", "--skip-preview")
    assert live_accounts(emulator) == sorted(account["id"] for account in first)

    new = emulator.add_account(integration=INTEGRATION)
    emulator.clear_journal()
    plan = project.preview_plan()

    assert planned(plan) == {"create": 1}
    assert moves(plan) == {resource(new): "create"}
    assert api_calls(emulator) == [LOOKUP]  # the program's lookup, nothing else
    emulator.clear_journal()

    project.pulumi("up", "--yes")

    calls = api_calls(emulator)
    assert calls[:2] == UP_LOOKUPS  # then the create, in the new account only
    assert {path.split("/")[2] for _, path, _ in calls[2:]} == {new["id"]}
    assert [m for m, _, _ in calls].count("POST") == 1
    assert live_accounts(emulator) == sorted(account["id"] for account in [*first, new])
    assert sorted(project.servers()) == sorted(resource(a) for a in [*first, new])
    assert project.pulumi("stack", "output", "accounts").stdout.strip() == "3"
    project.pulumi("preview", "--expect-no-changes")


def test_accounts_that_are_deleted_or_no_longer_active_lose_their_server_but_needs_reauth_keeps_it(
    accounts_project: ProjectFolder, emulator: Emulator
) -> None:
    project = accounts_project
    added = [emulator.add_account(integration=INTEGRATION) for _ in range(5)]
    project.pulumi("up", "--yes", "--skip-preview")  # a server each
    connecting, invalid, reauth, gone, kept = added
    servers = {server["integrated_account_id"]: server for server in emulator.servers()}
    emulator.set_account_status(reauth["id"], "needs_reauth")
    emulator.set_account_status(connecting["id"], "connecting")
    emulator.set_account_status(invalid["id"], "validation_error")
    assert emulator.remove_account(gone["id"]) == [servers[gone["id"]]["id"]]  # they go too
    emulator.clear_journal()

    plan = project.preview_plan()

    dropped = (connecting, invalid, gone)
    assert moves(plan) == {resource(account): "delete" for account in dropped}
    assert api_calls(emulator) == [LOOKUP]
    emulator.clear_journal()

    up = project.pulumi("up", "--yes")

    # Each dropped account's server is deleted; the deleted account's answers 404, which the
    # provider proves (test_account_deleted.py) before it drops the server with a warning.
    deleted = {(p, e) for m, p, e in api_calls(emulator) if m == "DELETE"}
    assert deleted == {(item_path(servers[a["id"]]["id"], a["id"]), None) for a in dropped}
    on_resource = diagnostics_of(up, resource(gone))
    assert "warning:" in on_resource
    assert f"integrated account {gone['id']} no longer exists in Truto" in on_resource
    assert live_accounts(emulator) == sorted([reauth["id"], kept["id"]])
    assert servers[reauth["id"]] in emulator.servers()  # untouched
    assert sorted(project.servers()) == sorted([resource(reauth), resource(kept)])
    project.pulumi("preview", "--expect-no-changes")


def test_a_lookup_failure_fails_the_preview_naming_the_lookup_and_the_setting(
    accounts_project: ProjectFolder, emulator: Emulator
) -> None:
    """Through the CLI, without a traceback (every cause: tests/test_lookups.py)."""
    project = accounts_project
    emulator.add_account(integration=INTEGRATION)
    wrong_token = "trt-not-this-environments-token-5b0e"
    project.pulumi("config", "set", "--secret", "truto:apiToken", wrong_token)

    text = failed(project, "preview")

    assert "get_integrated_accounts" in text
    assert "truto:apiToken" in text
    assert "Traceback" not in text
    assert wrong_token not in text
    assert [(e["path"], e["status"]) for e in emulator.journal()] == [("/integrated-account", 401)]
    assert project.servers() == {}
