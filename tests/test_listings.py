"""`truto_pulumi._listings`: each caller gets a listing of its account begun late enough for
it, one at a time per account, the callers during one sharing the next, against a listing
function whose listings end when the test says so (threads, held by events: no sleep decides
an outcome); and the proof of a 404 that the provider draws from them
(`provider._Operation.listed`), over `httpx.MockTransport`."""

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
from truto_pulumi.provider import _Operation

ACC = "acc-1"
OTHER = "acc-2"
PATIENCE = 5.0
"""Seconds a test waits for what must happen at once; only reached when the code is wrong."""
ANY = float("-inf")
ERROR = TrutoServerError(
    status_code=503, method="GET", path=f"/integrated-account/{ACC}/mcp", message="down"
)


class HeldTruto:
    """A listing function: its n-th listing (from 1, over all accounts) waits until `end(n)`,
    then answers one server `{account}/{n}` or raises `errors[n]`; it records the accounts
    listed, in order, and whether one was listed twice at once."""

    def __init__(self, errors: dict[int, BaseException] | None = None) -> None:
        self.errors = errors or {}
        self.accounts: list[str] = []
        self.running: set[str] = set()
        self.overlapped = False
        self._events: dict[tuple[str, int], threading.Event] = {}
        self._lock = threading.Lock()

    def __call__(self, account_id: str, deadline: Deadline | None) -> list[dict[str, Any]]:
        with self._lock:
            self.accounts.append(account_id)
            n = len(self.accounts)
            self.overlapped |= account_id in self.running
            self.running.add(account_id)
        try:
            self._event("began", n).set()
            if not self._event("end", n).wait(PATIENCE):
                raise RuntimeError(f"listing {n} was never let end")
            if n in self.errors:
                raise self.errors[n]
            return [{"id": f"{account_id}/{n}"}]
        finally:
            with self._lock:
                self.running.discard(account_id)

    def began(self, n: int) -> None:
        """Wait until the n-th listing began."""
        assert self._event("began", n).wait(PATIENCE), f"listing {n} never began"

    def end(self, n: int) -> None:
        """Let the n-th listing end (now, or as soon as it begins)."""
        self._event("end", n).set()

    def _event(self, what: str, n: int) -> threading.Event:
        return self._events.setdefault((what, n), threading.Event())  # atomic


def until(condition: Callable[[], bool]) -> None:
    """Wait until `condition()` holds (another thread's step), failing after `PATIENCE`."""
    give_up = time.monotonic() + PATIENCE
    while not condition():
        assert time.monotonic() < give_up, "the condition never held"
        threading.Event().wait(0.001)


Answer = Future[list[dict[str, Any]]]


def number(answer: Answer | list[dict[str, Any]]) -> int | str:
    """The number of the listing a caller got, or "error"."""
    if isinstance(answer, Future):
        if answer.exception(PATIENCE) is not None:
            return "error"
        answer = answer.result()
    return int(str(answer[0]["id"]).rsplit("/", 1)[1])


@contextmanager
def asked_during_the_first(
    count: int, *, errors: dict[int, BaseException] | None = None, began: float | None = None
) -> Iterator[tuple[HeldTruto, AccountListings, Answer, list[Answer]]]:
    """The first caller's listing under way, and `count` callers that asked after it began for
    one begun at `began` or later (None: after they asked)."""
    truto, asked = HeldTruto(errors), []

    def clock() -> float:  # a caller takes it on asking, and again when it starts a listing
        asked.append(now := time.monotonic())
        return now

    listings = AccountListings(truto, clock=clock)
    with ThreadPoolExecutor(16) as pool:
        first = pool.submit(listings.fresh, ACC)
        truto.began(1)
        late = [pool.submit(lambda: listings.since(ACC, began).servers) for _ in range(count)]
        until(lambda: len(asked) == 2 + count)
        yield truto, listings, first, late


# --- who gets which listing ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("asks", "got"),
    [
        pytest.param([None, None], [1, 2], id="each_call_of_fresh_lists_anew"),
        pytest.param([ANY, 1.0], [1, 1], id="an_ended_listing_serves_who_can_do_with_it"),
        pytest.param([ANY, 1.5], [1, 2], id="one_begun_too_early_is_not_reused"),
        pytest.param([ANY, ANY, ANY], ["error", 2, 2], id="a_failed_listing_is_never_reused"),
    ],
)
def test_one_caller_at_a_time_gets_a_listing_begun_late_enough_for_it(
    asks: list[float | None], got: list[int | str]
) -> None:
    """`since(began)` (None: `fresh`), with a clock ticking 0, 1, 2...: listing 1 begins at 1.
    Every call's deadline has passed: a caller starting a listing is not bound by it (the client
    bounds the listing by the operation's deadline itself)."""
    truto = HeldTruto({1: ERROR} if "error" in got else {})
    for n in range(1, len(asks) + 1):
        truto.end(n)  # each at once
    ticks = iter(range(100))
    listings = AccountListings(truto, clock=lambda: float(next(ticks)))

    def ask(began: float | None) -> int | str:
        try:
            return number(listings.since(ACC, began, Deadline.after(-1.0)).servers)
        except TrutoServerError:
            return "error"

    assert [ask(began) for began in asks] == got
    assert truto.accounts == [ACC] * len(set(got))


