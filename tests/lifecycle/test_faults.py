"""Faults through the real provider host against the emulator: a one-shot fault is survived
with exactly the servers the state holds (tokens known), a lasting one fails naming what
failed and keeps the state; a create whose answer is lost never orphans, duplicates or touches
another's server; and the listings an account's operations share, counted at scale.

The client's retry rules (which status, which method, how long) are `tests/test_client.py`'s;
the create's settling of a lost answer, step by step, `tests/test_create.py`'s."""

from __future__ import annotations

import time
from typing import Any

import pytest

from devkit import HostCallError, OperationError, SimulatedStack, UpError
from truto_pulumi._create import PROVISIONAL_MARGIN
from truto_pulumi._mark import CreateMark
from truto_pulumi._settings import OPERATION_TIMEOUT_KEY
from truto_pulumi.emulator import Emulator

from ..kit import ACCOUNT, OwnHostStackFactory
from .helpers import (
    NAME,
    account_path,
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
RETRY_AFTER = 1


def single_server(emulator: Emulator, stack: SimulatedStack) -> dict[str, Any]:
    """The only server in the emulator, which must be the one in the state, token included."""
    (server,) = emulator.servers()
    state = stack.resources[NAME]
    assert (state.id, state.outputs["token"], state.outputs["url"]) == (
        server["id"],
        server["token"],
        server["url"],
    )
    return server


def summary_of(raised: OperationError) -> str:
    error = raised.errors[NAME]
    assert isinstance(error, HostCallError)
    return error.summary


def assert_faulted_once(emulator: Emulator, method: str, fault: dict[str, Any]) -> None:
    """The first `method` request met `fault`, the retry a healthy emulator (after
    `Retry-After` for a 429)."""
    first, retry = requests_of(emulator, method)
    assert (first["fault"], retry["fault"]) == (fault, None)
    if fault.get("status") == 429:
        assert retry["ts"] - first["ts"] >= RETRY_AFTER - 0.05, "retried before Retry-After"


# --- create: survived, with exactly one server whose token is known ---------------------------

# The first create in the account in a new provider process reads the account, lists it for
# what interrupted runs left, POSTs the name under its mark and PATCHes the declared name.
# Refused before acting (429, 503): the POST again. Truto's own 500: one listing shows no
# server with the mark, and a POST under a new one. A lost answer: the server with the lost
# POST's mark is deleted before the POST that counts.
REFUSED = ["GET", "GET", "POST", "POST", "PATCH"]
LOST = ["GET", "GET", "POST", "GET", "DELETE", "POST", "PATCH"]


@pytest.mark.parametrize(
    ("fault", "journal"),
    [
        pytest.param({"status": 429, "retry_after": RETRY_AFTER}, REFUSED, id="429_retry_after"),
        pytest.param({"status": 503}, REFUSED, id="503_refused_before_acting"),
        pytest.param({"status": 500}, ["GET", "GET", "POST", "GET", "POST", "PATCH"], id="500"),
        pytest.param({"lose_answer": True}, LOST, id="answer_lost_after_create"),
        pytest.param({"lose_answer": True, "status": 500}, LOST, id="500_after_create"),
        pytest.param({"delay": 1.5}, None, id="answer_slower_than_the_request_timeout"),
        pytest.param({"status": 504, "act_after": 1.0}, None, id="gateway_504_while_truto_goes_on"),
        pytest.param({"drop": True, "act_after": 1.0}, None, id="dropped_while_truto_goes_on"),
    ],
)
def test_create_survives_every_fault_with_exactly_one_server_whose_token_is_known(
    own_host_stack: OwnHostStackFactory,
    emulator: Emulator,
    fault: dict[str, Any],
    journal: list[str] | None,
) -> None:
    stack = own_host_stack(
        settings={"truto:requestTimeoutSeconds": "0.5", OPERATION_TIMEOUT_KEY: "20"},
        new_host_each_run=True,  # a `pulumi up` of its own: a new provider process
    )
    emulator.inject(method="POST", path=MCP_PATH, **fault)

    assert stack.up(desired()).ops == {NAME: "create"}

    if journal is not None:
        assert [entry["method"] for entry in emulator.journal()] == journal
        assert_faulted_once(emulator, "POST", fault)
    assert emulator.journal()[0]["path"] == account_path()  # its account read first
    assert [e["body"] for e in requests_of(emulator, "PATCH")] == [renamed("reader")]
    time.sleep(1.0)  # long enough for any POST still under way to have landed
    assert single_server(emulator, stack)["name"] == "reader"


@pytest.mark.parametrize(
    ("fault", "lands"),
    [
        pytest.param({"drop": True}, False, id="never_lands"),
        pytest.param({"drop": True, "act_after": 2.5}, True, id="lands_after_the_operation"),
    ],
)
def test_lost_create_not_settled_in_time_fails_and_what_lands_expires_by_itself(
    own_host_stack: OwnHostStackFactory, emulator: Emulator, fault: dict[str, Any], lands: bool
) -> None:
    stack = own_host_stack(settings={OPERATION_TIMEOUT_KEY: "1.5"}, new_host_each_run=True)
    emulator.inject(method="POST", path=MCP_PATH, **fault)

    with pytest.raises(UpError) as raised:
        stack.up(desired())

    message = summary_of(raised.value)
    assert "Truto may still make it, so nothing was put in the state" in message
    assert "its name would end in '[pulumi creating " in message
    assert "it would carry a provisional expiry: Truto deletes it by itself" in message
    calls = [(entry["method"], entry["path"]) for entry in emulator.journal()]
    assert calls[:3] == [
        ("GET", account_path()),
        ("GET", collection_path()),
        ("POST", collection_path()),  # never POSTed again while the first may land
    ]
    assert set(calls[3:]) == {("GET", collection_path())}  # listed until the timeout ran out
    assert stack.resources == {}
    time.sleep(2.0)
    (marked,) = [s["name"] for s in emulator.servers()] if lands else [None]
    assert (marked or "").startswith("reader [pulumi creating ") is lands

    stack.up(desired())  # the next `pulumi up`
    emulator.advance_clock(1.5 + PROVISIONAL_MARGIN)  # what landed reaches its expiry
    assert single_server(emulator, stack)["name"] == "reader"


@pytest.mark.parametrize(
    "fault",
    [
        pytest.param({"status": 500}, id="truto_500_made_nothing"),
        pytest.param({"lose_answer": True}, id="answer_lost_after_truto_made_it"),
        pytest.param({"lose_answer": True, "status": 500}, id="truto_500_after_making_it"),
    ],
)
def test_a_lost_create_answer_spares_an_identical_server_of_another_stack(
    own_host_stack: OwnHostStackFactory, emulator: Emulator, fault: dict[str, Any]
) -> None:
    """Or of this stack: only a server carrying the lost POST's mark is the lost POST's."""
    theirs = made_in_dashboard(emulator, ACCOUNT, name="reader")  # an instant earlier
    stack = own_host_stack()
    emulator.inject(method="POST", path=MCP_PATH, **fault)

    stack.up(desired())

    live = {s["id"]: s["name"] for s in emulator.servers()}
    assert live == {theirs["id"]: "reader", stack.resources[NAME].id: "reader"}
    assert ("DELETE", item_path(theirs["id"])) not in [
        (e["method"], e["path"]) for e in emulator.journal()
    ]
    assert stack.refresh()[NAME].drift is False


def test_a_rename_truto_applies_but_never_answers_completes_the_create(
    own_host_stack: OwnHostStackFactory, emulator: Emulator
) -> None:
    stack = own_host_stack(settings={OPERATION_TIMEOUT_KEY: "6"})
    emulator.inject(method="PATCH", path=SERVER_PATH, times=50, lose_answer=True, status=504)
    emulator.inject(method="DELETE", path=SERVER_PATH, times=50, status=503)

    stack.up(desired())

    live = single_server(emulator, stack)
    sent = {(e["method"], e["status"]) for e in emulator.journal() if live["id"] in e["path"]}
    assert ("PATCH", 504) in sent
    assert ("GET", 200) in sent  # read back: the rename had landed
    assert "DELETE" not in {method for method, _ in sent}
    assert live["name"] == "reader"


def marked_server(emulator: Emulator, mark: CreateMark, name: str = NAME) -> str:
    """A server as an interrupted create left it: its POST landed, its rename never came."""
    return str(made_in_dashboard(emulator, ACCOUNT, name=mark.on(name))["id"])


def legacy(urn: str) -> CreateMark:
    """A mark as releases up to 0.2.0 drew them (an 8-hex nonce, no provisional expiry)."""
    return CreateMark(CreateMark.drawn(urn).stack, "0badc0de")


def test_the_next_create_removes_only_what_a_killed_run_of_an_earlier_release_left(
    own_host_stack: OwnHostStackFactory, emulator: Emulator
) -> None:
    stack = own_host_stack()
    urn = stack.urn(NAME)
    ours = marked_server(emulator, legacy(urn))
    gone_resource = marked_server(emulator, legacy(stack.urn("dropped")), "dropped")
    other_stack = marked_server(emulator, legacy(urn.replace(f":{stack.stack}::", ":prod::")))
    # A run of a same-named stack in another backend, its POST answered, its rename not yet.
    in_flight = marked_server(emulator, CreateMark.drawn(urn))

    stack.up(desired())

    live = {s["id"]: s["name"] for s in emulator.servers()}
    assert ours not in live
    assert gone_resource not in live
    assert {other_stack, in_flight} < set(live)
    assert live[stack.resources[NAME].id] == "reader"
    assert len(live) == 3


# --- update, refresh, destroy ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("operation", "method", "fault"),
    [
        ("update", "PATCH", {"status": 429, "retry_after": RETRY_AFTER}),
        ("update", "PATCH", {"lose_answer": True}),
        ("refresh", "GET", {"drop": True}),
        ("destroy", "DELETE", {"lose_answer": True}),
    ],
    ids=lambda value: "-".join(value) if isinstance(value, dict) else value,
)
def test_update_refresh_and_destroy_survive_a_one_shot_fault(
    stack: SimulatedStack, emulator: Emulator, operation: str, method: str, fault: dict[str, Any]
) -> None:
    """Which fault is retried how, method by method: tests/test_client.py; here, the state."""
    stack.up(desired())
    before = stack.resources[NAME].outputs
    emulator.clear_journal()
    emulator.inject(method=method, **fault)

    if operation == "update":
        assert stack.up(desired(name="renamed")).ops == {NAME: "update"}
        assert single_server(emulator, stack)["name"] == "renamed"
        assert stack.resources[NAME].outputs["token"] == before["token"]
    elif operation == "refresh":
        assert stack.refresh()[NAME].drift is False
        assert stack.resources[NAME].outputs == before
    else:
        stack.destroy()
        assert (emulator.servers(), stack.resources) == ([], {})
        # A lost answer: the first DELETE did it; the retry's 404 counts as "already deleted".
        assert requests_of(emulator, "DELETE")[1]["status"] == (
            404 if "lose_answer" in fault else 200
        )
    assert_faulted_once(emulator, method, fault)


