"""Faults through the real provider host against the emulator, as tables of (fault, the request
it meets, outcome): a one-shot fault is survived with exactly the servers the state holds
(tokens known), a lasting one fails naming what failed and keeps the state; a create whose
answer is lost never orphans, duplicates or touches another's server; and the listings an
account's operations share, counted at scale.

The client's retry rules (which status, which method, how long) are `tests/test_client.py`'s;
the create's settling of a lost answer, step by step, `tests/test_create.py`'s; how callers
share an account's listings, `tests/test_listings.py`'s."""

from __future__ import annotations

import time
from typing import Any

import pytest

from devkit import HostCallError, OperationError, SimulatedStack
from truto_pulumi._create import PROVISIONAL_MARGIN
from truto_pulumi._mark import CreateMark
from truto_pulumi._settings import OPERATION_TIMEOUT_KEY
from truto_pulumi.emulator import Emulator

from ..kit import ACCOUNT, OwnHostStackFactory
from .helpers import (
    NAME,
    account_read,
    collection_path,
    desired,
    item_path,
    made_in_dashboard,
    renamed,
    requests_of,
)

pytestmark = pytest.mark.slow  # starts provider hosts and the emulator

MCP_PATH = rf"^{collection_path()}$"
SERVER_PATH = rf"^{collection_path()}/[^/]+$"


def summary_of(raised: OperationError) -> str:
    error = raised.errors[NAME]
    assert isinstance(error, HostCallError)
    return error.summary


def assert_faulted_once(emulator: Emulator, method: str, fault: dict[str, Any]) -> None:
    """The first `method` request met `fault`, the retry a healthy emulator (how long a retry
    waits, `Retry-After` too: tests/test_client.py)."""
    first, retry = requests_of(emulator, method)
    assert (first["fault"], retry["fault"]) == (fault, None)


def assert_ours_beside_theirs(emulator: Emulator, stack: SimulatedStack, theirs: str) -> None:
    """Truto holds the other stack's server and the one in the state, token and url known,
    both named `reader`."""
    state = stack.resources[NAME]
    live = {s["id"]: s for s in emulator.servers()}
    assert {key: s["name"] for key, s in live.items()} == {theirs: "reader", state.id: "reader"}
    ours = live[state.id]
    assert (state.outputs["token"], state.outputs["url"]) == (ours["token"], ours["url"])


# --- create -----------------------------------------------------------------------------------

# The first create in the account in a new provider process reads the account, lists it for
# what interrupted runs left, POSTs the name under its mark and PATCHes the declared name.
# Refused before acting (503, as a 429): the POST again. Truto's own 500: one listing shows no
# server with the mark, and a POST under a new one. A lost answer: the server with the lost
# POST's mark is deleted before the POST that counts. None: the journal depends on timing.
REFUSED = ["GET", "GET", "POST", "POST", "PATCH"]
LOST = ["GET", "GET", "POST", "GET", "DELETE", "POST", "PATCH"]
CREATED, FAILS = "one server", "fails, then the next up creates it"


