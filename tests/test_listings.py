"""`truto_pulumi._listings`: each caller gets a listing of its account begun late enough for
it, one at a time per account, the callers during one sharing the next, against a listing
function whose listings end when the test says so (threads, held by events: no sleep decides
an outcome); and the proof of a 404 that the provider draws from them (`provider._listed`),
over `httpx.MockTransport`."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any

import httpx
import pytest

from truto_pulumi._client import TrutoClient
from truto_pulumi._deadline import Deadline
from truto_pulumi._errors import TrutoDeadlineError, TrutoNotFoundError, TrutoServerError
from truto_pulumi._listings import AccountListings
from truto_pulumi._run import RunState
from truto_pulumi._settings import OPERATION_TIMEOUT_KEY, ProviderSettings
from truto_pulumi.provider import _listed

ACC = "acc-1"
OTHER = "acc-2"
PATIENCE = 5.0
"""Seconds a test waits for what must happen at once; only reached when the code is wrong."""


class HeldTruto:
    """A listing function: its n-th listing (from 1, over all accounts) waits until `end(n)`,
    then answers one server named after it (`{account}/{n}`), or raises `errors[n]`. It records
    the accounts listed, in order, and the most listings of one account it ran at once."""

    def __init__(
        self, *, errors: dict[int, BaseException] | None = None, held: bool = True
    ) -> None:
        self.errors = errors or {}
        self.held = held
        self.accounts: list[str] = []
        self.most_at_once = 0
        self._running: dict[str, int] = {}
        self._lock = threading.Lock()
        self._began: dict[int, threading.Event] = {}
        self._may_end: dict[int, threading.Event] = {}

    def __call__(self, account_id: str, deadline: Deadline | None) -> list[dict[str, Any]]:
        with self._lock:
            self.accounts.append(account_id)
            n = len(self.accounts)
            self._running[account_id] = self._running.get(account_id, 0) + 1
            self.most_at_once = max(self.most_at_once, self._running[account_id])
        try:
            self._event(self._began, n).set()
            if self.held and not self._event(self._may_end, n).wait(PATIENCE):
                raise RuntimeError(f"listing {n} was never let end")
            if n in self.errors:
                raise self.errors[n]
            return [{"id": f"{account_id}/{n}"}]
        finally:
            with self._lock:
                self._running[account_id] -= 1

    def began(self, n: int) -> None:
        """Wait until the n-th listing began."""
        assert self._event(self._began, n).wait(PATIENCE), f"listing {n} never began"

    def end(self, n: int) -> None:
        """Let the n-th listing end (now, or as soon as it begins)."""
        self._event(self._may_end, n).set()

    def _event(self, events: dict[int, threading.Event], n: int) -> threading.Event:
        with self._lock:
            return events.setdefault(n, threading.Event())


class Clock:
    """`time.monotonic`, counting its calls: a caller takes it once on asking, and once more
    when it starts a listing, so a test knows when callers have asked."""

    def __init__(self) -> None:
        self.calls = 0
        self._lock = threading.Lock()

    def __call__(self) -> float:
        with self._lock:
            self.calls += 1
        return time.monotonic()


def listed(servers: list[dict[str, Any]]) -> list[str]:
    return [str(server["id"]) for server in servers]


def until(condition: Callable[[], bool]) -> None:
    """Wait until `condition()` holds (another thread's step), failing after `PATIENCE`."""
    give_up = time.monotonic() + PATIENCE
    while not condition():
        assert time.monotonic() < give_up, "the condition never held"
        threading.Event().wait(0.001)


@contextmanager
def threads(count: int = 16) -> Iterator[ThreadPoolExecutor]:
    with ThreadPoolExecutor(count) as pool:
        yield pool


Answer = Future[list[dict[str, Any]]]


@contextmanager
def asked_during_the_first(
    count: int, *, errors: dict[int, BaseException] | None = None, timeout: float | None = None
) -> Iterator[tuple[HeldTruto, AccountListings, Answer, list[Answer]]]:
    """The first caller's listing under way, and `count` callers that asked after it began."""
    truto, clock = HeldTruto(errors=errors), Clock()
    listings = AccountListings(truto, clock=clock)
    with threads() as pool:
        first = pool.submit(listings.fresh, ACC)
        truto.began(1)
        deadline = None if timeout is None else Deadline.after(timeout, OPERATION_TIMEOUT_KEY)
        late = [pool.submit(listings.fresh, ACC, deadline) for _ in range(count)]
        until(lambda: clock.calls == 2 + count)
        yield truto, listings, first, late


# --- who gets which listing ------------------------------------------------------------------


def test_a_caller_with_no_listing_under_way_lists_at_once() -> None:
    truto = HeldTruto(held=False)
    listings = AccountListings(truto)

    assert listed(listings.fresh(ACC)) == [f"{ACC}/1"]
    assert listed(listings.fresh(ACC)) == [f"{ACC}/2"]  # a later call: a later listing
    assert truto.accounts == [ACC, ACC]


@pytest.mark.parametrize("callers", [1, 3, 15])
def test_callers_during_a_listing_share_the_next_one(callers: int) -> None:
    with asked_during_the_first(callers) as (truto, _, first, late):
        truto.end(1)
        assert listed(first.result(PATIENCE)) == [f"{ACC}/1"]
        truto.began(2)
        assert not any(f.done() for f in late)  # listing 1 began before them: not theirs
        truto.end(2)

        assert [listed(f.result(PATIENCE)) for f in late] == [[f"{ACC}/2"]] * callers
    assert truto.accounts == [ACC, ACC]
    assert truto.most_at_once == 1


def test_every_caller_gets_a_listing_begun_after_its_call_and_one_runs_at_a_time() -> None:
    truto = HeldTruto(held=False)
    listings = AccountListings(truto)

    def one(_: int) -> None:
        for _ in range(25):
            begun_before = len(truto.accounts)  # listings begun before this call, at least
            (server,) = listings.fresh(ACC)
            assert int(str(server["id"]).rsplit("/", 1)[1]) > begun_before

    with threads(8) as pool:
        for done in [pool.submit(one, n) for n in range(8)]:
            done.result(PATIENCE)

    assert truto.most_at_once == 1
    assert len(truto.accounts) <= 8 * 25


def test_different_accounts_list_at_the_same_time() -> None:
    truto = HeldTruto()
    listings = AccountListings(truto)
    with threads() as pool:
        held = pool.submit(listings.fresh, ACC)
        truto.began(1)
        other = pool.submit(listings.fresh, OTHER)
        truto.began(2)
        truto.end(2)

        assert listed(other.result(PATIENCE)) == [f"{OTHER}/2"]
        assert not held.done()
        truto.end(1)
        assert listed(held.result(PATIENCE)) == [f"{ACC}/1"]


def test_each_caller_gets_a_list_of_its_own() -> None:
    with asked_during_the_first(2) as (truto, _, first, joined):
        truto.end(1)
        truto.end(2)
        one, two = (f.result(PATIENCE) for f in joined)

    one[0]["id"] = "changed by its caller"
    assert listed(two) == [f"{ACC}/2"]
    assert listed(first.result()) == [f"{ACC}/1"]


# --- errors and deadlines --------------------------------------------------------------------


def unavailable() -> TrutoServerError:
    return TrutoServerError(
        status_code=503, method="GET", path=f"/integrated-account/{ACC}/mcp", message="down"
    )


@pytest.mark.parametrize(
    ("failing", "first_gets", "late_get"),
    [
        pytest.param(1, "error", f"{ACC}/2", id="the_first_fails_only_its_caller"),
        pytest.param(2, f"{ACC}/1", "error", id="the_next_fails_all_who_waited_for_it"),
    ],
)
def test_an_error_reaches_every_caller_that_waited_for_it_and_the_next_call_lists_again(
    failing: int, first_gets: str, late_get: str
) -> None:
    error = unavailable()

    def outcome(future: Answer) -> str:
        raised = future.exception(PATIENCE)
        if raised is not None:
            assert raised is error
            return "error"
        return listed(future.result())[0]

    with asked_during_the_first(3, errors={failing: error}) as (truto, listings, first, late):
        truto.end(1)
        truto.end(2)
        assert outcome(first) == first_gets
        assert [outcome(f) for f in late] == [late_get] * 3

    truto.end(3)
    assert listed(listings.fresh(ACC)) == [f"{ACC}/3"]
    assert len(truto.accounts) == 3


def test_a_caller_that_waits_too_long_raises_the_deadline_error_and_the_others_go_on() -> None:
    with asked_during_the_first(1) as (truto, listings, first, (patient,)):
        with pytest.raises(TrutoDeadlineError) as raised:
            listings.fresh(ACC, Deadline.after(0.05, OPERATION_TIMEOUT_KEY))
        assert (raised.value.method, raised.value.path) == ("GET", f"/integrated-account/{ACC}/mcp")
        assert "operation timeout of 0.05 s (truto:operationTimeoutSeconds) ran out after" in str(
            raised.value
        )
        truto.end(1)
        truto.end(2)

        assert listed(first.result(PATIENCE)) == [f"{ACC}/1"]
        assert listed(patient.result(PATIENCE)) == [f"{ACC}/2"]
    assert truto.accounts == [ACC, ACC]


@pytest.mark.parametrize("timeout", [0.0, -1.0])
def test_a_caller_starting_a_listing_is_not_bound_by_its_timeout(timeout: float) -> None:
    truto = HeldTruto(held=False)
    listings = AccountListings(truto)

    # The client bounds the listing by the operation's deadline itself.
    assert listed(listings.fresh(ACC, Deadline.after(timeout))) == [f"{ACC}/1"]


# --- callers that can do with an older listing (`since`) -------------------------------------


def test_a_listing_that_ended_serves_a_caller_that_can_do_with_it_without_a_request() -> None:
    truto = HeldTruto(held=False)
    listings = AccountListings(truto)
    first = listings.since(ACC, float("-inf"))

    again = listings.since(ACC, first.began)

    assert (again.began, listed(again.servers)) == (first.began, [f"{ACC}/1"])
    assert truto.accounts == [ACC]


def test_a_listing_that_began_before_the_caller_can_do_is_not_reused() -> None:
    truto = HeldTruto(held=False)
    clock = iter([0.0, 1.0, 2.0, 2.5]).__next__  # asked, listing 1 at 1, asked, listing 2 at 2.5
    listings = AccountListings(truto, clock=clock)
    listings.since(ACC, float("-inf"))

    later = listings.since(ACC, 2.0)

    assert (later.began, listed(later.servers)) == (2.5, [f"{ACC}/2"])


@pytest.mark.parametrize("fails", [False, True], ids=["its_servers", "its_error"])
def test_callers_that_can_do_with_the_listing_under_way_share_its_outcome(fails: bool) -> None:
    error = unavailable()
    truto, clock = HeldTruto(errors={1: error} if fails else {}), Clock()
    listings = AccountListings(truto, clock=clock)
    with threads() as pool:
        first = pool.submit(listings.since, ACC, float("-inf"))
        truto.began(1)
        joined = [pool.submit(listings.since, ACC, float("-inf")) for _ in range(3)]
        until(lambda: clock.calls == 5)
        truto.end(1)

        outcomes = [f.exception(PATIENCE) or listed(f.result().servers) for f in [first, *joined]]
        assert outcomes == [error if fails else [f"{ACC}/1"]] * 4
    assert truto.accounts == [ACC]  # the 404s of a refresh at once: one listing proves nothing


def test_a_failed_listing_is_never_reused() -> None:
    truto = HeldTruto(held=False, errors={1: unavailable()})
    listings = AccountListings(truto)
    with pytest.raises(TrutoServerError):
        listings.since(ACC, float("-inf"))

    assert listed(listings.since(ACC, float("-inf")).servers) == [f"{ACC}/2"]


# --- a 404 proven by the run's listings (`provider._listed`) ---------------------------------


class Account:
    """Truto's list of one account over `httpx.MockTransport`: `servers` as listed now; counts
    the listings it answered."""

    def __init__(self, *servers: str) -> None:
        self.servers = list(servers)
        self.listings = 0

    def handler(self, request: httpx.Request) -> httpx.Response:
        assert (request.method, request.url.path) == ("GET", f"/integrated-account/{ACC}/mcp")
        self.listings += 1
        return httpx.Response(200, json={"result": [{"id": s} for s in self.servers]})


def a_run(account: Account) -> RunState:
    run = RunState(ProviderSettings(api_token="t", base_url="https://truto.test"))
    transport = httpx.MockTransport(account.handler)
    run._client = TrutoClient(base_url="https://truto.test", api_token="t", transport=transport)
    return run


def gone_404(server_id: str) -> TrutoNotFoundError:
    path = f"/integrated-account/{ACC}/mcp/{server_id}"
    return TrutoNotFoundError(status_code=404, method="GET", path=path, message="Not Found")


def listed_after_404(run: RunState, server_id: str, state: dict[str, Any]) -> object:
    client = run.client()
    return _listed(run, client, Deadline.after(60.0), ACC, server_id, gone_404(server_id), state)


IN_STATE = {"name": "reader"}
"""What the state of a server holds (its name among the rest); `.get` and adopt_id have none."""


def test_servers_of_the_state_gone_from_a_listing_of_the_run_need_no_other() -> None:
    account = Account("theirs")
    run = a_run(account)
    assert [listed_after_404(run, s, IN_STATE) for s in ("s1", "s2", "s3")] == [None] * 3
    assert account.listings == 1


def test_a_listing_that_still_shows_the_server_is_asked_again_after_the_404() -> None:
    account = Account("s1")
    run = a_run(account)
    run.listings.since(ACC, float("-inf"))  # earlier in the run, s1 was listed
    account.servers.remove("s1")

    assert listed_after_404(run, "s1", IN_STATE) is None
    assert account.listings == 2


def test_a_server_made_in_this_run_needs_a_listing_begun_after_it_was_made() -> None:
    account = Account()
    run = a_run(account)
    run.listings.since(ACC, float("-inf"))  # the sweep of the run's first create
    account.servers.append("s1")
    run.note_made("s1")

    assert listed_after_404(run, "s1", IN_STATE) == {"id": "s1"}  # a 404 the list refutes
    assert account.listings == 2


def test_a_server_not_in_the_state_takes_a_listing_begun_after_the_404() -> None:
    account = Account()
    run = a_run(account)
    run.listings.since(ACC, float("-inf"))

    assert listed_after_404(run, "adopted", {}) is None
    assert account.listings == 2
