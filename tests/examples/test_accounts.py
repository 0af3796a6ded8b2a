"""`examples/accounts` under mocks: the program reads the emulator's integrated accounts (its
lookup runs in the program over loopback) and declares one read-only server per account of the
configured integration that is `active` or `needs_reauth`."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from devkit import MCP_SERVER_TYPE
from truto_pulumi.emulator import Emulator
from truto_pulumi.testing import run_program

from .conftest import EXAMPLES, PROJECT, stack_config

ACCOUNTS = EXAMPLES / "accounts"


@pytest.fixture
def accounts_emulator(emulator: Emulator) -> Iterator[Emulator]:
    """The module's emulator, reset, with no account listed yet; reset again at the end (page
    limit and accounts back to the start)."""
    emulator.reset()
    yield emulator
    emulator.reset()


def run_accounts(emulator: Emulator, **config: str) -> dict[str, dict[str, Any]]:
    """The servers the example declares with this project config, against the emulator."""
    settings = {
        "truto:apiToken": emulator.api_token,
        "truto:baseUrl": emulator.url,
        **stack_config(**config),
    }
    run = run_program(ACCOUNTS, project=PROJECT, config=settings)
    assert {r.type_token for r in run.registrations} <= {MCP_SERVER_TYPE}
    return run.desired(MCP_SERVER_TYPE)


def server_of(account: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """The resource the example declares for an account the emulator added."""
    return f"readonly-{account['id']}", {
        "integrated_account_id": account["id"],
        "name": f"Read-only MCP {account['tenant_id']}",
        "config": {"methods": ["read"]},
    }


def account_listings(emulator: Emulator) -> list[dict[str, Any]]:
    """The journal's `GET /integrated-account` calls (the list, not one account)."""
    return [
        entry
        for entry in emulator.journal()
        if entry["method"] == "GET" and entry["path"] == "/integrated-account"
    ]


@pytest.mark.slow
def test_one_server_per_active_or_needs_reauth_account_of_the_integration(
    accounts_emulator: Emulator,
) -> None:
    emulator = accounts_emulator
    kept = [
        emulator.add_account(integration="hubspot", tenant_id="acme"),
        emulator.add_account(integration="hubspot", tenant_id="globex"),
        emulator.add_account(integration="hubspot", tenant_id="initech", status="needs_reauth"),
    ]
    for status in ("connecting", "post_install_error", "validation_error"):
        emulator.add_account(integration="hubspot", tenant_id=f"t-{status}", status=status)
    emulator.add_account(integration="salesforce", tenant_id="acme")
    emulator.add_account(integration="salesforce", tenant_id="umbrella", status="needs_reauth")

    declared = run_accounts(emulator, integration="hubspot")

    assert declared == dict(server_of(account) for account in kept)
    [listing] = account_listings(emulator)
    assert listing["query"]["integration.name"] == "hubspot"
    assert {entry["method"] for entry in emulator.journal()} == {"GET"}  # a lookup only reads


@pytest.mark.slow
def test_another_integration_declares_its_own_accounts_only(accounts_emulator: Emulator) -> None:
    emulator = accounts_emulator
    emulator.add_account(integration="hubspot", tenant_id="acme")
    salesforce = emulator.add_account(integration="salesforce", tenant_id="acme")

    assert run_accounts(emulator, integration="salesforce") == dict([server_of(salesforce)])
    assert run_accounts(emulator, integration="zendesk") == {}  # no account: no server


@pytest.mark.slow
def test_the_tenant_filter_narrows_the_accounts(accounts_emulator: Emulator) -> None:
    emulator = accounts_emulator
    acme = [
        emulator.add_account(integration="hubspot", tenant_id="acme"),
        emulator.add_account(integration="hubspot", tenant_id="acme", status="needs_reauth"),
    ]
    emulator.add_account(integration="hubspot", tenant_id="acme", status="connecting")
    emulator.add_account(integration="hubspot", tenant_id="globex")
    emulator.add_account(integration="salesforce", tenant_id="acme")

    declared = run_accounts(emulator, integration="hubspot", tenantId="acme")

    assert declared == dict(server_of(account) for account in acme)
    [listing] = account_listings(emulator)
    assert listing["query"]["tenant_id"] == "acme"
    assert listing["query"]["integration.name"] == "hubspot"


@pytest.mark.slow
def test_an_empty_tenant_id_is_every_tenant(accounts_emulator: Emulator) -> None:
    """Pulumi.yaml's default for `tenantId` is "": it must not filter on an empty tenant."""
    emulator = accounts_emulator
    both = [
        emulator.add_account(integration="hubspot", tenant_id="acme"),
        emulator.add_account(integration="hubspot", tenant_id="globex"),
    ]

    assert run_accounts(emulator, integration="hubspot", tenantId="") == dict(
        server_of(account) for account in both
    )
    assert "tenant_id" not in account_listings(emulator)[0]["query"]


@pytest.mark.slow
def test_120_accounts_over_three_pages_are_all_declared(accounts_emulator: Emulator) -> None:
    emulator = accounts_emulator
    emulator.set_account_page_limit(50)
    added = [
        emulator.add_account(integration="hubspot", tenant_id=f"tenant-{n:03d}") for n in range(120)
    ]
    emulator.add_account(integration="salesforce", tenant_id="other")
    emulator.clear_journal()

    declared = run_accounts(emulator, integration="hubspot")

    assert declared == dict(server_of(account) for account in added)
    listings = account_listings(emulator)
    assert len(listings) == 3
    assert [("next_cursor" in entry["query"]) for entry in listings] == [False, True, True]


def test_the_program_requires_the_integration() -> None:
    with pytest.raises(Exception, match="integration"):
        run_program(ACCOUNTS, project=PROJECT, config={})
