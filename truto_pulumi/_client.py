"""HTTP client for Truto's MCP servers API, around one `httpx.Client`: a call is sent again
after what may be retried until its `Deadline`; each attempt waits for the `RateLimiter`, and a
failure maps to `_errors` by status, its text scrubbed of the API token (`_redact`), then cut."""

from __future__ import annotations

import email.utils
import itertools
import logging
import random
import socket
import ssl
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

import httpx

from ._deadline import Deadline
from ._errors import TrutoApiError, TrutoServerError, TrutoTransportError, api_error_for_status
from ._ratelimit import SEND_SLACK_SECONDS, RateLimiter
from ._redact import scrub_exception_chain, scrubbed
from ._settings import BASE_URL_KEY, ProviderSettings, validate_api_token, validated_base_url
from ._version import version

log = logging.getLogger("truto_pulumi.client")

DEFAULT_USER_AGENT = f"truto-pulumi/{version}"

_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)
"""Failures before the request left this process: sent again even as a POST."""
_NETWORK = (httpx.TimeoutException, httpx.ConnectError, httpx.ReadError, httpx.WriteError,
            httpx.RemoteProtocolError)  # fmt: skip
"""Failures of the network: sent again, unless a POST that may have reached Truto."""
_PHRASES: tuple[tuple[type[BaseException] | tuple[type[BaseException], ...], str], ...] = (
    (ssl.SSLCertVerificationError, "TLS certificate not trusted for"),
    (ssl.SSLError, "TLS handshake failed with"),
    (socket.gaierror, "host name not found for"),
    (httpx.ConnectTimeout, "timed out connecting to"),
    (httpx.ConnectError, "could not connect to"),
    (httpx.PoolTimeout, "timed out waiting for a free connection to"),
    (httpx.ReadTimeout, "timed out waiting for the answer of"),
    (httpx.WriteTimeout, "timed out sending the request to"),
    ((httpx.RemoteProtocolError, httpx.ReadError), "connection broke while reading the answer of"),
    (httpx.WriteError, "connection broke while sending the request to"),
    (BaseException, "could not complete the request to"),
)
_UNKNOWN_HOST_ERRNOS = {socket.EAI_NONAME, getattr(socket, "EAI_NODATA", socket.EAI_NONAME)}
_SCAN_LIMIT = 10_000
"""Characters of an answer scanned for the API token: far more than any excerpt keeps."""
_MIN_REQUEST_TIMEOUT = 0.05
"""Seconds an attempt gets at the least, even when the deadline is nearer."""
_Due = Deadline | None
_Object = dict[str, Any]


@dataclass(frozen=True)
class RetryPolicy:
    """How long and how often a call is retried. `deadline`: seconds a call without a `Deadline`
    may take; `unavailable_for`: seconds of 503s under one account before retries there stop."""

    deadline: float = 60.0
    base_delay: float = 0.5
    max_delay: float = 8.0
    max_retry_after: float = 30.0
    unavailable_for: float = 30.0

    def backoff(self, retry_index: int) -> float:
        """Exponential backoff with full jitter before retry number `retry_index` (from 0)."""
        return random.uniform(0, min(self.max_delay, self.base_delay * 2**retry_index))


