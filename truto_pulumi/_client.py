"""HTTP client for Truto's MCP servers API.

One `TrutoClient` wraps one `httpx.Client` (a keep-alive pool) and may be shared by threads.
It maps error statuses to `truto_pulumi._errors`, retries what is safe to retry within a
deadline, and never puts the API token or a response body into a log record. Every error
message it builds is scrubbed of the token in any encoding (`_redact.scrubbed`) before it is cut.
"""

from __future__ import annotations

import email.utils
import logging
import random
import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from types import TracebackType
from typing import Any
from urllib.parse import quote

import httpx

from truto_pulumi._errors import (
    TrutoApiError,
    TrutoDeadlineError,
    TrutoServerError,
    TrutoTransportError,
    api_error_for_status,
)
from truto_pulumi._ratelimit import SEND_SLACK_SECONDS, RateLimiter
from truto_pulumi._redact import scrub_exception_chain, scrubbed
from truto_pulumi._settings import ProviderSettings, validate_api_token, validated_base_url
from truto_pulumi._version import version

__all__ = ["DEFAULT_USER_AGENT", "RetryPolicy", "TrutoClient", "client_for"]

log = logging.getLogger("truto_pulumi.client")


DEFAULT_USER_AGENT = f"truto-pulumi/{version}"

_RETRYABLE_STATUSES = frozenset({429, 500, 502, 503, 504})
# Truto answers 429 and 503 before acting, so a POST may be retried on them; another 5xx may
# follow an action, so retrying a POST on one could create a duplicate.
_RETRYABLE_POST_STATUSES = frozenset({429, 503})
_UNAVAILABLE = 503
"""Retried while brief; Truto's operator notes say it means a blocked integrated account when
it persists (`RetryPolicy.unavailable_for`)."""
_IDEMPOTENT_METHODS = frozenset({"GET", "PATCH", "DELETE"})
# Failures before the request left this process: retrying is safe even for POST.
_NOT_SENT_ERRORS: tuple[type[httpx.RequestError], ...] = (
    httpx.ConnectError,
    httpx.ConnectTimeout,
    httpx.PoolTimeout,
)
# Failures after (part of) the request was sent: Truto may have acted on it.
_MAYBE_SENT_ERRORS: tuple[type[httpx.RequestError], ...] = (
    httpx.ReadTimeout,
    httpx.WriteTimeout,
    httpx.RemoteProtocolError,
    httpx.ReadError,
    httpx.WriteError,
)
_MAX_TEXT = 200
_MAX_MESSAGE = 1000
_MIN_REQUEST_TIMEOUT = 0.05
"""Seconds an attempt gets at the least, even when the deadline is nearer."""
_SCAN_LIMIT = 10_000
"""Characters of an answer scanned for the API token: far more than any excerpt keeps."""


@dataclass(frozen=True)
class _Failure:
    """A failed attempt, classified: whether to retry it and after how long."""

    error: TrutoApiError | TrutoTransportError
    cause: BaseException | None
    retryable: bool
    wait: float
    reason: str


@dataclass(frozen=True)
class RetryPolicy:
    """How long and how often one call may be retried.

    Backoff is exponential with full jitter: `uniform(0, min(max_delay, base_delay * 2**n))`
    before retry n (from 0).
    """

    deadline: float = 60.0
    """Seconds one call may take, retries included, when no operation deadline is set."""
    base_delay: float = 0.5
    max_delay: float = 8.0
    max_retry_after: float = 30.0
    unavailable_for: float = 30.0
    """Seconds 503s may go on under one integrated account (every call there counts) before
    calls there stop retrying them: a 503 that persists means a blocked account."""

    def backoff(self, retry_index: int) -> float:
        """A random wait before retry number `retry_index` (0 for the first retry)."""
        return random.uniform(0, min(self.max_delay, self.base_delay * 2**retry_index))


DEFAULT_RETRY_POLICY = RetryPolicy()


