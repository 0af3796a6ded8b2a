"""The create's rules: which answers settle a lost POST, which servers an interrupted run of
this stack left, and how a create that cannot complete fails (a `TrutoCreateError` naming its
mark and the server it made), against a scripted stand-in for the client."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, cast

import pytest

from truto_pulumi._create import CREATE_ATTEMPTS, create_server, left_behind, settled_by_answer
from truto_pulumi._deadline import Deadline
from truto_pulumi._errors import (
    TrutoCreateError,
    TrutoError,
    TrutoServerError,
    TrutoTransportError,
    TrutoValidationError,
)
from truto_pulumi._listings import AccountListings
from truto_pulumi._mark import CreateMark, read_mark

from .kit import FakeClock

if TYPE_CHECKING:
    from truto_pulumi._client import TrutoClient

OURS = CreateMark("0123456789ab", "0123456789abcdef")
LEGACY = CreateMark("0123456789ab", "01234567")
"""A mark of a release up to 0.2.0 (8-hex nonce), which set no provisional expiry."""
THEIRS = CreateMark("ba9876543210", "01234567")


def listed(id_: str, name: str) -> dict[str, Any]:
    return {"id": id_, "name": name}


@pytest.mark.parametrize(
    ("server", "left"),
    [
        pytest.param(listed("a", LEGACY.on("reader")), True, id="this_stacks_legacy_mark"),
        pytest.param(listed("held", LEGACY.on("reader")), False, id="an_id_the_stack_holds"),
        pytest.param(listed("b", OURS.on("reader")), False, id="a_current_mark_maybe_in_flight"),
        pytest.param(listed("c", THEIRS.on("reader")), False, id="another_stacks_mark"),
        pytest.param(listed("d", "reader"), False, id="no_mark"),
        pytest.param(listed("e", "reader [pulumi creating 0123456789ab]"), False, id="half_mark"),
        pytest.param({"id": "f"}, False, id="no_name"),
    ],
)
def test_left_behind_is_only_this_stacks_legacy_marked_servers_it_does_not_hold(
    server: dict[str, Any], left: bool
) -> None:
    found = left_behind([server], stack=OURS.stack, held={"held"})
    assert found == ([(server, LEGACY)] if left else [])


def refused(status: int) -> TrutoError:
    """Truto's (or a gateway's) error answer `status`, or a 2xx answer it could not use."""
    error_type = TrutoValidationError if 400 <= status < 500 else TrutoServerError
    return error_type(status_code=status, method="POST", path="/mcp", message="no")


@pytest.mark.parametrize(
    ("error", "settled"),
    [
        pytest.param(refused(500), True, id="500_truto_is_done"),
        pytest.param(refused(503), True, id="503_truto_is_done"),
        pytest.param(refused(201), True, id="2xx_unusable_body"),
        pytest.param(refused(502), False, id="502_gateway"),
        pytest.param(refused(504), False, id="504_gateway"),
        pytest.param(TrutoError("timed out"), False, id="no_answer"),
    ],
)
def test_only_trutos_own_answer_settles_a_lost_post(error: TrutoError, settled: bool) -> None:
    assert settled_by_answer(error) is settled


# --- a create that cannot complete -----------------------------------------------------------


class _Truto:
    """A stand-in for the client: each POST makes its server (unless its answer is lost before
    it reached Truto), then answers with the next of `answers`: None for the server, or the
    error the client would raise (with `made=False` when Truto made nothing)."""

    def __init__(
        self, *answers: tuple[TrutoError | None, bool], remaining: float | None = None
    ) -> None:
        self.answers = list(answers)
        self.remaining = remaining
        self.servers: dict[str, dict[str, Any]] = {}
        self.posted: list[str] = []
        self.bodies: list[dict[str, Any]] = []
        """Every POST's and PATCH's body, in order."""
        self.deleted: list[str] = []
        self.listing_error: TrutoError | None = None
        self.rename_error: TrutoError | None = None
        self.rename_lands = False
        """With `rename_error`: the rename is applied all the same (its answer is lost)."""
        self.get_error: TrutoError | None = None
        self.delete_error: TrutoError | None = None

    def create_mcp_server(
        self, account_id: str, body: Mapping[str, Any], deadline: Deadline, *, patient: bool
    ) -> dict[str, Any]:
        self.posted.append(str(body["name"]))
        self.bodies.append(dict(body))
        error, made = self.answers.pop(0) if self.answers else (None, True)
        if made:
            server_id = f"s{len(self.posted)}"
            self.servers[server_id] = {"id": server_id, "name": body["name"], "token": "t"}
        if error is not None:
            raise error
        return dict(self.servers[f"s{len(self.posted)}"])

    def list_mcp_servers(self, account_id: str, deadline: Deadline | None) -> list[dict[str, Any]]:
        if self.listing_error is not None:
            raise self.listing_error
        return [dict(server) for server in self.servers.values()]

    def update_mcp_server(
        self, account_id: str, server_id: str, body: Mapping[str, Any], deadline: Deadline
    ) -> dict[str, Any]:
        self.bodies.append(dict(body))
        if self.rename_error is not None:
            if self.rename_lands:
                self.servers[server_id].update(body)
            raise self.rename_error
        self.servers[server_id].update(body)
        return {"id": server_id, "name": self.servers[server_id]["name"]}

    def get_mcp_server(self, account_id: str, server_id: str, deadline: Deadline) -> dict[str, Any]:
        if self.get_error is not None:
            raise self.get_error
        return {k: v for k, v in self.servers[server_id].items() if k != "token"}

    def delete_mcp_server(self, account_id: str, server_id: str, deadline: Deadline) -> None:
        if self.delete_error is not None:
            raise self.delete_error
        self.deleted.append(server_id)
        del self.servers[server_id]


def interrupted_from(call: int) -> Callable[[], bool]:
    """Whether the run is over, asked again and again: over from the `call`-th question on."""
    calls: Iterator[int] = iter(range(1, 1_000))
    return lambda: next(calls) >= call


NOW = datetime(2027, 1, 1, tzinfo=UTC)
HOLD = 420.0


def create(
    truto: _Truto,
    interrupted: Callable[[], bool] = lambda: False,
    body: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    return create_server(
        cast("TrutoClient", truto),
        "acc",
        body or {"name": "reader"},
        Deadline.after(300.0 if truto.remaining is None else truto.remaining, "the test's"),
        mark=OURS,
        hold=HOLD,
        now=lambda: NOW,
        listings=AccountListings(truto.list_mcp_servers),
        interrupted=interrupted,
        sleep=FakeClock().sleep,
    )


def test_creates_whose_answers_are_all_lost_fail_naming_the_last_mark_and_leave_no_server() -> None:
    # Each POST's connection dropped after it was sent: Truto may have acted (and did).
    dropped = TrutoTransportError("dropped", method="POST", path="/mcp", request_sent=True)
    truto = _Truto(*[(dropped, True)] * CREATE_ATTEMPTS)

    with pytest.raises(
        TrutoCreateError, match=f"no usable answer to {CREATE_ATTEMPTS} creates"
    ) as info:
        create(truto)

    marks = [found[1] for found in map(read_mark, truto.posted) if found]
    assert info.value.mark == str(marks[-1])
    assert info.value.server_id is None
    assert truto.posted == [mark.on("reader") for mark in marks]
    assert len({mark.nonce for mark in marks}) == CREATE_ATTEMPTS
    assert truto.deleted == [f"s{n}" for n in range(1, CREATE_ATTEMPTS + 1)]
    assert truto.servers == {}


def test_a_create_truto_refused_with_a_lasting_503_fails_as_refused_and_lists_nothing() -> None:
    blocked = refused(503)
    truto = _Truto((blocked, False))
    truto.listing_error = refused(503)  # a listing would fail too: none may be asked for

    with pytest.raises(TrutoServerError) as info:
        create(truto)

    assert info.value is blocked
    assert truto.posted == [OURS.on("reader")]
    assert truto.servers == {}


GATEWAY = refused(504)
"""A POST's answer lost at the gateway, Truto having made nothing."""
UNDELETABLE = {"delete_error": refused(503)}


