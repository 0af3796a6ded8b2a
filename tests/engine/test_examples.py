"""The repository's example programs, configured with the CLI as the README says and run by the
real engine (as inline programs: the pinned CLI build has no Python language host)."""

from __future__ import annotations

import runpy
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from truto_pulumi.emulator import Emulator

from .driver import EngineStack, changes, is_secret

pytestmark = pytest.mark.engine

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
ACCOUNTS = ["8d0c1f52-6b1e-4c7e-9a43-0d6f2f0c1a11", "2f4e9b7a-3c5d-4e6f-8a9b-1c2d3e4f5a6b"]


def example(name: str) -> Callable[[], None]:
    """The example's `__main__.py`, run as the CLI runs a program folder."""
    folder = EXAMPLES / name

    def program() -> None:
        if str(folder) not in sys.path:
            sys.path.insert(0, str(folder))
        runpy.run_path(str(folder / "__main__.py"), run_name="__main__")

    return program


def test_basic_example_runs_through_its_whole_lifecycle(
    stack: EngineStack, emulator: Emulator
) -> None:
    stack.program = example("basic")
    for index, account in enumerate(ACCOUNTS):
        stack.cli_run("config", "set", "--path", f"integratedAccountIds[{index}]", account)
    stack.cli_run("config", "set", "expiresAt", "2031-01-01T00:00:00Z")

    up = stack.up({})
    assert changes(up.summary.resource_changes) == {"create": 3}
    (root,) = [r for r in stack.export()["resources"] if r["type"] == "pulumi:pulumi:Stack"]
    assert all(is_secret(url) for url in root["outputs"]["mcp_urls"].values())
    assert sorted(up.outputs["mcp_urls"].value) == sorted(ACCOUNTS)
    assert sorted(s["integrated_account_id"] for s in emulator.servers()) == sorted(ACCOUNTS)
    emulator.clear_journal()
    stack.preview({}, expect_no_changes=True)
    assert emulator.journal() == []

    stack.cli_run("config", "set", "expiresAt", "2031-06-30T00:00:00Z")
    up = stack.up({})
    assert changes(up.summary.resource_changes) == {"update": 2}
    assert [e["method"] for e in emulator.journal()] == ["PATCH", "PATCH"]
    stack.destroy()
    assert emulator.servers() == []


def test_fleet_example_declares_one_server_per_team_account_and_scope(
    stack: EngineStack, emulator: Emulator
) -> None:
    stack.program = example("fleet")
    settings = {
        "fleet.teams[0].name": "support",
        "fleet.teams[0].accounts[0]": ACCOUNTS[0],
        "fleet.teams[0].accounts[1]": ACCOUNTS[1],
        "fleet.teams[0].scopes.readonly.methods[0]": "read",
        "fleet.teams[0].scopes.readonly.tags[0]": "tickets",
        "fleet.teams[1].name": "sales",
        "fleet.teams[1].accounts[0]": ACCOUNTS[0],
        "fleet.teams[1].scopes.crm.methods[0]": "read",
        "fleet.teams[1].scopes.crm.tool_exposure": "discovery",
    }
    for path, value in settings.items():
        stack.cli_run("config", "set", "--path", path, value)

    up = stack.up({})

    assert changes(up.summary.resource_changes) == {"create": 4}
    assert up.outputs["count"].value == 3
    assert len(emulator.servers()) == 3
    stack.preview({}, expect_no_changes=True)
    stack.destroy()
    assert emulator.servers() == []
