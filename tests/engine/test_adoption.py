"""Adoption (`adopt_id`) and import under the real engine."""

from __future__ import annotations

import pulumi
import pytest
from pulumi import automation as auto

from devkit.driver import EngineStack, Server, changes
from truto_pulumi.emulator import Emulator

from ..kit import ACCOUNT
from ..lifecycle.helpers import account_read, api_calls, item_path, made_in_dashboard

pytestmark = pytest.mark.engine


def test_adopting_takes_the_server_over_without_creating_one(
    engine_stack: EngineStack, emulator: Emulator
) -> None:
    existing = made_in_dashboard(emulator, ACCOUNT, name="legacy")
    emulator.clear_journal()
    declared = {"integrated_account_id": ACCOUNT, "name": "legacy v2", "adopt_id": existing["id"]}
    engine_stack.up({"legacy": declared})
    assert api_calls(emulator) == [
        account_read(),  # the run's first create in the account: its installed integration
        ("GET", item_path(existing["id"]), None),  # the server to adopt
        ("PATCH", item_path(existing["id"]), {"name": "legacy v2"}),
    ]
    outputs = engine_stack.servers()["legacy"]["outputs"]
    assert engine_stack.servers()["legacy"]["id"] == existing["id"]
    assert outputs["token_known"] is False
    engine_stack.preview({"legacy": declared}, expect_no_changes=True)


def test_moving_a_server_to_a_new_resource_name_by_adoption_never_deletes_it(
    engine_stack: EngineStack, emulator: Emulator
) -> None:
    engine_stack.up({"old": {"integrated_account_id": ACCOUNT, "name": "moved"}})
    (server,) = emulator.servers()
    emulator.clear_journal()
    moved = {"integrated_account_id": ACCOUNT, "name": "moved", "adopt_id": server["id"]}

    up = engine_stack.up({"new": moved})

    assert changes(up.summary.resource_changes) == {"create": 1, "delete": 1}
    # The adoption reads the account and the server; no DELETE reached Truto.
    assert api_calls(emulator) == [account_read(), ("GET", item_path(server["id"]), None)]
    assert [s["id"] for s in emulator.servers()] == [server["id"]]
    assert {name: r["id"] for name, r in engine_stack.servers().items()} == {"new": server["id"]}
    emulator.clear_journal()
    engine_stack.destroy()  # a later run deletes it, through the resource that holds it now
    assert emulator.servers() == []


def test_two_resources_with_one_adopt_id_in_one_up_exactly_one_adopts(
    engine_stack: EngineStack, emulator: Emulator
) -> None:
    existing = made_in_dashboard(emulator, ACCOUNT, name="shared")
    declared = {"integrated_account_id": ACCOUNT, "name": "shared", "adopt_id": existing["id"]}
    with pytest.raises(auto.CommandError) as raised:
        engine_stack.up({"one": declared, "two": declared})
    assert "it was already adopted in this run by the resource declaring adopt_id=" in str(
        raised.value
    )
    assert [r["id"] for r in engine_stack.servers().values()] == [existing["id"]]
    assert len(emulator.servers()) == 1


def test_the_import_option_fails_for_a_dynamic_resource(
    engine_stack: EngineStack, emulator: Emulator
) -> None:
    existing = made_in_dashboard(emulator, ACCOUNT, name="legacy")
    declared = Server(
        {"integrated_account_id": ACCOUNT, "name": "legacy"},
        pulumi.ResourceOptions(import_=existing["id"]),
    )
    with pytest.raises(auto.CommandError) as raised:
        engine_stack.up({"legacy": declared})
    assert "KeyError: '__provider'" in str(raised.value)  # Read gets no pickled provider
    assert engine_stack.servers() == {}
    assert len(emulator.servers()) == 1
