"""The examples as users run them: project folders, `pulumi install`, then the CLI's own
commands in a pipeline's conditions (`CI=true`, `--non-interactive`, no TTY), against the
emulator on loopback, a `file://` backend and a passphrase. Plans are read from
`pulumi preview --json`, never from text."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from devkit.project import REPO, ProjectFolder, checkout_copy, dumps, is_secret, planned
from truto_pulumi.emulator import Emulator

from ..kit import EXAMPLE_ACCOUNTS
from ..lifecycle.helpers import (
    account_read,
    api_calls,
    check_create_order,
    collection_path,
    item_path,
    marked_post,
    masked_calls,
    renamed,
)
from .conftest import to_emulator

pytestmark = pytest.mark.engine

FIRST_EXPIRY = "2031-01-01T00:00:00Z"
ExampleProject = Callable[[str], ProjectFolder]


def configure_basic(project: ProjectFolder, emulator: Emulator) -> None:
    """The README's settings (its `pulumi config set` lines), the token as a secret."""
    accounts = {f"integratedAccountIds[{i}]": a for i, a in enumerate(EXAMPLE_ACCOUNTS)}
    project.set_config(
        {"truto:baseUrl": emulator.url, "expiresAt": FIRST_EXPIRY, **accounts},
        secret={"truto:apiToken": emulator.api_token},
        path=True,
    )


def basic_creates(
    emulator: Emulator, accounts: list[str], expires_at: str | None = FIRST_EXPIRY
) -> list[tuple[str, str, Any]]:
    """The calls of examples/basic's first `up`, as `masked_calls` shows them: per account (in
    parallel with the others), the first create there reads the account (its installed
    integration) and lists it for leftovers of killed runs, then POSTs its server under the
    stack's create mark and PATCHes the declared name."""
    live = {s["integrated_account_id"]: s["id"] for s in emulator.servers()}
    calls = []
    for account in accounts:
        name = f"Read-only MCP {account}"
        body = marked_post(name, config={"methods": ["read"]})
        calls += [
            account_read(account),
            ("GET", collection_path(account), None),
            ("POST", collection_path(account), body),
            ("PATCH", item_path(live[account], account), renamed(name, expires_at)),
        ]
    return calls


def files_under(*roots: Path) -> Iterator[Path]:
    """Every file under the roots, except a virtualenv's."""
    for root in roots:
        for path in root.rglob("*"):
            if path.is_file() and "venv" not in path.relative_to(root).parts:
                yield path


def test_no_secret_is_in_plain_text_in_state_output_or_logs_and_show_secrets_reveals_the_urls(
    example_project: ExampleProject, emulator: Emulator
) -> None:
    project = example_project("basic")
    configure_basic(project, emulator)
    project.pulumi("up", "--yes")
    project.pulumi("preview", "--diff")
    project.pulumi("refresh", "--yes", "-v=9", "--logflow")  # the most the CLI logs
    project.pulumi("stack", "output", "--json")
    exported = project.pulumi("stack", "export").stdout
    live = emulator.servers()
    secrets = {emulator.api_token} | {s["token"] for s in live} | {s["url"] for s in live}

    for name, state in project.servers().items():
        assert is_secret(state["outputs"]["token"]), name
        assert is_secret(state["outputs"]["url"]), name
    assert not [s for s in secrets if s in exported]
    assert not [s for s in secrets if s in project.text()]
    verbose_logs = list(project.tmp.glob("pulumi*.log.INFO.*"))
    assert verbose_logs, "the CLI wrote no -v=9 log: nothing was checked"
    assert list((project.home / "logs").iterdir())
    leaked = [
        (path.name, secret)
        for path in files_under(project.home, project.backend, project.folder, project.tmp)
        for secret in secrets
        if secret in path.read_text(errors="replace")
    ]
    assert leaked == []

    shown = project.pulumi("stack", "output", "--show-secrets", "--json").json()
    assert shown["mcp_urls"] == {s["integrated_account_id"]: s["url"] for s in live}