@dataclass(frozen=True)
class _Deadline:
    """When the calls of one operation must be done by, and what set that limit."""

    at: float
    """On the client's clock."""
    timeout: float
    setting: str
    started: float
    """When the operation began, on the client's clock."""

    def ran_out(self, now: float) -> str:
        """Why the operation stops at `now`: its timeout, and how long it has run."""
        where = f" ({self.setting})" if self.setting else ""
        elapsed = now - self.started
        return f"operation timeout of {self.timeout:g} s{where} ran out after {elapsed:.1f} s"


class TrutoClient:
    """Calls Truto's MCP server endpoints (`/integrated-account/{ia}/mcp`) and reads its
    integrated accounts and installed integrations; thread-safe. `connections` bounds the
    connections open at once: one for each call the provider host serves at once."""

    def __init__(
        self,
        *,
        base_url: str,
        api_token: str,
        timeout: float | httpx.Timeout = 30.0,
        retry: RetryPolicy = DEFAULT_RETRY_POLICY,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        user_agent: str = DEFAULT_USER_AGENT,
        rate_limiter: RateLimiter | None = None,
        connections: int = 8,
    ) -> None:
        self.base_url = validated_base_url(base_url)
        validate_api_token(api_token)
        self._token = api_token
        self._retry = retry
        self._sleep = sleep
        self._clock = clock
        self._limiter = rate_limiter
        self._local = threading.local()
        self._unavailable_since: dict[str, float] = {}
        """When the 503s still going on under a path's integrated account began."""
        self._timeout = timeout if isinstance(timeout, httpx.Timeout) else httpx.Timeout(timeout)
        self._http = httpx.Client(
            base_url=self.base_url,
            timeout=self._timeout,
            limits=httpx.Limits(max_connections=connections, max_keepalive_connections=connections),
            headers={
                "Authorization": f"Bearer {api_token}",
                "Content-Type": "application/json",
                "Accept": "application/json",
                "User-Agent": user_agent,
            },
            transport=transport,
        )

    def close(self) -> None:
        """Close the connection pool."""
        self._http.close()

    def __enter__(self) -> TrutoClient:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"TrutoClient(base_url={self.base_url!r})"

    def operation_remaining(self) -> float | None:
        """Seconds left before this thread's operation deadline; None outside an operation."""
        deadline: _Deadline | None = getattr(self._local, "deadline", None)
        return None if deadline is None else deadline.at - self._clock()

    @contextmanager
    def operation(self, timeout: float, *, setting: str = "") -> Iterator[None]:
        """Bound every call this thread makes inside the block, retries and pacing included,
        by one deadline `timeout` seconds from now. `setting` names what sets the timeout,
        for the error that reports it ran out."""
        previous: _Deadline | None = getattr(self._local, "deadline", None)
        now = self._clock()
        mine = _Deadline(now + timeout, timeout, setting, started=now)
        self._local.deadline = previous if previous and previous.at <= mine.at else mine
        try:
            yield
        finally:
            self._local.deadline = previous

    # --- MCP servers -------------------------------------------------------------------------

    def create_mcp_server(
        self,
        integrated_account_id: str,
        body: Mapping[str, Any],
        *,
        timeout: float | None = None,
    ) -> dict[str, Any]:
        """Create an MCP server; the answer holds the secret `token` and `url`.

        `timeout` replaces the request timeout, e.g. to wait longer for a slow Truto.
        """
        path = _mcp_path(integrated_account_id)
        response = self._request("POST", path, json=dict(body), timeout=timeout)
        return self._object(response, "POST", path)

    def get_mcp_server(self, integrated_account_id: str, mcp_id: str) -> dict[str, Any]:
        """Read one MCP server (without token/url)."""
        path = _mcp_path(integrated_account_id, mcp_id)
        return self._object(self._request("GET", path), "GET", path)

    def list_mcp_servers(
        self, integrated_account_id: str, *, page_size: int | None = None
    ) -> list[dict[str, Any]]:
        """Every MCP server of the account, following `next_cursor` across all pages."""
        return self._every_page(_mcp_path(integrated_account_id), {}, page_size)

    # --- integrated accounts and installed integrations ------------------------------------

    def list_integrated_accounts(
        self, filters: Mapping[str, str] | None = None, *, page_size: int | None = None
    ) -> list[dict[str, Any]]:
        """Every integrated account of the token's environment that matches `filters` (Truto's
        query parameters, e.g. `{"integration.name": "hubspot"}`), across all pages."""
        return self._every_page("/integrated-account", dict(filters or {}), page_size)

    def get_integrated_account(self, integrated_account_id: str) -> dict[str, Any]:
        """Read one integrated account."""
        path = _account_path(integrated_account_id)
        return self._object(self._request("GET", path), "GET", path)

    def get_environment_integration(self, environment_integration_id: str) -> dict[str, Any]:
        """Read one installed integration (environment integration) of the token's environment."""
        if not environment_integration_id:
            raise ValueError("environment_integration_id must not be empty")
        path = f"/environment-integration/{quote(environment_integration_id, safe='')}"
        return self._object(self._request("GET", path), "GET", path)

    def _every_page(
        self, path: str, filters: dict[str, str], page_size: int | None
    ) -> list[dict[str, Any]]:
        """The items of every page of a Truto list (`result`, or `results` as some of Truto's
        pages spell it), following `next_cursor` until it is null; refuses a cursor loop."""
        if page_size is not None and page_size < 1:
            raise ValueError(f"page_size must be at least 1, got {page_size}")
        items: list[dict[str, Any]] = []
        seen: set[str] = set()
        cursor: str | None = None
        while True:
            params: dict[str, str | int] = dict(filters)
            if page_size is not None:
                params["limit"] = page_size
            if cursor is not None:
                params["next_cursor"] = cursor
            response = self._request("GET", path, params=params)
            page = self._object(response, "GET", path)
            result = page.get("result", page.get("results"))
            if not isinstance(result, list) or not all(isinstance(i, dict) for i in result):
                raise self._bad_answer(
                    response, "GET", path, "answer has no 'result' list of objects"
                )
            items.extend(result)
            next_cursor = page.get("next_cursor")
            if not next_cursor:
                return items
            if not isinstance(next_cursor, str):
                raise self._bad_answer(
                    response, "GET", path, "answer's 'next_cursor' is not a string"
                )
            if next_cursor in seen:
                raise self._bad_answer(
                    response, "GET", path, "pagination loops: the same next_cursor came twice"
                )
            seen.add(next_cursor)
            cursor = next_cursor

    def update_mcp_server(
        self, integrated_account_id: str, mcp_id: str, body: Mapping[str, Any]
    ) -> dict[str, Any]:
        """PATCH an MCP server and return the updated object."""
        path = _mcp_path(integrated_account_id, mcp_id)
        return self._object(self._request("PATCH", path, json=dict(body)), "PATCH", path)

    def delete_mcp_server(self, integrated_account_id: str, mcp_id: str) -> None:
        """Delete an MCP server; any 2xx (200 with a body, or 204) counts as done."""
        self._request("DELETE", _mcp_path(integrated_account_id, mcp_id))

    # --- plumbing ----------------------------------------------------------------------------

    def _request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: Mapping[str, str | int] | None = None,
        timeout: float | None = None,
    ) -> httpx.Response:
        """Send one call, retrying within the deadline; return a 2xx response or raise.

        The deadline is the operation's when one is set (`operation`), else the retry
        policy's. `timeout` overrides the request timeout for this call's attempts.
        """
        first = self._clock()
        operation: _Deadline | None = getattr(self._local, "deadline", None)
        deadline = operation.at if operation is not None else first + self._retry.deadline
        attempt = 0
        while True:
            attempt += 1
            self._pace(method, path, deadline, operation, first)
            outcome = self._send(method, path, json, params, timeout, deadline, attempt)
            outcome = self._unless_unavailable_too_long(path, outcome)
            if isinstance(outcome, httpx.Response):
                return outcome
            if not outcome.retryable:
                raise outcome.error from outcome.cause
            if self._clock() + outcome.wait > deadline:
                if attempt == 1 and operation is None:
                    raise outcome.error from outcome.cause  # no retry: the failure speaks
                spent = _time_spent(operation, first, self._clock())
                raise TrutoDeadlineError(
                    f"{spent} waiting on {method} {path} after {attempt} attempt(s): "
                    f"{outcome.error}",
                    method=method,
                    path=path,
                    last_error=outcome.error,
                ) from outcome.cause
            log.warning(
                "retrying %s %s in %.2f s after %s (attempt %d)",
                method,
                path,
                outcome.wait,
                outcome.reason,
                attempt,
            )
            self._sleep(outcome.wait)

    def _unless_unavailable_too_long(
        self, path: str, outcome: httpx.Response | _Failure
    ) -> httpx.Response | _Failure:
        """`outcome`, made final when it is a 503 and 503s under the same integrated account
        have gone on too long to retry (`RetryPolicy.unavailable_for`)."""
        scope = "/".join(path.split("/")[:3])
        error = outcome.error if isinstance(outcome, _Failure) else None
        if not isinstance(error, TrutoApiError) or error.status_code != _UNAVAILABLE:
            if not isinstance(error, TrutoTransportError):
                self._unavailable_since.pop(scope, None)
            return outcome
        assert isinstance(outcome, _Failure)
        now = self._clock()
        since = self._unavailable_since.setdefault(scope, now)
        left = since + self._retry.unavailable_for - now
        if left > 0:
            return replace(outcome, wait=min(outcome.wait, left))
        words = error.message or "no message"
        final = error.explained(
            f"{words} (Truto has answered 503 under this integrated account for "
            f"{now - since:.0f} s; a 503 that persists means the account is blocked, and "
            "retrying will not help: ask Truto's support to unblock it, then run again)"
        )
        return _Failure(final, outcome.cause, False, 0.0, outcome.reason)

    def _pace(
        self,
        method: str,
        path: str,
        deadline: float,
        operation: _Deadline | None,
        first: float,
    ) -> None:
        """Wait for the client-side rate limit (if any), but never past the deadline."""
        if self._limiter is None:
            return
        try:
            self._limiter.acquire(deadline=deadline)
        except TimeoutError:
            spent = _time_spent(operation, first, self._clock())
            raise TrutoDeadlineError(
                f"{spent} waiting for the client-side rate limit before {method} {path}",
                method=method,
                path=path,
            ) from None

    def _send(
        self,
        method: str,
        path: str,
        json: Any,
        params: Mapping[str, str | int] | None,
        timeout: float | None,
        deadline: float,
        attempt: int,
    ) -> httpx.Response | _Failure:
        """One attempt: a 2xx response, or the failure classified for retrying."""
        started = self._clock()
        limit = self._timeout if timeout is None else httpx.Timeout(timeout)
        left = deadline - started
        if left < (limit.read or float("inf")):
            limit = httpx.Timeout(max(left, _MIN_REQUEST_TIMEOUT))  # never outlive the deadline
        try:
            response = self._http.request(method, path, json=json, params=params, timeout=limit)
        except httpx.RequestError as exc:
            log.debug(
                "%s %s -> %s after %.0f ms (attempt %d)",
                method,
                path,
                type(exc).__name__,
                (self._clock() - started) * 1000,
                attempt,
            )
            return self._transport_failure(exc, method, path, attempt)
        log.debug(
            "%s %s -> %d in %.0f ms (attempt %d)",
            method,
            path,
            response.status_code,
            (self._clock() - started) * 1000,
            attempt,
        )
        if response.is_success:
            return response
        return self._status_failure(response, method, path, attempt)

    def _status_failure(
        self, response: httpx.Response, method: str, path: str, attempt: int
    ) -> _Failure:
        error = self._api_error(response, method, path)
        status = response.status_code
        retryable = status in (
            _RETRYABLE_POST_STATUSES if method == "POST" else _RETRYABLE_STATUSES
        )
        backoff = self._retry.backoff(attempt - 1)
        wait = _retry_wait(error.retry_after, backoff, self._retry.max_retry_after)
        return _Failure(error, None, retryable, wait, f"status {status}")

    def _transport_failure(
        self, exc: httpx.RequestError, method: str, path: str, attempt: int
    ) -> _Failure:
        scrub_exception_chain(exc, self._token)
        permanent = _permanent_cause(exc)
        if permanent is not None:
            detail = _excerpt(str(permanent).strip() or type(permanent).__name__, self._token)
            message = scrubbed(
                f"{_permanent_phrase(permanent)} {self.base_url} ({method} {path}): "
                f"{detail}. Retrying cannot fix this: check truto:baseUrl",
                self._token,
            )
            error = TrutoTransportError(message, method=method, path=path, request_sent=False)
            return _Failure(error, exc, False, 0.0, type(exc).__name__)
        retryable = isinstance(exc, _NOT_SENT_ERRORS) or (
            isinstance(exc, _MAYBE_SENT_ERRORS) and method in _IDEMPOTENT_METHODS
        )
        return _Failure(
            self._transport_error(exc, method, path, attempt),
            exc,
            retryable,
            self._retry.backoff(attempt - 1),
            type(exc).__name__,
        )

    def _api_error(self, response: httpx.Response, method: str, path: str) -> TrutoApiError:
        status = response.status_code
        retry_after = (
            _parse_retry_after(response.headers.get("Retry-After")) if status == 429 else None
        )
        return api_error_for_status(status)(
            status_code=status,
            method=method,
            path=path,
            message=_error_message(response, self._token),
            retry_after=retry_after,
        )

    def _transport_error(
        self, exc: httpx.RequestError, method: str, path: str, attempts: int
    ) -> TrutoTransportError:
        request_sent = not isinstance(exc, _NOT_SENT_ERRORS)
        what = _transport_phrase(exc)
        detail = _excerpt(str(exc).strip() or type(exc).__name__, self._token)
        message = f"{what} {self.base_url} ({method} {path}): {detail}"
        if request_sent and method not in _IDEMPOTENT_METHODS:
            message += "; the request may have been applied"
        if attempts > 1:
            message += f" (gave up after {attempts} attempts)"
        return TrutoTransportError(
            scrubbed(message, self._token), method=method, path=path, request_sent=request_sent
        )

    def _object(self, response: httpx.Response, method: str, path: str) -> dict[str, Any]:
        """The response body as a JSON object, or a server error saying it was not one."""
        try:
            body = response.json()
        except ValueError:
            body = None
        if not isinstance(body, dict):
            raise self._bad_answer(response, method, path, "answer was not a JSON object")
        return body

    def _bad_answer(
        self, response: httpx.Response, method: str, path: str, what: str
    ) -> TrutoServerError:
        """A 2xx answer this client cannot use, said without the API token."""
        return TrutoServerError(
            status_code=response.status_code,
            method=method,
            path=path,
            message=scrubbed(what, self._token),
        )


