"""Faults survived with nothing lost: transactional create, pacing, deadlines, and a 200-server
stack under random 429s and 503s, through the real provider host against the emulator; and the
listings of an account that its operations share, counted at scale."""

from __future__ import annotations

import time
from typing import Any

import pytest

from devkit import UpError
from truto_pulumi._create import PROVISIONAL_MARGIN
from truto_pulumi._mark import CreateMark
from truto_pulumi.emulator import Emulator

from .kit import ACCOUNT, OwnHostStackFactory

pytestmark = pytest.mark.slow  # starts the provider host and the emulator

MCP_PATH = rf"^/integrated-account/{ACCOUNT}/mcp$"
SERVER_PATH = rf"^/integrated-account/{ACCOUNT}/mcp/[^/]+$"


def server(name: str, account: str = ACCOUNT, **extra: Any) -> dict[str, Any]:
    return {"integrated_account_id": account, "name": name, **extra}


def posts(emulator: Emulator) -> list[dict[str, Any]]:
    return [e for e in emulator.journal() if e["method"] == "POST"]


# --- transactional create ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "fault",
    [
        pytest.param({"lose_answer": True}, id="answer_lost_after_create"),
        pytest.param({"lose_answer": True, "status": 500}, id="500_after_create"),
        pytest.param({"status": 503}, id="503_without_create"),
        pytest.param({"delay": 1.5}, id="answer_slower_than_the_request_timeout"),
        pytest.param({"status": 504, "act_after": 1.0}, id="gateway_504_while_truto_carries_on"),
        pytest.param({"drop": True, "act_after": 1.0}, id="dropped_while_truto_carries_on"),
    ],
)
def test_lost_create_answer_leaves_exactly_one_server_with_known_token(
    own_host_stack: OwnHostStackFactory, emulator: Emulator, fault: dict[str, Any]
) -> None:
    stack = own_host_stack(
        settings={"truto:requestTimeoutSeconds": "0.5", "truto:operationTimeoutSeconds": "20"}
    )
    emulator.inject(method="POST", path=MCP_PATH, **fault)
    stack.apply_step({"srv": server("srv")})
    time.sleep(1.0)  # long enough for any POST still under way to have landed
    (live,) = emulator.servers()
    state = stack.resources["srv"]
    assert state.id == live["id"]
    assert state.outputs["token"] == live["token"]
    assert state.outputs["url"] == live["url"]


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
    stack = own_host_stack(settings={"truto:operationTimeoutSeconds": "1.5"})
    emulator.inject(method="POST", path=MCP_PATH, **fault)
    with pytest.raises(UpError) as info:
        stack.up({"srv": server("srv")})
    message = str(info.value)
    assert "Truto may still make it, so nothing was put in the state" in message
    assert "its name would end in '[pulumi creating " in message
    assert "it would carry a provisional expiry: Truto deletes it by itself" in message
    assert len(posts(emulator)) == 1  # never POSTed again while the first may land
    assert stack.resources == {}
    time.sleep(2.0)
    (marked,) = [s["name"] for s in emulator.servers()] if lands else [None]
    assert (marked or "").startswith("srv [pulumi creating ") is lands

    stack.new_host_each_run = True  # the next `pulumi up`: a new provider process
    stack.up({"srv": server("srv")})
    emulator.advance_clock(1.5 + PROVISIONAL_MARGIN)  # what landed reaches its expiry

    (live,) = emulator.servers()
    assert (live["id"], live["name"]) == (stack.resources["srv"].id, "srv")


def test_a_rename_truto_applies_but_never_answers_completes_the_create(
    own_host_stack: OwnHostStackFactory, emulator: Emulator
) -> None:
    stack = own_host_stack(settings={"truto:operationTimeoutSeconds": "6"})
    emulator.inject(method="PATCH", path=SERVER_PATH, times=50, lose_answer=True, status=504)
    emulator.inject(method="DELETE", path=SERVER_PATH, times=50, status=503)
    stack.apply_step({"srv": server("srv")})
    (live,) = emulator.servers()
    state = stack.resources["srv"]
    assert (state.id, live["name"], state.outputs["token"]) == (live["id"], "srv", live["token"])
    sent = {(e["method"], e["status"]) for e in emulator.journal() if live["id"] in e["path"]}
    assert ("PATCH", 504) in sent
    assert ("GET", 200) in sent  # read back: the rename had landed
    assert "DELETE" not in {method for method, _ in sent}


def test_a_server_of_the_same_name_held_by_another_resource_is_left_alone(
    own_host_stack: OwnHostStackFactory, emulator: Emulator
) -> None:
    stack = own_host_stack()
    stack.up({"first": server("same")})
    emulator.inject(method="POST", path=MCP_PATH, lose_answer=True)
    stack.up({"first": server("same"), "second": server("same")})
    ids = sorted(s["id"] for s in emulator.servers())
    assert ids == sorted(state.id for state in stack.resources.values())
    assert len(ids) == 2


