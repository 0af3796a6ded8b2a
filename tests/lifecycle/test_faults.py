"""Every fault the emulator can inject, on each operation: survived, or reported clearly.

After each, the emulator's servers are counted: nothing may be orphaned or duplicated.
A one-shot fault (`times=1`) must be survived: the retry meets a healthy emulator. A fault
that persists must end in an error that says what failed, still with nothing left behind.
A 429 carries `Retry-After: 1`, which the client honours.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from devkit import (
    NO_TRUTO_ENV,
    HostCallError,
    OperationError,
    ProviderHost,
    SimulatedStack,
    UpError,
    mcp_server_stack,
)
from truto_pulumi._create import CREATE_ATTEMPTS
from truto_pulumi._mark import read_mark
from truto_pulumi._settings import OPERATION_TIMEOUT_KEY
from truto_pulumi.emulator import Emulator

from ..kit import ACCOUNT
from .helpers import NAME, account_path, collection_path, desired, renamed, requests_of

pytestmark = pytest.mark.slow  # starts the provider host and the emulator

RETRY_AFTER = 1
DELAY = 0.3
OPERATION_TIMEOUT = 1.0
"""`truto:operationTimeoutSeconds` of the impatient host, which meets persistent faults."""

TRANSIENT: dict[str, dict[str, Any]] = {
    "429-retry-after": {"status": 429, "retry_after": RETRY_AFTER},
    "500": {"status": 500},
    "503": {"status": 503},
}
"""Answered with an error status before acting."""

LATENCY: dict[str, dict[str, Any]] = {"latency": {"delay": DELAY}}

DROPPED: dict[str, dict[str, Any]] = {"dropped-connection": {"drop": True}}
"""The connection closes without an answer, before acting."""

LOST_ANSWER: dict[str, dict[str, Any]] = {
    "lost-answer": {"lose_answer": True},
    "lost-answer-then-500": {"lose_answer": True, "status": 500},
}
"""Truto acts, then the client gets no answer (or a 500 instead of the real one)."""

ALL_FAULTS = {**TRANSIENT, **LATENCY, **DROPPED, **LOST_ANSWER}
CREATE_FAULTS = {**TRANSIENT, **LATENCY, **LOST_ANSWER}
"""A dropped connection leaves a create unsettled: see the test of its own below."""
READ_FAULTS = {**TRANSIENT, **LATENCY, **DROPPED}
"""A lost answer to a GET is a dropped connection: there is nothing to act on."""

CREATE_JOURNAL: dict[str, list[str]] = {
    # The HTTP calls one create makes, by fault. It is the first create in the account in a new
    # provider process (as every `pulumi up` gets), so it first reads the account (GET, for its
    # installed integration), then lists its servers once for what interrupted runs of the
    # stack left (GET); it POSTs the name under its mark, and once it has the answer PATCHes
    # the declared name.
    # Truto refuses a request with 429 or 503 before acting, so the client simply retries the
    # POST.
    "429-retry-after": ["GET", "GET", "POST", "POST", "PATCH"],
    "503": ["GET", "GET", "POST", "POST", "PATCH"],
    # Truto answered 500 itself, so it is done with the POST: one listing shows that no server
    # carries its mark, and the create POSTs again under a new one.
    "500": ["GET", "GET", "POST", "GET", "POST", "PATCH"],
    "latency": ["GET", "GET", "POST", "PATCH"],
    # It did act: the server with the lost POST's mark is deleted before the POST that counts.
    "lost-answer": ["GET", "GET", "POST", "GET", "DELETE", "POST", "PATCH"],
    "lost-answer-then-500": ["GET", "GET", "POST", "GET", "DELETE", "POST", "PATCH"],
}


@pytest.fixture(scope="module")
def impatient_host(emulator: Emulator) -> Iterator[ProviderHost]:
    """A host of its own whose provider gives each operation `OPERATION_TIMEOUT` seconds."""
    with ProviderHost(env=NO_TRUTO_ENV) as started:
        yield started


@pytest.fixture
def impatient_stack(impatient_host: ProviderHost, emulator: Emulator) -> SimulatedStack:
    emulator.reset()
    return mcp_server_stack(
        impatient_host,
        api_token=emulator.api_token,
        base_url=emulator.url,
        settings={OPERATION_TIMEOUT_KEY: str(OPERATION_TIMEOUT)},
    )


def assert_fault_then_recovery(emulator: Emulator, method: str, action: dict[str, Any]) -> None:
    """The first `method` request met the fault; unless it only added latency, it was tried
    again and the second try succeeded (after `Retry-After` for a 429)."""
    entries = requests_of(emulator, method)
    assert entries, f"no {method} request reached the emulator"
    assert entries[0]["fault"] == action
    if action == LATENCY["latency"]:
        assert len(entries) == 1
        return
    assert len(entries) == 2, entries
    assert entries[1]["fault"] is None
    if action.get("status") == 429:
        waited = entries[1]["ts"] - entries[0]["ts"]
        assert waited >= RETRY_AFTER - 0.05, f"retried after {waited:.2f} s, before Retry-After"


def single_server(emulator: Emulator, stack: SimulatedStack) -> dict[str, Any]:
    """The only server in the emulator, which must be the one in the state, token included."""
    servers = emulator.servers()
    assert len(servers) == 1, f"expected exactly one server, found {len(servers)}"
    state = stack.resources[NAME]
    assert state.id == servers[0]["id"]
    assert state.outputs["token"] == servers[0]["token"]
    return servers[0]


def error_of(raised: OperationError) -> str:
    error = raised.errors[NAME]
    assert isinstance(error, HostCallError)
    return error.summary


# --- create ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("action", "journal"),
    [(CREATE_FAULTS[fault], CREATE_JOURNAL[fault]) for fault in CREATE_FAULTS],
    ids=CREATE_FAULTS,
)
def test_create_survives_every_fault_with_exactly_one_server_whose_token_is_known(
    stack: SimulatedStack, emulator: Emulator, action: dict[str, Any], journal: list[str]
) -> None:
    stack.new_host_each_run = True  # a `pulumi up` of its own: a new provider process
    emulator.inject(method="POST", **action)

    result = stack.up(desired())

    assert result.ops == {NAME: "create"}
    assert [entry["method"] for entry in emulator.journal()] == journal
    assert emulator.journal()[0]["path"] == account_path()  # its account read first
    assert_fault_then_recovery(emulator, "POST", action)
    posted = {read_mark(entry["body"]["name"]) for entry in requests_of(emulator, "POST")}
    assert {marked[0] if marked else None for marked in posted} == {"reader"}
    assert [entry["body"] for entry in requests_of(emulator, "PATCH")] == [renamed("reader")]
    server = single_server(emulator, stack)
    assert server["name"] == "reader"
    deletes = requests_of(emulator, "DELETE")
    assert all(not entry["path"].endswith(server["id"]) for entry in deletes)
    if action == LATENCY["latency"]:
        (create,) = [call for call in stack.host.calls if call.method == "Create"]
        assert create.seconds >= DELAY


def test_create_whose_connection_drops_waits_for_the_server_then_fails_without_posting_again(
    impatient_stack: SimulatedStack, emulator: Emulator
) -> None:
    impatient_stack.new_host_each_run = True  # a `pulumi up` of its own: a new provider process
    emulator.inject(method="POST", **DROPPED["dropped-connection"])

    with pytest.raises(UpError) as raised:
        impatient_stack.up(desired())

    summary = error_of(raised.value)
    assert "Truto may still make it, so nothing was put in the state" in summary
    (post,) = requests_of(emulator, "POST")  # never POSTed again while the first may land
    marked = read_mark(post["body"]["name"])
    assert marked is not None
    assert marked[0] == "reader"
    assert f"its name would end in {str(marked[1])!r}" in summary
    calls = [(entry["method"], entry["path"]) for entry in emulator.journal()]
    assert calls[:3] == [
        ("GET", account_path()),  # the account read, for its installed integration
        ("GET", collection_path()),  # the account checked for leftovers
        ("POST", collection_path()),
    ]
    assert set(calls[3:]) == {("GET", collection_path())}  # listed until the operation timeout
    assert emulator.servers() == []
    assert impatient_stack.resources == {}


@pytest.mark.parametrize(
    "action",
    [*LOST_ANSWER.values(), TRANSIENT["500"]],
    ids=[*LOST_ANSWER, "500"],
)
def test_create_that_never_gets_an_answer_fails_clearly_and_leaves_nothing(
    stack: SimulatedStack, emulator: Emulator, action: dict[str, Any]
) -> None:
    emulator.inject(method="POST", times=CREATE_ATTEMPTS, **action)

    with pytest.raises(UpError) as raised:
        stack.up(desired())

    summary = error_of(raised.value)
    assert f"no usable answer to {CREATE_ATTEMPTS} creates of this MCP server" in summary
    assert "none is left behind" in summary
    assert len(requests_of(emulator, "POST")) == CREATE_ATTEMPTS
    assert emulator.servers() == []
    assert stack.resources == {}


def test_lost_create_answer_spares_a_same_named_server_of_the_same_stack(
    stack: SimulatedStack, emulator: Emulator
) -> None:
    """A server the provider saw in this run (here: one it diffs) is never taken for what
    the lost POST made."""
    stack.up({"kept": desired(name="twin")[NAME]})
    kept_id = stack.resources["kept"].id
    emulator.inject(method="POST", lose_answer=True)

    stack.up({"kept": desired(name="twin")[NAME], NAME: desired(name="twin")[NAME]})

    ids = {server["id"] for server in emulator.servers()}
    assert ids == {kept_id, stack.resources[NAME].id}


@pytest.mark.parametrize(
    "fault",
    [
        pytest.param({"status": 500}, id="truto_500_made_nothing"),
        pytest.param({"lose_answer": True}, id="answer_lost_after_truto_made_it"),
        pytest.param({"lose_answer": True, "status": 500}, id="truto_500_after_making_it"),
    ],
)
def test_lost_create_answer_spares_a_same_named_server_of_another_stack(
    stack: SimulatedStack, emulator: Emulator, fault: dict[str, Any]
) -> None:
    """Two stacks (two `pulumi up` runs, so two provider hosts) declare the same server name
    in one account a few seconds apart; the second one's POST gets no usable answer."""
    stack.up(desired(name="reader"))
    other_stack_id = stack.resources[NAME].id
    with ProviderHost(env=NO_TRUTO_ENV) as second_host:
        second = mcp_server_stack(
            second_host, api_token=emulator.api_token, base_url=emulator.url, stack="prod"
        )
        emulator.inject(method="POST", **fault)

        second.up(desired(name="reader"))

        ids = {server["id"] for server in emulator.servers()}
        assert ids == {other_stack_id, second.resources[NAME].id}
        assert {s["name"] for s in emulator.servers()} == {"reader"}
        assert second.refresh()[NAME].drift is False


