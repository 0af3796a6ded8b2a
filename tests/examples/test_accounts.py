"""`examples/accounts` under mocks: the program reads the emulator's integrated accounts (its
lookup runs in the program over loopback) and declares one read-only server per account of the
configured integration that is `active` or `needs_reauth`, of the tenant if one is given. As
accounts come through the real CLI: `tests/engine/test_accounts.py`; every page of a
lookup read: `tests/test_lookups.py`."""

from __future__ import annotations

from typing import Any

import pytest

from devkit import MCP_SERVER_TYPE
from truto_pulumi.emulator import Emulator
from truto_pulumi.testing import run_program

from .conftest import EXAMPLES, PROJECT, stack_config

pytestmark = pytest.mark.slow  # starts the emulator

ACCOUNTS = [
    ("hubspot", "acme", "active"),
    ("hubspot", "globex", "active"),
    ("hubspot", "acme", "needs_reauth"),
    ("hubspot", "acme", "connecting"),
    ("hubspot", "t-error", "post_install_error"),
    ("hubspot", "t-invalid", "validation_error"),
    ("salesforce", "acme", "active"),
    ("salesforce", "umbrella", "needs_reauth"),
]
"""(integration, tenant, status) of the accounts Truto holds, by index."""


@pytest.mark.parametrize(
    ("config", "declared", "query"),
    [
        pytest.param({"integration": "hubspot"}, [0, 1, 2], {}, id="active_or_needs_reauth"),
        pytest.param({"integration": "salesforce"}, [6, 7], {}, id="another_integration"),
        pytest.param({"integration": "zendesk"}, [], {}, id="no_account_no_server"),
        pytest.param(
            {"integration": "hubspot", "tenantId": "acme"},
            [0, 2],
            {"tenant_id": "acme"},
            id="the_tenant_filter_narrows",
        ),
        pytest.param(  # Pulumi.yaml's default: it must not filter on an empty tenant
            {"integration": "hubspot", "tenantId": ""}, [0, 1, 2], {}, id="empty_tenant_is_all"
        ),
    ],
)
def test_one_server_per_active_or_needs_reauth_account_of_the_integration_and_tenant(
    emulator: Emulator, config: dict[str, str], declared: list[int], query: dict[str, str]
) -> None:
    emulator.reset()
    added = [
        emulator.add_account(integration=integration, tenant_id=tenant, status=status)
        for integration, tenant, status in ACCOUNTS
    ]
    emulator.clear_journal()
    settings = {"truto:apiToken": emulator.api_token, "truto:baseUrl": emulator.url}

    run = run_program(
        EXAMPLES / "accounts", project=PROJECT, config=settings | stack_config(**config)
    )

    assert {r.type_token for r in run.registrations} <= {MCP_SERVER_TYPE}
    expected: dict[str, Any] = {
        f"readonly-{account['id']}": {
            "integrated_account_id": account["id"],
            "name": f"Read-only MCP {account['tenant_id']}",
            "config": {"methods": ["read"]},
        }
        for account in (added[index] for index in declared)
    }
    assert run.desired(MCP_SERVER_TYPE) == expected
    (listing,) = emulator.journal()  # one page; a lookup only reads
    assert (listing["method"], listing["path"]) == ("GET", "/integrated-account")
    wanted = {"integration.name": config["integration"], **query}
    assert {k: v for k, v in listing["query"].items() if k in (*wanted, "tenant_id")} == wanted
