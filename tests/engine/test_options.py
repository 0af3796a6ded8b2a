"""Engine-side resource options and flags on TrutoMcpServer, run by the real engine."""

from __future__ import annotations

from typing import Any

import pulumi
import pytest
from pulumi import automation as auto

from devkit import MCP_SERVER_TYPE
from devkit.driver import PROJECT, STACK, EngineStack, Server, changes
from truto_pulumi.emulator import Emulator

from ..kit import ACCOUNT, OTHER_ACCOUNT
from ..lifecycle.helpers import (
    account_read,
    api_calls,
    collection_path,
    item_path,
    marked_post,
    masked_calls,
    renamed,
)

pytestmark = pytest.mark.engine

READER = {"integrated_account_id": ACCOUNT, "name": "reader", "config": {"methods": ["read"]}}
POSTED = marked_post("reader", config={"methods": ["read"]})
"""READER's create as `masked_calls` shows it: the name under the stack's create mark."""


def urn(name: str) -> str:
    return f"urn:pulumi:{STACK}::{PROJECT}::{MCP_SERVER_TYPE}::{name}"


def test_ignore_changes_keeps_the_live_name_and_sends_nothing(
    engine_stack: EngineStack, emulator: Emulator
) -> None:
    options = pulumi.ResourceOptions(ignore_changes=["name"])
    engine_stack.up({"reader": Server(READER, options)})
    emulator.clear_journal()
    renamed = Server({**READER, "name": "ignored"}, options)
    engine_stack.preview({"reader": renamed}, expect_no_changes=True)
    up = engine_stack.up({"reader": renamed})
    assert changes(up.summary.resource_changes) == {}
    assert api_calls(emulator) == []
    assert emulator.servers()[0]["name"] == "reader"


def test_protect_refuses_destroy_and_keeps_the_server(
    engine_stack: EngineStack, emulator: Emulator
) -> None:
    engine_stack.up({"reader": Server(READER, pulumi.ResourceOptions(protect=True))})
    emulator.clear_journal()
    with pytest.raises(auto.CommandError, match="protected"):
        engine_stack.destroy()
    assert api_calls(emulator) == []
    assert len(emulator.servers()) == 1
    assert list(engine_stack.servers()) == ["reader"]


def test_retain_on_delete_drops_the_resource_but_leaves_the_server(
    engine_stack: EngineStack, emulator: Emulator
) -> None:
    engine_stack.up({"reader": Server(READER, pulumi.ResourceOptions(retain_on_delete=True))})
    emulator.clear_journal()
    engine_stack.destroy()
    assert api_calls(emulator) == []
    assert len(emulator.servers()) == 1
    assert engine_stack.servers() == {}


def test_delete_before_replace_deletes_the_old_server_first(
    engine_stack: EngineStack, emulator: Emulator
) -> None:
    options = pulumi.ResourceOptions(delete_before_replace=True)
    engine_stack.up({"reader": Server(READER, options)})
    (old,) = emulator.servers()
    emulator.clear_journal()
    engine_stack.up({"reader": Server({**READER, "integrated_account_id": OTHER_ACCOUNT}, options)})
    (new,) = emulator.servers()
    assert masked_calls(emulator) == [
        ("DELETE", item_path(old["id"]), None),
        account_read(OTHER_ACCOUNT),  # the create reads the account ...
        ("GET", collection_path(OTHER_ACCOUNT), None),  # ... and lists it for leftovers
        ("POST", collection_path(OTHER_ACCOUNT), POSTED),
        ("PATCH", item_path(new["id"], OTHER_ACCOUNT), renamed("reader")),
    ]
    assert new["name"] == "reader"


def test_replace_on_changes_has_no_effect_so_the_change_is_an_update(
    engine_stack: EngineStack, emulator: Emulator
) -> None:
    # The dynamic provider host answers Diff without per-property detail, so the engine cannot
    # tell that `config` changed: the option is ignored (documented under Known limits).
    options = pulumi.ResourceOptions(replace_on_changes=["config"])
    engine_stack.up({"reader": Server(READER, options)})
    emulator.clear_journal()
    changed = Server({**READER, "config": {"methods": ["read"], "tags": ["crm"]}}, options)
    up = engine_stack.up({"reader": changed})
    assert changes(up.summary.resource_changes) == {"update": 1}
    assert [method for method, _, _ in api_calls(emulator)] == ["PATCH"]


def test_replacement_trigger_replaces_the_server_when_its_value_changes(
    engine_stack: EngineStack, emulator: Emulator
) -> None:
    engine_stack.up({"reader": Server(READER, pulumi.ResourceOptions(replacement_trigger="v1"))})
    (old,) = emulator.servers()
    emulator.clear_journal()
    up = engine_stack.up(
        {"reader": Server(READER, pulumi.ResourceOptions(replacement_trigger="v2"))}
    )
    assert changes(up.summary.resource_changes) == {"replace": 1}
    assert_replaced_by_a_new_server(emulator, old)


def assert_replaced_by_a_new_server(emulator: Emulator, old: dict[str, Any]) -> dict[str, Any]:
    """The replacement made a new server (account read, listing, marked POST, rename), then
    deleted `old`."""
    (new,) = emulator.servers()
    assert masked_calls(emulator) == [
        account_read(),  # the create reads the account ...
        ("GET", collection_path(), None),  # ... and lists it for leftovers
        ("POST", collection_path(), POSTED),
        ("PATCH", item_path(new["id"]), renamed("reader")),
        ("DELETE", item_path(old["id"]), None),
    ]
    assert new["name"] == "reader"
    return new


def test_target_updates_only_the_targeted_server(
    engine_stack: EngineStack, emulator: Emulator
) -> None:
    writer = {**READER, "name": "writer"}
    engine_stack.up({"reader": READER, "writer": writer})
    emulator.clear_journal()
    engine_stack.up(
        {"reader": {**READER, "name": "reader v2"}, "writer": {**writer, "name": "writer v2"}},
        target=[urn("reader")],
    )
    assert [(m, b) for m, _, b in api_calls(emulator)] == [("PATCH", {"name": "reader v2"})]


def test_replace_flag_replaces_an_unchanged_server(
    engine_stack: EngineStack, emulator: Emulator
) -> None:
    engine_stack.up({"reader": READER})
    (old,) = emulator.servers()
    emulator.clear_journal()
    up = engine_stack.up({"reader": READER}, replace=[urn("reader")])
    assert changes(up.summary.resource_changes) == {"replace": 1}
    new = assert_replaced_by_a_new_server(emulator, old)
    assert engine_stack.servers()["reader"]["id"] == new["id"]
