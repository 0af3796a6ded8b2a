"""`truto_pulumi._client`, a behaviour a row, over `httpx.MockTransport`: the answers and
network failures a server cannot be made to give on cue. A fake clock stands in for both
`time.monotonic` and `time.sleep`, so retries cost no time and every wait is recorded; where a
test counts waits, the backoff's random draw is its upper bound (`jitter_at_most`)."""

from __future__ import annotations

import logging
import random
import socket
import ssl
import threading
import time
import traceback
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import suppress
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any
from urllib.parse import quote

import httpx
import pytest

from truto_pulumi._client import DEFAULT_USER_AGENT, RetryPolicy, TrutoClient
from truto_pulumi._deadline import Deadline
from truto_pulumi._errors import (
    TrutoApiError,
    TrutoAuthError,
    TrutoDeadlineError,
    TrutoError,
    TrutoNotFoundError,
    TrutoRateLimitedError,
    TrutoServerError,
    TrutoTransportError,
    TrutoValidationError,
)
from truto_pulumi._ratelimit import RateLimiter
from truto_pulumi.emulator import Emulator

from .kit import ODD_TOKEN, FakeClock, shows_token

TOKEN = "sk-test-SECRET-api-token-6f1c"
MCP_SECRET = "mcp-SECRET-token-9a2b"
BASE = "https://api.truto.one"
IA = "ia-1"
MCP_ID = "mcp-1"
LIST = f"/integrated-account/{IA}/mcp"
PATH = f"{LIST}/{MCP_ID}"
OBJ: dict[str, Any] = {"id": MCP_ID, "integrated_account_id": IA, "name": "n", "config": {}}
SETTING = "truto:operationTimeoutSeconds"
NO_RETRY = RetryPolicy(deadline=-1.0)
"""A call's own deadline, already past: its first failure is final."""
BLOCKED = f"Integrated account {IA} is blocked. Contact support."

STATUS_ERRORS = [
    (400, TrutoValidationError), (401, TrutoAuthError), (403, TrutoAuthError),
    (404, TrutoNotFoundError), (409, TrutoValidationError), (410, TrutoNotFoundError),
    (418, TrutoValidationError), (422, TrutoValidationError), (429, TrutoRateLimitedError),
    (500, TrutoServerError), (502, TrutoServerError), (503, TrutoServerError),
    (504, TrutoServerError), (599, TrutoServerError),
]  # fmt: skip
"""Each HTTP error status and the exception class `_errors` documents for it."""


Step = httpx.Response | Exception


class Script:
    """A handler answering with the given steps in order; the last one repeats forever."""

    def __init__(self, *steps: Step) -> None:
        self.steps = list(steps)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        step = self.steps.pop(0) if len(self.steps) > 1 else self.steps[0]
        if isinstance(step, Exception):
            raise step
        return step


def make_client(
    handler: Callable[[httpx.Request], httpx.Response], *, clock: FakeClock | None = None, **kw: Any
) -> tuple[TrutoClient, FakeClock]:
    clock = clock or FakeClock(1000.0)
    kw = {"base_url": BASE, "api_token": TOKEN, **kw}
    transport = httpx.MockTransport(handler)
    return TrutoClient(transport=transport, sleep=clock.sleep, clock=clock, **kw), clock


def truto_error(status: int, message: str, retry_after: str | None = None) -> httpx.Response:
    headers = {} if retry_after is None else {"Retry-After": retry_after}
    body = {"statusCode": status, "error": "Some Error", "message": message}
    return httpx.Response(status, json=body, headers=headers)


def ok(body: Any = None) -> httpx.Response:
    return httpx.Response(200, json=OBJ if body is None else body)


