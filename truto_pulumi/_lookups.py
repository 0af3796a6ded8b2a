"""Lookups: what exists in Truto, read by the program, so that it can follow Truto (one server
per integrated account, say) without a config edit per customer.

Pulumi's data-function convention: `get_x(...)` returns the answer at registration time (a
program loops over it), `get_x_output(...)` takes inputs that may be `Output`s and returns an
`Output`. A lookup runs in the program process, at preview too; it only reads. It reads its
settings as the provider does (`truto:apiToken`, `truto:baseUrl` from stack config, else the
environment; the same pacing, retries and deadline) and one client serves every lookup of the
program. A failure is a `TrutoLookupError` naming the lookup and the setting to check.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

import pulumi
from pulumi.runtime import config as _runtime_config

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
    resolve_settings,
    validate_api_token,
    validated_base_url,
)

if TYPE_CHECKING:
    from ._client import TrutoClient

__all__ = [
    "ACCOUNT_PAGE_SIZE",
    "ACCOUNT_STATUSES",
    "IntegratedAccount",
    "McpServerInfo",
    "get_integrated_accounts",
    "get_integrated_accounts_output",
    "get_mcp_servers",
    "get_mcp_servers_output",
]

ACCOUNT_PAGE_SIZE = 100
"""The page size asked of `GET /integrated-account`. Truto documents no maximum; a smaller
page than asked is followed all the same."""

ACCOUNT_STATUSES = (
    "active",
    "connecting",
    "post_install_error",
    "validation_error",
    "needs_reauth",
)
"""The statuses Truto documents for an integrated account."""

_T = TypeVar("_T")


@dataclass(frozen=True)
class IntegratedAccount:
    """An integrated account as Truto lists it: one customer's connection to one integration.

    Only these documented fields are kept; Truto's `context` (which holds the connection's
    credentials) never is."""

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

    @classmethod
    def from_truto(cls, item: Mapping[str, Any]) -> IntegratedAccount:
        """The record of one item of Truto's answer; unknown fields are ignored."""
        integration = item.get("integration")
        name = integration.get("name") if isinstance(integration, Mapping) else None
        sandbox = item.get("is_sandbox")
        return cls(
            id=str(item["id"]),
            tenant_id=_text(item.get("tenant_id")),
            environment_integration_id=_text(item.get("environment_integration_id")),
            status=_text(item.get("status")),
            is_sandbox=sandbox if isinstance(sandbox, bool) else None,
            region=_text(item.get("region")),
            created_at=_text(item.get("created_at")),
            updated_at=_text(item.get("updated_at")),
            integration_name=_text(name),
        )


@dataclass(frozen=True)
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

    @classmethod
    def from_truto(cls, item: Mapping[str, Any], integrated_account_id: str) -> McpServerInfo:
        """The record of one listed server; fields other than these are ignored."""
        config = item.get("config")
        return cls(
            id=str(item["id"]),
            integrated_account_id=_text(item.get("integrated_account_id")) or integrated_account_id,
            name=_text(item.get("name")),
            config=dict(config) if isinstance(config, Mapping) else None,
            expires_at=_text(item.get("expires_at")),
            created_at=_text(item.get("created_at")),
            updated_at=_text(item.get("updated_at")),
            created_by=_text(item.get("created_by")),
        )


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
    """The integrated accounts of the Truto environment the API token belongs to, every page,
    filtered as Truto filters them: `integration` is the integration's name (`hubspot`),
    `status` one of `ACCOUNT_STATUSES`, `super_query` Truto's `features.super_query`; `filters`
    passes any other of Truto's query parameters as they are, such as its operator filters
    (`{"created_at[gt]": "2026-01-01T00:00:00Z"}`). Ordered as Truto lists them."""
    lookup = "get_integrated_accounts"
    query = _account_filters(lookup, tenant_id, integration, status, is_sandbox)
    for key, value in (("created_at", created_at), ("updated_at", updated_at)):
        if value is not None:
            query[key] = _filter_text(lookup, key, value)
    if super_query is not None:
        if not isinstance(super_query, bool):
            raise TrutoLookupError(f"{lookup}: super_query must be True or False")
        query["features.super_query"] = "true" if super_query else "false"
    for key, value in (filters or {}).items():
        name = _filter_text(lookup, "a key of filters", key)
        if name in query or name in ("limit", "next_cursor"):
            raise TrutoLookupError(
                f"{lookup}: filters repeats {name!r}, which the lookup sets itself"
            )
        query[name] = _filter_text(lookup, f"filters[{name!r}]", value)

    def read(client: TrutoClient, deadline: Deadline) -> list[IntegratedAccount]:
        items = client.list_integrated_accounts(query, deadline, page_size=ACCOUNT_PAGE_SIZE)
        return [IntegratedAccount.from_truto(item) for item in items if "id" in item]

    return _looked_up(lookup, read, account_id=None)


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
    arguments = pulumi.Output.all(
        tenant_id=tenant_id,
        integration=integration,
        status=status,
        is_sandbox=is_sandbox,
        created_at=created_at,
        updated_at=updated_at,
        super_query=super_query,
        filters=filters,
    )
    return arguments.apply(lambda given: get_integrated_accounts(**given))


