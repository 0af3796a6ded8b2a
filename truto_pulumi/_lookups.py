"""Lookups: what exists in Truto, read by the program, so that it can follow Truto (one server
per integrated account, say) without a config edit per customer. `get_x(...)` answers at
registration time, `get_x_output(...)` takes `Output`s (Pulumi's data-function convention).
A lookup only reads, at preview too, with the provider's settings, pacing, retries and deadline,
through one client per process. A failure is a `TrutoLookupError` naming the setting to check.
"""

from __future__ import annotations

import dataclasses
import os
import threading
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, TypeVar

import pulumi

from ._deadline import Deadline
from ._errors import (
    TrutoAuthError,
    TrutoConfigError,
    TrutoError,
    TrutoLookupError,
    TrutoNotFoundError,
)
from ._mark import read_mark
from ._settings import (
    API_TOKEN_KEY,
    BASE_URL_KEY,
    MISSING_TOKEN_MESSAGE,
    OPERATION_TIMEOUT_KEY,
    ProviderSettings,
    program_config,
    resolve_settings,
)

if TYPE_CHECKING:
    from ._client import TrutoClient

_SETUP_FAILED = ("post_install_error", "post_connect_user_input")
ACCOUNT_STATUSES = ("active", "connecting", "needs_reauth", "validation_error", *_SETUP_FAILED)
"""The statuses of an integrated account. After a failed setup: `post_install_error` in Truto's
documentation, `post_connect_user_input` in its MCP API notes; either is a valid filter."""

_QUERY_KEYS = {"integration": "integration.name", "super_query": "features.super_query"}
"""Truto's query parameter for each filter argument not named as Truto names it."""
_FLAGS = ("is_sandbox", "super_query")
_T = TypeVar("_T")


@dataclasses.dataclass(frozen=True)
class IntegratedAccount:
    """An integrated account as Truto lists it: one customer's connection to one integration.
    Only these documented fields are kept; never Truto's `context` (the credentials)."""

    id: str
    tenant_id: str | None
    environment_integration_id: str | None
    status: str | None
    is_sandbox: bool | None
    region: str | None
    created_at: str | None
    updated_at: str | None
    integration_name: str | None
    """The integration's name (`hubspot`), where Truto returns it."""


@dataclasses.dataclass(frozen=True)
class McpServerInfo:
    """An MCP server as Truto lists it, without its `token` and `url` (Truto shows them only
    to the create that made it)."""

    id: str
    integrated_account_id: str
    name: str | None
    config: dict[str, Any] | None
    expires_at: str | None
    created_at: str | None
    updated_at: str | None
    created_by: str | None


def get_integrated_accounts(
    *,
    tenant_id: str | None = None,
    integration: str | None = None,
    status: str | None = None,
    is_sandbox: bool | None = None,
    created_at: str | None = None,
    updated_at: str | None = None,
    super_query: bool | None = None,
    filters: Mapping[str, str] | None = None,
) -> list[IntegratedAccount]:
    """The integrated accounts of the API token's Truto environment, every page, in Truto's
    order, filtered by Truto: `integration` is the integration's name (`hubspot`), `status` one
    of `ACCOUNT_STATUSES`, `super_query` Truto's `features.super_query`; `filters` passes any
    other of Truto's query parameters as they are (`{"created_at[gt]": "2026-01-01T00:00:00Z"}`)."""
    query = _account_query(**locals())  # first: the arguments, by name

    def read(client: TrutoClient, deadline: Deadline) -> list[IntegratedAccount]:
        # Truto documents no maximum page size; a smaller page than asked is followed all the same.
        items = client.list_integrated_accounts(query, deadline, page_size=100)
        return [_record(IntegratedAccount, item) for item in items if "id" in item]

    return _looked_up("get_integrated_accounts", read)


def get_integrated_accounts_output(
    *,
    tenant_id: pulumi.Input[str | None] = None,
    integration: pulumi.Input[str | None] = None,
    status: pulumi.Input[str | None] = None,
    is_sandbox: pulumi.Input[bool | None] = None,
    created_at: pulumi.Input[str | None] = None,
    updated_at: pulumi.Input[str | None] = None,
    super_query: pulumi.Input[bool | None] = None,
    filters: pulumi.Input[Mapping[str, str] | None] = None,
) -> pulumi.Output[list[IntegratedAccount]]:
    """`get_integrated_accounts` for arguments that may be `Output`s; unknown while one is."""
    arguments = pulumi.Output.all(**locals())  # first: the arguments, by name
    return arguments.apply(lambda given: get_integrated_accounts(**given))


def get_mcp_servers(
    integrated_account_id: str, *, include_in_flight: bool = False
) -> list[McpServerInfo]:
    """The MCP servers of one integrated account, every page, without their tokens. Servers
    whose name carries a Pulumi create mark (a stack's create under way, or what a killed run
    left) are left out unless `include_in_flight`: they cannot be adopted."""
    account = _text("get_mcp_servers", "integrated_account_id", integrated_account_id)

    def read(client: TrutoClient, deadline: Deadline) -> list[McpServerInfo]:
        return [
            _record(McpServerInfo, item, integrated_account_id=account)
            for item in client.list_mcp_servers(account, deadline)
            if "id" in item and (include_in_flight or read_mark(item.get("name")) is None)
        ]

    gone = (
        f"integrated account {account} does not exist for this API token (a token of another "
        "Truto environment?), or "
    )
    return _looked_up("get_mcp_servers", read, gone)


