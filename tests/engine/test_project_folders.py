"""The examples as users run them: project folders, `pulumi install`, then the CLI's own
commands in a pipeline's conditions (`CI=true`, `--non-interactive`, no TTY), against the
emulator on loopback, a `file://` backend and a passphrase. Plans are read from
`pulumi preview --json`, never from text."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from devkit.project import REPO, ProjectFolder, checkout_copy, is_secret, planned
from truto_pulumi.emulator import Emulator

from ..kit import EXAMPLE_ACCOUNTS
from ..lifecycle.helpers import api_calls
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
        for root in (project.home, project.backend, project.folder, project.tmp)
        for path in root.rglob("*")  # every file, except a virtualenv's
        if path.is_file() and "venv" not in path.relative_to(root).parts
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

    created = [(s["integrated_account_id"], s["expires_at"]) for s in emulator.servers()]
    assert created == [(EXAMPLE_ACCOUNTS[0], None)]
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
    live = {(s["integrated_account_id"], s["name"]): s["config"] for s in emulator.servers()}
    assert live == {  # each under its declared name, with its scope's config
        (EXAMPLE_ACCOUNTS[0], "support / readonly"): {"methods": ["read"], "tags": ["tickets"]},
        (EXAMPLE_ACCOUNTS[1], "support / readonly"): {"methods": ["read"], "tags": ["tickets"]},
        (EXAMPLE_ACCOUNTS[0], "sales / crm"): {"methods": ["read"], "tool_exposure": "discovery"},
    }
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
