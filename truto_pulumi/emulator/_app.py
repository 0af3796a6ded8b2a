"""The emulator's Starlette application: Truto's MCP API, its integrated accounts and installed
integrations, plus the `/_emulator/` test hooks."""

from __future__ import annotations

import asyncio
import json
import re
import secrets
import warnings
from collections.abc import Iterable
from http import HTTPStatus
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.types import Receive, Scope, Send

from ._base import BadRequestError, EmulatorError, JSONObject, NotFoundError
from ._faults import FaultAction, FaultPlan
from ._hooks import HOOK_PREFIX
from ._journal import Journal
from ._protocol import drop_connection
from ._ratelimit import SlidingWindowLog
from ._readings import Readings
from ._state import ACCOUNT_PAGE_LIMIT, Page, Store

_COLLECTION = re.compile(r"/integrated-account/(?P<ia>[^/]+)/mcp")
_ITEM = re.compile(r"/integrated-account/(?P<ia>[^/]+)/mcp/(?P<id>[^/]+)")
_ACCOUNTS = "/integrated-account"
_ACCOUNT = re.compile(r"/integrated-account/(?P<ia>[^/]+)")
_INSTALL = re.compile(r"/environment-integration/(?P<id>[^/]+)")


def error_response(
    status: int, message: str, headers: dict[str, str] | None = None
) -> JSONResponse:
    """Truto's error body: `{"statusCode": n, "error": "<reason phrase>", "message": "..."}`."""
    try:
        phrase = HTTPStatus(status).phrase
    except ValueError:
        phrase = "Error"
    body = {"statusCode": status, "error": phrase, "message": message}
    return JSONResponse(body, status_code=status, headers=headers)


def _parse_json_body(raw: bytes) -> Any:
    if not raw.strip():
        raise BadRequestError("request body must be a JSON object")
    try:
        return json.loads(raw)
    except ValueError:
        raise BadRequestError("request body is not valid JSON") from None


def _journal_body(raw: bytes) -> Any:
    """The body as the journal shows it: decoded JSON, else the raw text, None when empty."""
    if not raw:
        return None
    try:
        return json.loads(raw)
    except ValueError:
        return raw.decode("utf-8", errors="replace")


class Emulation:
    """Everything one emulated Truto environment holds: servers, accounts, journal, faults,
    settings."""

    def __init__(
        self,
        *,
        api_token: str,
        accounts: Iterable[str] | None,
        latency: float,
        rate_limit: tuple[int, float] | None,
        public_base_url: str | None,
        account_page_limit: int = ACCOUNT_PAGE_LIMIT,
        readings: Readings | None = None,
    ) -> None:
        if not api_token:
            raise ValueError("api_token must be a non-empty string")
        if latency < 0:
            raise ValueError("latency must be >= 0")
        self.api_token = api_token
        self.store = Store(
            accounts=accounts, account_page_limit=account_page_limit, readings=readings
        )
        self.journal = Journal()
        self.faults = FaultPlan()
        self.public_base_url = None if public_base_url is None else public_base_url.rstrip("/")
        self._initial_latency = latency
        self._initial_rate_limit = rate_limit
        self.latency = latency
        self.rate_limiter: SlidingWindowLog | None = None
        self.set_rate_limit(rate_limit)

    def set_rate_limit(self, rate_limit: tuple[int, float] | None) -> None:
        self.rate_limiter = None if rate_limit is None else SlidingWindowLog(*rate_limit)

    def reset(self) -> None:
        """Back to the state right after construction (settings included)."""
        self.store.reset()
        self.journal.clear()
        self.faults.clear()
        self.latency = self._initial_latency
        self.set_rate_limit(self._initial_rate_limit)

    def base_url(self, request: Request) -> str:
        return self.public_base_url or str(request.base_url).rstrip("/")

    def authorized(self, request: Request) -> bool:
        scheme, _, credentials = request.headers.get("authorization", "").partition(" ")
        return scheme.lower() == "bearer" and secrets.compare_digest(
            credentials.strip().encode(), self.api_token.encode()
        )