@pytest.mark.parametrize(
    ("gone", "said"),
    [
        pytest.param(False, ["Truto answered 422 to PATCH", "Injected fault"], id="refused_422"),
        pytest.param(True, ["no longer exists in Truto", "pulumi refresh"], id="deleted_outside"),
    ],
)
def test_an_update_truto_refuses_fails_at_once_saying_why_and_keeps_the_state(
    stack: SimulatedStack, emulator: Emulator, gone: bool, said: list[str]
) -> None:
    stack.up(desired())
    before = stack.resources[NAME]
    if gone:
        emulator.delete_server(before.id)
    else:
        emulator.inject(method="PATCH", status=422)
    emulator.clear_journal()

    with pytest.raises(UpError) as raised:
        stack.up(desired(name="renamed"))

    summary = summary_of(raised.value)
    assert all(words in summary for words in said), summary  # Truto's own message passed on
    assert len(requests_of(emulator, "PATCH")) == 1
    assert stack.resources[NAME] == before
    assert [s["name"] for s in emulator.servers()] == ([] if gone else ["reader"])


@pytest.mark.parametrize(
    ("operation", "method", "fault"),
    [
        ("refresh", "GET", {"drop": True}),
        ("destroy", "DELETE", {"status": 503}),
    ],
)
def test_a_refresh_or_destroy_failing_past_the_operation_timeout_names_it_and_keeps_the_state(
    own_host_stack: OwnHostStackFactory,
    emulator: Emulator,
    operation: str,
    method: str,
    fault: dict[str, Any],
) -> None:
    """An update's: tests/test_provider_settings.py::test_typed_numbers_are_honoured."""
    stack = own_host_stack(settings={OPERATION_TIMEOUT_KEY: "1"})
    stack.up(desired())
    before = stack.resources[NAME]
    emulator.inject(method=method, times=1000, **fault)

    with pytest.raises(OperationError) as raised:
        getattr(stack, operation)()

    summary = summary_of(raised.value)
    assert f"operation timeout of 1 s ({OPERATION_TIMEOUT_KEY}) ran out" in summary
    assert f"waiting on {method} {item_path(before.id)}" in summary
    assert stack.resources[NAME] == before
    assert single_server(emulator, stack)["name"] == "reader"
    emulator.clear_faults()
    stack.destroy()  # the next run finishes the job
    assert emulator.servers() == []


