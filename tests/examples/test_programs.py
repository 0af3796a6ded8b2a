"""The examples' programs under mocks (`truto_pulumi.testing.run_program`): what each registers
from its README's config, and the setting a missing one names. Their runs through the real CLI
are `tests/engine/`'s (project folders, the demo, `pulumi new`)."""

from __future__ import annotations

from typing import Any

import pytest

from truto_pulumi.testing import run_program

from ..kit import EXAMPLE_ACCOUNT, EXAMPLE_ACCOUNTS
from .conftest import EXAMPLES, PROJECT, stack_config

EXPIRY = "2031-01-01T00:00:00Z"


def read_only(account: str, name: str, **more: str) -> dict[str, Any]:
    return {"integrated_account_id": account, "name": name, "config": {"methods": ["read"]}, **more}


@pytest.mark.parametrize(
    ("example", "config", "registered"),
    [
        pytest.param(
            "basic",
            {"integratedAccountIds": EXAMPLE_ACCOUNTS, "expiresAt": EXPIRY},
            {
                f"readonly-{a}": read_only(a, f"Read-only MCP {a}", expires_at=EXPIRY)
                for a in EXAMPLE_ACCOUNTS
            },
            id="basic_one_per_account",
        ),
        pytest.param(
            "basic",
            {"integratedAccountIds": EXAMPLE_ACCOUNTS[::-1]},
            {f"readonly-{a}": read_only(a, f"Read-only MCP {a}") for a in EXAMPLE_ACCOUNTS},
            id="basic_reordered_keeps_the_resource_names",
        ),
        pytest.param(
            "template",
            {"integratedAccountId": EXAMPLE_ACCOUNT},
            {"readonly": read_only(EXAMPLE_ACCOUNT, f"{PROJECT} read-only")},
            id="template_named_after_the_project",
        ),
    ],
)
def test_an_example_registers_a_read_only_server_per_account_with_secret_token_and_url(
    example: str, config: dict[str, Any], registered: dict[str, dict[str, Any]]
) -> None:
    run = run_program(EXAMPLES / example, project=PROJECT, config=stack_config(**config))
    assert {r.name: r.inputs for r in run.registrations} == registered
    assert all(r.secret_outputs == ("token", "url") for r in run.registrations)


@pytest.mark.parametrize(
    ("example", "setting"),
    [
        ("basic", "integratedAccountIds"),
        ("template", "integratedAccountId"),
        ("accounts", "integration"),
    ],
)
def test_a_missing_setting_fails_the_program_naming_it(example: str, setting: str) -> None:
    with pytest.raises(Exception, match=setting):
        run_program(EXAMPLES / example, project=PROJECT, config={})
