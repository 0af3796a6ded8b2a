"""TrutoMcpServer's lifecycle through the real provider host, against the emulator.

Each test drives a `SimulatedStack` (the engine's preview/up/refresh/destroy) and checks both
what the provider planned and what reached Truto: the emulator's journal and its servers.
"""

from __future__ import annotations

from typing import Any

import pytest

from devkit import SimulatedStack
from truto_pulumi._mark import read_mark
from truto_pulumi.emulator import Emulator

from ..kit import ACCOUNT, OTHER_ACCOUNT
from .helpers import (
    NAME,
    account_path,
    api_calls,
    collection_path,
    desired,
    item_path,
    renamed,
)

pytestmark = pytest.mark.slow  # starts the provider host and the emulator

SCOPED = {"methods": ["read", "write"], "tags": ["contacts", "companies"]}


def only_server(emulator: Emulator) -> dict[str, Any]:
    servers = emulator.servers()
    assert len(servers) == 1, servers
    return servers[0]


def patch_bodies(emulator: Emulator) -> list[Any]:
    calls = api_calls(emulator)
    assert all(method == "PATCH" for method, _, _ in calls), calls
    return [body for _, _, body in calls]


def apply_and_clear(
    stack: SimulatedStack, emulator: Emulator, state: dict[str, dict[str, Any]]
) -> str:
    """Apply `state` (asserting an empty plan after), clear the journal, return the id."""
    stack.apply_step(state)
    emulator.clear_journal()
    return stack.resources[NAME].id


# --- no change ------------------------------------------------------------------------------


def test_second_run_with_same_state_plans_no_change_and_makes_no_http_call(
    stack: SimulatedStack, emulator: Emulator
) -> None:
    stack.new_host_each_run = True  # every run a new provider process, as under the engine
    state = desired(config=SCOPED, expires_at="2099-01-01T00:00:00Z")
    first = stack.up(state)
    assert first.ops == {NAME: "create"}
    assert [(m, p) for m, p, _ in api_calls(emulator)] == [
        ("GET", account_path()),  # the first create in the account: its installed integration
        ("GET", collection_path()),  # and leftovers of the stack
        ("POST", collection_path()),  # under the create's mark
        ("PATCH", item_path(stack.resources[NAME].id)),  # the declared name
    ]
    emulator.clear_journal()

    second = stack.up(state)

    assert second.plan.steps[NAME].op == "same"
    assert second.plan.is_empty
    assert api_calls(emulator) == []


def test_reordered_tags_and_methods_plan_no_change(
    stack: SimulatedStack, emulator: Emulator
) -> None:
    apply_and_clear(stack, emulator, desired(config=SCOPED))
    reordered = {"methods": ["write", "read", "read"], "tags": ["companies", "contacts"]}

    result = stack.up(desired(config=reordered))

    assert result.plan.steps[NAME].op == "same"
    assert api_calls(emulator) == []


# --- updates --------------------------------------------------------------------------------


def test_rename_updates_in_place_with_one_patch_of_the_name(
    stack: SimulatedStack, emulator: Emulator
) -> None:
    server_id = apply_and_clear(stack, emulator, desired(config=SCOPED))

    result = stack.apply_step(desired(config=SCOPED, name="reader v2"))

    assert result.ops == {NAME: "update"}
    assert api_calls(emulator) == [("PATCH", item_path(server_id), {"name": "reader v2"})]
    assert stack.resources[NAME].id == server_id
    assert only_server(emulator)["name"] == "reader v2"


def test_tag_change_sends_one_patch_with_the_whole_config(
    stack: SimulatedStack, emulator: Emulator
) -> None:
    apply_and_clear(stack, emulator, desired(config={**SCOPED, "tool_exposure": "discovery"}))
    changed = {"methods": ["read", "write"], "tags": ["deals"], "tool_exposure": "discovery"}

    stack.apply_step(desired(config=changed))

    assert patch_bodies(emulator) == [{"config": changed}]
    assert only_server(emulator)["config"] == changed


def test_removing_config_sends_one_patch_that_resets_every_key(
    stack: SimulatedStack, emulator: Emulator
) -> None:
    config = {**SCOPED, "tool_exposure": "discovery", "require_api_token_auth": True}
    apply_and_clear(stack, emulator, desired(config=config))

    stack.apply_step(desired())

    reset = {**dict.fromkeys(SCOPED), "tool_exposure": "all", "require_api_token_auth": False}
    assert patch_bodies(emulator) == [{"config": reset}]
    assert only_server(emulator)["config"] == {
        "tool_exposure": "all",
        "require_api_token_auth": False,
    }
    assert "config" not in stack.resources[NAME].outputs