class TrutoClient:
    """Truto's MCP server endpoints, integrated accounts and installed integrations; thread-safe.
    `timeout` bounds each request, `connections` those open at once (one per engine call)."""

    def __init__(
        self,
        *,
        base_url: str,
        api_token: str,
        timeout: float = 30.0,
        retry: RetryPolicy = RetryPolicy(),
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        rate_limiter: RateLimiter | None = None,
        connections: int = 8,
    ) -> None:
        self.base_url = validated_base_url(base_url)
        validate_api_token(api_token)
        self._token, self._timeout, self._retry = api_token, timeout, retry
        self._sleep, self._clock, self._limiter = sleep, clock, rate_limiter
        self._unavailable_since: dict[str, float] = {}
        """When the 503s still going on under an integrated account (`_scope`) began."""
        self._http = httpx.Client(
            base_url=self.base_url,
            limits=httpx.Limits(max_connections=connections, max_keepalive_connections=connections),
            headers={
                "Authorization": f"Bearer {api_token}",
                "Content-Type": "application/json",
                "Accept": "application/json",
                "User-Agent": DEFAULT_USER_AGENT,
            },
            transport=transport,
        )

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> TrutoClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def create_mcp_server(
        self,
        account_id: str,
        body: Mapping[str, Any],
        deadline: _Due = None,
        *,
        patient: bool = False,
    ) -> _Object:
        """The answer holds the secret `token` and `url`. `patient`: wait past the request
        timeout, until the deadline."""
        return self._call("POST", mcp_path(account_id), deadline, json=dict(body), patient=patient)

    def get_mcp_server(self, account_id: str, mcp_id: str, deadline: _Due = None) -> _Object:
        return self._call("GET", mcp_path(account_id, mcp_id), deadline)

    def update_mcp_server(
        self, account_id: str, mcp_id: str, body: Mapping[str, Any], deadline: _Due = None
    ) -> _Object:
        return self._call("PATCH", mcp_path(account_id, mcp_id), deadline, json=dict(body))

    def delete_mcp_server(self, account_id: str, mcp_id: str, deadline: _Due = None) -> None:
        """Any 2xx (200 with a body, or 204) counts as done."""
        self._request("DELETE", mcp_path(account_id, mcp_id), deadline)

    def list_mcp_servers(self, account_id: str, deadline: _Due = None) -> list[_Object]:
        return self._every_page(mcp_path(account_id), {}, deadline)

    def list_integrated_accounts(
        self, filters: Mapping[str, str], deadline: _Due = None, *, page_size: int | None = None
    ) -> list[_Object]:
        """The integrated accounts matching `filters` (query parameters), `page_size` a page."""
        if page_size is not None and page_size < 1:
            raise ValueError(f"page_size must be at least 1, got {page_size}")
        limit = {} if page_size is None else {"limit": page_size}
        return self._every_page(_path("integrated-account"), {**filters, **limit}, deadline)

    def get_integrated_account(self, account_id: str, deadline: _Due = None) -> _Object:
        return self._call("GET", _path("integrated-account", account_id), deadline)

    def get_environment_integration(self, integration_id: str, deadline: _Due = None) -> _Object:
        return self._call("GET", _path("environment-integration", integration_id), deadline)

    def _call(self, method: str, path: str, deadline: _Due, **request: Any) -> _Object:
        return _object(self._request(method, path, deadline, **request), method, path)

    def _every_page(self, path: str, params: dict[str, str | int], deadline: _Due) -> list[_Object]:
        """The items of every page (`result`, or `results`), following `next_cursor`."""
        items: list[_Object] = []
        seen: set[str] = set()
        while True:
            response = self._request("GET", path, deadline, params=params)
            page = _object(response, "GET", path)
            result, cursor = page.get("result", page.get("results")), page.get("next_cursor")
            if not isinstance(result, list) or not all(isinstance(i, dict) for i in result):
                why = "answer has no 'result' list of objects"
            elif not cursor:
                return items + result
            elif not isinstance(cursor, str):
                why = "answer's 'next_cursor' is not a string"
            elif cursor in seen:
                why = "pagination loops: the same next_cursor came twice"
            else:
                items += result
                seen.add(cursor)
                params = {**params, "next_cursor": cursor}
                continue
            raise _bad_answer(response, "GET", path, why)

    def _request(
        self, method: str, path: str, deadline: _Due, *, patient: bool = False, **send: Any
    ) -> httpx.Response:
        """A 2xx answer, sending again what may be retried while the wait ends by `deadline`."""
        if deadline is None:
            deadline = Deadline.after(self._retry.deadline, now=self._clock())
        call = f"{method} {path}"
        for attempt in itertools.count(1):
            try:
                response = self._attempt(method, path, deadline, patient, send)
            except (TrutoApiError, TrutoTransportError) as error:
                reason = type(error.__cause__).__name__
                if isinstance(error, TrutoApiError):
                    reason = f"status {error.status_code}"
                log.debug("%s -> %s (attempt %d)", call, reason, attempt)
                wait, now = self._wait(error, method, path, attempt), self._clock()
                if now + wait > deadline.at:
                    what = f"waiting on {call} after {attempt} attempt(s): {error}"
                    raise deadline.error(
                        now, what, method=method, path=path, last_error=error
                    ) from error
                log.warning(
                    "retrying %s in %.2f s after %s (attempt %d)", call, wait, reason, attempt
                )
                self._sleep(wait)
            else:
                log.debug("%s -> status %d (attempt %d)", call, response.status_code, attempt)
                self._unavailable_since.pop(_scope(path), None)
                return response
        raise AssertionError("unreachable")  # pragma: no cover

    def _attempt(
        self, method: str, path: str, deadline: Deadline, patient: bool, send: dict[str, Any]
    ) -> httpx.Response:
        """One paced request ending by `deadline`: a 2xx answer, else its error, token-free."""
        if self._limiter is not None:
            try:
                self._limiter.acquire(deadline=deadline.at)
            except TimeoutError:
                what = f"waiting for the client-side rate limit before {method} {path}"
                raise deadline.error(self._clock(), what, method=method, path=path) from None
        left = max(deadline.at - self._clock(), _MIN_REQUEST_TIMEOUT)
        try:
            response = self._http.request(
                method, path, timeout=left if patient else min(left, self._timeout), **send
            )
        except httpx.RequestError as exc:
            scrub_exception_chain(exc, self._token)
            raise self._transport_error(exc, method, path) from exc
        if response.is_success:
            return response
        status, body = response.status_code, _json(response)
        if isinstance(body, dict) and isinstance(body.get("message"), str):
            message = _excerpt(body["message"].strip(), self._token, 1000)
        else:
            message = _excerpt(" ".join(response.text[:_SCAN_LIMIT].split()), self._token)
        retry_after = response.headers.get("Retry-After") if status == 429 else None
        raise api_error_for_status(status)(
            status_code=status,
            method=method,
            path=path,
            message=message,
            retry_after=_parse_retry_after(retry_after),
        )

    def _wait(
        self, error: TrutoApiError | TrutoTransportError, method: str, path: str, attempt: int
    ) -> float:
        """Seconds to wait before sending a failed call again; raises what may not be retried
        (`_retried`), and 503s that went on too long under the path's integrated account."""
        backoff, scope = self._retry.backoff(attempt - 1), _scope(path)
        if isinstance(error, TrutoApiError) and error.status_code != 503:
            self._unavailable_since.pop(scope, None)
        if not _retried(error, method):
            raise error
        if not isinstance(error, TrutoApiError) or error.status_code not in (429, 503):
            return backoff
        if error.status_code == 429:  # at least the backoff: a `Retry-After: 0` must not hammer
            return max(backoff, min(error.retry_after or 0.0, self._retry.max_retry_after))
        now = self._clock()
        since = self._unavailable_since.setdefault(scope, now)
        if now - since < self._retry.unavailable_for:
            return min(backoff, since + self._retry.unavailable_for - now)
        raise error.explained(
            f"{error.message or 'no message'} (Truto has answered 503 under this integrated "
            f"account for {now - since:.0f} s; a 503 that persists means the account is blocked, "
            "and retrying will not help: ask Truto's support to unblock it, then run again)"
        ) from None

    def _transport_error(
        self, exc: httpx.RequestError, method: str, path: str
    ) -> TrutoTransportError:
        permanent = _permanent_cause(exc)
        shown = exc if permanent is None else permanent
        detail = _excerpt(str(shown).strip() or type(shown).__name__, self._token)
        sent = permanent is None and not isinstance(exc, _NOT_SENT)
        what = next(phrase for kind, phrase in _PHRASES if isinstance(shown, kind))
        message = f"{what} {self.base_url} ({method} {path}): {detail}"
        if permanent is not None:
            message += f". Retrying cannot fix this: check {BASE_URL_KEY}"
        elif sent and method == "POST":
            message += "; the request may have been applied"
        return TrutoTransportError(
            scrubbed(message, self._token), method=method, path=path, request_sent=sent
        )


