"""`examples/accounts` as users run it: its project folder, `pulumi install`, the README's
config, then preview and up as Truto's integrated accounts come, change status and go (the
emulator's account hooks). Plans are read from `pulumi preview --json`, the HTTP calls from the
emulator's journal. The program's lookup (`get_integrated_accounts`) runs in the program, at
preview too: its `GET /integrated-account` is the only call a preview makes."""

from __future__ import annotations

import socket
from collections.abc import Callable
from typing import Any

import pytest

from devkit.project import CliResult, ProjectFolder, planned, server_steps
from truto_pulumi.emulator import Emulator

from ..lifecycle.helpers import (
    account_read,
    api_calls,
    collection_path,
    item_path,
    marked_post,
    masked_calls,
    renamed,
)
from .conftest import failed

pytestmark = pytest.mark.engine

ExampleProject = Callable[[str], ProjectFolder]
INTEGRATION = "hubspot"
LOOKUP = ("GET", "/integrated-account", None)
"""The program's `get_integrated_accounts`, one page, as `api_calls` shows it."""
UP_LOOKUPS = [LOOKUP, LOOKUP]
"""`pulumi up --yes` runs the program twice, for its preview and for the update: each looks up."""
READ_ONLY = {"methods": ["read"]}
"""The example's server config."""


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


def server_name(account: dict[str, Any]) -> str:
    """The example's server name for an account (the emulator gives each a tenant)."""
    return f"Read-only MCP {account['tenant_id']}"


def moves(plan: dict[str, Any]) -> dict[str, str]:
    """The planned steps on servers that are not `same`: resource name -> op."""
    return {name: op for name, op in server_steps(plan).items() if op != "same"}


def live_accounts(emulator: Emulator) -> list[str]:
    """The accounts that have a server in the emulator, sorted."""
    return sorted(server["integrated_account_id"] for server in emulator.servers())


def creates_of(emulator: Emulator, account: dict[str, Any]) -> list[tuple[str, str, Any]]:
    """The calls of the example's create of `account`'s server, as `masked_calls` shows them:
    the account read (its installed integration), the listing for leftovers of killed runs,
    the POST under the stack's create mark, the rename."""
    (server,) = [s for s in emulator.servers() if s["integrated_account_id"] == account["id"]]
    name = server_name(account)
    return [
        account_read(account["id"]),
        ("GET", collection_path(account["id"]), None),
        ("POST", collection_path(account["id"]), marked_post(name, config=READ_ONLY)),
        ("PATCH", item_path(server["id"], account["id"]), renamed(name)),
    ]


def up_with(project: ProjectFolder, emulator: Emulator, accounts: int) -> list[dict[str, Any]]:
    """`accounts` new active accounts of the integration, and an `up` giving each its server;
    the journal cleared after."""
    added = [emulator.add_account(integration=INTEGRATION) for _ in range(accounts)]
    project.pulumi("up", "--yes", "--skip-preview")
    assert live_accounts(emulator) == sorted(account["id"] for account in added)
    emulator.clear_journal()
    return added


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

    assert masked_calls(emulator) == [*UP_LOOKUPS, *creates_of(emulator, new)]
    assert [m for m, _, _ in api_calls(emulator)].count("POST") == 1
    assert live_accounts(emulator) == sorted(account["id"] for account in [*first, new])
    assert sorted(project.servers()) == sorted(resource(a) for a in [*first, new])
    assert project.pulumi("stack", "output", "accounts").stdout.strip() == "3"
    project.pulumi("preview", "--expect-no-changes")


def test_accounts_that_are_deleted_or_no_longer_active_lose_their_server_but_needs_reauth_keeps_it(
    accounts_project: ProjectFolder, emulator: Emulator
) -> None:
    project = accounts_project
    connecting, invalid, reauth, gone, kept = up_with(project, emulator, 5)
    servers = {server["integrated_account_id"]: server for server in emulator.servers()}
    emulator.set_account_status(reauth["id"], "needs_reauth")
    emulator.set_account_status(connecting["id"], "connecting")
    emulator.set_account_status(invalid["id"], "validation_error")
    (gone_server,) = emulator.remove_account(gone["id"])  # as Truto does: its servers go too
    emulator.clear_journal()

    plan = project.preview_plan()

    dropped = (connecting, invalid, gone)
    assert moves(plan) == {resource(account): "delete" for account in dropped}
    assert api_calls(emulator) == [LOOKUP]
    emulator.clear_journal()

    up = project.pulumi("up", "--yes")

    # A server of a deleted account answers 404, and so does its account's list: the provider
    # proves the account deleted (404) while the installed integration it belonged to answers.
    install = emulator.environment()["default_environment_integration_id"]
    sent = [(e["method"], e["path"], e["status"]) for e in emulator.journal()]
    assert sorted(sent) == sorted(
        [
            *[(*lookup[:2], 200) for lookup in UP_LOOKUPS],
            *[
                ("DELETE", item_path(servers[a["id"]]["id"], a["id"]), 200)
                for a in (connecting, invalid)
            ],
            ("DELETE", item_path(gone_server, gone["id"]), 404),
            ("GET", collection_path(gone["id"]), 404),
            ("GET", f"/integrated-account/{gone['id']}", 404),
            ("GET", f"/environment-integration/{install}", 200),
        ]
    )
    on_resource = diagnostics_of(up, resource(gone))
    assert "warning:" in on_resource
    assert f"integrated account {gone['id']} no longer exists in Truto" in on_resource
    assert live_accounts(emulator) == sorted([reauth["id"], kept["id"]])
    assert servers[reauth["id"]] in emulator.servers()  # untouched
    assert sorted(project.servers()) == sorted([resource(reauth), resource(kept)])
    project.pulumi("preview", "--expect-no-changes")


def closed_port() -> int:
    """A loopback port nothing listens on."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def test_a_lookup_failure_fails_the_preview_naming_the_lookup_and_the_setting(
    accounts_project: ProjectFolder, emulator: Emulator
) -> None:
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

    # A refused connection is retried as Truto being unavailable, for the operation timeout
    # (300 s by default): the preview fails once that runs out.
    closed = {"truto:baseUrl": f"http://127.0.0.1:{closed_port()}"}
    project.set_config(
        {**closed, "truto:operationTimeoutSeconds": "1"},
        secret={"truto:apiToken": emulator.api_token},
    )
    emulator.clear_journal()

    text = failed(project, "preview")

    assert "get_integrated_accounts" in text
    assert "truto:baseUrl" in text
    assert "Traceback" not in text
    assert emulator.api_token not in text
    assert emulator.journal() == []
    assert emulator.servers() == []
    assert project.servers() == {}