class ApiEndpoint:
    """The raw ASGI endpoint serving every non-hook path: journal, faults, auth, the API."""

    def __init__(self, emulation: Emulation) -> None:
        self.emu = emulation
        self._late: set[asyncio.Task[None]] = set()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        raw = await request.body()
        method, path = request.method, request.url.path
        entry = self.emu.journal.record(
            method, path, dict(request.query_params), _journal_body(raw)
        )
        action = self.emu.faults.take(method, path)
        fault = None if action is None else action.to_json()
        if self.emu.latency:
            await asyncio.sleep(self.emu.latency)
        if action is not None and action.delay:
            await asyncio.sleep(action.delay)
        if action is not None and action.act_after is not None:
            task = asyncio.create_task(self._act_later(request, raw, action.act_after))
            self._late.add(task)
            task.add_done_callback(self._late.discard)

        if action is not None and action.drop:
            self.emu.journal.finish(entry, None, fault)
            await drop_connection(scope, send)
            return
        response: Response
        if action is not None and action.status is not None and not action.lose_answer:
            response = _injected(action)
        else:
            response = self._respond(request, raw)
            if action is not None and action.lose_answer:
                if action.status is None:
                    self.emu.journal.finish(entry, None, fault)
                    await drop_connection(scope, send)
                    return
                response = _injected(action)
        self.emu.journal.finish(entry, response.status_code, fault)
        await response(scope, receive, send)

    async def _act_later(self, request: Request, raw: bytes, seconds: float) -> None:
        """Carry out a request whose answer was already given (a gateway gave up on it)."""
        await asyncio.sleep(seconds)
        self._respond(request, raw)

    def _respond(self, request: Request, raw: bytes) -> Response:
        if not self.emu.authorized(request):
            return error_response(
                401,
                "Missing or invalid API token: send 'Authorization: Bearer <token>'",
                {"WWW-Authenticate": "Bearer"},
            )
        limiter = self.emu.rate_limiter
        if limiter is not None and not limiter.allow(self.emu.api_token):
            return error_response(
                429, "Rate limit exceeded", {"Retry-After": str(limiter.retry_after)}
            )
        try:
            return self._route(request, raw)
        except EmulatorError as exc:
            return error_response(exc.status, exc.message)

    def _route(self, request: Request, raw: bytes) -> Response:
        path, method, store = request.url.path, request.method, self.emu.store
        readings = store.readings
        if match := _COLLECTION.fullmatch(path):
            account = match["ia"]
            if method == "POST":
                server = store.create(account, _parse_json_body(raw))
                return JSONResponse(
                    server.to_json(public_base_url=self.emu.base_url(request), readings=readings),
                    status_code=201,
                )
            if method == "GET":
                page = store.list_servers(account, request.query_params)
                return _listing(readings, [s.to_json(readings=readings) for s in page.items], page)
            return _method_not_allowed("GET, POST")
        if match := _ITEM.fullmatch(path):
            account, server_id = match["ia"], match["id"]
            if method == "GET":
                return JSONResponse(store.get(account, server_id).to_json(readings=readings))
            if method == "PATCH":
                server = store.update(account, server_id, _parse_json_body(raw))
                return JSONResponse(server.to_json(readings=readings))
            if method == "DELETE":
                return JSONResponse({"id": store.delete(account, server_id)})
            return _method_not_allowed("GET, PATCH, DELETE")
        if path == _ACCOUNTS:
            if method != "GET":
                return _method_not_allowed("GET")
            accounts = store.list_accounts(request.query_params)
            return _listing(readings, [account.to_json() for account in accounts.items], accounts)
        if match := _ACCOUNT.fullmatch(path):
            if method != "GET":
                return _method_not_allowed("GET")
            account_record = store.get_account(match["ia"])
            readings.refuse_if_blocked(account_record.id)
            return JSONResponse(account_record.to_json())
        if match := _INSTALL.fullmatch(path):
            if method != "GET":
                return _method_not_allowed("GET")
            return JSONResponse(store.get_environment_integration(match["id"]).to_json())
        raise NotFoundError(f"Route {method} {path} not found")


def _listing(readings: Readings, items: list[JSONObject], page: Page[Any]) -> Response:
    """A list answer: the items under the list key of `readings`, and the page's cursor."""
    body = {readings.list_key: items, "next_cursor": page.next_cursor, "limit": page.limit}
    return JSONResponse(body)


def _injected(action: FaultAction) -> Response:
    """The answer of an injected status: Truto's error body, or the action's own `body`."""
    status = action.status if action.status is not None else 500
    headers = action.retry_after_header()
    if action.body is None:
        return error_response(status, "Injected fault", headers)
    try:
        json.loads(action.body)
    except ValueError:
        media_type = "text/plain; charset=utf-8"
    else:
        media_type = "application/json"
    return Response(action.body, status_code=status, headers=headers, media_type=media_type)


def _method_not_allowed(allow: str) -> JSONResponse:
    return error_response(405, "Method not allowed", {"Allow": allow})


