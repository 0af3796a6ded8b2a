"""Adopting servers made outside Pulumi: `adopt_id`, and the `discover` helper that writes the
code for it. Through the real provider host against the emulator."""

from __future__ import annotations

from typing import Any

import pytest

from devkit import (
    SimulatedStack,
    UpError,
)
from truto_pulumi import discover
from truto_pulumi._mark import CreateMark
from truto_pulumi.emulator import Emulator

from .kit import ACCOUNT, OTHER_ACCOUNT, OwnHostStackFactory, account_id
from .lifecycle.helpers import (
    account_read,
    api_calls,
    item_path,
    made_in_dashboard,
)


@pytest.fixture
def fresh_host_stack(own_host_stack: OwnHostStackFactory) -> SimulatedStack:
    """An empty stack whose every run gets a fresh provider host, as under the engine: the
    provider remembers what it adopted for the rest of a run, and only that long."""
    return own_host_stack(new_host_each_run=True)


@pytest.mark.slow
@pytest.mark.parametrize(
    ("declared", "patch"),
    [
        pytest.param(
            {"methods": ["read"], "tags": ["a", "b"]},
            {"config": {"methods": ["read"], "tags": ["a", "b"]}},
            id="patches_what_differs",
        ),
        pytest.param({"methods": ["read"], "tags": ["a"]}, None, id="already_as_declared"),
    ],
)
def test_adopting_patches_only_what_differs_and_creates_nothing(
    fresh_host_stack: SimulatedStack,
    emulator: Emulator,
    declared: dict[str, Any],
    patch: dict[str, Any] | None,
) -> None:
    existing = made_in_dashboard(
        emulator, ACCOUNT, name="legacy", config={"methods": ["read"], "tags": ["a"]}
    )
    emulator.clear_journal()
    fresh_host_stack.apply_step(
        {
            "legacy": {
                "integrated_account_id": ACCOUNT,
                "name": "legacy",
                "config": declared,
                "adopt_id": existing["id"],
            }
        }
    )
    assert api_calls(emulator) == [
        account_read(),  # the adoption reads the account first: its installed integration
        ("GET", item_path(existing["id"]), None),
        *([("PATCH", item_path(existing["id"]), patch)] if patch else []),
    ]
    state = fresh_host_stack.resources["legacy"]
    assert state.id == existing["id"]
    assert state.outputs["token_known"] is False
    assert "token" not in state.outputs
    assert "url" not in state.outputs
    (live,) = emulator.servers()
    assert live["config"]["tags"] == declared["tags"]
    assert existing["token"] not in repr(fresh_host_stack.resources)  # never revealed, never stored


IN_FLIGHT = CreateMark.drawn("urn:pulumi:prod::other::pulumi-python:dynamic/truto:McpServer::x")
"""Another stack's create under way, or a killed run's leftover its stack will delete."""


@pytest.mark.slow
@pytest.mark.parametrize(
    ("made", "said"),
    [
        pytest.param(None, "python -m truto_pulumi.discover", id="unknown_server"),
        pytest.param(
            (OTHER_ACCOUNT, "theirs"), f"under integrated account {ACCOUNT}", id="other_account"
        ),
        pytest.param(
            (ACCOUNT, IN_FLIGHT.on("agent")),
            "its name carries a Pulumi create mark",
            id="create_mark",
        ),
        pytest.param(
            (ACCOUNT, "adopted, then deleted outside Pulumi"),
            "Remove adopt_id to have `pulumi up` create a new server in its place",
            id="adopted_then_deleted_outside_pulumi_up_refresh",
        ),
    ],
)
def test_adopting_a_server_it_may_not_fails_clearly_and_changes_nothing(
    fresh_host_stack: SimulatedStack, emulator: Emulator, made: tuple[str, str] | None, said: str
) -> None:
    """The last: `pulumi up --refresh` drops it, then adopts it again in the same run."""
    server_id = account_id(0xDEAD)
    if made is not None:
        server_id = made_in_dashboard(emulator, made[0], name=made[1])["id"]
    declared = {"x": {"integrated_account_id": ACCOUNT, "name": "x", "adopt_id": server_id}}
    deleted = made is not None and made[1].endswith("deleted outside Pulumi")
    if deleted:
        fresh_host_stack.up(declared)
        emulator.delete_server(server_id)
    before = emulator.servers()
    emulator.clear_journal()

    with pytest.raises(UpError) as info:
        fresh_host_stack.up(declared, refresh=deleted)

    assert f"cannot adopt MCP server {server_id}" in str(info.value)
    assert said in str(info.value)
    assert "already manages it" not in str(info.value)
    assert {method for method, _, _ in api_calls(emulator)} == {"GET"}
    assert emulator.servers() == before
    assert fresh_host_stack.resources == {}