@pytest.mark.parametrize(
    ("before", "after", "sent", "stored"),
    [
        pytest.param(
            None,
            "2099-01-01T00:00:00Z",
            "2099-01-01T00:00:00Z",
            "2099-01-01T00:00:00.000Z",
            id="set",
        ),
        pytest.param(
            "2099-01-01T00:00:00Z",
            "2099-06-30T12:30:00+02:00",
            "2099-06-30T10:30:00Z",
            "2099-06-30T10:30:00.000Z",
            id="changed",
        ),
    ],
)
def test_setting_or_changing_the_expiry_sends_one_patch_of_the_new_instant(
    stack: SimulatedStack,
    emulator: Emulator,
    before: str | None,
    after: str,
    sent: str,
    stored: str,
) -> None:
    apply_and_clear(stack, emulator, desired(expires_at=before))

    stack.apply_step(desired(expires_at=after))

    assert patch_bodies(emulator) == [{"expires_at": sent}]
    assert only_server(emulator)["expires_at"] == stored


def test_same_expiry_written_differently_plans_no_change(
    stack: SimulatedStack, emulator: Emulator
) -> None:
    apply_and_clear(stack, emulator, desired(expires_at="2099-01-01T00:00:00Z"))

    result = stack.up(desired(expires_at="2099-01-01T01:00:00.000+01:00"))

    assert result.plan.steps[NAME].op == "same"
    assert api_calls(emulator) == []


def test_clearing_the_expiry_sends_one_patch_with_null(
    stack: SimulatedStack, emulator: Emulator
) -> None:
    apply_and_clear(stack, emulator, desired(expires_at="2099-01-01T00:00:00Z"))

    stack.apply_step(desired())

    assert patch_bodies(emulator) == [{"expires_at": None}]
    assert only_server(emulator)["expires_at"] is None


# --- replacement ----------------------------------------------------------------------------


def test_account_change_replaces_creating_the_new_server_before_deleting_the_old(
    stack: SimulatedStack, emulator: Emulator
) -> None:
    stack.new_host_each_run = True  # every run a new provider process, as under the engine
    old_id = apply_and_clear(stack, emulator, desired(config=SCOPED))

    result = stack.apply_step(desired(config=SCOPED, integrated_account_id=OTHER_ACCOUNT))

    assert result.plan.steps[NAME].op == "replace"
    assert result.plan.steps[NAME].replaces == ["integrated_account_id"]
    new_id = stack.resources[NAME].id
    assert new_id != old_id
    calls = api_calls(emulator)
    assert [(m, p) for m, p, _ in calls] == [
        ("GET", account_path(OTHER_ACCOUNT)),  # the run's first create in that account
        ("GET", collection_path(OTHER_ACCOUNT)),
        ("POST", collection_path(OTHER_ACCOUNT)),
        ("PATCH", item_path(new_id, OTHER_ACCOUNT)),
        ("DELETE", item_path(old_id)),
    ]
    marked = read_mark(calls[2][2]["name"])
    assert marked is not None
    assert marked[0] == "reader"
    assert calls[3][2] == renamed("reader")
    server = only_server(emulator)
    assert (server["id"], server["integrated_account_id"], server["name"]) == (
        new_id,
        OTHER_ACCOUNT,
        "reader",
    )
    assert server["config"] == {key: sorted(value) for key, value in SCOPED.items()}


# --- drift ----------------------------------------------------------------------------------


def test_out_of_band_edit_is_reported_by_refresh_and_reverted_by_the_next_up(
    stack: SimulatedStack, emulator: Emulator
) -> None:
    state = desired(config=SCOPED, expires_at="2099-01-01T00:00:00Z")
    server_id = apply_and_clear(stack, emulator, state)
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

    assert patch_bodies(emulator) == [
        {
            "name": "reader",
            "config": {"methods": ["read", "write"], "tags": ["companies", "contacts"]},
            "expires_at": "2099-01-01T00:00:00Z",
        }
    ]
    server = only_server(emulator)
    assert server["id"] == server_id
    assert server["name"] == "reader"
    assert server["config"] == {"methods": ["read", "write"], "tags": ["companies", "contacts"]}
    assert server["expires_at"] == "2099-01-01T00:00:00.000Z"


def test_refresh_without_out_of_band_change_reports_no_drift(
    stack: SimulatedStack, emulator: Emulator
) -> None:
    apply_and_clear(stack, emulator, desired(config=SCOPED, expires_at="2099-01-01T00:00:00Z"))

    refreshed = stack.refresh()

    assert refreshed[NAME].drift is False
    assert [m for m, _, _ in api_calls(emulator)] == ["GET"]