# --- update ---------------------------------------------------------------------------------


@pytest.mark.parametrize("action", ALL_FAULTS.values(), ids=ALL_FAULTS)
def test_update_survives_every_fault_with_one_server_holding_the_new_name(
    stack: SimulatedStack, emulator: Emulator, action: dict[str, Any]
) -> None:
    stack.up(desired())
    token = stack.resources[NAME].outputs["token"]
    emulator.clear_journal()
    emulator.inject(method="PATCH", **action)

    result = stack.up(desired(name="renamed"))

    assert result.ops == {NAME: "update"}
    assert_fault_then_recovery(emulator, "PATCH", action)
    assert single_server(emulator, stack)["name"] == "renamed"
    outputs = stack.resources[NAME].outputs
    assert (outputs["name"], outputs["token"]) == ("renamed", token)


def test_update_refused_by_truto_is_reported_at_once_and_keeps_the_prior_state(
    stack: SimulatedStack, emulator: Emulator
) -> None:
    stack.up(desired())
    before = stack.resources[NAME]
    emulator.clear_journal()
    emulator.inject(method="PATCH", status=422)

    with pytest.raises(UpError) as raised:
        stack.up(desired(name="renamed"))

    summary = error_of(raised.value)
    assert "Truto answered 422 to PATCH" in summary
    assert "Injected fault" in summary  # Truto's own message is passed on
    assert len(requests_of(emulator, "PATCH")) == 1
    assert stack.resources[NAME] == before
    assert single_server(emulator, stack)["name"] == "reader"


