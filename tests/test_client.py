"""Tests of `truto_pulumi._client` against `httpx.MockTransport` handlers.

A fake clock stands in for both `time.monotonic` and `time.sleep`, so retries cost no time and
every wait is recorded.
"""

from __future__ import annotations

import base64
import json
import logging
import random
import socket
import ssl
import threading
import time
import traceback
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime
from typing import Any
from urllib.parse import quote

import httpx
import pytest

from truto_pulumi._client import (
    DEFAULT_USER_AGENT,
    RetryPolicy,
    TrutoClient,
    _retry_wait,
)
from truto_pulumi._errors import (
    TrutoApiError,
    TrutoAuthError,
    TrutoConfigError,
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

from .kit import ODD_TOKEN, STATUS_ERRORS, FakeClock, shows_token
from .kit import json_unicode as _json_unicode

TOKEN = "sk-test-SECRET-api-token-6f1c"
MCP_SECRET = "mcp-SECRET-token-9a2b"
BASE = "https://api.truto.one"
IA = "ia-1"
MCP_ID = "mcp-1"
OBJ: dict[str, Any] = {"id": MCP_ID, "integrated_account_id": IA, "name": "n", "config": {}}
# A negative deadline makes even a zero wait cross it: the first failure is raised.
NO_RETRY = RetryPolicy(deadline=-1.0)
DEFAULT_TEST_RETRY = RetryPolicy(deadline=60.0)

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
    handler: Callable[[httpx.Request], httpx.Response],
    *,
    retry: RetryPolicy = DEFAULT_TEST_RETRY,
    clock: FakeClock | None = None,
    **kwargs: Any,
) -> tuple[TrutoClient, FakeClock]:
    clock = clock or FakeClock(1000.0)
    client = TrutoClient(
        base_url=kwargs.pop("base_url", BASE),
        api_token=TOKEN,
        retry=retry,
        transport=httpx.MockTransport(handler),
        sleep=clock.sleep,
        clock=clock,
        **kwargs,
    )
    return client, clock


def truto_error(status: int, message: str, **headers: str) -> httpx.Response:
    body = {"statusCode": status, "error": "Some Error", "message": message}
    return httpx.Response(status, json=body, headers=headers)


def ok(body: Any = None) -> httpx.Response:
    return httpx.Response(200, json=OBJ if body is None else body)


def call(client: TrutoClient, method: str) -> object:
    if method == "POST":
        return client.create_mcp_server(IA, {"name": "n"})
    if method == "GET":
        return client.get_mcp_server(IA, MCP_ID)
    if method == "PATCH":
        return client.update_mcp_server(IA, MCP_ID, {"name": "m"})
    assert method == "DELETE"
    client.delete_mcp_server(IA, MCP_ID)
    return None


# --- status mapping --------------------------------------------------------------------------


@pytest.mark.parametrize(("status", "error_type"), STATUS_ERRORS)
def test_error_status_raises_mapped_exception_with_truto_message(
    status: int, error_type: type[TrutoApiError]
) -> None:
    client, _ = make_client(Script(truto_error(status, "explained by Truto")), retry=NO_RETRY)
    with pytest.raises(error_type) as info:
        client.get_mcp_server(IA, MCP_ID)
    assert type(info.value) is error_type
    assert info.value.status_code == status
    assert info.value.method == "GET"
    assert info.value.path == f"/integrated-account/{IA}/mcp/{MCP_ID}"
    assert info.value.message == "explained by Truto"
    assert "explained by Truto" in str(info.value)


def test_404_raises_not_found_with_truto_message() -> None:
    script = Script(truto_error(404, "MCP server not found"))
    client, clock = make_client(script)
    with pytest.raises(TrutoNotFoundError, match=r"404 to GET .*: MCP server not found"):
        client.get_mcp_server(IA, MCP_ID)
    assert len(script.requests) == 1
    assert clock.waits == []


@pytest.mark.parametrize("status", [400, 401, 403, 404, 409, 410, 422, 418])
def test_4xx_other_than_429_is_never_retried(status: int) -> None:
    script = Script(truto_error(status, "no"), ok())
    client, clock = make_client(script)
    with pytest.raises(TrutoApiError):
        client.update_mcp_server(IA, MCP_ID, {"name": "x"})
    assert len(script.requests) == 1
    assert clock.waits == []


def test_error_body_that_is_not_truto_json_becomes_truncated_text() -> None:
    html = "<html><body>" + "Bad gateway from the proxy. " * 100 + "</body></html>"
    client, _ = make_client(Script(httpx.Response(502, text=html)), retry=NO_RETRY)
    with pytest.raises(TrutoServerError) as info:
        client.get_mcp_server(IA, MCP_ID)
    assert info.value.message.startswith("<html><body>Bad gateway from the proxy.")
    assert len(info.value.message) <= 200


# --- Retry-After and retries ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("7", 7.0),
        ("0", 0.0),
        ("1.5", 1.5),
        ("soon", None),
        ("-3", None),
        ("", None),
    ],
)
def test_429_carries_retry_after_seconds_or_none_when_bad(
    header: str, expected: float | None
) -> None:
    response = truto_error(429, "slow down", **{"Retry-After": header})
    client, _ = make_client(Script(response), retry=NO_RETRY)
    with pytest.raises(TrutoRateLimitedError) as info:
        client.get_mcp_server(IA, MCP_ID)
    assert info.value.retry_after == expected