@pytest.mark.slow
def test_an_adopted_server_survives_refresh_and_updates_and_adopt_id_later_is_no_change(
    fresh_host_stack: SimulatedStack, emulator: Emulator
) -> None:
    existing = made_in_dashboard(emulator, ACCOUNT, name="kept")
    other = made_in_dashboard(emulator, ACCOUNT, name="other")
    declared = {"integrated_account_id": ACCOUNT, "name": "kept", "adopt_id": existing["id"]}
    fresh_host_stack.apply_step({"kept": declared})
    assert fresh_host_stack.preview({"kept": {**declared, "adopt_id": other["id"]}}).is_empty
    without = {key: value for key, value in declared.items() if key != "adopt_id"}
    assert fresh_host_stack.preview({"kept": without}).is_empty
    assert fresh_host_stack.refresh()["kept"].drift is False
    fresh_host_stack.apply_step({"kept": {**declared, "name": "kept v2"}})
    assert fresh_host_stack.resources["kept"].outputs["token_known"] is False
    assert {s["id"]: s["name"] for s in emulator.servers()} == {
        existing["id"]: "kept v2",
        other["id"]: "other",
    }


def test_discover_without_token_says_how_to_set_it(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("TRUTO_API_TOKEN", "")
    assert discover.main(["--integrated-account-id", ACCOUNT]) == 2
    assert "TRUTO_API_TOKEN" in capsys.readouterr().err


SECRET_NAME = "name-that-may-be-a-secret-7f3a"
"""A declared name no message may show: the engine hands the provider secrets as plain text."""

MANAGED = "a resource of this stack already manages it"


@pytest.mark.slow
@pytest.mark.parametrize(
    ("earlier", "later", "said"),
    [
        pytest.param(["one"], ["one", "two"], [MANAGED], id="adopted_in_an_earlier_run"),
        pytest.param(
            [],
            ["one", "two"],
            ["it was already adopted in this run by the resource declaring adopt_id="],
            id="two_adopting_in_one_up",
        ),
        pytest.param(
            None,  # `old` made the server, and stays in the program
            ["old", "new"],
            [MANAGED, "of this resource was adopted in this run"],  # whichever ran first
            id="held_by_a_resource_that_stays",
        ),
    ],
)
def test_a_server_is_managed_by_one_resource_of_a_stack_at_a_time(
    fresh_host_stack: SimulatedStack,
    emulator: Emulator,
    earlier: list[str] | None,
    later: list[str],
    said: list[str],
) -> None:
    made = {"integrated_account_id": ACCOUNT, "name": SECRET_NAME}
    if earlier is None:
        fresh_host_stack.up({"old": made})
        (server,) = emulator.servers()
    else:
        server = made_in_dashboard(emulator, ACCOUNT, name=SECRET_NAME)
    adopting = {**made, "adopt_id": server["id"]}
    declared = {name: made if name == "old" else adopting for name in later}
    if earlier:
        fresh_host_stack.up({name: declared[name] for name in earlier})
    emulator.set_latency(0.05)  # the creates of one up are under way at once on host threads
    try:
        with pytest.raises(UpError) as info:
            fresh_host_stack.up(declared)
    finally:
        emulator.set_latency(0.0)

    (failed,) = info.value.errors.values()
    assert any(words in str(failed) for words in said), failed
    assert SECRET_NAME not in str(failed)  # it may be a secret: the message names ids and URNs
    assert [state.id for state in fresh_host_stack.resources.values()] == [server["id"]]
    assert [s["id"] for s in emulator.servers()] == [server["id"]]


@pytest.mark.slow
def test_moving_a_server_to_a_new_resource_name_by_adoption_keeps_the_server(
    fresh_host_stack: SimulatedStack, emulator: Emulator
) -> None:
    fresh_host_stack.up({"old": {"integrated_account_id": ACCOUNT, "name": "moved"}})
    (server,) = emulator.servers()
    emulator.clear_journal()
    # One `pulumi up`: `new` adopts the server of `old`, and `old` leaves the program.
    fresh_host_stack.up(
        {"new": {"integrated_account_id": ACCOUNT, "name": "moved", "adopt_id": server["id"]}}
    )
    assert api_calls(emulator) == [  # no DELETE of the server
        account_read(),  # the adoption reads the account first
        ("GET", item_path(server["id"]), None),
    ]
    assert [s["id"] for s in emulator.servers()] == [server["id"]]
    assert {name: state.id for name, state in fresh_host_stack.resources.items()} == {
        "new": server["id"]
    }
    fresh_host_stack.destroy()  # a later run deletes it as the resource that now holds it
    assert emulator.servers() == []
