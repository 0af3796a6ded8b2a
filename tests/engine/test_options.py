"""Engine-side resource options and flags on TrutoMcpServer, run by the real engine: one stack
holding a server per option, taken through the changes and commands each option is about."""

from __future__ import annotations

from typing import Any

import pulumi
import pytest
from pulumi import automation as auto

from devkit import MCP_SERVER_TYPE
from devkit.driver import PROJECT, STACK, EngineStack, Server, changes
from truto_pulumi.emulator import Emulator

from ..kit import ACCOUNT, OTHER_ACCOUNT
from ..lifecycle.helpers import api_calls, create_mark, item_path

pytestmark = pytest.mark.engine

OPTIONS = {
    "ignored": pulumi.ResourceOptions(ignore_changes=["name"]),
    "protected": pulumi.ResourceOptions(protect=True),
    "retained": pulumi.ResourceOptions(retain_on_delete=True),
    "dbr": pulumi.ResourceOptions(delete_before_replace=True),
    "roc": pulumi.ResourceOptions(replace_on_changes=["config"]),
}
"""Each server's option; `trigger` gets its `replacement_trigger` from `declared`."""


def urn(name: str) -> str:
    return f"urn:pulumi:{STACK}::{PROJECT}::{MCP_SERVER_TYPE}::{name}"


def declared(
    trigger: str = "v1", protect: bool = True, **changed: dict[str, Any]
) -> dict[str, Server]:
    """A server per option, named after it, reading in ACCOUNT; `changed` overrides inputs."""
    options = {
        **OPTIONS,
        "protected": pulumi.ResourceOptions(protect=protect),
        "trigger": pulumi.ResourceOptions(replacement_trigger=trigger),
    }
    base = {"integrated_account_id": ACCOUNT, "config": {"methods": ["read"]}}
    return {
        name: Server({**base, "name": name, **changed.get(name, {})}, opts)
        for name, opts in options.items()
    }


def live(emulator: Emulator) -> dict[str, str]:
    """Server name -> id, as Truto has them."""
    return {server["name"]: server["id"] for server in emulator.servers()}


def sent(emulator: Emulator) -> list[tuple[str, str, Any]]:
    """(method, path, body) of the requests since the journal was cleared, a POST's body as the
    name it marks."""
    return [
        (method, path, create_mark(body["name"])[0] if method == "POST" else body)
        for method, path, body in api_calls(emulator)
    ]


def test_each_option_does_what_the_engine_says_and_nothing_more(
    engine_stack: EngineStack, emulator: Emulator
) -> None:
    engine_stack.up(declared())
    before = live(emulator)
    emulator.clear_journal()

    changed: dict[str, Any] = {
        "ignored": {"name": "renamed but ignored"},
        "dbr": {"integrated_account_id": OTHER_ACCOUNT},
        "roc": {"config": {"methods": ["read"], "tags": ["crm"]}},
    }
    up = engine_stack.up(declared(trigger="v2", **changed))

    # replace_on_changes has no effect: the host answers Diff without per-property detail.
    assert changes(up.summary.resource_changes) == {"update": 1, "replace": 2}
    calls = sent(emulator)
    assert not [call for call in calls if before["ignored"] in call[1]]  # ignore_changes
    assert [(m, b) for m, p, b in calls if before["roc"] in p] == [
        ("PATCH", {"config": {"methods": ["read"], "tags": ["crm"]}})
    ]
    dbr_delete = calls.index(("DELETE", item_path(before["dbr"]), None))
    dbr_post = next(i for i, (m, _, b) in enumerate(calls) if (m, b) == ("POST", "dbr"))
    assert dbr_delete < dbr_post  # delete_before_replace
    trigger_post = next(i for i, (m, _, b) in enumerate(calls) if (m, b) == ("POST", "trigger"))
    assert trigger_post < calls.index(("DELETE", item_path(before["trigger"]), None))
    after = live(emulator)
    assert after["dbr"] != before["dbr"]
    assert after["trigger"] != before["trigger"]

    emulator.clear_journal()
    changed["roc"] = {**changed["roc"], "name": "roc v2"}
    engine_stack.up(  # --target: only the targeted server changes
        declared(trigger="v2", **changed, protected={"name": "protected v2"}),
        target=[urn("roc")],
    )
    assert [(m, b) for m, _, b in api_calls(emulator)] == [("PATCH", {"name": "roc v2"})]

    engine_stack.up(declared(trigger="v2", **changed), replace=[urn("retained")])  # --replace
    retained = engine_stack.servers()["retained"]["id"]
    assert retained != after["retained"]
    live_ids = {server["id"] for server in emulator.servers()}
    assert {retained, after["retained"]} <= live_ids  # retain_on_delete kept the replaced one

    with pytest.raises(auto.CommandError, match="protected"):
        engine_stack.destroy()
    assert before["protected"] in {server["id"] for server in emulator.servers()}
    engine_stack.up(declared(trigger="v2", protect=False, **changed))
    engine_stack.destroy()
    assert engine_stack.servers() == {}
    left = {server["id"]: server["name"] for server in emulator.servers()}
    assert set(left.values()) == {"retained"}  # retain_on_delete, each time the engine deleted it
    assert {retained, after["retained"]} <= set(left)