def test_update_of_a_server_deleted_outside_pulumi_says_to_refresh(
    stack: SimulatedStack, emulator: Emulator
) -> None:
    stack.up(desired())
    emulator.delete_server(stack.resources[NAME].id)

    with pytest.raises(UpError) as raised:
        stack.up(desired(name="renamed"))

    summary = error_of(raised.value)
    assert "no longer exists in Truto" in summary
    assert "pulumi refresh" in summary
    assert emulator.servers() == []


# --- read (refresh) -------------------------------------------------------------------------


@pytest.mark.parametrize("action", READ_FAULTS.values(), ids=READ_FAULTS)
def test_refresh_survives_every_fault_without_reporting_drift(
    stack: SimulatedStack, emulator: Emulator, action: dict[str, Any]
) -> None:
    stack.up(desired())
    before = stack.resources[NAME]
    emulator.clear_journal()
    emulator.inject(method="GET", **action)

    outcome = stack.refresh()

    assert outcome[NAME].drift is False
    assert_fault_then_recovery(emulator, "GET", action)
    assert stack.resources[NAME].outputs == before.outputs
    single_server(emulator, stack)


# --- delete (destroy) -----------------------------------------------------------------------


@pytest.mark.parametrize("action", ALL_FAULTS.values(), ids=ALL_FAULTS)
def test_destroy_survives_every_fault_leaving_no_server(
    stack: SimulatedStack, emulator: Emulator, action: dict[str, Any]
) -> None:
    stack.up(desired())
    emulator.clear_journal()
    emulator.inject(method="DELETE", **action)

    stack.destroy()

    assert_fault_then_recovery(emulator, "DELETE", action)
    if action.get("lose_answer"):
        # The first call deleted it; the retry's 404 counts as "already deleted".
        assert requests_of(emulator, "DELETE")[1]["status"] == 404
    assert emulator.servers() == []
    assert stack.resources == {}