def test_settings_from_the_environment_or_typed_by_hand_in_the_stack_file(
    example_project: ExampleProject, emulator: Emulator
) -> None:
    project = example_project("basic")
    project.env.update({"TRUTO_API_TOKEN": emulator.api_token, "TRUTO_BASE_URL": emulator.url})
    project.pulumi("config", "set", "--path", "integratedAccountIds[0]", EXAMPLE_ACCOUNTS[0])

    # The token and base URL from the environment only.
    project.pulumi("up", "--yes", "--skip-preview")

    assert masked_calls(emulator) == basic_creates(emulator, EXAMPLE_ACCOUNTS[:1], expires_at=None)
    assert "truto:apiToken" not in json.dumps(project.export())  # kept out of the state
    project.pulumi("destroy", "--yes", "--skip-preview")
    assert emulator.servers() == []

    del project.env["TRUTO_BASE_URL"]
    stack_file = project.folder / "Pulumi.dev.yaml"
    written = (
        "config:\n"
        f"  truto:baseUrl: {emulator.url}\n"
        "  truto:maxRequestsPerSecond: 20\n"
        "  truto:requestTimeoutSeconds: 10.5\n"
        "  truto:operationTimeoutSeconds: 60\n"
        "  truto-mcp-basic:integratedAccountIds:\n"
        f"    - {EXAMPLE_ACCOUNTS[1]}\n"
    )
    stack_file.write_text(written)  # typed values, as a user writes them by hand

    assert planned(project.preview_plan()) == {"create": 2}
    project.pulumi("up", "--yes", "--skip-preview")
    assert [s["integrated_account_id"] for s in emulator.servers()] == [EXAMPLE_ACCOUNTS[1]]

    stack_file.write_text(
        written.replace("requestTimeoutSeconds: 10.5", "requestTimeoutSeconds: true")
    )
    emulator.clear_journal()
    refused = project.pulumi("preview", check=False)
    assert refused.returncode != 0
    assert "truto:requestTimeoutSeconds" in refused.text
    assert api_calls(emulator) == []


def test_fleet_example_declares_one_server_per_team_account_and_scope(
    example_project: ExampleProject, emulator: Emulator
) -> None:
    project = example_project("fleet")
    settings = {
        "fleet.teams[0].name": "support",
        "fleet.teams[0].accounts[0]": EXAMPLE_ACCOUNTS[0],
        "fleet.teams[0].accounts[1]": EXAMPLE_ACCOUNTS[1],
        "fleet.teams[0].scopes.readonly.methods[0]": "read",
        "fleet.teams[0].scopes.readonly.tags[0]": "tickets",
        "fleet.teams[1].name": "sales",
        "fleet.teams[1].accounts[0]": EXAMPLE_ACCOUNTS[0],
        "fleet.teams[1].scopes.crm.methods[0]": "read",
        "fleet.teams[1].scopes.crm.tool_exposure": "discovery",
    }
    project.set_config(
        {"truto:baseUrl": emulator.url, **settings},
        secret={"truto:apiToken": emulator.api_token},
        path=True,
    )

    assert planned(project.preview_plan()) == {"create": 4}
    project.pulumi("up", "--yes", "--skip-preview")
    live = {(s["integrated_account_id"], s["name"]): s["id"] for s in emulator.servers()}
    servers = {
        (EXAMPLE_ACCOUNTS[0], "support / readonly"): {"methods": ["read"], "tags": ["tickets"]},
        (EXAMPLE_ACCOUNTS[1], "support / readonly"): {"methods": ["read"], "tags": ["tickets"]},
        (EXAMPLE_ACCOUNTS[0], "sales / crm"): {"methods": ["read"], "tool_exposure": "discovery"},
    }
    assert sorted(live) == sorted(servers)  # each under its declared name
    expected: list[tuple[str, str, Any]] = [
        call
        for account in EXAMPLE_ACCOUNTS
        for call in (account_read(account), ("GET", collection_path(account), None))
    ]
    for (account, name), config in servers.items():
        expected += [
            ("POST", collection_path(account), marked_post(name, config=config)),
            ("PATCH", item_path(live[account, name], account), renamed(name)),
        ]
    assert sorted(masked_calls(emulator), key=dumps) == sorted(expected, key=dumps)
    check_create_order(api_calls(emulator))
    assert project.pulumi("stack", "output", "count").stdout.strip() == "3"
    emulator.clear_journal()
    project.pulumi("preview", "--expect-no-changes")
    assert api_calls(emulator) == []
    project.pulumi("destroy", "--yes", "--skip-preview")
    assert emulator.servers() == []


def test_the_root_project_runs_examples_basic_in_the_development_virtualenv(
    project_cli: str, emulator: Emulator, tmp_path: Path
) -> None:
    """The README's commands at the repository root: the dev virtualenv on PATH (what
    `. .venv/bin/activate` does; the tests run in it), then stack init, config, up."""
    emulator.reset()
    checkout = tmp_path / "truto-pulumi"
    checkout_copy(checkout, "basic")
    (checkout / "Pulumi.yaml").write_text((REPO / "Pulumi.yaml").read_text())
    project = ProjectFolder(checkout, project_cli, tmp_path / "pulumi")
    project.env["PATH"] = f"{Path(sys.prefix) / 'bin'}:{project.env['PATH']}"
    to_emulator(project, emulator, {"integratedAccountIds[0]": EXAMPLE_ACCOUNTS[0]})

    assert planned(project.preview_plan()) == {"create": 2}
    project.pulumi("up", "--yes", "--skip-preview")
    assert [s["integrated_account_id"] for s in emulator.servers()] == [EXAMPLE_ACCOUNTS[0]]
    project.pulumi("destroy", "--yes", "--skip-preview")
    assert emulator.servers() == []
