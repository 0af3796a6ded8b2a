"""The provider through the real dynamic-provider host (`python -m pulumi.dynamic`) over gRPC,
against the Truto emulator on loopback: the calls the engine makes, in the engine's order."""

from __future__ import annotations

from typing import Any

import pytest
from pulumi.dynamic.dynamic import serialize_provider

from devkit import ProviderHost
from truto_pulumi._mark import read_mark, stack_tag
from truto_pulumi.emulator import Emulator
from truto_pulumi.provider import TrutoMcpServerProvider

from .kit import ACCOUNT

pytestmark = pytest.mark.slow  # starts the provider host and the emulator

URN = "urn:pulumi:dev::demo::pulumi-python:dynamic/truto:McpServer::reader"
PROVIDER = serialize_provider(TrutoMcpServerProvider())


@pytest.fixture(scope="module", autouse=True)
def _configured(host: ProviderHost, emulator: Emulator) -> None:
    configure(host, emulator)


def configure(host: ProviderHost, emulator: Emulator) -> None:
    host.configure({"truto:apiToken": emulator.api_token, "truto:baseUrl": emulator.url})


def api_calls(emulator: Emulator) -> list[tuple[str, str, Any]]:
    return [(entry["method"], entry["path"], entry["body"]) for entry in emulator.journal()]


def test_create_noop_update_read_delete_through_the_host(
    host: ProviderHost, emulator: Emulator
) -> None:
    emulator.reset()
    host.restart()  # a new provider process, as every `pulumi up` gets one
    configure(host, emulator)
    desired = {
        "__provider": PROVIDER,
        "integrated_account_id": ACCOUNT,
        "name": "reader",
        "config": {"methods": ["read"], "tags": ["contacts", "companies"]},
    }
    checked = host.check(URN, {}, desired)
    assert checked.failures == []
    assert checked.inputs["config"] == {"methods": ["read"], "tags": ["companies", "contacts"]}

    server_id, outputs = host.create(URN, checked.inputs)
    assert outputs["token"]
    assert outputs["url"].endswith(outputs["token"])
    assert outputs["config"] == checked.inputs["config"]
    assert outputs["name"] == "reader"
    calls = api_calls(emulator)
    assert [(m, p) for m, p, _ in calls] == [
        ("GET", f"/integrated-account/{ACCOUNT}"),  # the first create in the account reads it
        ("GET", f"/integrated-account/{ACCOUNT}/mcp"),  # and lists it for leftovers
        ("POST", f"/integrated-account/{ACCOUNT}/mcp"),  # under the create's mark
        ("PATCH", f"/integrated-account/{ACCOUNT}/mcp/{server_id}"),  # the declared name
    ]
    marked = read_mark(calls[2][2]["name"])
    assert marked is not None
    assert (marked[0], marked[1].stack) == ("reader", stack_tag(URN))
    assert calls[3][2] == {"name": "reader", "expires_at": None}  # the provisional one cleared
    integration = emulator.environment()["default_environment_integration_id"]
    assert outputs["environment_integration_id"] == integration  # the account's, read once
    assert [s["name"] for s in emulator.servers()] == ["reader"]

    emulator.clear_journal()
    reordered = {**desired, "config": {"methods": ["read"], "tags": ["contacts", "companies"]}}
    again = host.check(URN, checked.inputs, reordered)
    assert host.diff(server_id, URN, outputs, again.inputs, checked.inputs).changes is False
    assert api_calls(emulator) == []  # check and diff make no HTTP call

    renamed = host.check(URN, checked.inputs, {**desired, "name": "reader v2"})
    diff = host.diff(server_id, URN, outputs, renamed.inputs, checked.inputs)
    assert (diff.changes, diff.replaces) == (True, [])
    updated = host.update(server_id, URN, outputs, renamed.inputs, checked.inputs)
    assert api_calls(emulator) == [
        ("PATCH", f"/integrated-account/{ACCOUNT}/mcp/{server_id}", {"name": "reader v2"})
    ]
    assert updated["name"] == "reader v2"
    assert (updated["token"], updated["url"]) == (outputs["token"], outputs["url"])
    assert host.diff(server_id, URN, updated, renamed.inputs, renamed.inputs).changes is False

    emulator.clear_journal()
    read = host.read(server_id, URN, updated, renamed.inputs)
    assert read.id == server_id
    assert read.outputs["token"] == outputs["token"]
    assert read.inputs is not None
    assert read.inputs["name"] == "reader v2"
    assert read.outputs["environment_integration_id"] == updated["environment_integration_id"]
    assert [m for m, _, _ in api_calls(emulator)] == ["GET"]  # recorded: the account not read

    emulator.clear_journal()
    host.delete(server_id, URN, updated)
    assert [m for m, _, _ in api_calls(emulator)] == ["DELETE"]
    assert emulator.servers() == []
    host.delete(server_id, URN, updated)  # already gone: still a success


def test_tag_change_patches_the_whole_config_and_clears_removed_keys(
    host: ProviderHost, emulator: Emulator
) -> None:
    emulator.reset()
    desired = {
        "__provider": PROVIDER,
        "integrated_account_id": ACCOUNT,
        "name": "scoped",
        "config": {"methods": ["read"], "tags": ["a"], "tool_exposure": "discovery"},
        "expires_at": "2099-01-01T00:00:00Z",
    }
    inputs = host.check(URN, {}, desired).inputs
    server_id, outputs = host.create(URN, inputs)
    emulator.clear_journal()
    news = host.check(
        URN, inputs, {**desired, "config": {"methods": ["read"], "tags": ["b"]}, "expires_at": None}
    ).inputs
    host.update(server_id, URN, outputs, news, inputs)
    ((_, _, body),) = api_calls(emulator)
    assert body == {
        "config": {"methods": ["read"], "tags": ["b"], "tool_exposure": "all"},
        "expires_at": None,
    }
    (live,) = emulator.servers()
    assert live["config"] == {"methods": ["read"], "tags": ["b"], "tool_exposure": "all"}
    assert live.get("expires_at") is None


def test_bad_input_fails_at_check_naming_the_property(host: ProviderHost) -> None:
    result = host.check(
        URN, {}, {"__provider": PROVIDER, "integrated_account_id": "nope", "name": "x"}
    )
    assert [failure.property for failure in result.failures] == ["integrated_account_id"]


def test_refresh_of_a_server_deleted_outside_pulumi_drops_it(
    host: ProviderHost, emulator: Emulator
) -> None:
    emulator.reset()
    inputs = host.check(
        URN, {}, {"__provider": PROVIDER, "integrated_account_id": ACCOUNT, "name": "gone"}
    ).inputs
    server_id, outputs = host.create(URN, inputs)
    emulator.delete_server(server_id)
    assert host.read(server_id, URN, outputs, inputs).id == ""