CALLS: dict[str, Callable[[TrutoClient, Deadline | None], object]] = {
    "POST": lambda client, due: client.create_mcp_server(IA, {"name": "n"}, due),
    "GET": lambda client, due: client.get_mcp_server(IA, MCP_ID, due),
    "PATCH": lambda client, due: client.update_mcp_server(IA, MCP_ID, {"name": "m"}, due),
    "DELETE": lambda client, due: client.delete_mcp_server(IA, MCP_ID, due),
}
"""One call of each method, by the deadline given (None: the call's own)."""
IDEMPOTENT = ("GET", "PATCH", "DELETE")


def first_failure(step: Step, method: str = "GET", token: str = TOKEN) -> TrutoError:
    """What a call's first failure raises, or the failure inside its deadline error."""
    client, _ = make_client(Script(step), retry=NO_RETRY, api_token=token)
    with pytest.raises(TrutoError) as info:
        CALLS[method](client, None)
    error = info.value
    return error.last_error if isinstance(error, TrutoDeadlineError) and error.last_error else error


@pytest.fixture
def jitter_at_most(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("truto_pulumi._client.random.uniform", lambda low, high: high)


def caused_by(cause: BaseException) -> httpx.ConnectError:
    error = httpx.ConnectError("connect failed")
    error.__cause__ = cause
    return error


TLS = caused_by(ssl.SSLError(1, "[SSL: WRONG_VERSION_NUMBER] wrong version number"))
UNTRUSTED = caused_by(ssl.SSLCertVerificationError(1, "certificate verify failed"))
NO_HOST = caused_by(socket.gaierror(socket.EAI_NONAME, "Name or service not known"))
DNS_AGAIN = caused_by(socket.gaierror(socket.EAI_AGAIN, "Temporary failure in name resolution"))
NOT_SENT = [httpx.ConnectError("refused"), httpx.ConnectTimeout("t"), httpx.PoolTimeout("t")]
MAYBE_SENT = [httpx.ReadTimeout("t"), httpx.WriteTimeout("t"), httpx.RemoteProtocolError("gone"),
              httpx.ReadError("reset"), httpx.WriteError("pipe")]  # fmt: skip


def _id(value: object) -> str:
    return type(value).__name__ if isinstance(value, Exception) else str(value)


# --- what is retried, and what a failure says ------------------------------------------------


@pytest.mark.parametrize(
    ("method", "failure", "retried"),
    [(m, truto_error(s, "no"), False) for m in CALLS for s in (400, 401, 403, 404, 409, 418, 422)]
    + [("POST", truto_error(s, "oops"), False) for s in (500, 502, 504)]  # Truto may have acted
    + [(m, truto_error(s, "busy"), True) for m in CALLS for s in (429, 503)]  # refused, not done
    + [(m, truto_error(s, "oops"), True) for m in IDEMPOTENT for s in (500, 502, 504)]
    + [(m, e, True) for m in CALLS for e in NOT_SENT]  # never left this process
    + [("POST", e, False) for e in MAYBE_SENT]
    + [(m, e, True) for m in IDEMPOTENT for e in MAYBE_SENT]
    + [(m, e, False) for m in ("GET", "POST") for e in (TLS, UNTRUSTED, NO_HOST)]
    + [("GET", DNS_AGAIN, True), ("GET", httpx.ProxyError("proxy said no"), False)],
    ids=_id,
)
def test_which_failures_are_sent_again(method: str, failure: Step, retried: bool) -> None:
    script = Script(failure, ok({**OBJ, "token": MCP_SECRET}))
    client, clock = make_client(script)
    if retried:  # the answer of the retry, with the secrets of a create's
        assert CALLS[method](client, None) in (None, {**OBJ, "token": MCP_SECRET})
    else:
        with pytest.raises((TrutoApiError, TrutoTransportError)):
            CALLS[method](client, None)
    assert [r.method for r in script.requests] == [method] * (2 if retried else 1)
    assert len({r.content for r in script.requests}) == 1  # a retry sends the same body
    assert len(clock.waits) == int(retried)


HTML = "<html><body>" + "Bad gateway from the proxy. " * 100


@pytest.mark.parametrize(
    ("answer", "message"),
    [(truto_error(s, "explained by Truto"), "explained by Truto") for s, _ in STATUS_ERRORS]
    + [
        (httpx.Response(502, text=HTML), HTML[:199] + "…"),
        (httpx.Response(400, text="  spaced\n\tout  "), "spaced out"),
        (truto_error(400, "  Truto's words.  "), "Truto's words."),
        (truto_error(400, "y" * 1200), "y" * 999 + "…"),
        (httpx.Response(400, text="x" * 186 + ODD_TOKEN + " was refused"),
         "x" * 186 + "*** was refus…"),
        (truto_error(400, "y" * 990 + ODD_TOKEN), "y" * 990 + "***"),
    ],
    ids=[str(s) for s, _ in STATUS_ERRORS]
    + ["text_cut_at_200", "text_spaces_joined", "trutos_message", "trutos_message_cut_at_1000",
       "text_across_the_200_character_cut", "truto_message_across_the_1000_character_cut"],
)  # fmt: skip
def test_an_error_status_raises_its_class_with_trutos_message_scrubbed_then_cut(
    answer: httpx.Response, message: str
) -> None:
    """The forms the token may take in it are `test_redact.py`'s."""
    error = first_failure(answer, token=ODD_TOKEN)
    assert type(error) is dict(STATUS_ERRORS)[answer.status_code]
    assert isinstance(error, TrutoApiError)
    assert (error.status_code, error.method, error.path) == (answer.status_code, "GET", PATH)
    assert str(error) == f"Truto answered {answer.status_code} to GET {PATH}: {message}"
    assert shows_token(str(error)) == []


APPLIED = "; the request may have been applied"
CHECK_BASE_URL = ". Retrying cannot fix this: check truto:baseUrl"


@pytest.mark.parametrize(
    ("failure", "method", "says", "ending", "sent"),
    [
        (httpx.ConnectError("refused"), "POST", "could not connect to", ": refused", False),
        (httpx.ConnectTimeout("t"), "GET", "timed out connecting to", ": t", False),
        (httpx.PoolTimeout("t"), "GET", "timed out waiting for a free connection to", "", False),
        (httpx.ReadTimeout("t"), "POST", "timed out waiting for the answer of", APPLIED, True),
        (httpx.ReadTimeout("t"), "GET", "timed out waiting for the answer of", ": t", True),
        (httpx.WriteTimeout("t"), "GET", "timed out sending the request to", ": t", True),
        (httpx.ReadError("r"), "GET", "connection broke while reading the answer of", "", True),
        (httpx.WriteError("w"), "GET", "connection broke while sending the request to", "", True),
        (httpx.ProxyError("no"), "GET", "could not complete the request to", ": no", True),
        (TLS, "GET", "TLS handshake failed with", f"version number{CHECK_BASE_URL}", False),
        (UNTRUSTED, "GET", "TLS certificate not trusted for", CHECK_BASE_URL, False),
        (NO_HOST, "POST", "host name not found for", f"not known{CHECK_BASE_URL}", False),
        (httpx.ConnectError(f"proxy refused {quote(ODD_TOKEN)}"), "GET", "could not connect to",
         ": proxy refused ***", False),
        (caused_by(ssl.SSLError(1, f"bad peer for {ODD_TOKEN[4:20]}")), "GET",
         "TLS handshake failed with", f"bad peer for ***{CHECK_BASE_URL}", False),
        (httpx.ReadError("x" * 190 + ODD_TOKEN), "GET",
         "connection broke while reading the answer of", "x" * 190 + "***", True),
    ],
    ids=_id,
)  # fmt: skip
def test_a_transport_error_says_what_failed_where_and_whether_the_request_was_sent(
    failure: httpx.RequestError, method: str, says: str, ending: str, sent: bool
) -> None:
    """Scrubbed of the API token, it and every cause a traceback shows."""
    error = first_failure(failure, method=method, token=ODD_TOKEN)
    assert isinstance(error, TrutoTransportError)
    path = PATH if method == "GET" else LIST
    assert str(error).startswith(f"{says} {BASE} ({method} {path}): ")
    assert str(error).endswith(ending)
    assert (error.method, error.path, error.request_sent) == (method, path, sent)
    assert error.__cause__ is failure
    assert shows_token("".join(traceback.format_exception(error))) == []


# --- how long a retry waits, and when it stops -----------------------------------------------


def http_date(minutes: float) -> str:
    return format_datetime(datetime.now(UTC) + timedelta(minutes=minutes), usegmt=True)


DATES = {"past": http_date(-5), "later": http_date(5)}
SLOW = {
    h: truto_error(429, "slow", DATES.get(h, h))
    for h in ("3", "120", "0", "0.001", "-3", "soon", *DATES)
}
GAVE_UP = f"gave up after {{}} s waiting on GET {PATH} after {{}} attempt(s): Truto answered"
RAN_OUT = f"operation timeout of {{}} s ({SETTING}) ran out after {{}} s waiting on GET {PATH}"


@pytest.mark.parametrize(
    ("answers", "policy", "deadline", "waits", "error"),
    [
        ([SLOW["3"], ok()], RetryPolicy(), None, [3.0], None),
        ([SLOW["120"], ok()], RetryPolicy(max_retry_after=30.0), None, [30.0], None),
        ([SLOW["later"], ok()], RetryPolicy(max_retry_after=30.0), None, [30.0], None),
        ([truto_error(429, "slow"), ok()], RetryPolicy(base_delay=0.5), None, [0.5], None),
        ([*(truto_error(s, "x") for s in (503, 500, 502, 504, 500)), ok()],
         RetryPolicy(deadline=1000.0, base_delay=1.0, max_delay=4.0), None,
         [1.0, 2.0, 4.0, 4.0, 4.0], None),
        ([truto_error(503, "down")], RetryPolicy(deadline=10.0, base_delay=1.0), None,
         [1.0, 2.0, 4.0], GAVE_UP.format("7.0", 4)),
        ([SLOW["120"]], RetryPolicy(deadline=10.0), None, [], GAVE_UP.format("0.0", 1)),
        # The operation began 4 s before this call: 3 s of waits, and the next (4 s) would end
        # past its 10 s.
        ([truto_error(503, "busy")], RetryPolicy(base_delay=1.0), Deadline(1006.0, 10.0, SETTING),
         [1.0, 2.0], RAN_OUT.format(10, "7.0") + " after 3 attempt(s): Truto answered 503"),
        ([truto_error(502, "busy")], RetryPolicy(deadline=60.0), Deadline(1200.0, 200.0, SETTING),
         [0.5, 1.0, 2.0, 4.0] + [8.0] * 24, RAN_OUT.format(200, "199.5")),
    ]
    + [([SLOW[h]] * 3 + [ok()], RetryPolicy(), None, [0.5, 1.0, 2.0], None)
       for h in ("0", "0.001", "-3", "soon", "past")],
    ids=["retry_after", "retry_after_capped", "retry_after_as_http_date", "no_retry_after",
         "backoff_doubling_to_its_cap", "backoff_stops_before_the_deadline",
         "retry_after_stops_before_the_deadline", "the_operation_deadline_counts_from_its_start",
         "an_operation_deadline_past_the_policys_governs"]
    + [f"retry_after_{h}_never_below_backoff" for h in ("0", "tiny", "negative", "bad", "past")],
)  # fmt: skip
def test_the_wait_before_each_retry_and_when_retries_stop(
    answers: list[httpx.Response],
    policy: RetryPolicy,
    deadline: Deadline | None,
    waits: list[float],
    error: str | None,
    jitter_at_most: None,
) -> None:
    """The clock starts at 1000 s; a `deadline` is the operation's, named by its setting."""
    script = Script(*answers)
    client, clock = make_client(script, retry=policy)
    if error is None:
        assert client.get_mcp_server(IA, MCP_ID, deadline) == OBJ
    else:
        with pytest.raises(TrutoDeadlineError) as info:
            client.get_mcp_server(IA, MCP_ID, deadline)
        assert str(info.value).startswith(error)
        assert str(info.value).endswith(f": {info.value.last_error}")
        assert isinstance(info.value.last_error, TrutoApiError)
    assert (clock.waits, len(script.requests)) == (waits, len(waits) + 1)


def test_the_rate_limiter_paces_every_attempt_within_the_deadline(jitter_at_most: None) -> None:
    clock = FakeClock(1000.0)
    limiter = RateLimiter(2.0, window=1.0, clock=clock, sleep=clock.sleep)  # 2 per second
    script = Script(truto_error(503, "busy"), ok())
    client, _ = make_client(script, clock=clock, rate_limiter=limiter)
    deadline = Deadline.after(1.2, SETTING, now=clock.now)
    client.get_mcp_server(IA, MCP_ID, deadline)  # 503 at 1000 s; 200 after a backoff of 0.5 s
    client.get_mcp_server(IA, MCP_ID, deadline)  # the retry counted: waits until 1001 s
    assert clock.waits == [0.5, 0.5]
    with pytest.raises(TrutoDeadlineError) as info:
        client.get_mcp_server(IA, MCP_ID, deadline)  # would wait until 1001.5 s
    assert str(info.value) == (
        f"operation timeout of 1.2 s ({SETTING}) ran out after 1.0 s waiting for the "
        f"client-side rate limit before GET {PATH}"
    )
    assert len(script.requests) == 3


@pytest.mark.parametrize(
    ("deadline", "patient", "timeout"),
    [(None, False, 30.0), (2.0, False, 2.0), (100.0, False, 30.0), (100.0, True, 100.0),
     (-5.0, False, 0.05)],
)  # fmt: skip
def test_a_request_never_outlives_the_deadline(
    deadline: float | None, patient: bool, timeout: float
) -> None:
    script = Script(ok())
    client, clock = make_client(script, timeout=30.0)
    until = None if deadline is None else Deadline.after(deadline, SETTING, now=clock.now)
    client.create_mcp_server(IA, {"name": "n"}, until, patient=patient)
    phases = ("connect", "read", "write", "pool")
    assert script.requests[0].extensions["timeout"] == dict.fromkeys(phases, timeout)


def test_constant_429_with_retry_after_zero_sends_no_more_requests_than_the_backoff_allows(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("truto_pulumi._client.random.uniform", random.Random(18).uniform)
    clock = FakeClock(1000.0)
    sent: list[httpx.Request] = []

    def limited(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        clock.now += 0.001  # each answer takes a millisecond
        return truto_error(429, "slow down", "0")

    client, _ = make_client(limited, clock=clock)
    with pytest.raises(TrutoDeadlineError):
        client.create_mcp_server(IA, {"name": "n"}, Deadline.after(5.0, SETTING, now=clock.now))
    # Backoff waits of up to 0.5, 1, 2, 4 s...: a handful of attempts in 5 s, not thousands.
    assert 3 <= len(sent) <= 15
    assert all(wait > 0.0 for wait in clock.waits)


# --- a 503 that persists under an integrated account -----------------------------------------


@pytest.mark.parametrize("method", CALLS)
@pytest.mark.parametrize(
    ("between", "account", "sent"),
    [(None, IA, 1), (ok(), IA, 2), (truto_error(404, "no"), IA, 2), (None, "ia-2", 2)],
    ids=["next_at_once", "next_again_after_an_answer", "next_again_after_another_error",
         "next_again_under_another_account"],
)  # fmt: skip
def test_a_persistent_503_fails_within_a_minute_with_trutos_message(
    method: str, between: httpx.Response | None, account: str, sent: int, jitter_at_most: None
) -> None:
    """The 503s of one account count together until another answer: a next call under it fails
    at its first 503."""
    script = Script(truto_error(503, BLOCKED))
    client, clock = make_client(script)
    with pytest.raises(TrutoServerError) as info:
        CALLS[method](client, Deadline.after(300.0, SETTING, now=clock.now))
    assert clock.now - 1000.0 <= RetryPolicy().unavailable_for < 60
    assert info.value.status_code == 503
    assert f"{BLOCKED} (Truto has answered 503 under this integrated account for" in str(info.value)
    assert "blocked, and retrying will not help" in str(info.value).split(BLOCKED)[1]
    assert len(script.requests) > 2
    if between is not None:
        script.steps = [between]
        with suppress(TrutoNotFoundError):
            client.get_mcp_server(IA, MCP_ID)
    script.steps, before = [truto_error(503, "busy"), ok()], len(script.requests)
    with suppress(TrutoServerError):
        client.get_mcp_server(account, MCP_ID)
    assert len(script.requests) - before == sent


# --- requests as sent ------------------------------------------------------------------------

PROXY = "https://proxy.example/truto"


@pytest.mark.parametrize(
    ("call", "method", "path", "content"),
    [
        (lambda c: c.create_mcp_server(IA, {"name": "n", "config": {}}), "POST", LIST,
         b'{"name":"n","config":{}}'),
        (lambda c: c.update_mcp_server(IA, MCP_ID, {"expires_at": None}), "PATCH", PATH,
         b'{"expires_at":null}'),
        (lambda c: c.get_mcp_server("a/b c", "x?y#z%"), "GET",
         "/integrated-account/a%2Fb%20c/mcp/x%3Fy%23z%25", b""),
        (lambda c: c.delete_mcp_server(IA, MCP_ID), "DELETE", PATH, b""),
        (lambda c: c.get_integrated_account("a/1"), "GET", "/integrated-account/a%2F1", b""),
        (lambda c: c.get_environment_integration("e/1"), "GET", "/environment-integration/e%2F1",
         b""),
        (lambda c: c.list_integrated_accounts({"status": "active"}, page_size=5), "GET",
         "/integrated-account?status=active&limit=5", b""),
    ],
    ids=["create", "update_keeps_nulls", "ids_quoted", "delete", "account", "integration",
         "accounts"],
)  # fmt: skip
def test_each_call_sends_its_request_with_the_token_and_json_headers(
    call: Callable[[TrutoClient], object], method: str, path: str, content: bytes
) -> None:
    """Under the base URL's path, without its trailing slash."""
    script = Script(ok({**OBJ, "result": []}))
    client, _ = make_client(script, base_url=f"{PROXY}/")
    call(client)
    (request,) = script.requests
    assert (request.method, str(request.url), request.content) == (method, PROXY + path, content)
    assert request.headers["Authorization"] == f"Bearer {TOKEN}"
    assert request.headers["Content-Type"] == request.headers["Accept"] == "application/json"
    assert request.headers["User-Agent"] == DEFAULT_USER_AGENT


# --- pages ----------------------------------------------------------------------------------


@pytest.mark.parametrize("last", [{"next_cursor": None}, {}, {"next_cursor": ""}])
def test_a_list_follows_next_cursor_in_either_spelling_until_it_is_null_absent_or_empty(
    last: dict[str, Any],
) -> None:
    script = Script(
        ok({"result": [{"id": "1"}, {"id": "2"}], "next_cursor": "c1"}),
        ok({"results": [{"id": "3"}], "next_cursor": "c2"}),
        truto_error(503, "busy"),  # a page retried keeps its cursor
        ok({"result": [{"id": "4"}], **last}),
    )
    client, _ = make_client(script)
    items = client.list_integrated_accounts({}, page_size=2)
    assert [item["id"] for item in items] == ["1", "2", "3", "4"]
    cursors = [None, "c1", "c2", "c2"]
    assert [r.url.params.get("next_cursor") for r in script.requests] == cursors
    assert {r.url.params["limit"] for r in script.requests} == {"2"}


@pytest.mark.parametrize(
    ("answers", "problem"),
    [
        *[([answer], "answer was not a JSON object") for answer in [
            httpx.Response(200, text="not json"), httpx.Response(200, json=[OBJ]),
            httpx.Response(201, json="a string"), httpx.Response(204)]],
        *[([ok(body)], "no 'result' list of objects")
          for body in ({"next_cursor": None}, {"result": "x"}, {"result": ["x"]})],
        ([ok({"result": [], "next_cursor": 5})], "'next_cursor' is not a string"),
        ([ok({"result": [], "next_cursor": c}) for c in ("c1", "c2", "c1", None)],
         "the same next_cursor came twice"),
    ],
    ids=["text", "list", "string", "empty", "no_result", "result_not_a_list",
         "item_not_an_object", "cursor_not_a_string", "cursor_loop"],
)  # fmt: skip
def test_a_2xx_answer_the_client_cannot_use_raises_a_server_error(
    answers: list[httpx.Response], problem: str
) -> None:
    script = Script(*answers)
    client, _ = make_client(script)
    with pytest.raises(TrutoServerError, match=problem) as info:
        client.list_mcp_servers(IA)
    assert info.value.status_code == answers[0].status_code
    assert len(script.requests) == min(len(answers), 3)
    assert "limit" not in script.requests[0].url.params  # no page size: Truto's own
    client.delete_mcp_server(IA, MCP_ID)  # a DELETE needs no body


def test_each_attempt_is_logged_at_debug_and_each_retry_at_warning_with_its_wait(
    caplog: pytest.LogCaptureFixture, jitter_at_most: None
) -> None:
    caplog.set_level(logging.DEBUG, logger="truto_pulumi.client")
    client, _ = make_client(Script(truto_error(503, "busy"), httpx.ReadError("reset"), ok()))
    client.get_mcp_server(IA, MCP_ID)
    assert [(r.levelno, r.getMessage()) for r in caplog.records] == [
        (logging.DEBUG, f"GET {PATH} -> status 503 (attempt 1)"),
        (logging.WARNING, f"retrying GET {PATH} in 0.50 s after status 503 (attempt 1)"),
        (logging.DEBUG, f"GET {PATH} -> ReadError (attempt 2)"),
        (logging.WARNING, f"retrying GET {PATH} in 1.00 s after ReadError (attempt 2)"),
        (logging.DEBUG, f"GET {PATH} -> status 200 (attempt 3)"),
    ]


# --- one client, many threads ----------------------------------------------------------------


def test_calls_from_four_threads_at_once_each_get_their_own_answer_until_it_is_closed() -> None:
    together = threading.Barrier(4, timeout=5.0)  # the first four must be in flight at once

    def handler(request: httpx.Request) -> httpx.Response:
        mcp_id = request.url.path.rsplit("/", 1)[-1]
        if int(mcp_id.split("-")[1]) < 4:
            together.wait()
        return httpx.Response(200, json={"id": mcp_id})

    ids = [f"mcp-{i}" for i in range(40)]
    with make_client(handler)[0] as client, ThreadPoolExecutor(max_workers=4) as pool:
        answers = list(pool.map(lambda i: client.get_mcp_server(IA, i), ids))
    assert [a["id"] for a in answers] == ids
    with pytest.raises(RuntimeError, match="closed"):
        client.get_mcp_server(IA, MCP_ID)


@pytest.mark.slow
def test_https_against_a_plain_http_server_fails_at_once(emulator: Emulator) -> None:
    url = emulator.url.replace("http://", "https://")
    with TrutoClient(base_url=url, api_token=TOKEN) as client:
        started = time.monotonic()
        with pytest.raises(TrutoTransportError, match="TLS handshake failed with") as info:
            client.list_mcp_servers(IA, Deadline.after(300.0, SETTING))
        assert time.monotonic() - started < 5.0
    assert TOKEN not in str(info.value)