# --- listings shared by the operations of a run -----------------------------------------------

THEIRS = 250
"""Servers of other stacks in the account: its list takes `LIST_PAGES` requests (a page of the
emulator holds 100 servers)."""
LIST_PAGES = 3
ENGINE_CALLS = 16
"""Calls the engine sends at once; the provider host serves as many with `truto:hostConcurrency`
(Pulumi's own host serves four)."""
NO_PACING = {"truto:maxRequestsPerSecond": 0}
"""Request counts, not pacing, are measured: the emulator enforces no rate limit here."""


def theirs_in(emulator: Emulator, count: int = THEIRS) -> None:
    """`count` servers of other stacks in the account, made over one connection."""
    with emulator.client() as http:
        for n in range(count):
            made = http.post(collection_path(), json={"config": {}, "name": f"theirs{n}"})
            made.raise_for_status()


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


def test_a_refresh_of_servers_deleted_outside_pulumi_lists_their_account_once(
    own_host_stack: OwnHostStackFactory, emulator: Emulator
) -> None:
    """Each server existed before the refresh, so one listing that lacks them proves them all
    gone: a GET of each server and one listing of every page, the account as large again."""
    count = 150
    theirs_in(emulator, count)
    stack = own_host_stack(settings=NO_PACING)
    stack.parallel = ENGINE_CALLS
    stack.up({f"s{n}": desired(name=f"s{n}")[NAME] for n in range(count)})
    for state in stack.resources.values():
        emulator.delete_server(state.id)
    emulator.clear_journal()

    stack.refresh()

    assert stack.resources == {}
    assert listings(emulator) == [2]
    assert len(emulator.journal()) == count + 2