def client_for(settings: ProviderSettings) -> TrutoClient:
    """The client of one process (the provider host, or a program's lookups), with its limiter."""
    if settings.api_token is None:
        raise ValueError("settings without an API token make no client")
    rate = settings.max_requests_per_second
    return TrutoClient(
        base_url=settings.base_url,
        api_token=settings.api_token,
        timeout=settings.request_timeout,
        rate_limiter=RateLimiter(rate, slack=SEND_SLACK_SECONDS) if rate > 0 else None,
        connections=max(8, settings.host_concurrency),
    )


def _retried(error: TrutoApiError | TrutoTransportError, method: str) -> bool:
    """Whether a failed call may be sent again: not if a POST may have made a server (Truto
    answers 429 and 503 before acting, another 5xx maybe after), nor if retrying cannot help."""
    if isinstance(error, TrutoApiError):
        return error.status_code in ({429, 503} if method == "POST" else {429, 500, 502, 503, 504})
    cause, acted = error.__cause__, method == "POST" and error.request_sent
    return isinstance(cause, _NETWORK) and _permanent_cause(cause) is None and not acted


def _scope(path: str) -> str:
    """The integrated account a path is under, or its first part."""
    return "/".join(path.split("/")[:3])


def mcp_path(account_id: str, *mcp_id: str) -> str:
    return _path("integrated-account", account_id, "mcp", *mcp_id)