@pytest.mark.parametrize(
    ("method", "fault", "journal", "outcome"),
    [
        pytest.param("POST", {"status": 503}, REFUSED, CREATED, id="503_refused_before_acting"),
        pytest.param("POST", {"status": 500}, ["GET", "GET", "POST", "GET", "POST", "PATCH"],
                     CREATED, id="500_made_nothing"),
        pytest.param("POST", {"lose_answer": True}, LOST, CREATED, id="answer_lost_after_create"),
        pytest.param("POST", {"lose_answer": True, "status": 500}, LOST, CREATED,
                     id="500_after_create"),
        pytest.param("POST", {"delay": 1.5}, None, CREATED,
                     id="answer_slower_than_the_request_timeout"),
        pytest.param("POST", {"status": 504, "act_after": 1.0}, None, CREATED,
                     id="gateway_504_while_truto_goes_on"),
        pytest.param("POST", {"drop": True, "act_after": 1.0}, None, CREATED,
                     id="dropped_while_truto_goes_on"),
        pytest.param("PATCH", {"lose_answer": True, "status": 504}, None, CREATED,
                     id="rename_applied_never_answered"),
        pytest.param("POST", {"status": 504}, None, FAILS, id="gateway_504_made_nothing"),
        pytest.param("POST", {"drop": True}, None, FAILS, id="lost_never_lands"),
        pytest.param("POST", {"drop": True, "act_after": 2.5}, None, FAILS,
                     id="lost_lands_after_the_operation"),
    ],
)  # fmt: skip
def test_a_create_meeting_a_fault_ends_with_one_server_and_spares_another_stacks_of_its_name(
    own_host_stack: OwnHostStackFactory,
    emulator: Emulator,
    method: str,
    fault: dict[str, Any],
    journal: list[str] | None,
    outcome: str,
) -> None:
    """Another stack made a server of the same name an instant earlier: only a server carrying
    the lost POST's own mark is the lost POST's. A create not settled within the operation
    timeout fails saying why; what it made expires by itself."""
    theirs = made_in_dashboard(emulator, ACCOUNT, name="reader")["id"]
    emulator.clear_journal()
    timeouts = {"truto:requestTimeoutSeconds": "0.5", OPERATION_TIMEOUT_KEY: "20"}
    if method == "PATCH" or outcome == FAILS:
        timeouts = {OPERATION_TIMEOUT_KEY: "1.5" if outcome == FAILS else "6"}
    stack = own_host_stack(
        settings=timeouts,
        new_host_each_run=outcome == FAILS,  # the next `pulumi up`: a new provider process
    )
    if method == "POST":
        emulator.inject(method=method, path=MCP_PATH, **fault)
    else:  # every answer lost, and a removal refused: only reading it back can settle it
        emulator.inject(method=method, path=SERVER_PATH, times=50, **fault)
        emulator.inject(method="DELETE", path=SERVER_PATH, times=50, status=503)

    if outcome == CREATED:
        assert stack.up(desired()).ops == {NAME: "create"}
    else:
        with pytest.raises(OperationError) as raised:
            stack.up(desired())
        message = summary_of(raised.value)
        assert "Truto may still make it, so nothing was put in the state" in message
        assert "its name would end in '[pulumi creating " in message
        assert "it would carry a provisional expiry: Truto deletes it by itself" in message
        assert stack.resources == {}

    calls = [(entry["method"], entry["path"]) for entry in emulator.journal()]
    assert calls[:3] == [
        account_read()[:2],
        ("GET", collection_path()),
        ("POST", collection_path()),
    ]
    assert ("DELETE", item_path(theirs)) not in calls
    if journal is not None:
        assert [m for m, _ in calls] == journal
        assert_faulted_once(emulator, method, fault)
    if method == "PATCH":  # read back: the rename had landed; no removal that cannot happen
        sent = {(e["method"], e["status"]) for e in emulator.journal() if "/mcp/" in e["path"]}
        assert {("PATCH", 504), ("GET", 200)} <= sent
        assert "DELETE" not in {m for m, _ in sent}
    elif outcome == CREATED:
        assert [e["body"] for e in requests_of(emulator, "PATCH")] == [renamed("reader")]
    else:
        assert set(calls[3:]) == {("GET", collection_path())}  # listed; never POSTed again
    # Until the faulted request has acted, if it does: a POST still under way would land then.
    lands = requests_of(emulator, method)[0]["ts"] + fault.get("delay", fault.get("act_after", 0))
    time.sleep(max(0.0, lands + 0.3 - time.time()))
    if outcome == FAILS:
        landed = [s["name"] for s in emulator.servers() if s["id"] != theirs]
        assert [n.startswith("reader [pulumi creating ") for n in landed] == (
            [True] if "act_after" in fault else []
        )
        emulator.clear_faults()
        stack.up(desired())  # the next `pulumi up`
        emulator.advance_clock(1.5 + PROVISIONAL_MARGIN)  # what landed reaches its expiry
    assert_ours_beside_theirs(emulator, stack, theirs)
    assert stack.refresh()[NAME].drift is False


def legacy(urn: str) -> CreateMark:
    """A mark as releases up to 0.2.0 drew them (an 8-hex nonce, no provisional expiry)."""
    return CreateMark(CreateMark.drawn(urn).stack, "0badc0de")


def test_the_next_create_removes_only_what_a_killed_run_of_an_earlier_release_left(
    own_host_stack: OwnHostStackFactory, emulator: Emulator
) -> None:
    stack = own_host_stack()
    urn = stack.urn(NAME)
    # Each as an interrupted create left it: its POST landed, its rename never came.
    ours, gone_resource, other_stack, in_flight = (
        made_in_dashboard(emulator, ACCOUNT, name=mark.on(name))["id"]
        for mark, name in [
            (legacy(urn), NAME),
            (legacy(stack.urn("dropped")), "dropped"),
            (legacy(urn.replace(f":{stack.stack}::", ":prod::")), NAME),
            # A run of a same-named stack in another backend, answered, its rename not yet.
            (CreateMark.drawn(urn), NAME),
        ]
    )

    stack.up(desired())

    live = {s["id"]: s["name"] for s in emulator.servers()}
    assert ours not in live
    assert gone_resource not in live
    assert {other_stack, in_flight} < set(live)
    assert live[stack.resources[NAME].id] == "reader"
    assert len(live) == 3


# --- update, refresh, destroy ----------------------------------------------------------------