def get_mcp_servers(
    integrated_account_id: str, *, include_in_flight: bool = False
) -> list[McpServerInfo]:
    """The MCP servers of one integrated account, every page, without their tokens. Servers
    whose name carries a Pulumi create mark (a stack's create under way, or what a killed run
    left) are left out unless `include_in_flight`: they cannot be adopted."""
    lookup = "get_mcp_servers"
    account = _filter_text(lookup, "integrated_account_id", integrated_account_id)

    def read(client: TrutoClient, deadline: Deadline) -> list[McpServerInfo]:
        items = client.list_mcp_servers(account, deadline)
        return [
            McpServerInfo.from_truto(item, account)
            for item in items
            if "id" in item and (include_in_flight or read_mark(item.get("name")) is None)
        ]

    return _looked_up(lookup, read, account_id=account)


def get_mcp_servers_output(
    integrated_account_id: pulumi.Input[str], *, include_in_flight: bool = False
) -> pulumi.Output[list[McpServerInfo]]:
    """`get_mcp_servers` for an account id that may be an `Output`; unknown while it is."""
    return pulumi.Output.from_input(integrated_account_id).apply(
        lambda account: get_mcp_servers(account, include_in_flight=include_in_flight)
    )


# --- plumbing --------------------------------------------------------------------------------


def _account_filters(
    lookup: str,
    tenant_id: str | None,
    integration: str | None,
    status: str | None,
    is_sandbox: bool | None,
) -> dict[str, str]:
    """Truto's query parameters for the given filters, each checked before any request."""
    filters: dict[str, str] = {}
    if tenant_id is not None:
        filters["tenant_id"] = _filter_text(lookup, "tenant_id", tenant_id)
    if integration is not None:
        filters["integration.name"] = _filter_text(lookup, "integration", integration)
    if status is not None:
        if status not in ACCOUNT_STATUSES:
            raise TrutoLookupError(
                f"{lookup}: status must be one of {', '.join(ACCOUNT_STATUSES)}, got {status!r}"
            )
        filters["status"] = status
    if is_sandbox is not None:
        if not isinstance(is_sandbox, bool):
            raise TrutoLookupError(f"{lookup}: is_sandbox must be True or False")
        filters["is_sandbox"] = "true" if is_sandbox else "false"
    return filters


def _filter_text(lookup: str, name: str, value: object) -> str:
    if not isinstance(value, str) or not value.strip():
        raise TrutoLookupError(f"{lookup}: {name} must be a non-empty string, got {value!r}")
    return value


def _text(value: object) -> str | None:
    return value if isinstance(value, str) else None


def _looked_up(
    lookup: str, read: Callable[[TrutoClient, Deadline], _T], *, account_id: str | None
) -> _T:
    """`read(client, deadline)` within the operation timeout, its failures told in the
    program's terms."""
    settings = _program_settings(lookup)
    client = _client(settings)
    try:
        return read(client, Deadline.after(settings.operation_timeout, OPERATION_TIMEOUT_KEY))
    except TrutoAuthError as error:
        raise TrutoLookupError(
            f"{lookup}: Truto refused the API token ({error}); check {API_TOKEN_KEY} (or "
            "TRUTO_API_TOKEN) and that the token may read this Truto environment",
            setting=API_TOKEN_KEY,
        ) from error
    except TrutoNotFoundError as error:
        what = (
            f"integrated account {account_id} does not exist for this API token (a token of "
            "another Truto environment?), or "
            if account_id is not None
            else ""
        )
        raise TrutoLookupError(
            f"{lookup}: Truto answered 404 ({error.method} {error.path}): {what}{BASE_URL_KEY} "
            f"({settings.base_url}) does not point at Truto's API",
            setting=BASE_URL_KEY,
        ) from error
    except TrutoError as error:
        raise TrutoLookupError(
            f"{lookup}: could not read Truto at {settings.base_url} ({error}); check "
            f"{BASE_URL_KEY}, or run again if Truto was unavailable",
            setting=BASE_URL_KEY,
        ) from error


def _program_settings(lookup: str) -> ProviderSettings:
    """The `truto:` settings from the program's stack config, then the environment."""
    stack_config = {
        **(_runtime_config.get_config_env() or {}),
        **_runtime_config.CONFIG.get(),
    }
    try:
        settings = resolve_settings(stack_config, os.environ)
        if settings.api_token is None:
            raise TrutoConfigError(MISSING_TOKEN_MESSAGE, setting=API_TOKEN_KEY)
        validate_api_token(settings.api_token)
        validated_base_url(settings.base_url)
    except TrutoConfigError as error:
        raise TrutoLookupError(f"{lookup}: {error}", setting=error.setting) from error
    return settings


_clients: dict[ProviderSettings, TrutoClient] = {}
_clients_lock = threading.Lock()


def _client(settings: ProviderSettings) -> TrutoClient:
    """One client per settings in this process: every lookup of a program shares its pacing."""
    with _clients_lock:
        client = _clients.get(settings)
        if client is None:
            from ._client import client_for  # httpx loads at the first lookup only

            client = _clients[settings] = client_for(settings)
        return client
