"""`discover` with the lookups' filters, through the real CLI: one project folder adopting every
server of the matching accounts, read over several pages of Truto's account list, whose first
`pulumi up` sends no POST, PATCH or DELETE and changes nothing after."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from devkit.project import ProjectFolder, planned
from truto_pulumi._mark import CreateMark
from truto_pulumi.emulator import Emulator

from ..lifecycle.helpers import account_read, api_calls, item_path, made_in_dashboard
from .conftest import PROGRAM_VENV, to_emulator

pytestmark = pytest.mark.engine

ACCOUNTS = 100
"""Accounts of the integration: four pages of 30, the emulator's page of the account list."""


def test_discover_adopts_every_server_of_the_matching_accounts_with_gets_only(
    project_cli: str, emulator: Emulator, tmp_path: Path
) -> None:
    emulator.reset()
    emulator.set_account_page_limit(30)
    # Tenants shared by two accounts each: the same resource name twice, made unique.
    accounts = [
        emulator.add_account(integration="hubspot", tenant_id=f"t{n % (ACCOUNTS // 2)}")
        for n in range(ACCOUNTS)
    ]
    configs = [{"methods": ["read"]}, {"tags": ["tickets"]}, {"tool_exposure": "discovery"}]
    with emulator.client() as http:  # made in the dashboard; one client: 100 are quicker
        made = [
            http.post(
                f"/integrated-account/{account['id']}/mcp",
                json={"name": "Read-only", "config": configs[n % 3]}
                | ({"expires_at": "2031-01-01T00:00:00Z"} if n % 2 else {}),
            ).json()
            for n, account in enumerate(accounts)
        ]
    other = emulator.add_account(integration="salesforce")  # not matched: its server stays out
    made_in_dashboard(emulator, other["id"], name="Read-only")
    marked = made_in_dashboard(emulator, accounts[0]["id"], name=CreateMark.drawn(None).on("x"))
    before = emulator.servers()
    emulator.clear_journal()
    folder = tmp_path / "acme-mcp"
    discovered = subprocess.run(
        [sys.executable, "-m", "truto_pulumi.discover", "--integration", "hubspot",
         "--project-dir", str(folder)],
        capture_output=True, text=True, timeout=120, check=False,
        env={**os.environ, "TRUTO_API_TOKEN": emulator.api_token, "TRUTO_BASE_URL": emulator.url},
    )  # fmt: skip
    assert discovered.returncode == 0, discovered.stderr
    listed = [e["query"] for e in emulator.journal() if e["path"] == "/integrated-account"]
    assert len(listed) == 4
    assert all(query["integration.name"] == "hubspot" for query in listed)
    assert f"left out: MCP server {marked['id']}" in discovered.stderr
    assert f"{ACCOUNTS} MCP server(s) of {ACCOUNTS} integrated account(s)" in discovered.stdout

    (folder / "venv").symlink_to(PROGRAM_VENV)  # the template's requirements: test_ci_pipeline
    project = ProjectFolder(folder, project_cli, tmp_path / "pulumi")
    to_emulator(project, emulator)
    emulator.clear_journal()
    assert planned(project.preview_plan()) == {"create": ACCOUNTS + 1}  # the stack, adoptions
    project.pulumi("up", "--yes", "--skip-preview")

    # Each account's installed integration, then each server to adopt: no POST, no PATCH.
    assert sorted(api_calls(emulator), key=str) == sorted(
        [*(account_read(a["id"]) for a in accounts),
         *(("GET", item_path(s["id"], s["integrated_account_id"]), None) for s in made)],
        key=str,
    )  # fmt: skip
    adopted = {name: state["id"] for name, state in project.servers().items()}
    assert sorted(adopted.values()) == sorted(server["id"] for server in made)
    assert {"t0-hubspot-read-only", "t0-hubspot-read-only-2"} <= set(adopted)
    project.pulumi("preview", "--expect-no-changes")
    assert emulator.servers() == before
    shown = [
        discovered.stdout,
        discovered.stderr,
        project.text(),
        (folder / "__main__.py").read_text(),
    ]
    assert not [text for text in shown if emulator.api_token in text]