def test_lost_creates_in_one_account_settle_on_shared_listings(
    own_host_stack: OwnHostStackFactory, emulator: Emulator
) -> None:
    theirs_in(emulator)
    emulator.clear_journal()
    stack = own_host_stack(settings={**NO_PACING, "truto:hostConcurrency": ENGINE_CALLS})
    stack.parallel = ENGINE_CALLS
    # Each page takes 0.1 s: the creates settle while the first create's sweep lists.
    emulator.inject(method="GET", path=MCP_PATH, times=1_000, delay=0.1)
    emulator.inject(method="POST", path=MCP_PATH, times=ENGINE_CALLS, lose_answer=True)

    stack.up({f"s{n}": desired(name=f"s{n}")[NAME] for n in range(ENGINE_CALLS)})

    # The first create's sweep; one listing for the creates whose answers were lost while the
    # sweep ran; one for the first create's own lost answer. Each lost answer listed once before.
    assert listings(emulator) == [LIST_PAGES] * 3
    assert len(requests_of(emulator, "POST")) == 2 * ENGINE_CALLS  # each lost, then the one
    live = {s["id"]: s for s in emulator.servers() if not s["name"].startswith("theirs")}
    assert sorted(live) == sorted(state.id for state in stack.resources.values())
    for name, state in stack.resources.items():
        assert (live[state.id]["name"], live[state.id]["token"]) == (name, state.outputs["token"])
    assert len(emulator.servers()) == THEIRS + ENGINE_CALLS