def test_429_retry_after_as_http_date_is_converted_to_seconds() -> None:
    when = datetime.now(timezone.utc) + timedelta(seconds=30)
    response = truto_error(429, "slow down", **{"Retry-After": format_datetime(when, usegmt=True)})
    client, _ = make_client(Script(response), retry=NO_RETRY)
    with pytest.raises(TrutoRateLimitedError) as info:
        client.get_mcp_server(IA, MCP_ID)
    assert info.value.retry_after is not None
    assert 25.0 <= info.value.retry_after <= 30.0


def test_429_retry_after_is_honoured_then_call_succeeds() -> None:
    script = Script(truto_error(429, "slow down", **{"Retry-After": "3"}), ok())
    client, clock = make_client(script)
    assert client.get_mcp_server(IA, MCP_ID) == OBJ
    assert clock.waits == [3.0]
    assert len(script.requests) == 2


def test_429_retry_after_is_capped_by_policy() -> None:
    script = Script(truto_error(429, "slow down", **{"Retry-After": "120"}), ok())
    client, clock = make_client(script, retry=RetryPolicy(deadline=60.0, max_retry_after=30.0))
    assert client.get_mcp_server(IA, MCP_ID) == OBJ
    assert clock.waits == [30.0]


def test_429_without_retry_after_uses_backoff() -> None:
    script = Script(truto_error(429, "slow down"), ok())
    client, clock = make_client(script, retry=RetryPolicy(base_delay=0.5))
    client.get_mcp_server(IA, MCP_ID)
    assert len(clock.waits) == 1
    assert 0.0 <= clock.waits[0] <= 0.5


def test_5xx_retried_with_capped_exponential_backoff_then_succeeds() -> None:
    script = Script(
        truto_error(503, "a"),
        truto_error(500, "b"),
        truto_error(502, "c"),
        truto_error(504, "d"),
        truto_error(500, "e"),
        ok(),
    )
    policy = RetryPolicy(deadline=1000.0, base_delay=1.0, max_delay=4.0)
    client, clock = make_client(script, retry=policy)
    assert client.get_mcp_server(IA, MCP_ID) == OBJ
    assert len(script.requests) == 6
    bounds = [1.0, 2.0, 4.0, 4.0, 4.0]
    assert len(clock.waits) == len(bounds)
    assert all(0.0 <= w <= b for w, b in zip(clock.waits, bounds, strict=True))