class Hooks:
    """`/_emulator/...`: test hooks. No auth, never journaled."""

    def __init__(self, emulation: Emulation) -> None:
        self.emu = emulation

    def routes(self) -> list[Route]:
        return [
            Route("/health", self.health, methods=["GET"]),
            Route("/journal", self.journal, methods=["GET", "DELETE"]),
            Route("/faults", self.faults, methods=["GET", "POST", "DELETE"]),
            Route("/servers", self.servers, methods=["GET"]),
            Route("/servers/{server_id}", self.server, methods=["PATCH", "DELETE"]),
            Route("/reset", self.reset, methods=["POST"]),
            Route("/latency", self.latency, methods=["GET", "POST"]),
            Route("/rate-limit", self.rate_limit, methods=["GET", "POST"]),
            Route("/readings", self.readings, methods=["POST"]),
            Route("/clock", self.clock, methods=["POST"]),
            Route("/accounts", self.accounts, methods=["GET", "POST"]),
            Route("/accounts/{account_id}", self.account, methods=["PATCH", "DELETE"]),
            Route(
                "/environment-integrations/{environment_integration_id}",
                self.environment_integration,
                methods=["DELETE"],
            ),
            Route("/account-page-limit", self.account_page_limit, methods=["GET", "POST"]),
            Route("/environment", self.environment, methods=["GET"]),
        ]

    async def health(self, request: Request) -> Response:
        return JSONResponse({"ok": True})

    async def journal(self, request: Request) -> Response:
        if request.method == "DELETE":
            self.emu.journal.clear()
            return JSONResponse({"ok": True})
        return JSONResponse(self.emu.journal.entries())

    async def faults(self, request: Request) -> Response:
        if request.method == "POST":
            rule = self.emu.faults.add(_parse_json_body(await request.body()))
            return JSONResponse(rule.to_json(), status_code=201)
        if request.method == "DELETE":
            self.emu.faults.clear()
            return JSONResponse({"ok": True})
        return JSONResponse(self.emu.faults.pending())

    async def servers(self, request: Request) -> Response:
        base = self.emu.base_url(request)
        return JSONResponse([s.to_json(public_base_url=base) for s in self.emu.store.all_servers()])

    async def server(self, request: Request) -> Response:
        server_id = request.path_params["server_id"]
        if request.method == "DELETE":
            self.emu.store.remove(server_id)
            return JSONResponse({"id": server_id})
        server = self.emu.store.edit(server_id, _parse_json_body(await request.body()))
        return JSONResponse(server.to_json(public_base_url=self.emu.base_url(request)))

    async def reset(self, request: Request) -> Response:
        self.emu.reset()
        return JSONResponse({"ok": True})

    async def latency(self, request: Request) -> Response:
        if request.method == "POST":
            body = _parse_json_body(await request.body())
            seconds = body.get("seconds") if isinstance(body, dict) else None
            if isinstance(seconds, bool) or not isinstance(seconds, (int, float)) or seconds < 0:
                raise BadRequestError('body must be {"seconds": <number >= 0>}')
            self.emu.latency = float(seconds)
        return JSONResponse({"seconds": self.emu.latency})

    async def rate_limit(self, request: Request) -> Response:
        if request.method == "POST":
            body = _parse_json_body(await request.body())
            if not isinstance(body, dict):
                raise BadRequestError("body must be a JSON object")
            requests, per_seconds = body.get("requests"), body.get("per_seconds")
            if requests is None:
                self.emu.set_rate_limit(None)
            elif (
                isinstance(requests, int)
                and not isinstance(requests, bool)
                and requests >= 1
                and isinstance(per_seconds, (int, float))
                and not isinstance(per_seconds, bool)
                and per_seconds > 0
            ):
                self.emu.set_rate_limit((requests, float(per_seconds)))
            else:
                raise BadRequestError(
                    'body must be {"requests": <int >= 1>, "per_seconds": <number > 0>} '
                    'or {"requests": null}'
                )
        limiter = self.emu.rate_limiter
        settings: JSONObject = {
            "requests": None if limiter is None else limiter.requests,
            "per_seconds": None if limiter is None else limiter.per_seconds,
        }
        return JSONResponse(settings)

    async def readings(self, request: Request) -> Response:
        """How this Truto reads the loose points of its documentation (`_readings`) from now on:
        every reading, those the body leaves out at their defaults. Answers them."""
        self.emu.store.readings = Readings.from_json(_parse_json_body(await request.body()))
        return JSONResponse(self.emu.store.readings.to_json())

    async def clock(self, request: Request) -> Response:
        """`{"advance": seconds}`: this Truto's time moves on, expiries come due."""
        body = _parse_json_body(await request.body())
        seconds = body.get("advance") if isinstance(body, dict) else None
        if isinstance(seconds, bool) or not isinstance(seconds, (int, float)):
            raise BadRequestError('body must be {"advance": <seconds >= 0>}')
        self.emu.store.advance_clock(float(seconds))
        return JSONResponse({"ok": True})

    async def accounts(self, request: Request) -> Response:
        """GET: every account added explicitly (what the API lists). POST: add one."""
        store = self.emu.store
        if request.method == "POST":
            account = store.add_account(_parse_json_body(await request.body()))
            return JSONResponse(account.to_json(), status_code=201)
        return JSONResponse([account.to_json() for account in store.all_accounts()])

    async def account(self, request: Request) -> Response:
        """PATCH `{"status": ...}`: change an account's status. DELETE: remove it and its MCP
        servers (answers their ids)."""
        account_id, store = request.path_params["account_id"], self.emu.store
        if request.method == "DELETE":
            account = store.get_account(account_id)
            return JSONResponse({"id": account.id, "servers": store.remove_account(account.id)})
        body = _parse_json_body(await request.body())
        if not isinstance(body, dict) or set(body) != {"status"}:
            raise BadRequestError('body must be {"status": "<an account status>"}')
        return JSONResponse(store.set_account_status(account_id, body["status"]).to_json())

    async def environment_integration(self, request: Request) -> Response:
        """DELETE: uninstall; the integration's accounts stay."""
        install_id = request.path_params["environment_integration_id"]
        return JSONResponse({"id": self.emu.store.uninstall(install_id)})

    async def account_page_limit(self, request: Request) -> Response:
        """The largest page of `GET /integrated-account` (`{"limit": n}`)."""
        if request.method == "POST":
            body = _parse_json_body(await request.body())
            if not isinstance(body, dict) or set(body) != {"limit"}:
                raise BadRequestError('body must be {"limit": <int >= 1>}')
            self.emu.store.set_account_page_limit(body["limit"])
        return JSONResponse({"limit": self.emu.store.account_page_limit})

    async def environment(self, request: Request) -> Response:
        """The emulated Truto environment: its id, and the installed integration of the
        accounts given by id only."""
        store = self.emu.store
        return JSONResponse(
            {
                "environment_id": store.environment_id,
                "default_environment_integration_id": store.default_install_id,
            }
        )