def _path(*parts: str) -> str:
    if not all(parts):
        raise ValueError(f"an id must not be empty: {parts}")
    return "".join(f"/{quote(part, safe='')}" for part in parts)


def _json(response: httpx.Response) -> object:
    try:
        return response.json()
    except ValueError:
        return None


def _object(response: httpx.Response, method: str, path: str) -> _Object:
    """The response body as a JSON object, or a server error saying it was not one."""
    body = _json(response)
    if not isinstance(body, dict):
        raise _bad_answer(response, method, path, "answer was not a JSON object")
    return body


def _bad_answer(response: httpx.Response, method: str, path: str, what: str) -> TrutoServerError:
    return TrutoServerError(
        status_code=response.status_code, method=method, path=path, message=what
    )


def _excerpt(text: str, secret: str, limit: int = 200) -> str:
    """`text` scrubbed of `secret`, then cut (so no cut leaves too short a piece to scrub)."""
    text = scrubbed(text[:_SCAN_LIMIT], secret)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _parse_retry_after(value: str | None) -> float | None:
    """Seconds to wait from a `Retry-After` header (delta-seconds or HTTP-date); None if bad."""
    if value is None:
        return None
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value.strip())
        except (TypeError, ValueError, IndexError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        seconds = max(0.0, (when - datetime.now(UTC)).total_seconds())
    return seconds if 0 <= seconds < float("inf") else None


def _permanent_cause(exc: BaseException | None) -> BaseException | None:
    """The TLS or name-lookup failure behind `exc`, if any: retrying cannot fix it."""
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        if isinstance(exc, ssl.SSLError) or (
            isinstance(exc, socket.gaierror) and exc.errno in _UNKNOWN_HOST_ERRNOS
        ):
            return exc
        exc = exc.__cause__ or exc.__context__
    return None