def test_identical_server_made_in_the_same_moment_is_never_touched(
    own_host_stack: OwnHostStackFactory, emulator: Emulator
) -> None:
    with emulator.client() as http:  # another stack's identical server, an instant earlier
        theirs = http.post(
            f"/integrated-account/{ACCOUNT}/mcp", json={"config": {}, "name": "srv"}
        ).json()
    stack = own_host_stack()
    emulator.inject(method="POST", path=MCP_PATH, lose_answer=True)
    stack.up({"srv": server("srv")})
    live = {s["id"]: s["name"] for s in emulator.servers()}
    assert live == {theirs["id"]: "srv", stack.resources["srv"].id: "srv"}
    assert [e["method"] for e in emulator.journal() if e["method"] == "DELETE"] == ["DELETE"]


def marked_server(emulator: Emulator, mark: CreateMark, name: str = "srv") -> str:
    """A server as an interrupted create left it: its POST landed, its rename never came."""
    with emulator.client() as http:
        made = http.post(
            f"/integrated-account/{ACCOUNT}/mcp", json={"config": {}, "name": mark.on(name)}
        )
    return str(made.json()["id"])


def legacy(urn: str) -> CreateMark:
    """A mark as releases up to 0.2.0 drew them (an 8-hex nonce, no provisional expiry)."""
    return CreateMark(CreateMark.drawn(urn).stack, "0badc0de")


def test_the_next_create_removes_only_what_a_killed_run_of_an_earlier_release_left(
    own_host_stack: OwnHostStackFactory, emulator: Emulator
) -> None:
    stack = own_host_stack()
    urn = stack.urn("srv")
    ours = marked_server(emulator, legacy(urn))
    gone_resource = marked_server(emulator, legacy(stack.urn("dropped")), "dropped")
    other_stack = marked_server(emulator, legacy(urn.replace(f":{stack.stack}::", ":prod::")))
    # A run of a same-named stack in another backend, its POST answered, its rename not yet.
    in_flight = marked_server(emulator, CreateMark.drawn(urn))

    stack.up({"srv": server("srv")})

    live = {s["id"]: s["name"] for s in emulator.servers()}
    assert ours not in live
    assert gone_resource not in live
    assert other_stack in live
    assert in_flight in live
    assert live[stack.resources["srv"].id] == "srv"
    assert len(live) == 3


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
    with emulator.client() as http:
        for n in range(count):
            made = http.post(
                f"/integrated-account/{ACCOUNT}/mcp", json={"config": {}, "name": f"theirs{n}"}
            )
            made.raise_for_status()


def listings(emulator: Emulator) -> list[int]:
    """The listings of the account's servers the emulator got, in order, each as its number of
    page requests: a listing's first page has no `next_cursor`. Pages of two listings under way
    at once would interleave (say `[1, 5]` for two of 3 pages)."""
    pages: list[int] = []
    for entry in emulator.journal():
        if (entry["method"], entry["path"]) == ("GET", f"/integrated-account/{ACCOUNT}/mcp"):
            if entry["query"].get("next_cursor"):
                pages[-1] += 1
            else:
                pages.append(1)
    return pages


def refresh_of_servers_gone(
    own_host_stack: OwnHostStackFactory, emulator: Emulator, count: int
) -> tuple[int, list[int]]:
    """Refresh a stack of `count` servers all deleted outside Pulumi, in an account holding as
    many servers of other stacks: the requests the refresh sent, and its listings."""
    emulator.reset()
    theirs_in(emulator, count)
    stack = own_host_stack(settings=NO_PACING)
    stack.parallel = ENGINE_CALLS
    stack.up({f"s{n}": server(f"s{n}") for n in range(count)})
    for state in stack.resources.values():
        emulator.delete_server(state.id)
    emulator.clear_journal()

    stack.refresh()

    assert stack.resources == {}
    return len(emulator.journal()), listings(emulator)


def test_a_refresh_of_servers_deleted_outside_pulumi_lists_their_account_once(
    own_host_stack: OwnHostStackFactory, emulator: Emulator
) -> None:
    """Each server existed before the refresh, so one listing that lacks them proves them all
    gone: the refresh's requests grow with N, the account growing with it."""
    per_server: dict[int, float] = {}
    for count in (50, 200):
        requests, listed = refresh_of_servers_gone(own_host_stack, emulator, count)

        pages = -(-count // 100)  # ceil: the account holds `count` servers of other stacks
        assert listed == [pages]  # one listing, of every page
        assert requests == count + pages  # a GET of each server, and that listing
        per_server[count] = requests / count

    assert per_server == {50: 1.02, 200: 1.01}


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

    stack.up({f"s{n}": server(f"s{n}") for n in range(ENGINE_CALLS)})

    # The first create's sweep; one listing for the creates whose answers were lost while the
    # sweep ran; one for the first create's own lost answer. Each lost answer listed once before.
    assert listings(emulator) == [LIST_PAGES] * 3
    assert len(posts(emulator)) == 2 * ENGINE_CALLS  # each lost POST, then the one that counts
    live = {s["id"]: s for s in emulator.servers() if not s["name"].startswith("theirs")}
    assert sorted(live) == sorted(state.id for state in stack.resources.values())
    for name, state in stack.resources.items():
        assert (live[state.id]["name"], live[state.id]["token"]) == (name, state.outputs["token"])
    assert len(emulator.servers()) == THEIRS + ENGINE_CALLS
