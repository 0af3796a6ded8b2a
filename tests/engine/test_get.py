"""`TrutoMcpServer.get` under the real engine: a read-only reference to a server made elsewhere
(Truto's dashboard, another stack). The engine reads it at every run (the provider's Read) and
never creates, updates or deletes it, also when the program stops declaring it or the stack is
destroyed."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pulumi
import pytest
from pulumi import automation as auto

from devkit.driver import EngineStack, changes
from truto_pulumi import TrutoMcpServer
from truto_pulumi.emulator import Emulator

from ..kit import ACCOUNT
from ..lifecycle.helpers import account_read, api_calls, item_path, made_in_dashboard

pytestmark = pytest.mark.engine

MISSING_ID = "0d5e7c1a-0000-4000-8000-00000000dead"
SHOWN = ("name", "config", "token_known", "integrated_account_id", "environment_integration_id")


def referencing(server_id: str, account: str = ACCOUNT) -> Callable[[], None]:
    """A program holding one reference, `ref`, to `server_id`, exporting its outputs."""

    def program() -> None:
        ref = TrutoMcpServer.get("ref", server_id, account)
        pulumi.export("id", ref.id)
        for key in (*SHOWN, "token", "url"):
            pulumi.export(key, getattr(ref, key))

    return program


def nothing() -> None:
    """A program declaring nothing."""


def writes(emulator: Emulator) -> list[tuple[str, str, Any]]:
    """The calls that could change a server: anything but a GET."""
    return [call for call in api_calls(emulator) if call[0] != "GET"]


@pytest.fixture
def dashboard_server(emulator: Emulator) -> dict[str, Any]:
    """A server made outside Pulumi (Truto's dashboard), with its token; journal cleared."""
    answered = made_in_dashboard(emulator, ACCOUNT, name="dashboard", config={"methods": ["read"]})
    emulator.clear_journal()
    (made,) = [s for s in emulator.servers() if s["id"] == answered["id"]]
    return made  # as Truto holds it: `config` without the defaults the API echoes


def test_get_reads_an_existing_server_with_gets_only_and_never_changes_it(
    engine_stack: EngineStack, emulator: Emulator, dashboard_server: dict[str, Any]
) -> None:
    existing = dashboard_server
    engine_stack.program = referencing(existing["id"])

    up = engine_stack.up({})

    assert changes(up.summary.resource_changes) == {"create": 1}  # the stack; a read is no change
    assert api_calls(emulator) == [
        ("GET", item_path(existing["id"]), None),
        account_read(),  # the installed integration of its account
    ]
    shown = {key: output.value for key, output in up.outputs.items()}
    install = emulator.environment()["default_environment_integration_id"]
    assert {key: shown[key] for key in ("id", *SHOWN)} == {
        "id": existing["id"],
        "name": "dashboard",
        "config": {"methods": ["read"]},
        "token_known": False,
        "integrated_account_id": ACCOUNT,
        "environment_integration_id": install,
    }
    assert shown.get("token") is None  # Truto shows a token and url to their create only
    assert shown.get("url") is None
    state = engine_stack.servers()["ref"]
    assert (state["id"], state.get("external")) == (existing["id"], True)
    assert existing["token"] not in engine_stack.text() + str(engine_stack.export())

    emulator.clear_journal()
    refresh = engine_stack.refresh()
    assert changes(refresh.summary.resource_changes) == {}
    assert {method for method, _, _ in api_calls(emulator)} == {"GET"}

    emulator.edit_server(existing["id"], name="renamed in the dashboard")
    emulator.clear_journal()
    up = engine_stack.up({})  # the reference follows the server; nothing is sent to change it
    assert up.outputs["name"].value == "renamed in the dashboard"
    assert {method for method, _, _ in api_calls(emulator)} == {"GET"}
    assert emulator.servers() == [{**existing, **only_changes(emulator, existing)}]


def only_changes(emulator: Emulator, existing: dict[str, Any]) -> dict[str, Any]:
    """The fields of the live server that the dashboard edit changed (name, updated_at)."""
    (live,) = emulator.servers()
    assert live["id"] == existing["id"]
    return {key: value for key, value in live.items() if existing.get(key) != value}


def test_dropping_a_reference_destroying_the_stack_or_a_missing_id_changes_nothing(
    engine_stack: EngineStack, emulator: Emulator, dashboard_server: dict[str, Any]
) -> None:
    existing = dashboard_server
    engine_stack.program = referencing(existing["id"])
    engine_stack.up({})
    emulator.clear_journal()

    engine_stack.program = nothing
    up = engine_stack.up({})
    assert changes(up.summary.resource_changes) == {"discard": 1}

    engine_stack.program = referencing(existing["id"])
    engine_stack.up({})
    destroyed = engine_stack.destroy()  # the stack deleted, the reference only discarded
    assert changes(destroyed.summary.resource_changes) == {"delete": 1, "discard": 1}

    engine_stack.program = referencing(MISSING_ID)
    with pytest.raises(auto.CommandError) as raised:
        engine_stack.up({})
    assert f"MCP server {MISSING_ID} does not exist" in str(raised.value)

    assert writes(emulator) == []
    assert emulator.servers() == [existing]
    assert engine_stack.servers() == {}