@pytest.mark.parametrize(
    ("faults", "over_from", "why", "made", "left"),
    [
        pytest.param({"answers": [(GATEWAY, False)], "remaining": 0.1}, 1_000,
                     "operation timeout", None, None, id="no_server_shows_up_in_time"),
        pytest.param({"answers": [(GATEWAY, False)]}, 2,
                     "run that asked for it is gone", None, None, id="settle_run_gone"),
        pytest.param({"answers": [(GATEWAY, False)], "listing_error": refused(503)}, 1_000,
                     "listing the account", None, None, id="account_cannot_be_listed"),
        pytest.param({}, 1, "interrupted", None, None, id="run_gone_before_the_post"),
        pytest.param({}, 2, "interrupted", "s1", None, id="run_gone_before_the_rename"),
        pytest.param({}, 3, "interrupted", "s1", None, id="run_gone_after_the_rename"),
        pytest.param({"rename_error": refused(422), **UNDELETABLE}, 1_000,
                     "deleting it failed", "s1", "marked", id="rename_refused_undeletable"),
        pytest.param(UNDELETABLE, 3, "deleting it failed", "s1", "renamed",
                     id="run_gone_after_the_rename_undeletable"),
        pytest.param({"rename_error": refused(504), "rename_lands": True,
                      "get_error": refused(503), **UNDELETABLE}, 1_000, "deleting it failed",
                     "s1", "renamed", id="rename_lost_unreadable_undeletable"),
    ],
)  # fmt: skip
def test_a_create_that_cannot_complete_names_its_mark_and_what_it_left(
    faults: dict[str, Any], over_from: int, why: str, made: str | None, left: str | None
) -> None:
    """`made`: the server the error names; `left`: what remains of it in Truto (None: nothing),
    still under its mark (it expires) or renamed (the message says to delete it, no more)."""
    faults = dict(faults)
    cause = faults.get("delete_error") or faults.get("listing_error")
    cause = cause or (GATEWAY if "answers" in faults else None)
    truto = _Truto(*faults.pop("answers", []), remaining=faults.pop("remaining", None))
    vars(truto).update(faults)

    with pytest.raises(TrutoCreateError, match=why) as info:
        create(truto, interrupted_from(over_from))

    message = str(info.value)
    assert (info.value.mark, info.value.server_id) == (str(OURS), made)
    assert truto.posted == ([] if over_from == 1 else [OURS.on("reader")])
    assert info.value.__cause__ is cause
    now = {s: "marked" if read_mark(v["name"]) else "renamed" for s, v in truto.servers.items()}
    assert now == ({} if left is None else {"s1": left})
    assert "Truto deletes it by itself at that expiry" in message or left == "renamed"
    assert message.endswith("Delete server s1 under integrated account acc") is (left == "renamed")


PROVISIONAL = "2027-01-01T00:07:00Z"
"""NOW + HOLD: the expiry a marked POST carries when none as early is declared."""
EARLIER, LATER = "2027-01-01T00:05:00Z", "2027-06-01T00:00:00Z"


@pytest.mark.parametrize(
    ("declared", "posted", "rename"),
    [
        pytest.param({}, PROVISIONAL, {"expires_at": None}, id="none_declared_cleared_at_rename"),
        pytest.param({"expires_at": LATER}, PROVISIONAL, {"expires_at": LATER},
                     id="a_later_one_set_at_rename"),
        pytest.param({"expires_at": EARLIER}, EARLIER, {}, id="an_earlier_one_posted"),
    ],
)  # fmt: skip
def test_a_marked_post_carries_a_provisional_expiry_that_the_rename_replaces(
    declared: dict[str, str], posted: str, rename: dict[str, Any]
) -> None:
    truto = _Truto()
    create(truto, body={"name": "reader", "config": {}, **declared})

    assert truto.bodies == [
        {"name": OURS.on("reader"), "config": {}, "expires_at": posted},
        {"name": "reader", **rename},
    ]