async def _on_emulator_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, EmulatorError)
    return error_response(exc.status, exc.message)


async def _on_http_exception(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    return error_response(exc.status_code, exc.detail, dict(exc.headers or {}))


def deprecated_token_keyword(api_token: str | None, token: str | None) -> str | None:
    """`api_token`, or the deprecated `token` keyword of releases up to 0.2.0 (with a warning)."""
    if token is None:
        return api_token
    if api_token is not None:
        raise TypeError("pass api_token, not both api_token and token")
    warnings.warn(
        "the emulator's `token` keyword is now `api_token`", DeprecationWarning, stacklevel=3
    )
    return token


def create_app(
    *,
    api_token: str | None = None,
    accounts: Iterable[str] | None = None,
    latency: float = 0.0,
    rate_limit: tuple[int, float] | None = None,
    public_base_url: str | None = None,
    token: str | None = None,
    account_page_limit: int = ACCOUNT_PAGE_LIMIT,
    readings: Readings | None = None,
) -> Starlette:
    """The emulator as an ASGI app.

    api_token: the only API token accepted (`Authorization: Bearer <api_token>`); `token` is
    its older, deprecated spelling.
    accounts: integrated account ids that exist; None means every UUID is an account (and
    `GET /integrated-account` lists only the accounts added through the hooks).
    latency: seconds added to every API answer (not to hooks).
    rate_limit: `(requests, per_seconds)` per token, e.g. `(500, 10.0)`; None disables it.
    public_base_url: base of the `url` returned on create; default: the URL the client used.
    account_page_limit: the largest page of `GET /integrated-account` (a larger `limit` is
    clipped to it).
    readings: how the loose points of Truto's documentation are read (`Readings`); the
    strictest reading of each by default.
    """
    emulation = Emulation(
        api_token=deprecated_token_keyword(api_token, token) or "",
        accounts=accounts,
        latency=latency,
        rate_limit=rate_limit,
        public_base_url=public_base_url,
        account_page_limit=account_page_limit,
        readings=readings,
    )
    app = Starlette(
        routes=[
            Mount(HOOK_PREFIX, routes=Hooks(emulation).routes()),
            Route("/{path:path}", ApiEndpoint(emulation)),
        ],
        exception_handlers={EmulatorError: _on_emulator_error, HTTPException: _on_http_exception},
    )
    app.state.emulation = emulation
    return app