# --- faults that persist: reported when the operation timeout runs out ----------------------

PERSISTENT = {"503": {"status": 503}, "dropped-connection": {"drop": True}}


@pytest.mark.parametrize("action", PERSISTENT.values(), ids=PERSISTENT)
def test_update_failing_until_the_operation_timeout_names_it_and_keeps_state(
    impatient_stack: SimulatedStack, emulator: Emulator, action: dict[str, Any]
) -> None:
    impatient_stack.up(desired())
    before = impatient_stack.resources[NAME]
    emulator.inject(method="PATCH", times=1000, **action)

    with pytest.raises(UpError) as raised:
        impatient_stack.up(desired(name="renamed"))

    summary = error_of(raised.value)
    assert f"operation timeout of {OPERATION_TIMEOUT:g} s ({OPERATION_TIMEOUT_KEY}) ran out" in (
        summary
    )
    assert f"waiting on PATCH /integrated-account/{ACCOUNT}/mcp/{before.id}" in summary
    assert impatient_stack.resources[NAME] == before
    assert single_server(emulator, impatient_stack)["name"] == "reader"


@pytest.mark.parametrize("operation", ["refresh", "destroy"])
@pytest.mark.parametrize("action", PERSISTENT.values(), ids=PERSISTENT)
def test_refresh_or_destroy_failing_until_the_operation_timeout_names_it_and_keeps_the_resource(
    impatient_stack: SimulatedStack, emulator: Emulator, action: dict[str, Any], operation: str
) -> None:
    method = {"refresh": "GET", "destroy": "DELETE"}[operation]
    impatient_stack.up(desired())
    before = impatient_stack.resources[NAME]
    emulator.inject(method=method, times=1000, **action)

    with pytest.raises(OperationError) as raised:
        getattr(impatient_stack, operation)()

    summary = error_of(raised.value)
    assert "ran out" in summary
    assert f"waiting on {method} /integrated-account/{ACCOUNT}/mcp/{before.id}" in summary
    assert impatient_stack.resources[NAME] == before
    emulator.clear_faults()
    impatient_stack.destroy()  # the next run finishes the job
    assert emulator.servers() == []