def client_for(settings: ProviderSettings) -> TrutoClient:
    """The client of one process (the provider host, or a program running lookups): the
    settings' base URL, API token and request timeout, paced by one limiter of its own."""
    if settings.api_token is None:
        raise ValueError("settings without an API token make no client")
    limiter = None
    if settings.max_requests_per_second > 0:
        limiter = RateLimiter(settings.max_requests_per_second, slack=SEND_SLACK_SECONDS)
    return TrutoClient(
        base_url=settings.base_url,
        api_token=settings.api_token,
        timeout=settings.request_timeout,
        rate_limiter=limiter,
        connections=max(8, settings.host_concurrency),
    )


def _time_spent(operation: _Deadline | None, first: float, now: float) -> str:
    """How a call ran out of time: the operation's timeout (timed from the operation's start),
    or the retry policy's (timed from the call's first attempt)."""
    return operation.ran_out(now) if operation is not None else f"gave up after {now - first:.1f} s"


def _retry_wait(retry_after: float | None, backoff: float, longest: float) -> float:
    """Seconds before a retry: `Retry-After` up to `longest`, but never less than our own
    backoff, so a `Retry-After` of 0 or in the past cannot make retries hammer Truto."""
    if retry_after is None:
        return backoff
    return max(backoff, min(retry_after, longest))