def test_a_destroy_whose_answer_was_lost_takes_the_retrys_404_as_done(
    stack: SimulatedStack, emulator: Emulator
) -> None:
    """The first DELETE did it; its retry's 404 counts as "already deleted". (Which fault is
    retried how, method by method: tests/test_client.py.)"""
    stack.up(desired())
    emulator.clear_journal()
    emulator.inject(method="DELETE", lose_answer=True)

    stack.destroy()

    assert (emulator.servers(), stack.resources) == ([], {})
    assert requests_of(emulator, "DELETE")[1]["status"] == 404
    assert_faulted_once(emulator, "DELETE", {"lose_answer": True})


TIMED_OUT = f"operation timeout of 1 s ({OPERATION_TIMEOUT_KEY}) ran out"


@pytest.mark.parametrize(
    ("operation", "method", "fault", "said"),
    [
        pytest.param("update", "PATCH", {"status": 422},
                     ["Truto answered 422 to PATCH", "Injected fault"], id="update_refused_422"),
        pytest.param("update", "PATCH", None, ["no longer exists in Truto", "pulumi refresh"],
                     id="update_of_a_server_deleted_outside"),
        pytest.param("refresh", "GET", {"drop": True, "times": 1000}, [TIMED_OUT],
                     id="refresh_past_the_operation_timeout"),
        pytest.param("destroy", "DELETE", {"status": 503, "times": 1000}, [TIMED_OUT],
                     id="destroy_past_the_operation_timeout"),
    ],
)  # fmt: skip
def test_an_operation_truto_refuses_or_that_times_out_fails_saying_why_and_keeps_the_state(
    own_host_stack: OwnHostStackFactory,
    emulator: Emulator,
    operation: str,
    method: str,
    fault: dict[str, Any] | None,
    said: list[str],
) -> None:
    """A refusal fails at once, Truto's own message passed on; a fault that lasts fails once the
    operation timeout runs out, naming the request it waited on, and the next run finishes the
    job."""
    stack = own_host_stack(settings={OPERATION_TIMEOUT_KEY: "1"})
    stack.up(desired())
    before = stack.resources[NAME]
    if fault is None:
        emulator.delete_server(before.id)
    else:
        emulator.inject(method=method, **fault)
    emulator.clear_journal()

    run = getattr(stack, operation) if operation != "update" else stack.up
    with pytest.raises(OperationError) as raised:
        run(*[desired(name="renamed")] if operation == "update" else [])

    summary = summary_of(raised.value)
    assert all(words in summary for words in said), summary
    assert stack.resources[NAME] == before
    assert [s["name"] for s in emulator.servers()] == ([] if fault is None else ["reader"])
    if operation == "update":
        assert len(requests_of(emulator, "PATCH")) == 1
    else:
        assert f"waiting on {method} {item_path(before.id)}" in summary
        emulator.clear_faults()
        stack.destroy()  # the next run finishes the job
        assert emulator.servers() == []


# --- listings shared by the operations of a run -----------------------------------------------

ENGINE_CALLS = 16
"""Calls the engine sends at once; the provider host serves as many with `truto:hostConcurrency`
(Pulumi's own host serves four)."""
NO_PACING = {"truto:maxRequestsPerSecond": 0}  # request counts are measured here, not pacing


def listings(emulator: Emulator) -> list[int]:
    """The listings of the account's servers the emulator got, in order, each as its number of
    page requests: a listing's first page has no `next_cursor`. Pages of two listings under way
    at once would interleave (say `[1, 5]` for two of 3 pages)."""
    pages: list[int] = []
    for entry in emulator.journal():
        if (entry["method"], entry["path"]) == ("GET", collection_path()):
            if entry["query"].get("next_cursor"):
                pages[-1] += 1
            else:
                pages.append(1)
    return pages


def servers(count: int) -> dict[str, dict[str, Any]]:
    return {f"s{n}": desired(name=f"s{n}")[NAME] for n in range(count)}


def test_a_refresh_of_servers_deleted_outside_pulumi_lists_their_account_once(
    own_host_stack: OwnHostStackFactory, emulator: Emulator
) -> None:
    """Each server existed before the refresh, so one listing that lacks them proves them all
    gone: a GET of each server (404) and one listing of every page, the account as large
    again; the state drops them (the next `up` creates them anew, as any server)."""
    count = 150
    for n in range(count):  # servers of other stacks in the account
        made_in_dashboard(emulator, ACCOUNT, name=f"theirs{n}")
    stack = own_host_stack(settings=NO_PACING)
    stack.parallel = ENGINE_CALLS
    stack.up(servers(count))
    for state in stack.resources.values():
        emulator.delete_server(state.id)
    emulator.clear_journal()

    stack.refresh()

    assert stack.resources == {}
    assert listings(emulator) == [2]
    gets = [(e["method"], e["status"]) for e in emulator.journal() if "/mcp/" in e["path"]]
    assert gets == [("GET", 404)] * count
    assert len(emulator.journal()) == count + 2
