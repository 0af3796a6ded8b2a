"""Adopting servers made outside Pulumi with `adopt_id`, through the real provider host against
the emulator (the `discover` command that writes the code for it: tests/test_discover.py)."""

from __future__ import annotations

from typing import Any

import pytest

from devkit import SimulatedStack, UpError
from truto_pulumi._mark import CreateMark
from truto_pulumi.emulator import Emulator

from .kit import ACCOUNT, OTHER_ACCOUNT, OwnHostStackFactory, account_id
from .lifecycle.helpers import account_read, api_calls, item_path, made_in_dashboard


@pytest.fixture
def fresh_host_stack(own_host_stack: OwnHostStackFactory) -> SimulatedStack:
    """An empty stack whose every run gets a fresh provider host, as under the engine: the
    provider remembers what it adopted for the rest of a run, and only that long."""
    return own_host_stack(new_host_each_run=True)


@pytest.mark.slow
@pytest.mark.parametrize(
    ("made_by", "tags", "patch"),
    [
        pytest.param("dashboard", ["a", "b"], {"config": {"methods": ["read"], "tags": ["a", "b"]}},
                     id="patches_what_differs"),
        pytest.param("dashboard", ["a"], None, id="already_as_declared"),
        pytest.param("leaving", ["a"], None, id="moved_from_a_resource_leaving_the_program"),
    ],
)  # fmt: skip
def test_adopting_patches_only_what_differs_then_manages_the_server_as_its_own(
    fresh_host_stack: SimulatedStack,
    emulator: Emulator,
    made_by: str,
    tags: list[str],
    patch: dict[str, Any] | None,
) -> None:
    """It creates and deletes nothing, even of a server made by a resource that leaves the program
    in the same `pulumi up`; then a changed or dropped adopt_id is no change, a refresh shows no
    drift, an update patches it, and a destroy deletes it as the resource's own."""
    config = {"methods": ["read"], "tags": ["a"]}
    made = {"integrated_account_id": ACCOUNT, "name": "legacy", "config": config}
    if made_by == "dashboard":
        existing = made_in_dashboard(emulator, ACCOUNT, name="legacy", config=config)
    else:
        fresh_host_stack.up({"old": made})
        (existing,) = emulator.servers()
    emulator.clear_journal()
    declared = {**made, "config": {**config, "tags": tags}, "adopt_id": existing["id"]}
    fresh_host_stack.apply_step({"legacy": declared})
    assert api_calls(emulator) == [
        account_read(),  # the adoption reads the account first: its installed integration
        ("GET", item_path(existing["id"]), None),
        *([("PATCH", item_path(existing["id"]), patch)] if patch else []),
    ]
    assert {name: s.id for name, s in fresh_host_stack.resources.items()} == {
        "legacy": existing["id"]
    }
    outputs = fresh_host_stack.resources["legacy"].outputs
    assert (outputs["token_known"], "token" in outputs, "url" in outputs) == (False, False, False)
    assert [live["config"]["tags"] for live in emulator.servers()] == [tags]
    assert existing["token"] not in repr(fresh_host_stack.resources)  # never revealed nor stored
    another = {**declared, "adopt_id": account_id(0xBEEF)}
    assert fresh_host_stack.preview({"legacy": another}).is_empty
    without = {key: value for key, value in declared.items() if key != "adopt_id"}
    assert fresh_host_stack.preview({"legacy": without}).is_empty
    assert fresh_host_stack.refresh()["legacy"].drift is False
    fresh_host_stack.apply_step({"legacy": {**declared, "name": "legacy v2"}})
    assert fresh_host_stack.resources["legacy"].outputs["token_known"] is False
    assert [s["name"] for s in emulator.servers()] == ["legacy v2"]
    fresh_host_stack.destroy()
    assert emulator.servers() == []


IN_FLIGHT = CreateMark.drawn("urn:pulumi:prod::other::pulumi-python:dynamic/truto:McpServer::x")
"""Another stack's create under way, or a killed run's leftover its stack will delete."""


@pytest.mark.slow
@pytest.mark.parametrize(
    ("made", "said"),
    [
        pytest.param(None, "python -m truto_pulumi.discover", id="unknown_server"),
        pytest.param((OTHER_ACCOUNT, "theirs"), f"under integrated account {ACCOUNT}",
                     id="other_account"),
        pytest.param((ACCOUNT, IN_FLIGHT.on("agent")), "its name carries a Pulumi create mark",
                     id="create_mark"),
        pytest.param((ACCOUNT, "adopted, then deleted outside Pulumi"),
                     "Remove adopt_id to have `pulumi up` create a new server in its place",
                     id="adopted_then_deleted_outside_pulumi_up_refresh"),
    ],
)  # fmt: skip
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


SECRET_NAME = "name-that-may-be-a-secret-7f3a"
"""A declared name no message may show: the engine hands the provider secrets as plain text."""

MANAGED = "a resource of this stack already manages it"


@pytest.mark.slow
@pytest.mark.parametrize(
    ("earlier", "later", "said"),
    [
        pytest.param(["one"], ["one", "two"], [MANAGED], id="adopted_in_an_earlier_run"),
        pytest.param([], ["one", "two"],
                     ["it was already adopted in this run by the resource declaring adopt_id="],
                     id="two_adopting_in_one_up"),
        pytest.param(None, ["old", "new"],  # `old` made the server, and stays in the program
                     [MANAGED, "of this resource was adopted in this run"],  # whichever ran first
                     id="held_by_a_resource_that_stays"),
    ],
)  # fmt: skip
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