def _account_path(integrated_account_id: str) -> str:
    if not integrated_account_id:
        raise ValueError("integrated_account_id must not be empty")
    return f"/integrated-account/{quote(integrated_account_id, safe='')}"


def _mcp_path(integrated_account_id: str, mcp_id: str | None = None) -> str:
    path = f"{_account_path(integrated_account_id)}/mcp"
    if mcp_id is None:
        return path
    if not mcp_id:
        raise ValueError("mcp_id must not be empty")
    return f"{path}/{quote(mcp_id, safe='')}"


def _error_message(response: httpx.Response, secret: str) -> str:
    """Truto's `message` field if the body is its error object, else a short body excerpt;
    either without `secret`."""
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict) and isinstance(body.get("message"), str):
        return _excerpt(body["message"].strip(), secret, _MAX_MESSAGE)
    return _excerpt(" ".join(response.text[:_SCAN_LIMIT].split()), secret)


def _excerpt(text: str, secret: str, limit: int = _MAX_TEXT) -> str:
    """`text` scrubbed of `secret`, then cut to `limit` characters: scrubbing first means a
    cut can never leave a piece of the secret that is too short to be recognised."""
    return _truncate(scrubbed(text[:_SCAN_LIMIT], secret), limit)


def _truncate(text: str, limit: int = _MAX_TEXT) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _parse_retry_after(value: str | None) -> float | None:
    """Seconds to wait from a `Retry-After` header (delta-seconds or HTTP-date); None if bad."""
    if value is None:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        pass
    else:
        return seconds if seconds >= 0 and seconds != float("inf") else None
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return max(0.0, (when - datetime.now(timezone.utc)).total_seconds())


