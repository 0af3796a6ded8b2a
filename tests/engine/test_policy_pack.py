"""examples/guardrails through the real CLI: `pulumi preview/up --policy-pack` on project
folders against the emulator. The pack's folder is a checkout's, its `venv` linked to the
test run's (which has `truto-pulumi[policy]`), as the examples' folders are."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from devkit.project import CliResult, ProjectFolder, checkout_copy
from truto_pulumi.emulator import Emulator

from ..kit import EXAMPLE_ACCOUNTS
from ..lifecycle.helpers import api_calls
from ..test_policy import in_days
from .conftest import PROGRAM_VENV

pytestmark = pytest.mark.engine

ACCOUNT = EXAMPLE_ACCOUNTS[0]
SECRET_NAME = "Secret Bot Name"
ADOPTED = "0b7e5a52-3c1d-4f6e-8a9b-2c3d4e5f6a7b"
VIOLATION = re.compile(r"\[(mandatory|advisory)\]\s+(truto-[a-z-]+)\s+\(\S+: ([\w-]+)\)")
"""A violation as the CLI prints it: level, rule, resource."""


@pytest.fixture(scope="module")
def pack(tmp_path_factory: pytest.TempPathFactory) -> str:
    """examples/guardrails in a checkout, made once for the module."""
    folder = checkout_copy(tmp_path_factory.mktemp("checkout"), "guardrails")
    (folder / "venv").symlink_to(PROGRAM_VENV)
    return str(folder)


def program(*servers: str) -> str:
    """A program declaring a TrutoMcpServer `s<i>` for each argument list of `servers` (the
    resource name first)."""
    lines = [f"s{i} = TrutoMcpServer({args})" for i, args in enumerate(servers)]
    return "\n".join(["import pulumi", "from truto_pulumi import TrutoMcpServer", *lines, ""])


def compliant(days: int = 30, methods: str = '["read"]') -> str:
    """A server that breaks no rule of the default pack, expiring in `days`."""
    config = f'{{"methods": {methods}, "tags": ["t"], "tool_exposure": "discovery"}}'
    account = f'integrated_account_id="{ACCOUNT}"'
    return f'"ok", {account}, name="mcp-ok", expires_at="{in_days(days)}", config={config}'


def violations(text: str) -> set[tuple[str, str, str]]:
    return set(VIOLATION.findall(text))


def preview(project: ProjectFolder, pack: str, *args: str, check: bool = True) -> CliResult:
    """`pulumi preview --diff` with the pack: `--diff`, as without it a preview that succeeds
    prints no advisory violation."""
    return project.pulumi("preview", "--diff", "--policy-pack", pack, *args, check=check)


def pack_config(folder: Path, config: dict[str, Any]) -> str:
    path = folder / "policy-config.json"
    path.write_text(json.dumps(config))
    return str(path)


def test_a_program_breaking_every_rule_fails_preview_naming_each(
    program_project: Callable[[str], ProjectFolder], emulator: Emulator, pack: str, tmp_path: Path
) -> None:
    read = f'integrated_account_id="{ACCOUNT}", config={{"methods": ["read"]}}'
    project = program_project(
        program(
            f'"wide", {read}, name="mcp-wide"',
            f'"writer", integrated_account_id="{ACCOUNT}", name="mcp-writer", '
            'config={"methods": ["read", "update"], "tags": ["t"]}',
            f'"secret", {read}, name=pulumi.Output.secret("{SECRET_NAME}")',
            f'"twin", {read}, name=pulumi.Output.secret("{SECRET_NAME}")',
            f'"adopted", {read}, name="mcp-adopted", adopt_id="{ADOPTED}"',
            f'"later", {read}, name="mcp-later", expires_at=s0.id.apply(lambda _: "2031-01-01")',
        )
    )
    config = pack_config(tmp_path, {"truto-server-name": {"pattern": "mcp-[a-z]+"}})
    emulator.clear_journal()
    failed = preview(project, pack, "--policy-pack-config", config, check=False)

    assert failed.returncode != 0
    found = violations(failed.text)
    every_server = {"wide", "writer", "secret", "twin", "adopted", "later"}
    assert found >= {("advisory", "truto-server-expires", name) for name in every_server}
    assert found >= {
        ("advisory", "truto-server-scoped", "wide"),
        ("advisory", "truto-tool-exposure", "writer"),
        ("mandatory", "truto-write-access", "writer"),
        ("mandatory", "truto-server-name", "secret"),
        ("mandatory", "truto-server-name", "twin"),
        ("mandatory", "truto-unique-names", "secret"),
        ("mandatory", "truto-unique-names", "twin"),
        ("mandatory", "truto-adoption", "adopted"),
    }
    assert "MCP server later cannot decide at preview: string value at .expires_at" in failed.text
    assert SECRET_NAME not in failed.text
    assert api_calls(emulator) == []


def test_a_compliant_program_passes_and_the_pack_config_tightens_a_rule(
    program_project: Callable[[str], ProjectFolder], pack: str, tmp_path: Path
) -> None:
    project = program_project(program(compliant(days=30)))
    passed = preview(project, pack)
    assert violations(passed.text) == set()
    assert "Policy Packs run:" in passed.text

    tight = {"truto-server-expires": {"enforcementLevel": "mandatory", "max_days": 10}}
    config = pack_config(tmp_path, tight)
    failed = preview(project, pack, "--policy-pack-config", config, check=False)
    assert failed.returncode != 0
    assert violations(failed.text) == {("mandatory", "truto-server-expires", "ok")}
    assert "more than 10 days ahead" in failed.text


def test_up_with_the_pack_refuses_a_violating_change_before_any_request(
    program_project: Callable[[str], ProjectFolder], emulator: Emulator, pack: str
) -> None:
    project = program_project(program(compliant()))
    project.pulumi("up", "--yes", "--policy-pack", pack)
    before = emulator.servers()

    (project.folder / "__main__.py").write_text(program(compliant(methods='["read", "delete"]')))
    emulator.clear_journal()
    refused = project.pulumi("up", "--yes", "--policy-pack", pack, check=False)
    assert refused.returncode != 0
    assert ("mandatory", "truto-write-access", "ok") in violations(refused.text)
    assert api_calls(emulator) == []
    assert emulator.servers() == before


def test_the_fleet_and_accounts_examples_pass_the_default_pack(
    example_project: Callable[[str], ProjectFolder], emulator: Emulator, pack: str
) -> None:
    emulator.add_account(integration="hubspot")
    settings = {
        "accounts": {"integration": "hubspot"},
        "fleet": {
            "fleet.teams[0].name": "support",
            "fleet.teams[0].accounts[0]": ACCOUNT,
            "fleet.teams[0].scopes.readonly.methods[0]": "read",
        },
    }
    for example, config in settings.items():
        project = example_project(example)
        project.set_config(
            {"truto:baseUrl": emulator.url, **config},
            secret={"truto:apiToken": emulator.api_token},
            path=True,
        )
        passed = preview(project, pack)
        assert violations(passed.text), passed.text  # the advisory rules warn
        assert "[mandatory]" not in passed.text
