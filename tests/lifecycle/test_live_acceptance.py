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
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from devkit import NO_TRUTO_ENV, ProviderHost, SimulatedStack, mcp_server_stack
from devkit.sweep import (
    ACCEPTANCE_PREFIX,
    AcceptanceSettings,
    acceptance_name,
    acceptance_settings,
    missing_acceptance_env,
    sweep,
)  # fmt: skip
from truto_pulumi._client import TrutoClient
from truto_pulumi._errors import TrutoNotFoundError

from .helpers import NAME, desired

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

RUN_ID = secrets.token_hex(4)
"""In the name of every server this run makes: what its teardown sweeps."""


def expiry(hours: float) -> str:
    """An expiry a few hours ahead: Truto removes the server even if this run dies."""
    return (datetime.now(UTC) + timedelta(hours=hours)).strftime("%Y-%m-%dT%H:%M:%SZ")


@pytest.fixture(scope="module")
def live() -> AcceptanceSettings:
    assert SETTINGS is not None
    return SETTINGS


@pytest.fixture(scope="module")
def client(live: AcceptanceSettings) -> Iterator[TrutoClient]:
    """A client for checks; on teardown it sweeps whatever this run left behind."""
    with TrutoClient(base_url=live.base_url, api_token=live.api_token) as opened:
        yield opened
        sweep(opened, live.integrated_account_id, f"{ACCEPTANCE_PREFIX}{RUN_ID}-")


@pytest.fixture
def live_stack(live: AcceptanceSettings) -> Iterator[SimulatedStack]:
    with ProviderHost(env=NO_TRUTO_ENV) as host:
        yield mcp_server_stack(host, api_token=live.api_token, base_url=live.base_url)


def declared(live: AcceptanceSettings, name: str, expires_at: str) -> dict[str, dict[str, Any]]:
    return desired(
        integrated_account_id=live.integrated_account_id, name=name, expires_at=expires_at
    )


OFF_DEFAULTS = {"tool_exposure": "discovery", "require_api_token_auth": True}
"""Both typed `config` keys off their defaults; neither narrows the account's tools, so the
run needs nothing of the account but that it has one."""


def test_live_lifecycle_converges_and_says_which_reading_truto_follows(
    live_stack: SimulatedStack, client: TrutoClient, live: AcceptanceSettings
) -> None:
    """Create, no-op, an update that renames and drops both `config` keys (no 400), each with
    no drift and an empty plan after, and destroy, against Truto itself (the convergence
    sequence of `tests/engine/test_convergence.py`); then a few raw calls settle each loose
    point of Truto's documentation, printed (`pytest -s`)."""
    account = live.integrated_account_id
    first = declared(live, acceptance_name("lifecycle", RUN_ID), expiry(2))
    first[NAME]["config"] = OFF_DEFAULTS

    assert live_stack.apply_step(first).ops == {NAME: "create"}  # then an empty plan
    state = live_stack.resources[NAME]
    assert state.outputs["token"]
    assert state.outputs["url"].endswith(state.outputs["token"])
    assert client.get_mcp_server(account, state.id)["name"] == first[NAME]["name"]
    assert live_stack.up(first).plan.steps[NAME].op == "same"
    assert live_stack.refresh()[NAME].drift is False

    second = declared(live, acceptance_name("lifecycle-renamed", RUN_ID), expiry(3))
    assert live_stack.apply_step(second).ops == {NAME: "update"}
    after = live_stack.resources[NAME]
    assert (after.id, after.outputs["token"]) == (state.id, state.outputs["token"])
    assert client.get_mcp_server(account, state.id)["name"] == second[NAME]["name"]
    assert live_stack.refresh()[NAME].drift is False
    assert live_stack.preview(second).is_empty

    live_stack.destroy()
    assert live_stack.resources == {}
    with pytest.raises(TrutoNotFoundError):
        client.get_mcp_server(account, state.id)

    readings = _readings_of_truto(live)
    print("\nTruto's readings of its loose points:", readings)
    assert set(readings) == {"config_required", "echo_defaults", "config_patch", "list_key"}


def _readings_of_truto(live: AcceptanceSettings) -> dict[str, Any]:
    """Which reading of each loose point Truto follows, found with raw calls (the client maps
    the statuses they turn on) on servers of this run, each deleted at once."""
    path = f"/integrated-account/{live.integrated_account_id}/mcp"
    bare = {"name": acceptance_name("bare", RUN_ID), "expires_at": expiry(1)}
    headers = {"Authorization": f"Bearer {live.api_token}"}
    with httpx.Client(base_url=live.base_url, headers=headers, timeout=30) as http:
        without_config = http.post(path, json=bare)
        if without_config.is_success:
            http.delete(f"{path}/{without_config.json()['id']}")
        probe = http.post(path, json={**bare, "config": {}}).raise_for_status().json()
        echoed = http.get(f"{path}/{probe['id']}").raise_for_status().json()["config"]
        http.delete(f"{path}/{probe['id']}")
        made = http.post(path, json={**bare, "config": OFF_DEFAULTS}).raise_for_status().json()
        item = f"{path}/{made['id']}"
        http.patch(item, json={"config": {"require_api_token_auth": False}}).raise_for_status()
        kept = http.get(item).raise_for_status().json()["config"].get("tool_exposure")
        typed_null = http.patch(item, json={"config": {"tool_exposure": None}})
        http.delete(item)
        listed = http.get(path, params={"limit": 1}).raise_for_status().json()
    patch = "merge" if typed_null.is_success else "merge-null-refused"
    return {
        "config_required": not without_config.is_success,
        "echo_defaults": bool(set(echoed) & set(OFF_DEFAULTS)),
        "config_patch": "replace" if kept != "discovery" else patch,
        "list_key": "result" if "result" in listed else "results",
    }