def test_retries_stop_before_sleep_would_cross_deadline(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("truto_pulumi._client.random.uniform", lambda low, high: high)
    script = Script(truto_error(503, "down for maintenance"))
    policy = RetryPolicy(deadline=10.0, base_delay=1.0, max_delay=8.0)
    client, clock = make_client(script, retry=policy)
    with pytest.raises(TrutoDeadlineError, match="down for maintenance") as info:
        client.get_mcp_server(IA, MCP_ID)
    assert isinstance(info.value.last_error, TrutoServerError)
    assert "after 4 attempt(s)" in str(info.value)
    # Waits 1 + 2 + 4 = 7 s; the next (8 s) would end at 15 s > 10 s, so it stops.
    assert clock.waits == [1.0, 2.0, 4.0]
    assert len(script.requests) == 4


def test_retry_after_beyond_deadline_raises_without_waiting() -> None:
    script = Script(truto_error(429, "slow down", **{"Retry-After": "30"}), ok())
    client, clock = make_client(script, retry=RetryPolicy(deadline=10.0))
    with pytest.raises(TrutoRateLimitedError):
        client.get_mcp_server(IA, MCP_ID)
    assert clock.waits == []
    assert len(script.requests) == 1


# --- transport failures --------------------------------------------------------------------

NOT_SENT = [
    httpx.ConnectError("connection refused"),
    httpx.ConnectTimeout("timed out"),
    httpx.PoolTimeout("pool exhausted"),
]
MAYBE_SENT = [
    httpx.ReadTimeout("timed out"),
    httpx.RemoteProtocolError("server disconnected"),
    httpx.ReadError("connection reset"),
    httpx.WriteError("broken pipe"),
]


@pytest.mark.parametrize("exc", MAYBE_SENT, ids=lambda e: type(e).__name__)
def test_post_not_retried_when_request_may_have_been_sent(exc: Exception) -> None:
    script = Script(exc, ok())
    client, clock = make_client(script)
    with pytest.raises(TrutoTransportError, match="may have been applied") as info:
        client.create_mcp_server(IA, {"name": "n"})
    assert info.value.request_sent is True
    assert len(script.requests) == 1
    assert clock.waits == []


@pytest.mark.parametrize("exc", NOT_SENT, ids=lambda e: type(e).__name__)
def test_post_retried_when_request_never_left(exc: Exception) -> None:
    script = Script(exc, ok({**OBJ, "token": MCP_SECRET}))
    client, clock = make_client(script)
    assert client.create_mcp_server(IA, {"name": "n"})["token"] == MCP_SECRET
    assert len(script.requests) == 2
    assert len(clock.waits) == 1


@pytest.mark.parametrize("method", ["GET", "PATCH", "DELETE"])
@pytest.mark.parametrize("exc", MAYBE_SENT, ids=lambda e: type(e).__name__)
def test_idempotent_methods_retried_when_request_may_have_been_sent(
    method: str, exc: Exception
) -> None:
    script = Script(exc, ok())
    client, clock = make_client(script)
    call(client, method)
    assert [r.method for r in script.requests] == [method, method]
    assert len(clock.waits) == 1


def test_patch_retried_on_read_timeout_sends_same_body_twice() -> None:
    script = Script(httpx.ReadTimeout("timed out"), ok())
    client, _ = make_client(script)
    assert client.update_mcp_server(IA, MCP_ID, {"name": "m"}) == OBJ
    assert [r.content for r in script.requests] == [b'{"name":"m"}', b'{"name":"m"}']


@pytest.mark.parametrize(
    ("exc", "request_sent"),
    [(e, False) for e in NOT_SENT] + [(e, True) for e in MAYBE_SENT],
    ids=lambda v: type(v).__name__ if isinstance(v, Exception) else str(v),
)
def test_transport_error_request_sent_flag(exc: Exception, request_sent: bool) -> None:
    client, _ = make_client(Script(exc), retry=NO_RETRY)
    with pytest.raises(TrutoTransportError) as info:
        client.get_mcp_server(IA, MCP_ID)
    assert info.value.request_sent is request_sent
    assert info.value.method == "GET"
    assert info.value.path == f"/integrated-account/{IA}/mcp/{MCP_ID}"
    assert isinstance(info.value.__cause__, type(exc))


def test_connect_error_message_names_host_method_and_path() -> None:
    client, _ = make_client(Script(httpx.ConnectError("connection refused")), retry=NO_RETRY)
    with pytest.raises(TrutoTransportError) as info:
        client.create_mcp_server(IA, {"name": "n"})
    assert str(info.value) == (
        f"could not connect to {BASE} (POST /integrated-account/{IA}/mcp): connection refused"
    )


def test_transport_error_after_retries_says_how_many_attempts(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("truto_pulumi._client.random.uniform", lambda low, high: high)
    script = Script(httpx.ConnectError("connection refused"))
    client, clock = make_client(script, retry=RetryPolicy(deadline=2.0, base_delay=1.0))
    with pytest.raises(TrutoDeadlineError, match=r"gave up after 2 attempts") as info:
        client.get_mcp_server(IA, MCP_ID)
    assert isinstance(info.value.last_error, TrutoTransportError)
    assert clock.waits == [1.0]


def test_unexpected_transport_error_is_wrapped_and_not_retried() -> None:
    script = Script(httpx.ProxyError("proxy said no"), ok())
    client, _ = make_client(script)
    with pytest.raises(TrutoTransportError, match="proxy said no") as info:
        client.get_mcp_server(IA, MCP_ID)
    assert info.value.request_sent is True
    assert len(script.requests) == 1


# --- requests as sent ----------------------------------------------------------------------


def test_headers_carry_bearer_token_json_and_user_agent() -> None:
    script = Script(ok())
    client, _ = make_client(script)
    client.create_mcp_server(IA, {"name": "n"})
    headers = script.requests[0].headers
    assert headers["Authorization"] == f"Bearer {TOKEN}"
    assert headers["Content-Type"] == "application/json"
    assert headers["Accept"] == "application/json"
    assert headers["User-Agent"] == DEFAULT_USER_AGENT


def test_custom_user_agent_is_sent() -> None:
    script = Script(ok())
    client, _ = make_client(script, user_agent="my-stack/1.2")
    client.get_mcp_server(IA, MCP_ID)
    assert script.requests[0].headers["User-Agent"] == "my-stack/1.2"


def test_float_timeout_applies_to_every_phase() -> None:
    script = Script(ok())
    client, _ = make_client(script, timeout=12.5)
    client.get_mcp_server(IA, MCP_ID)
    assert script.requests[0].extensions["timeout"] == {
        "connect": 12.5,
        "read": 12.5,
        "write": 12.5,
        "pool": 12.5,
    }


def test_create_posts_json_body_and_returns_object_with_secret() -> None:
    created = {**OBJ, "token": MCP_SECRET, "url": f"{BASE}/mcp/{MCP_SECRET}"}
    script = Script(httpx.Response(201, json=created))
    client, _ = make_client(script)
    body = {"name": "n", "config": {"methods": ["read"]}}
    assert client.create_mcp_server(IA, body) == created
    request = script.requests[0]
    assert request.method == "POST"
    assert request.url == f"{BASE}/integrated-account/{IA}/mcp"
    assert request.content == b'{"name":"n","config":{"methods":["read"]}}'


def test_update_sends_patch_with_null_values_kept() -> None:
    script = Script(ok())
    client, _ = make_client(script)
    client.update_mcp_server(IA, MCP_ID, {"expires_at": None})
    request = script.requests[0]
    assert request.method == "PATCH"
    assert request.url.path == f"/integrated-account/{IA}/mcp/{MCP_ID}"
    assert request.content == b'{"expires_at":null}'


def test_ids_are_url_quoted_in_the_path() -> None:
    script = Script(ok())
    client, _ = make_client(script)
    client.get_mcp_server("a/b c", "x?y#z%")
    assert script.requests[0].url.raw_path == b"/integrated-account/a%2Fb%20c/mcp/x%3Fy%23z%25"


@pytest.mark.parametrize(("ia", "mcp_id"), [("", MCP_ID), (IA, "")])
def test_empty_ids_are_rejected_before_any_request(ia: str, mcp_id: str) -> None:
    script = Script(ok())
    client, _ = make_client(script)
    with pytest.raises(ValueError, match="must not be empty"):
        client.get_mcp_server(ia, mcp_id)
    assert script.requests == []


@pytest.mark.parametrize("status", [200, 204])
def test_delete_accepts_200_and_204(status: int) -> None:
    response = httpx.Response(200, json={"id": MCP_ID}) if status == 200 else httpx.Response(204)
    script = Script(response)
    client, _ = make_client(script)
    client.delete_mcp_server(IA, MCP_ID)
    assert script.requests[0].method == "DELETE"
    assert script.requests[0].url.path == f"/integrated-account/{IA}/mcp/{MCP_ID}"


@pytest.mark.parametrize(
    "response",
    [
        httpx.Response(200, text="not json"),
        httpx.Response(200, json=[OBJ]),
        httpx.Response(200, json="a string"),
        httpx.Response(204),
    ],
    ids=["text", "list", "string", "empty"],
)
def test_2xx_without_json_object_raises_server_error(response: httpx.Response) -> None:
    client, _ = make_client(Script(response))
    with pytest.raises(TrutoServerError, match="answer was not a JSON object") as info:
        client.get_mcp_server(IA, MCP_ID)
    assert info.value.status_code == response.status_code


# --- base URL and token --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("base_url", "expected_url"),
    [
        ("https://api.truto.one/", f"https://api.truto.one/integrated-account/{IA}/mcp/{MCP_ID}"),
        ("http://localhost:8787", f"http://localhost:8787/integrated-account/{IA}/mcp/{MCP_ID}"),
        ("https://proxy.example/truto/", f"https://proxy.example/truto/integrated-account/{IA}/mcp/{MCP_ID}"),
    ],
)  # fmt: skip
def test_base_url_trailing_slash_is_stripped(base_url: str, expected_url: str) -> None:
    script = Script(ok())
    client, _ = make_client(script, base_url=base_url)
    client.get_mcp_server(IA, MCP_ID)
    assert client.base_url == base_url.rstrip("/")
    assert str(script.requests[0].url) == expected_url


@pytest.mark.parametrize(
    "base_url", ["", "   ", "ftp://api.truto.one", "api.truto.one", "https://", "https://a b/"]
)
def test_base_url_must_be_http_or_https(base_url: str) -> None:
    with pytest.raises(TrutoConfigError, match="http"):
        TrutoClient(base_url=base_url, api_token=TOKEN)


@pytest.mark.parametrize("token", ["", "   ", "abc\ndef", " padded ", "tökén"])
def test_bad_api_token_rejected_without_echoing_it(token: str) -> None:
    with pytest.raises(TrutoConfigError, match="API token") as info:
        TrutoClient(base_url=BASE, api_token=token)
    if token.strip():
        assert token.strip() not in str(info.value)


# --- secrets never leak --------------------------------------------------------------------


def test_token_never_appears_in_exceptions_or_log_records(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    created = {**OBJ, "token": MCP_SECRET, "url": f"{BASE}/mcp/{MCP_SECRET}"}
    script = Script(
        truto_error(503, "busy"),
        httpx.Response(200, json=OBJ),
        httpx.Response(201, json=created),
        truto_error(401, f"token {TOKEN} is not valid"),
        httpx.Response(400, text=f"bad request with Authorization: Bearer {TOKEN}"),
        httpx.ConnectError(f"could not reach while sending Bearer {TOKEN}"),
    )
    client, _ = make_client(script, retry=RetryPolicy(deadline=1.0, base_delay=0.1))
    assert client.get_mcp_server(IA, MCP_ID) == OBJ
    assert client.create_mcp_server(IA, {"name": "n"})["token"] == MCP_SECRET
    errors: list[TrutoError] = []
    for _ in range(3):
        with pytest.raises(TrutoError) as info:
            client.get_mcp_server(IA, MCP_ID)
        errors.append(info.value)
    assert [type(e) for e in errors] == [TrutoAuthError, TrutoValidationError, TrutoDeadlineError]
    for error in errors:
        assert TOKEN not in str(error)
        assert TOKEN not in repr(error.args)
        assert TOKEN not in str(vars(error))
    assert "***" in str(errors[0])
    assert TOKEN not in repr(client)
    messages = [r.getMessage() for r in caplog.records]
    assert any("attempt" in m for m in messages)
    assert any(
        r.levelno == logging.WARNING and "retrying" in r.getMessage() for r in caplog.records
    )
    for message in messages:
        assert TOKEN not in message
        assert MCP_SECRET not in message


def test_each_attempt_logged_at_debug_and_retry_wait_at_warning(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("truto_pulumi._client.random.uniform", lambda low, high: high)
    caplog.set_level(logging.DEBUG, logger="truto_pulumi.client")
    client, _ = make_client(Script(truto_error(503, "busy"), ok()))
    client.get_mcp_server(IA, MCP_ID)
    records = [r for r in caplog.records if r.name == "truto_pulumi.client"]
    path = f"/integrated-account/{IA}/mcp/{MCP_ID}"
    assert [(r.levelno, r.getMessage().split(" in ")[0]) for r in records] == [
        (logging.DEBUG, f"GET {path} -> 503"),
        (logging.WARNING, f"retrying GET {path}"),
        (logging.DEBUG, f"GET {path} -> 200"),
    ]
    assert "attempt 1" in records[0].getMessage()
    assert "in 0.50 s after status 503" in records[1].getMessage()
    assert "attempt 2" in records[2].getMessage()


# --- list pagination -----------------------------------------------------------------------


def test_list_follows_next_cursor_across_three_pages() -> None:
    pages = [
        {"result": [{"id": "1"}, {"id": "2"}], "next_cursor": "c1", "limit": 2},
        {"result": [{"id": "3"}, {"id": "4"}], "next_cursor": "c2", "limit": 2},
        {"result": [{"id": "5"}], "next_cursor": None, "limit": 2},
    ]
    script = Script(*(ok(p) for p in pages))
    client, _ = make_client(script)
    servers = client.list_mcp_servers(IA, page_size=2)
    assert [s["id"] for s in servers] == ["1", "2", "3", "4", "5"]
    assert [dict(r.url.params) for r in script.requests] == [
        {"limit": "2"},
        {"limit": "2", "next_cursor": "c1"},
        {"limit": "2", "next_cursor": "c2"},
    ]
    assert all(r.url.path == f"/integrated-account/{IA}/mcp" for r in script.requests)


@pytest.mark.parametrize(
    "last_page",
    [{"result": [], "next_cursor": None}, {"result": []}, {"result": [], "next_cursor": ""}],
    ids=["null", "absent", "empty"],
)
def test_list_stops_when_cursor_is_null_absent_or_empty(last_page: dict[str, Any]) -> None:
    script = Script(ok(last_page))
    client, _ = make_client(script)
    assert client.list_mcp_servers(IA) == []
    assert len(script.requests) == 1
    assert "limit" not in script.requests[0].url.params


def test_list_cursor_loop_raises_server_error() -> None:
    script = Script(
        ok({"result": [{"id": "1"}], "next_cursor": "c1"}),
        ok({"result": [{"id": "2"}], "next_cursor": "c2"}),
        ok({"result": [{"id": "3"}], "next_cursor": "c1"}),
        ok({"result": [], "next_cursor": None}),
    )
    client, _ = make_client(script)
    with pytest.raises(TrutoServerError, match="same next_cursor came twice"):
        client.list_mcp_servers(IA)
    assert len(script.requests) == 3


@pytest.mark.parametrize(
    "page",
    [{"next_cursor": None}, {"result": "x"}, {"result": ["x"]}, {"result": [], "next_cursor": 5}],
    ids=["no-result", "result-not-list", "item-not-object", "cursor-not-string"],
)
def test_list_malformed_page_raises_server_error(page: dict[str, Any]) -> None:
    client, _ = make_client(Script(ok(page)))
    with pytest.raises(TrutoServerError):
        client.list_mcp_servers(IA)


def test_list_page_size_must_be_positive() -> None:
    client, _ = make_client(Script(ok({"result": []})))
    with pytest.raises(ValueError, match="page_size"):
        client.list_mcp_servers(IA, page_size=0)


def test_list_page_retried_on_503_keeps_cursor() -> None:
    script = Script(
        ok({"result": [{"id": "1"}], "next_cursor": "c1"}),
        truto_error(503, "busy"),
        ok({"result": [{"id": "2"}], "next_cursor": None}),
    )
    client, _ = make_client(script)
    assert [s["id"] for s in client.list_mcp_servers(IA)] == ["1", "2"]
    assert [r.url.params.get("next_cursor") for r in script.requests] == [None, "c1", "c1"]


# --- lifecycle and threads -----------------------------------------------------------------


def test_context_manager_closes_the_client() -> None:
    client, _ = make_client(Script(ok()))
    with client as entered:
        assert entered is client
        assert client.get_mcp_server(IA, MCP_ID) == OBJ
    with pytest.raises(RuntimeError, match="closed"):
        client.get_mcp_server(IA, MCP_ID)


def test_concurrent_calls_from_four_threads_all_get_their_own_answer() -> None:
    lock = threading.Lock()
    threads: set[int] = set()
    in_flight = 0
    peak = 0

    def handler(request: httpx.Request) -> httpx.Response:
        nonlocal in_flight, peak
        with lock:
            threads.add(threading.get_ident())
            in_flight += 1
            peak = max(peak, in_flight)
        time.sleep(0.005)
        with lock:
            in_flight -= 1
        mcp_id = request.url.path.rsplit("/", 1)[-1]
        return httpx.Response(200, json={"id": mcp_id, "auth": request.headers["Authorization"]})

    client = TrutoClient(base_url=BASE, api_token=TOKEN, transport=httpx.MockTransport(handler))
    ids = [f"mcp-{i}" for i in range(40)]
    with client, ThreadPoolExecutor(max_workers=4) as pool:
        answers = list(pool.map(lambda i: client.get_mcp_server(IA, i), ids))
    assert [a["id"] for a in answers] == ids
    assert all(a["auth"] == f"Bearer {TOKEN}" for a in answers)
    assert len(threads) > 1
    assert peak > 1


# --- POST safety, pacing and operation deadlines ----------------------------------------------


@pytest.mark.parametrize("status", [500, 502, 504])
def test_post_not_retried_on_5xx_since_truto_may_have_acted(status: int) -> None:
    script = Script(truto_error(status, "oops"), ok({**OBJ, "token": MCP_SECRET}))
    client, clock = make_client(script)
    with pytest.raises(TrutoServerError):
        client.create_mcp_server(IA, {"name": "n"})
    assert len(script.requests) == 1
    assert clock.waits == []


def test_post_retried_on_429_since_truto_refused_it() -> None:
    script = Script(truto_error(429, "slow", **{"Retry-After": "2"}), ok({**OBJ, "token": "t"}))
    client, clock = make_client(script)
    assert client.create_mcp_server(IA, {"name": "n"})["token"] == "t"
    assert clock.waits == [2.0]


@pytest.mark.parametrize("method", ["POST", "GET", "PATCH", "DELETE"])
def test_a_brief_503_is_retried_since_truto_answers_it_before_acting(method: str) -> None:
    script = Script(truto_error(503, "busy"), ok({**OBJ, "token": "t"}))
    client, clock = make_client(script)
    call(client, method)
    assert len(script.requests) == 2
    assert len(clock.waits) == 1


BLOCKED = f"Integrated account {IA} is blocked. Contact support."


@pytest.mark.parametrize("method", ["POST", "GET", "PATCH", "DELETE"])
def test_a_persistent_503_fails_within_a_minute_with_trutos_message(
    method: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("truto_pulumi._client.random.uniform", lambda low, high: high)
    script = Script(truto_error(503, BLOCKED))
    client, clock = make_client(script)
    started = clock.now
    with client.operation(300.0), pytest.raises(TrutoServerError) as info:
        call(client, method)
    assert clock.now - started <= RetryPolicy().unavailable_for < 60
    assert info.value.status_code == 503
    assert BLOCKED in str(info.value)
    assert "blocked" in str(info.value).split(BLOCKED)[1]  # and what to do about it
    assert len(script.requests) > 2


def test_a_503_that_persisted_fails_the_next_call_under_that_account_at_once() -> None:
    script = Script(truto_error(503, BLOCKED))
    client, _ = make_client(script)
    with pytest.raises(TrutoServerError):
        client.list_mcp_servers(IA)
    sent = len(script.requests)
    with pytest.raises(TrutoServerError, match="blocked"):
        client.create_mcp_server(IA, {"name": "n"})
    assert len(script.requests) == sent + 1


def test_an_answer_between_503s_starts_the_wait_again() -> None:
    script = Script(truto_error(503, BLOCKED), ok(), truto_error(503, BLOCKED), ok())
    client, clock = make_client(script)
    client.get_mcp_server(IA, MCP_ID)
    clock.advance(100.0)
    client.get_mcp_server(IA, MCP_ID)
    assert len(script.requests) == 4


def test_503s_under_one_account_do_not_count_against_another() -> None:
    script = Script(truto_error(503, BLOCKED))
    client, _ = make_client(script)
    with pytest.raises(TrutoServerError):
        client.list_mcp_servers(IA)
    script.steps = [truto_error(503, "busy"), ok()]
    sent = len(script.requests)
    client.get_mcp_server("ia-2", MCP_ID)
    assert len(script.requests) == sent + 2


def test_rate_limiter_paces_every_attempt() -> None:
    clock = FakeClock(1000.0)
    limiter = RateLimiter(2.0, window=1.0, clock=clock, sleep=clock.sleep)
    client, _ = make_client(Script(ok()), clock=clock, rate_limiter=limiter)
    for _ in range(4):
        client.get_mcp_server(IA, MCP_ID)
    assert clock.waits == [1.0]  # a budget of 2 per second: the third waits for the first


def test_operation_deadline_ends_retries_and_names_the_setting(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("truto_pulumi._client.random.uniform", lambda low, high: high)
    script = Script(truto_error(503, "busy"))
    client, clock = make_client(script, retry=RetryPolicy(deadline=600.0, base_delay=1.0))
    with (
        client.operation(5.0, setting="truto:operationTimeoutSeconds"),
        pytest.raises(TrutoDeadlineError) as info,
    ):
        client.update_mcp_server(IA, MCP_ID, {"name": "m"})
    message = str(info.value)
    assert message.startswith("operation timeout of 5 s (truto:operationTimeoutSeconds) ran out")
    assert f"waiting on PATCH /integrated-account/{IA}/mcp/{MCP_ID}" in message
    assert "busy" in message
    assert clock.waits == [1.0, 2.0]


def test_operation_deadline_also_bounds_waiting_for_the_limiter() -> None:
    clock = FakeClock(1000.0)
    limiter = RateLimiter(0.1, window=10.0, clock=clock, sleep=clock.sleep)
    client, _ = make_client(Script(ok()), clock=clock, rate_limiter=limiter)
    with client.operation(3.0, setting="truto:operationTimeoutSeconds"):
        client.get_mcp_server(IA, MCP_ID)
        with pytest.raises(TrutoDeadlineError, match="waiting for the client-side rate limit"):
            client.get_mcp_server(IA, MCP_ID)


def test_operation_deadline_is_per_thread_and_restored() -> None:
    script = Script(truto_error(503, "busy"), ok())
    client, clock = make_client(script, retry=RetryPolicy(deadline=600.0, base_delay=0.01))
    with client.operation(0.0):
        pass
    assert client.get_mcp_server(IA, MCP_ID) == OBJ  # outside the block: the policy's deadline
    assert len(clock.waits) == 1


def test_operation_timeout_longer_than_the_retry_policy_deadline_governs(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Set 200 s while the policy alone would stop at 60 s: retries go on past 60 s.
    monkeypatch.setattr("truto_pulumi._client.random.uniform", lambda low, high: high)
    script = Script(truto_error(502, "busy"))
    client, clock = make_client(script, retry=RetryPolicy(deadline=60.0, max_delay=8.0))
    started = clock.now
    with (
        client.operation(200.0, setting="truto:operationTimeoutSeconds"),
        pytest.raises(TrutoDeadlineError, match="operation timeout of 200 s"),
    ):
        client.get_mcp_server(IA, MCP_ID)
    assert 190.0 < clock.now - started <= 200.0
    assert len(script.requests) > 25


def _connect_error_caused_by(cause: BaseException) -> httpx.ConnectError:
    error = httpx.ConnectError("connect failed")
    error.__cause__ = cause
    return error


@pytest.mark.parametrize(
    ("cause", "phrase"),
    [
        pytest.param(
            ssl.SSLError(1, "[SSL: WRONG_VERSION_NUMBER] wrong version number"),
            "TLS handshake failed with",
            id="tls_protocol_mismatch",
        ),
        pytest.param(
            ssl.SSLCertVerificationError(1, "certificate verify failed"),
            "TLS certificate not trusted for",
            id="untrusted_certificate",
        ),
        pytest.param(
            socket.gaierror(socket.EAI_NONAME, "Name or service not known"),
            "host name not found for",
            id="unknown_host",
        ),
    ],
)
def test_errors_retrying_cannot_fix_fail_at_once(cause: BaseException, phrase: str) -> None:
    script = Script(_connect_error_caused_by(cause), ok())
    client, clock = make_client(script)
    with (
        client.operation(300.0, setting="truto:operationTimeoutSeconds"),
        pytest.raises(TrutoTransportError) as info,
    ):
        client.get_mcp_server(IA, MCP_ID)
    assert len(script.requests) == 1
    assert clock.waits == []
    assert str(info.value).startswith(f"{phrase} {BASE} (GET /integrated-account/{IA}/mcp/")
    assert "Retrying cannot fix this: check truto:baseUrl" in str(info.value)


def test_temporary_name_lookup_failure_is_retried() -> None:
    again = socket.gaierror(socket.EAI_AGAIN, "Temporary failure in name resolution")
    script = Script(_connect_error_caused_by(again), ok())
    client, _ = make_client(script)
    assert client.get_mcp_server(IA, MCP_ID) == OBJ
    assert len(script.requests) == 2


@pytest.mark.slow
def test_https_against_a_plain_http_server_fails_at_once(emulator: Emulator) -> None:
    tls_url = emulator.url.replace("http://", "https://")
    with TrutoClient(base_url=tls_url, api_token=TOKEN) as client:
        started = time.monotonic()
        with (
            client.operation(300.0, setting="truto:operationTimeoutSeconds"),
            pytest.raises(TrutoTransportError, match="TLS handshake failed with") as info,
        ):
            client.list_mcp_servers(IA)
        assert time.monotonic() - started < 5.0
    assert TOKEN not in str(info.value)


def test_a_request_never_outlives_the_operation_deadline() -> None:
    seen: list[float | None] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.extensions["timeout"]["read"])
        return ok()

    client, _ = make_client(handler, timeout=30.0)
    with client.operation(2.0):
        client.get_mcp_server(IA, MCP_ID)
    client.get_mcp_server(IA, MCP_ID)
    assert seen == [2.0, 30.0]


# --- the API token in every form, in every message -----------------------------------------


def odd_token_client(script: Script) -> TrutoClient:
    """A client whose API token is `ODD_TOKEN`, failing at once."""
    clock = FakeClock(1000.0)
    return TrutoClient(
        base_url=BASE,
        api_token=ODD_TOKEN,
        retry=NO_RETRY,
        transport=httpx.MockTransport(script),
        sleep=clock.sleep,
        clock=clock,
    )


@pytest.mark.parametrize(
    ("answer", "message"),
    [
        pytest.param(
            httpx.Response(400, text="x" * 186 + ODD_TOKEN + " was refused"),
            "x" * 186 + "*** was refus…",
            id="text_across_the_200_character_cut",
        ),
        pytest.param(
            truto_error(400, "y" * 990 + ODD_TOKEN),
            "y" * 990 + "***",
            id="truto_message_across_the_1000_character_cut",
        ),
        pytest.param(
            httpx.Response(
                401, text=json.dumps({"detail": f"Bearer {ODD_TOKEN}"}).replace("/", "\\/")
            ),
            '{"detail": "Bearer ***"}',
            id="json_escaping_slash",
        ),
        pytest.param(
            httpx.Response(401, text=f'{{"echo": "{_json_unicode(ODD_TOKEN)}"}}'),
            '{"echo": "***"}',
            id="json_unicode_escapes",
        ),
        pytest.param(
            httpx.Response(400, text=f"GET /check?api_token={quote(ODD_TOKEN, safe='')}"),
            "GET /check?api_token=***",
            id="percent_encoded",
        ),
    ],
)
def test_status_error_messages_are_scrubbed_before_they_are_cut(
    answer: httpx.Response, message: str
) -> None:
    with pytest.raises(TrutoApiError) as info:
        odd_token_client(Script(answer)).get_mcp_server(IA, MCP_ID)
    assert info.value.message == message
    assert shows_token(str(info.value)) == []


def test_status_error_with_the_token_in_base64_shows_none_of_it() -> None:
    header = base64.b64encode(f"Bearer {ODD_TOKEN}".encode()).decode()
    answer = httpx.Response(400, text=f"proxy saw Authorization: {header}")
    with pytest.raises(TrutoValidationError) as info:
        odd_token_client(Script(answer)).get_mcp_server(IA, MCP_ID)
    assert shows_token(str(info.value)) == []
    assert "***" in info.value.message


@pytest.mark.parametrize(
    "failure",
    [
        pytest.param(httpx.ConnectError(f"proxy refused {quote(ODD_TOKEN)}"), id="connect"),
        pytest.param(
            _connect_error_caused_by(ssl.SSLError(1, f"bad peer for {ODD_TOKEN[4:20]}")),
            id="tls",
        ),
        pytest.param(httpx.ReadError("x" * 190 + ODD_TOKEN), id="across_the_cut"),
    ],
)
def test_transport_error_messages_and_their_causes_never_show_the_token(
    failure: httpx.RequestError,
) -> None:
    with pytest.raises(TrutoTransportError) as info:
        odd_token_client(Script(failure)).get_mcp_server(IA, MCP_ID)
    traceback_text = "".join(traceback.format_exception(info.value))
    assert shows_token(traceback_text) == []
    assert "***" in str(info.value)


# --- Retry-After never faster than the backoff ---------------------------------------------


@pytest.mark.parametrize(
    ("retry_after", "backoff", "wait"),
    [
        pytest.param(None, 0.4, 0.4, id="no_header_backoff"),
        pytest.param(0.0, 0.4, 0.4, id="zero_backoff"),
        pytest.param(0.001, 0.4, 0.4, id="tiny_backoff"),
        pytest.param(-5.0, 0.4, 0.4, id="negative_backoff"),
        pytest.param(0.0, 8.0, 8.0, id="zero_after_many_retries_backoff"),
        pytest.param(3.0, 0.4, 3.0, id="larger_honoured"),
        pytest.param(10.0, 8.0, 10.0, id="trutos_10_honoured"),
        pytest.param(120.0, 0.4, 30.0, id="capped"),
    ],
)
def test_retry_wait_honours_retry_after_but_never_waits_less_than_the_backoff(
    retry_after: float | None, backoff: float, wait: float
) -> None:
    assert _retry_wait(retry_after, backoff, 30.0) == wait


@pytest.mark.parametrize(
    "header",
    [
        "0",
        "0.001",
        "-3",
        format_datetime(datetime.now(timezone.utc) - timedelta(minutes=5), usegmt=True),
    ],
    ids=["zero", "tiny", "negative", "in_the_past"],
)
def test_429_with_retry_after_zero_or_in_the_past_waits_at_least_the_backoff(
    monkeypatch: pytest.MonkeyPatch, header: str
) -> None:
    monkeypatch.setattr("truto_pulumi._client.random.uniform", lambda low, high: high)
    limited = truto_error(429, "slow down", **{"Retry-After": header})
    script = Script(limited, limited, limited, ok())
    client, clock = make_client(script, retry=RetryPolicy(base_delay=0.5, max_delay=8.0))
    assert client.get_mcp_server(IA, MCP_ID) == OBJ
    assert clock.waits == [0.5, 1.0, 2.0]


def test_constant_429_with_retry_after_zero_sends_no_more_requests_than_the_backoff_allows(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("truto_pulumi._client.random.uniform", random.Random(18).uniform)
    clock = FakeClock(1000.0)
    sent: list[httpx.Request] = []

    def limited(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        clock.now += 0.001  # each answer takes a millisecond
        return truto_error(429, "slow down", **{"Retry-After": "0"})

    client, _ = make_client(limited, clock=clock)
    with (
        client.operation(5.0, setting="truto:operationTimeoutSeconds"),
        pytest.raises(TrutoDeadlineError),
    ):
        client.create_mcp_server(IA, {"name": "n"})
    # Backoff waits of up to 0.5, 1, 2, 4 s...: a handful of attempts in 5 s, not thousands.
    assert 3 <= len(sent) <= 15
    assert all(wait > 0.0 for wait in clock.waits)


# --- the operation timeout message -----------------------------------------------------------


def test_operation_timeout_message_reports_the_time_since_the_operation_started(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("truto_pulumi._client.random.uniform", lambda low, high: high)
    clock = FakeClock(1000.0)

    def slow_then_busy(request: httpx.Request) -> httpx.Response:
        if request.method == "GET":
            clock.now += 4.0  # the first call of the operation takes 4 s
            return ok()
        return truto_error(503, "busy")

    client, _ = make_client(slow_then_busy, clock=clock, retry=RetryPolicy(base_delay=1.0))
    with client.operation(10.0, setting="truto:operationTimeoutSeconds"):
        client.get_mcp_server(IA, MCP_ID)
        with pytest.raises(TrutoDeadlineError) as info:
            client.update_mcp_server(IA, MCP_ID, {"name": "m"})
    # 4 s for the GET, then the PATCH waits 1 + 2 s; the next wait (4 s) would pass 10 s.
    assert clock.waits == [1.0, 2.0]
    assert str(info.value).startswith(
        "operation timeout of 10 s (truto:operationTimeoutSeconds) ran out after 7.0 s"
    )
