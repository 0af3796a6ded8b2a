"""`examples/fleet`: the config-to-servers plan as a table and the program under mocks (through
the real CLI: `tests/engine/test_project_folders.py`)."""

from __future__ import annotations

from typing import Any

import pytest
from fleet import plan_fleet

from devkit import MCP_SERVER_TYPE
from truto_pulumi.testing import run_program

from ..kit import EXAMPLE_ACCOUNTS
from .conftest import EXAMPLES, PROJECT, stack_config

SUPPORT_A, SUPPORT_B = EXAMPLE_ACCOUNTS
SALES = "c3d4e5f6-a7b8-4c9d-8e0f-1a2b3c4d5e6f"

FLEET: dict[str, Any] = {
    "expiresAt": "2031-06-30T00:00:00Z",
    "teams": [
        {
            "name": "Support",
            "accounts": [SUPPORT_A, SUPPORT_B],
            "scopes": {
                "readonly": {"methods": ["read"], "tags": ["tickets", "contacts"]},
                "triage": {"methods": ["read", "update"], "tags": ["tickets"]},
            },
        },
        {
            "name": "sales",
            "accounts": [SALES],
            "scopes": {"crm": {"methods": ["read"], "tool_exposure": "discovery"}},
        },
    ],
}


def test_every_team_account_and_scope_gets_a_server() -> None:
    specs = plan_fleet(FLEET)
    assert [spec.resource_name for spec in specs] == [
        f"support-readonly-{SUPPORT_A}",
        f"support-triage-{SUPPORT_A}",
        f"support-readonly-{SUPPORT_B}",
        f"support-triage-{SUPPORT_B}",
        f"sales-crm-{SALES}",
    ]
    assert specs[0].display_name == "Support / readonly"
    assert specs[-1].config == {"methods": ["read"], "tool_exposure": "discovery"}
    assert {spec.expires_at for spec in specs} == {"2031-06-30T00:00:00Z"}
    # A team that goes away takes only its own servers: the others' names and inputs stay.
    assert plan_fleet({**FLEET, "teams": FLEET["teams"][:1]}) == specs[:-1]


def team(name: str, **scope: Any) -> dict[str, Any]:
    return {"name": name, "accounts": ["x"], "scopes": {"s": scope}}


@pytest.mark.parametrize(
    ("teams", "message"),
    [
        ([team("a", scopes=[])], "unknown keys"),
        ([team("a"), team("A")], "duplicate server"),
        ([team("!!")], "empty name"),
    ],
)
def test_bad_fleet_config_is_refused(teams: list[dict[str, Any]], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        plan_fleet({"teams": teams})


def test_program_registers_the_planned_servers() -> None:
    run = run_program(EXAMPLES / "fleet", project=PROJECT, config=stack_config(fleet=FLEET))
    desired = run.desired(MCP_SERVER_TYPE)
    assert sorted(desired) == sorted(spec.resource_name for spec in plan_fleet(FLEET))
    assert desired[f"sales-crm-{SALES}"] == {
        "integrated_account_id": SALES,
        "name": "sales / crm",
        "config": {"methods": ["read"], "tool_exposure": "discovery"},
        "expires_at": "2031-06-30T00:00:00Z",
    }
