"""Live acceptance: the core lifecycle against the REAL Truto API. Opt-in:

    TRUTO_ACC=1 TRUTO_API_TOKEN=... TRUTO_ACC_INTEGRATED_ACCOUNT_ID=<uuid> \
        pytest tests/lifecycle/test_live_acceptance.py

Every server it creates is named `truto-pulumi-test-<run>-...` and expires within hours,
and whatever a failed run leaves is swept at the end (or later with
`python -m devkit.sweep --integrated-account-id <uuid>`).
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from devkit import NO_TRUTO_ENV, ProviderHost, SimulatedStack, mcp_server_stack
from devkit.acceptance import (
    AcceptanceSettings,
    acceptance_name,
    acceptance_settings,
    missing_acceptance_env,
)
from devkit.sweep import ACCEPTANCE_PREFIX, sweep
from truto_pulumi._client import TrutoClient
from truto_pulumi._errors import TrutoNotFoundError

SETTINGS = acceptance_settings(os.environ)

pytestmark = [
    pytest.mark.live,
    pytest.mark.skipif(
        SETTINGS is None,
        reason=(
            "live acceptance tests against the real Truto API are opt-in; missing: "
            + ", ".join(missing_acceptance_env(os.environ))
        ),
    ),
]

RESOURCE = "srv"


def expiry(hours: float) -> str:
    """An expiry a few hours ahead: Truto removes the server even if this run dies."""
    moment = datetime.now(timezone.utc) + timedelta(hours=hours)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


@pytest.fixture(scope="module")
def live() -> AcceptanceSettings:
    assert SETTINGS is not None
    return SETTINGS


@pytest.fixture(scope="module")
def run_id() -> str:
    return secrets.token_hex(4)


@pytest.fixture(scope="module")
def client(live: AcceptanceSettings, run_id: str) -> Iterator[TrutoClient]:
    """A client for checks; on teardown it sweeps whatever this run left behind."""
    with TrutoClient(base_url=live.base_url, api_token=live.api_token) as opened:
        yield opened
        sweep(opened, live.integrated_account_id, f"{ACCEPTANCE_PREFIX}{run_id}-")


@pytest.fixture(scope="module")
def live_host() -> Iterator[ProviderHost]:
    with ProviderHost(env=NO_TRUTO_ENV) as started:
        yield started


@pytest.fixture
def live_stack(live_host: ProviderHost, live: AcceptanceSettings) -> SimulatedStack:
    return mcp_server_stack(live_host, api_token=live.api_token, base_url=live.base_url)


def declared(live: AcceptanceSettings, name: str, expires_at: str) -> dict[str, dict[str, Any]]:
    return {
        RESOURCE: {
            "integrated_account_id": live.integrated_account_id,
            "name": name,
            "expires_at": expires_at,
        }
    }


def test_live_create_noop_update_refresh_destroy(
    live_stack: SimulatedStack, client: TrutoClient, live: AcceptanceSettings, run_id: str
) -> None:
    account = live.integrated_account_id
    first = declared(live, acceptance_name("lifecycle", run_id), expiry(2))

    created = live_stack.apply_step(first)  # also asserts the plan after apply is empty
    assert created.ops == {RESOURCE: "create"}
    state = live_stack.resources[RESOURCE]
    assert state.outputs["token"]
    assert state.outputs["url"].endswith(state.outputs["token"])
    assert client.get_mcp_server(account, state.id)["name"] == first[RESOURCE]["name"]

    assert live_stack.up(first).plan.steps[RESOURCE].op == "same"

    second = declared(live, acceptance_name("lifecycle-renamed", run_id), expiry(3))
    updated = live_stack.apply_step(second)
    assert updated.ops == {RESOURCE: "update"}
    after = live_stack.resources[RESOURCE]
    assert after.id == state.id
    assert after.outputs["token"] == state.outputs["token"]
    assert client.get_mcp_server(account, state.id)["name"] == second[RESOURCE]["name"]

    assert live_stack.refresh()[RESOURCE].drift is False
    assert live_stack.preview(second).is_empty

    live_stack.destroy()
    assert live_stack.resources == {}
    with pytest.raises(TrutoNotFoundError):
        client.get_mcp_server(account, state.id)
