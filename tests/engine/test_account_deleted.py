"""An integrated account deleted in Truto takes its MCP servers with it. Through the real
engine: once the provider proves the account deleted (the server and the account's list answer
404, the account itself 404, the installed integration the state recorded 200), destroy and
refresh drop its server with a warning naming the account. A 404 that proves nothing (a token of
another Truto environment, a base URL that is not Truto's API) fails them and the state keeps
the server."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from pulumi import automation as auto

from devkit.driver import EngineStack, changes
from truto_pulumi.emulator import Emulator, run_emulator

from ..kit import ACCOUNT, EngineStackFactory
from ..lifecycle.helpers import account_path, collection_path, item_path

pytestmark = pytest.mark.engine

READER = {"integrated_account_id": ACCOUNT, "name": "reader", "config": {"methods": ["read"]}}


@pytest.fixture(scope="module")
def other_environment() -> Iterator[Emulator]:
    """A second Truto environment: a token and installed integrations of its own, and none of
    the first environment's accounts (Truto answers 404 for another environment's account)."""
    with run_emulator(accounts=[]) as running:
        yield running


def journal_of(emulator: Emulator) -> list[tuple[str, str, int]]:
    """(method, path, status) of every API request the emulator received, in order."""
    return [(e["method"], e["path"], e["status"]) for e in emulator.journal()]


def with_server(stack: EngineStack, emulator: Emulator) -> str:
    """`up` of READER; its server's id. The state records the account's installed integration;
    the journal is cleared."""
    stack.up({"reader": READER})
    (server,) = emulator.servers()
    recorded = stack.servers()["reader"]["outputs"]["environment_integration_id"]
    assert recorded == emulator.environment()["default_environment_integration_id"]
    emulator.clear_journal()
    return str(server["id"])


@pytest.mark.parametrize("operation", ["destroy", "refresh"])
def test_a_server_of_a_deleted_account_is_dropped_with_a_warning_naming_the_account(
    engine_stack: EngineStack, emulator: Emulator, operation: str
) -> None:
    server = with_server(engine_stack, emulator)
    assert emulator.remove_account(ACCOUNT) == [server]

    result = getattr(engine_stack, operation)()

    deleted = 2 if operation == "destroy" else 1  # destroy deletes the stack too
    assert changes(result.summary.resource_changes) == {"delete": deleted}
    first = ("DELETE" if operation == "destroy" else "GET", item_path(server), 404)
    install = emulator.environment()["default_environment_integration_id"]
    assert journal_of(emulator) == [
        first,
        ("GET", collection_path(), 404),
        ("GET", account_path(), 404),  # the account: deleted ...
        ("GET", f"/environment-integration/{install}", 200),  # ... from an environment that is
    ]
    text = engine_stack.text()
    assert f"integrated account {ACCOUNT} no longer exists in Truto" in text
    assert "warning" in text
    assert engine_stack.servers() == {}


@pytest.mark.parametrize("operation", ["destroy", "refresh"])
@pytest.mark.parametrize("where", ["another environment", "wrong base URL"])
def test_a_404_that_proves_nothing_fails_and_the_state_keeps_the_server(
    make_engine_stack: EngineStackFactory,
    emulator: Emulator,
    other_environment: Emulator,
    where: str,
    operation: str,
) -> None:
    stack = make_engine_stack()
    server = with_server(stack, emulator)
    other_environment.reset()
    if where == "another environment":
        stack.configure(other_environment.api_token, other_environment.url)
        answering, prefix = other_environment, ""
    else:
        stack.configure(None, f"{emulator.url}/v1")
        answering, prefix = emulator, "/v1"
    install = emulator.environment()["default_environment_integration_id"]

    # The engine keeps the provider's config in state: refresh and destroy use what the last
    # `up` stored, unless the program runs (`--run-program`) and brings the new config.
    with pytest.raises(auto.CommandError) as raised:
        getattr(stack, operation)(run_program=True)

    assert "does not show that the server is gone" in str(raised.value)
    assert list(stack.servers()) == ["reader"]
    assert [s["id"] for s in emulator.servers()] == [server]
    # Every call answered 404: the installed integration too, so the account's 404 proves
    # nothing (another environment does not have it; a wrong base URL answers 404 to all).
    first = "DELETE" if operation == "destroy" else "GET"
    assert journal_of(answering) == [
        (first, prefix + item_path(server), 404),
        ("GET", prefix + collection_path(), 404),
        ("GET", prefix + account_path(), 404),
        ("GET", f"{prefix}/environment-integration/{install}", 404),
    ]
