"""`examples/basic`: under mocks (what it registers) and through the provider host."""

from __future__ import annotations

import pytest

from devkit import MCP_SERVER_TYPE, SimulatedStack
from truto_pulumi.emulator import Emulator
from truto_pulumi.testing import run_program

from ..kit import EXAMPLE_ACCOUNTS
from .conftest import EXAMPLES, PROJECT, stack_config


def test_one_read_only_server_per_account() -> None:
    run = run_program(
        EXAMPLES / "basic",
        project=PROJECT,
        config=stack_config(
            integratedAccountIds=EXAMPLE_ACCOUNTS, expiresAt="2031-01-01T00:00:00Z"
        ),
    )
    assert {r.name: r.inputs for r in run.registrations} == {
        f"readonly-{account}": {
            "integrated_account_id": account,
            "name": f"Read-only MCP {account}",
            "config": {"methods": ["read"]},
            "expires_at": "2031-01-01T00:00:00Z",
        }
        for account in EXAMPLE_ACCOUNTS
    }
    assert all(r.secret_outputs == ("token", "url") for r in run.registrations)


def test_reordering_accounts_keeps_resource_names() -> None:
    forward = run_program(
        EXAMPLES / "basic",
        project=PROJECT,
        config=stack_config(integratedAccountIds=EXAMPLE_ACCOUNTS),
    )
    backward = run_program(
        EXAMPLES / "basic",
        project=PROJECT,
        config=stack_config(integratedAccountIds=EXAMPLE_ACCOUNTS[::-1]),
    )
    assert forward.desired(MCP_SERVER_TYPE) == backward.desired(MCP_SERVER_TYPE)


def test_missing_account_list_fails_the_program() -> None:
    with pytest.raises(Exception, match="integratedAccountIds"):
        run_program(EXAMPLES / "basic", project=PROJECT, config={})


@pytest.mark.slow
def test_basic_lifecycle_against_the_emulator(stack: SimulatedStack, emulator: Emulator) -> None:
    config = stack_config(integratedAccountIds=EXAMPLE_ACCOUNTS)
    stack.apply_step(
        run_program(EXAMPLES / "basic", project=PROJECT, config=config).desired(MCP_SERVER_TYPE)
    )
    assert sorted(s["integrated_account_id"] for s in emulator.servers()) == sorted(
        EXAMPLE_ACCOUNTS
    )

    config = stack_config(integratedAccountIds=EXAMPLE_ACCOUNTS, expiresAt="2031-01-01T00:00:00Z")
    emulator.clear_journal()
    stack.apply_step(
        run_program(EXAMPLES / "basic", project=PROJECT, config=config).desired(MCP_SERVER_TYPE)
    )
    bodies = [entry["body"] for entry in emulator.journal() if entry["method"] == "PATCH"]
    assert bodies == [{"expires_at": "2031-01-01T00:00:00Z"}] * 2

    stack.destroy()
    assert emulator.servers() == []