@pytest.mark.parametrize(
    ("began", "failing", "first_gets", "late_get"),
    [
        pytest.param(None, None, 1, 2, id="who_asks_during_a_listing_shares_the_next"),
        pytest.param(None, 1, "error", 2, id="the_first_fails_only_its_caller"),
        pytest.param(None, 2, 1, "error", id="the_next_fails_all_who_waited_for_it"),
        pytest.param(ANY, None, 1, 1, id="who_can_do_with_the_one_under_way_shares_it"),
        pytest.param(ANY, 1, "error", "error", id="who_can_do_with_it_shares_its_error"),
    ],
)
@pytest.mark.parametrize("callers", [1, 15])
def test_callers_during_a_listing_share_one_outcome_each_with_a_list_of_its_own(
    began: float | None,
    failing: int | None,
    first_gets: int | str,
    late_get: int | str,
    callers: int,
) -> None:
    errors: dict[int, BaseException] = {} if failing is None else {failing: ERROR}
    with asked_during_the_first(callers, errors=errors, began=began) as held:
        truto, shared, first, late = held
        truto.end(1)
        assert number(first) == first_gets
        if began is None:  # listing 1 began before they asked: not theirs
            truto.began(2)
            assert not any(f.done() for f in late)
            truto.end(2)
        assert [number(f) for f in late] == [late_get] * callers
    assert {f.exception() for f in (first, *late)} <= {None, ERROR}
    assert (truto.overlapped, truto.accounts) == (False, [ACC] * (1 if began else 2))
    if late_get != "error":
        late[0].result()[0]["id"] = "changed by its caller"
        assert number(shared.since(ACC, ANY).servers) == late_get  # as listed
    truto.end(len(truto.accounts) + 1)  # the next call lists again, even after an error
    assert number(shared.fresh(ACC)) == len(truto.accounts)


def test_different_accounts_list_at_the_same_time() -> None:
    truto = HeldTruto()
    listings = AccountListings(truto)
    with ThreadPoolExecutor(16) as pool:
        held = pool.submit(listings.fresh, ACC)
        truto.began(1)
        other = pool.submit(listings.fresh, OTHER)
        truto.began(2)
        truto.end(2)
        assert other.result(PATIENCE) == [{"id": f"{OTHER}/2"}]
        assert not held.done()
        truto.end(1)
        assert held.result(PATIENCE) == [{"id": f"{ACC}/1"}]


def test_a_caller_that_waits_too_long_raises_the_deadline_error_and_the_others_go_on() -> None:
    with asked_during_the_first(1) as (truto, listings, first, (patient,)):
        with pytest.raises(TrutoDeadlineError) as raised:
            listings.fresh(ACC, Deadline.after(0.05, OPERATION_TIMEOUT_KEY))
        assert (raised.value.method, raised.value.path) == ("GET", f"/integrated-account/{ACC}/mcp")
        assert f"operation timeout of 0.05 s ({OPERATION_TIMEOUT_KEY}) ran out after" in str(
            raised.value
        )
        truto.end(1)
        truto.end(2)
        assert (number(first), number(patient)) == (1, 2)
    assert truto.accounts == [ACC, ACC]


# --- a 404 proven by the run's listings (`provider._Operation.listed`) -----------------------


@pytest.mark.parametrize(
    ("earlier", "now", "made", "ids", "state", "found", "listings"),
    [
        pytest.param(None, ["theirs"], False, ["s1", "s2", "s3"], {"name": "r"}, [None] * 3, 1,
                     id="servers_of_the_state_share_one_listing"),
        pytest.param(["s1"], [], False, ["s1"], {"name": "r"}, [None], 2,
                     id="a_listing_still_showing_it_is_asked_again_after_the_404"),
        pytest.param([], ["s1"], True, ["s1"], {"name": "r"}, [{"id": "s1"}], 2,
                     id="one_made_in_this_run_needs_a_listing_begun_after_it_was_made"),
        pytest.param([], [], False, ["adopted"], {}, [None], 2,
                     id="one_not_in_the_state_needs_a_listing_begun_after_the_404"),
    ],
)  # fmt: skip
def test_a_404_is_proven_by_a_listing_begun_late_enough(
    earlier: list[str] | None,
    now: list[str],
    made: bool,
    ids: list[str],
    state: dict[str, Any],
    found: list[object],
    listings: int,
) -> None:
    """`earlier`: the servers at an earlier listing of the run (None: none); `now`: at the 404;
    `state`: the server's state (with its name), or `{}` (`.get`, adopt_id)."""
    servers = list(earlier or [])
    answered: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        assert (request.method, request.url.path) == ("GET", f"/integrated-account/{ACC}/mcp")
        answered.append(request.url.path)
        return httpx.Response(200, json={"result": [{"id": s} for s in servers]})

    run = RunState(ProviderSettings(api_token="t", base_url="https://truto.test"))
    transport = httpx.MockTransport(handler)
    run._client = TrutoClient(base_url="https://truto.test", api_token="t", transport=transport)
    if earlier is not None:
        run.listings.since(ACC, ANY)
    servers[:] = now
    if made:
        run.note_made(ids[0])
    operation = _Operation(run, run.client(), Deadline.after(60.0))

    def gone_404(server_id: str) -> TrutoNotFoundError:
        path = f"/integrated-account/{ACC}/mcp/{server_id}"
        return TrutoNotFoundError(status_code=404, method="GET", path=path, message="Not Found")

    assert [operation.listed(ACC, s, gone_404(s), state) for s in ids] == found
    assert len(answered) == listings