def test_out_of_band_delete_is_dropped_by_refresh_and_recreated_by_the_next_up(
    stack: SimulatedStack, emulator: Emulator
) -> None:
    state = desired(config=SCOPED)
    old_id = apply_and_clear(stack, emulator, state)
    old_token = stack.resources[NAME].outputs["token"]
    emulator.delete_server(old_id)

    refreshed = stack.refresh()

    assert refreshed[NAME].deleted is True
    assert NAME not in stack.resources
    result = stack.apply_step(state)
    assert result.ops == {NAME: "create"}
    server = only_server(emulator)
    outputs = stack.resources[NAME].outputs
    assert server["id"] == stack.resources[NAME].id != old_id
    assert server["token"] == outputs["token"] != old_token


# --- destroy --------------------------------------------------------------------------------


def test_destroy_deletes_every_server_and_empties_the_state(
    stack: SimulatedStack, emulator: Emulator
) -> None:
    stack.apply_step(
        {
            "a": desired(name="first")[NAME],
            "b": desired(name="second", integrated_account_id=OTHER_ACCOUNT)[NAME],
        }
    )
    assert len(emulator.servers()) == 2
    emulator.clear_journal()

    stack.destroy()

    assert emulator.servers() == []
    assert stack.resources == {}
    assert sorted(m for m, _, _ in api_calls(emulator)) == ["DELETE", "DELETE"]


# --- secrets issued at create ---------------------------------------------------------------


def test_token_and_url_survive_update_and_refresh_unchanged(
    stack: SimulatedStack, emulator: Emulator
) -> None:
    stack.apply_step(desired(config=SCOPED))
    created = stack.resources[NAME].outputs
    server = only_server(emulator)
    assert (created["token"], created["url"]) == (server["token"], server["url"])
    assert created["url"] == f"{emulator.url}/mcp/{created['token']}"

    stack.apply_step(desired(config=SCOPED, name="renamed"))
    updated = stack.resources[NAME].outputs
    assert updated["name"] == "renamed"
    assert (updated["token"], updated["url"]) == (created["token"], created["url"])

    assert stack.refresh()[NAME].drift is False
    refreshed = stack.resources[NAME].outputs
    assert (refreshed["token"], refreshed["url"]) == (created["token"], created["url"])


def test_outputs_echo_the_canonical_inputs_and_server_fields(
    stack: SimulatedStack, emulator: Emulator
) -> None:
    stack.apply_step(desired(config={"tags": ["b", "a", "b"]}))

    outputs = stack.resources[NAME].outputs
    server = only_server(emulator)
    assert outputs["config"] == {"tags": ["a", "b"]}
    assert outputs["integrated_account_id"] == ACCOUNT
    assert (outputs["created_at"], outputs["created_by"]) == (
        server["created_at"],
        server["created_by"],
    )


OFF_DEFAULTS = {"methods": ["read"], "tool_exposure": "discovery", "require_api_token_auth": True}


def assert_converged(stack: SimulatedStack, servers: dict[str, dict[str, Any]]) -> None:
    """A refresh finds no drift and the next plan has nothing to do."""
    assert not [name for name, read in stack.refresh().items() if read.drift]
    assert stack.preview(servers).is_empty


@pytest.mark.parametrize("patch", ["merge-null-refused", "merge", "replace"])
@pytest.mark.parametrize("echo_defaults", [True, False], ids=["echoed", "not_echoed"])
@pytest.mark.parametrize("config_required", [True, False], ids=["required", "optional"])
def test_config_converges_under_every_reading_of_truto(
    stack: SimulatedStack,
    emulator: Emulator,
    patch: str,
    echo_defaults: bool,
    config_required: bool,
) -> None:
    emulator.set_readings(
        config_patch=patch, echo_defaults=echo_defaults, config_required=config_required
    )
    stack.new_host_each_run = True
    servers: dict[str, dict[str, Any]] = {
        "scoped": {"integrated_account_id": ACCOUNT, "name": "scoped", "config": OFF_DEFAULTS},
        "whole": {"integrated_account_id": ACCOUNT, "name": "whole"},
    }
    stack.up(servers)
    assert_converged(stack, servers)

    servers["scoped"]["config"] = {"methods": ["read"]}  # the keys at their defaults dropped
    stack.up(servers)

    stored = {s["name"]: s["config"] for s in emulator.servers()}
    assert stored["whole"] == {}
    assert {k: v for k, v in stored["scoped"].items() if k != "methods"} in (
        {},
        {"tool_exposure": "all", "require_api_token_auth": False},
    )
    assert_converged(stack, servers)
