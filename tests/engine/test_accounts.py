"""`examples/accounts` as users run it: its project folder, `pulumi install`, the README's
config, then preview and up as Truto's integrated accounts come (the emulator's account hooks).
Plans are read from `pulumi preview --json`, the HTTP calls from the emulator's journal; the
program's lookup runs at preview too: its `GET /integrated-account` is the only call a preview
makes. Which accounts get a server: tests/examples/test_accounts.py; a deleted account's:
tests/lifecycle/test_account_deleted.py."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from devkit.project import ProjectFolder, planned, server_steps
from truto_pulumi.emulator import Emulator

from ..lifecycle.helpers import api_calls
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
