"""TrutoMcpServer's lifecycle through the real provider host, against the emulator.

Each test drives a `SimulatedStack` (the engine's preview/up/refresh/destroy) and checks both
what the provider planned and what reached Truto: the emulator's journal and its servers.
"""

from __future__ import annotations

import pytest

from devkit import SimulatedStack
from devkit.engine import RefreshOutcome
from truto_pulumi._mark import stack_tag
from truto_pulumi.emulator import Emulator

from .helpers import (
    NAME,
    account_read,
    api_calls,
    collection_path,
    create_mark,
    desired,
    item_path,
    renamed,
)

pytestmark = pytest.mark.slow  # starts the provider host and the emulator

SCOPED = {"methods": ["read", "write"], "tags": ["contacts", "companies"]}
SORTED = {"methods": ["read", "write"], "tags": ["companies", "contacts"]}


def test_a_create_then_a_run_with_the_same_state_calls_nothing_and_destroy_deletes_it(
    stack: SimulatedStack, emulator: Emulator
) -> None:
    stack.new_host_each_run = True  # every run a new provider process, as under the engine
    state = desired(config=SCOPED, expires_at="2099-01-01T00:00:00Z")

    assert stack.up(state).ops == {NAME: "create"}

    server_id = stack.resources[NAME].id
    calls = api_calls(emulator)
    assert [(m, p) for m, p, _ in calls] == [
        account_read()[:2],  # the first create in the account: its installed integration
        ("GET", collection_path()),  # and leftovers of the stack
        ("POST", collection_path()),  # under the create's mark
        ("PATCH", item_path(server_id)),  # the declared name
    ]
    declared, mark = create_mark(calls[2][2]["name"])
    assert (declared, mark.stack) == ("reader", stack_tag(stack.urn(NAME)))
    assert calls[3][2] == renamed("reader", "2099-01-01T00:00:00Z")  # the provisional replaced
    outputs, (server,) = stack.resources[NAME].outputs, emulator.servers()
    assert (outputs["token"], outputs["url"]) == (server["token"], server["url"])
    assert outputs["url"] == f"{emulator.url}/mcp/{outputs['token']}"
    assert outputs["config"] == SORTED  # the canonical inputs echoed, with Truto's fields
    assert (outputs["created_at"], outputs["created_by"]) == (
        server["created_at"],
        server["created_by"],
    )
    integration = emulator.environment()["default_environment_integration_id"]
    assert outputs["environment_integration_id"] == integration
    emulator.clear_journal()

    second = stack.up(state)

    assert second.plan.steps[NAME].op == "same"
    assert second.plan.is_empty
    assert api_calls(emulator) == []

    stack.destroy()

    assert (emulator.servers(), stack.resources) == ([], {})
    assert api_calls(emulator) == [("DELETE", item_path(server_id), None)]


def test_a_state_the_first_release_wrote_gets_token_known_from_a_refresh(
    stack: SimulatedStack, emulator: Emulator
) -> None:
    """The first release wrote no `token_known`: a refresh fills it in from its one read (an
    `up`, without a call: test_provider.py; a state of 0.2.0: engine/test_upgrade.py)."""
    stack.apply_step(desired(config=SCOPED))
    recorded, server_id = dict(stack.resources[NAME].outputs), stack.resources[NAME].id
    del stack.resources[NAME].outputs["token_known"]
    emulator.clear_journal()
    assert stack.refresh() == {NAME: RefreshOutcome(drift=True)}
    assert stack.resources[NAME].outputs == recorded
    assert api_calls(emulator) == [("GET", item_path(server_id), None)]


EXPIRY = "2099-01-01T00:00:00Z"


# --- drift ----------------------------------------------------------------------------------


def test_out_of_band_edit_is_reported_by_refresh_and_reverted_by_one_patch_keeping_the_token(
    stack: SimulatedStack, emulator: Emulator
) -> None:
    state = desired(config=SCOPED, expires_at=EXPIRY)
    stack.apply_step(state)
    emulator.clear_journal()
    server_id = stack.resources[NAME].id
    token = stack.resources[NAME].outputs["token"]
    unchanged = stack.refresh()
    assert unchanged[NAME].drift is False
    assert [m for m, _, _ in api_calls(emulator)] == ["GET"]
    emulator.edit_server(
        server_id, name="edited in the dashboard", config={"methods": ["get"]}, expires_at=None
    )

    refreshed = stack.refresh()

    assert refreshed[NAME].drift is True
    assert refreshed[NAME].deleted is False
    outputs = stack.resources[NAME].outputs
    assert outputs["name"] == "edited in the dashboard"
    assert outputs["config"] == {"methods": ["get"]}
    assert "expires_at" not in outputs
    assert stack.preview(state).steps[NAME].op == "update"

    emulator.clear_journal()
    stack.apply_step(state)

    assert api_calls(emulator) == [
        ("PATCH", item_path(server_id), {"name": "reader", "config": SORTED, "expires_at": EXPIRY})
    ]
    (server,) = emulator.servers()
    assert (server["id"], server["name"], server["config"]) == (server_id, "reader", SORTED)
    assert server["expires_at"] == "2099-01-01T00:00:00.000Z"
    assert stack.resources[NAME].outputs["token"] == server["token"] == token