def get_mcp_servers_output(
    integrated_account_id: pulumi.Input[str], *, include_in_flight: bool = False
) -> pulumi.Output[list[McpServerInfo]]:
    """`get_mcp_servers` for an account id that may be an `Output`; unknown while it is."""
    return pulumi.Output.from_input(integrated_account_id).apply(
        lambda account: get_mcp_servers(account, include_in_flight=include_in_flight)
    )


def configured(lookup: str) -> tuple[ProviderSettings, TrutoClient]:
    """The `truto:` settings (the program's stack config, else the environment) and this
    process's client for them: one per settings, so every lookup of a program shares its pace.
    A settings problem is a `TrutoLookupError` naming the setting; nothing is sent."""
    try:
        settings = resolve_settings(program_config(), os.environ)
        if settings.api_token is None:
            raise TrutoConfigError(MISSING_TOKEN_MESSAGE, setting=API_TOKEN_KEY)
        with _clients_lock:
            if settings not in _clients:
                from ._client import client_for  # httpx loads at the first lookup only

                _clients[settings] = client_for(settings)
            return settings, _clients[settings]
    except TrutoConfigError as error:
        raise TrutoLookupError(f"{lookup}: {error}", setting=error.setting) from error


_clients: dict[ProviderSettings, TrutoClient] = {}
_clients_lock = threading.Lock()


def _account_query(filters: Mapping[str, str] | None = None, **arguments: Any) -> dict[str, str]:
    """Truto's query for `get_integrated_accounts`' arguments, each checked before any request."""
    lookup, query = "get_integrated_accounts", {}
    for argument, value in arguments.items():
        if value is None:
            continue
        if argument in _FLAGS and not isinstance(value, bool):
            raise TrutoLookupError(f"{lookup}: {argument} must be True or False")
        if argument == "status" and value not in ACCOUNT_STATUSES:
            raise TrutoLookupError(
                f"{lookup}: status must be one of {', '.join(ACCOUNT_STATUSES)}, got {value!r}"
            )
        text = str(value).lower() if argument in _FLAGS else _text(lookup, argument, value)
        query[_QUERY_KEYS.get(argument, argument)] = text
    for key, value in (filters or {}).items():
        name = _text(lookup, "a key of filters", key)
        if name in query or name in ("limit", "next_cursor"):
            raise TrutoLookupError(
                f"{lookup}: filters repeats {name!r}, which the lookup sets itself"
            )
        query[name] = _text(lookup, f"filters[{name!r}]", value)
    return query


def _text(lookup: str, name: str, value: object) -> str:
    if not isinstance(value, str) or not value.strip():
        raise TrutoLookupError(f"{lookup}: {name} must be a non-empty string, got {value!r}")
    return value


_Record = TypeVar("_Record", IntegratedAccount, McpServerInfo)


def _record(kind: type[_Record], item: Mapping[str, Any], **given: object) -> _Record:
    """The record of one item of Truto's answer: each field (`given` first; an account's
    `integration.name` its `integration_name`) where it has the field's type (a string, but
    `is_sandbox` a bool, `config` an object), else None; the rest of the answer is ignored."""
    types: dict[str, type] = {"is_sandbox": bool, "config": dict}
    integration = item.get("integration")
    named = {"integration_name": integration.get("name")} if isinstance(integration, dict) else {}
    fields = {**named, **item, **given}
    values = {f.name: fields.get(f.name) for f in dataclasses.fields(kind)}
    kept: dict[str, Any] = {
        k: v if isinstance(v, types.get(k, str)) else None for k, v in values.items()
    }
    return kind(**{**kept, "id": str(item["id"])})


def _looked_up(lookup: str, read: Callable[[TrutoClient, Deadline], _T], gone: str = "") -> _T:
    """`read(client, deadline)` within the operation timeout, its failures told in the
    program's terms (`gone`: what a 404 may mean besides a wrong base URL)."""
    settings, client = configured(lookup)
    try:
        return read(client, Deadline.after(settings.operation_timeout, OPERATION_TIMEOUT_KEY))
    except TrutoError as error:
        if isinstance(error, TrutoAuthError):
            said = (
                f"Truto refused the API token ({error}); check {API_TOKEN_KEY} (or "
                "TRUTO_API_TOKEN) and that the token may read this Truto environment"
            )
        elif isinstance(error, TrutoNotFoundError):
            said = (
                f"Truto answered 404 ({error.method} {error.path}): {gone}{BASE_URL_KEY} "
                f"({settings.base_url}) does not point at Truto's API"
            )
        else:
            said = (
                f"could not read Truto at {settings.base_url} ({error}); check {BASE_URL_KEY}, "
                "or run again if Truto was unavailable"
            )
        setting = API_TOKEN_KEY if isinstance(error, TrutoAuthError) else BASE_URL_KEY
        raise TrutoLookupError(f"{lookup}: {said}", setting=setting) from error