_UNKNOWN_HOST_ERRNOS = frozenset(
    code for code in (socket.EAI_NONAME, getattr(socket, "EAI_NODATA", None)) if code is not None
)


def _permanent_cause(exc: BaseException) -> BaseException | None:
    """The TLS or name-lookup failure behind `exc`, if any: errors that retrying cannot fix
    (`https://` against a plain-HTTP server, an untrusted certificate, an unknown host)."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, ssl.SSLError):
            return current
        if isinstance(current, socket.gaierror) and current.errno in _UNKNOWN_HOST_ERRNOS:
            return current
        current = current.__cause__ or current.__context__
    return None


def _permanent_phrase(cause: BaseException) -> str:
    if isinstance(cause, ssl.SSLCertVerificationError):
        return "TLS certificate not trusted for"
    if isinstance(cause, ssl.SSLError):
        return "TLS handshake failed with"
    return "host name not found for"


def _transport_phrase(exc: httpx.RequestError) -> str:
    if isinstance(exc, httpx.ConnectTimeout):
        return "timed out connecting to"
    if isinstance(exc, httpx.ConnectError):
        return "could not connect to"
    if isinstance(exc, httpx.PoolTimeout):
        return "timed out waiting for a free connection to"
    if isinstance(exc, httpx.ReadTimeout):
        return "timed out waiting for the answer of"
    if isinstance(exc, httpx.WriteTimeout):
        return "timed out sending the request to"
    if isinstance(exc, (httpx.RemoteProtocolError, httpx.ReadError)):
        return "connection broke while reading the answer of"
    if isinstance(exc, httpx.WriteError):
        return "connection broke while sending the request to"
    return "could not complete the request to"
