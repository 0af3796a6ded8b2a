"""The emulator's in-memory store: MCP servers, integrated accounts, installed integrations,
and the request validation rules.

Pure Python, no HTTP: every method takes already-decoded JSON values and either returns a copy
of the affected record or raises :class:`BadRequestError` / :class:`NotFoundError` /
:class:`ConflictError`. One lock guards the store, so it may be shared between threads.
"""

from __future__ import annotations

import base64
import binascii
import copy
import json
import re
import secrets
import threading
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Generic, Protocol, TypeVar

from ._base import (
    BadRequestError,
    ConflictError,
    EmulatorError,
    JSONObject,
    NotFoundError,
    normalize_uuid,
    string_list,
)
from ._readings import CONFIG_DEFAULTS, KNOWN_CONFIG_FIELDS, Readings

#: `expires_at` must lie at least this far in the future when a client sets it.
SHORTEST_EXPIRY_AHEAD = timedelta(seconds=60)
#: Page size of `GET /integrated-account/{ia}/mcp` when the client sends no `limit`.
DEFAULT_PAGE_LIMIT = 100
#: Largest accepted `limit`; larger values are answered with 400.
MAX_PAGE_LIMIT = 1000
#: The `created_by` of every server the emulator creates (the "user" owning the API token).
EMULATOR_USER_ID = "5f1c0a3e-7b1d-4c52-9d3e-2a6f1e0b9c41"

#: Largest page of `GET /integrated-account` unless configured otherwise; a larger `limit` is
#: clipped to it (the answer's `limit` says so).
ACCOUNT_PAGE_LIMIT = 100
#: The integration of an account given only by its id. Its installed integration's id, like
#: every id of an environment, is the emulated environment's own: see `Store.environment_id`.
DEFAULT_INTEGRATION = "hubspot"

ACCOUNT_STATUSES = (
    "active",
    "connecting",
    "post_install_error",
    "post_connect_user_input",
    "validation_error",
    "needs_reauth",
)
REGIONS = ("wnam", "enam", "apac", "eu")
#: The fields of the `POST /_emulator/accounts` body (all optional).
ACCOUNT_FIELDS = (
    "id",
    "tenant_id",
    "integration",
    "status",
    "is_sandbox",
    "region",
    "environment_integration_id",
    "super_query",
)
#: Truto's operators on a date-time filter of `GET /integrated-account`: `created_at[gt]`...
_OPERATORS = {
    "gt": lambda have, want: have > want,
    "gte": lambda have, want: have >= want,
    "lt": lambda have, want: have < want,
    "lte": lambda have, want: have <= want,
}
#: The category of a few integrations of Truto's catalog; any other name is "other".
INTEGRATION_CATEGORIES = {
    "hubspot": "crm",
    "salesforce": "crm",
    "pipedrive": "crm",
    "zendesk": "ticketing",
    "jira": "ticketing",
    "bamboohr": "hris",
    "quickbooks": "accounting",
    "slack": "im",
}
# Integration ids are derived from the name, so an integration has one id in every run.
_INTEGRATION_NAMESPACE = uuid.UUID("6e7c3a52-0d1f-4b8a-9c2e-5f4d3b2a1c09")

TOOL_EXPOSURES = ("all", "discovery")
BODY_KEYS = ("name", "config", "expires_at")
NO_NEWER_KEYS: frozenset[str] = frozenset()

_TIMESTAMP_SHAPE = re.compile(
    r"(?P<date>\d{4}-\d{2}-\d{2})[Tt ](?P<time>\d{2}:\d{2}:\d{2})(?:\.(?P<frac>\d+))?"
    r"(?P<tz>[Zz]|[+-]\d{2}:\d{2})"
)


class PlanLimitError(EmulatorError):
    """Truto's refusal of an MCP server beyond the plan's limit, with the status it is read to
    answer (`Readings.plan_limit_status`)."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


def utc_now() -> datetime:
    return datetime.now(UTC)


def _to_millis(moment: datetime) -> datetime:
    moment = moment.astimezone(UTC)
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)


def format_timestamp(moment: datetime) -> str:
    """`2024-01-10T10:00:00.000Z`: UTC, millisecond precision, `Z` suffix."""
    moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def read_timestamp(value: object, field: str) -> datetime:
    """Parse an RFC 3339 date-time with an explicit offset; raise BadRequestError otherwise."""
    if not isinstance(value, str):
        raise BadRequestError(f"{field} must be an RFC 3339 date-time string")
    match = _TIMESTAMP_SHAPE.fullmatch(value)
    if match is None:
        raise BadRequestError(
            f"{field} must be an RFC 3339 date-time with a time zone, got {value!r}"
        )
    frac = (match["frac"] or "").ljust(6, "0")[:6]
    tz = match["tz"].upper().replace("Z", "+00:00")
    try:
        moment = datetime.fromisoformat(f"{match['date']}T{match['time']}.{frac}{tz}")
    except ValueError as exc:
        raise BadRequestError(f"{field} is not a valid date-time: {value!r}") from exc
    return moment.astimezone(UTC)


# --------------------------------------------------------------------------- validation


def validate_name(value: object) -> str:
    if not isinstance(value, str) or not value.strip():
        raise BadRequestError("name must be a non-empty string")
    return value


def validate_config_entry(
    key: str, value: object, newer_keys: frozenset[str] = NO_NEWER_KEYS
) -> object:
    """Validate one non-null `config` key: unknown keys are rejected, `newer_keys` kept as sent."""
    if key in newer_keys:
        return copy.deepcopy(value)
    if key in ("methods", "tags"):
        return string_list(value, f"config.{key}")
    if key == "tool_exposure":
        if value not in TOOL_EXPOSURES:
            raise BadRequestError(
                f"config.tool_exposure must be one of {', '.join(TOOL_EXPOSURES)}"
            )
        return value
    if key == "require_api_token_auth":
        if not isinstance(value, bool):
            raise BadRequestError("config.require_api_token_auth must be a boolean")
        return value
    raise BadRequestError(
        f"config.{key} is not a known config key ({', '.join(KNOWN_CONFIG_FIELDS)})"
    )


def _require_object(value: object, what: str) -> JSONObject:
    if not isinstance(value, dict):
        raise BadRequestError(f"{what} must be a JSON object")
    return value


def validate_config(value: object, newer_keys: frozenset[str] = NO_NEWER_KEYS) -> JSONObject:
    """A whole `config` as sent on create: `null`/omitted means `{}`; `null` keys are dropped."""
    if value is None:
        return {}
    config = _require_object(value, "config")
    return {k: validate_config_entry(k, v, newer_keys) for k, v in config.items() if v is not None}


def merge_config(
    stored: JSONObject,
    patch: object,
    newer_keys: frozenset[str] = NO_NEWER_KEYS,
    *,
    refuse_typed_null: bool = False,
) -> JSONObject:
    """PATCH semantics, one level deep: sent keys replace, `null` removes, others are kept;
    with `refuse_typed_null`, `null` for a key with a documented type and default is refused.

    A `config` of `null` resets the config to `{}`.
    """
    if patch is None:
        return {}
    changes = _require_object(patch, "config")
    merged = copy.deepcopy(stored)
    for key, value in changes.items():
        if value is None:
            if key not in KNOWN_CONFIG_FIELDS and key not in newer_keys:
                raise BadRequestError(
                    f"config.{key} is not a known config key ({', '.join(KNOWN_CONFIG_FIELDS)})"
                )
            if refuse_typed_null and key in CONFIG_DEFAULTS:
                validate_config_entry(key, value, newer_keys)  # refused: null is not its type
            merged.pop(key, None)
        else:
            merged[key] = validate_config_entry(key, value, newer_keys)
    return merged


def validate_expires_at(
    value: object, now: datetime, *, enforce_lead: bool = True
) -> datetime | None:
    if value is None:
        return None
    moment = read_timestamp(value, "expires_at")
    if enforce_lead and moment - now < SHORTEST_EXPIRY_AHEAD:
        raise BadRequestError("expires_at must be at least 60 seconds in the future")
    return _to_millis(moment)


def _check_page_limit(limit: object) -> int:
    if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
        raise ValueError(f"account_page_limit must be an integer >= 1, got {limit!r}")
    return limit


def _check_body_keys(body: JSONObject) -> None:
    unknown = sorted(set(body) - set(BODY_KEYS))
    if unknown:
        raise BadRequestError(
            f"unknown field(s): {', '.join(unknown)} (allowed: {', '.join(BODY_KEYS)})"
        )


def parse_limit(raw: str | None, maximum: int | None = None) -> int:
    """A list's `limit` query parameter: DEFAULT_PAGE_LIMIT when absent, else an integer >= 1
    (and <= `maximum` if given: the account list clips it instead), or BadRequestError."""
    if raw is None or raw == "":
        return DEFAULT_PAGE_LIMIT
    try:
        limit = int(raw)
    except ValueError:
        raise BadRequestError(f"limit must be an integer, got {raw!r}") from None
    if limit < 1 or (maximum is not None and limit > maximum):
        bounds = "at least 1" if maximum is None else f"between 1 and {maximum}"
        raise BadRequestError(f"limit must be {bounds}")
    return limit


def _encode_cursor(tag: str, created_at: datetime, item_id: str) -> str:
    """A `next_cursor`: the last (created_at, id) seen, tagged with its list so that a cursor of
    another list is refused."""
    text = json.dumps([tag, format_timestamp(created_at), item_id])
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def _decode_cursor(tag: str, cursor: str) -> tuple[datetime, str]:
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        found, stamp, item_id = json.loads(text)
        if found != tag or not isinstance(item_id, str):
            raise ValueError(found)
        return read_timestamp(stamp, "next_cursor"), item_id
    except (binascii.Error, ValueError, TypeError, BadRequestError):
        raise BadRequestError("next_cursor is not a cursor this list returned") from None


# --------------------------------------------------------------------------- records


@dataclass(frozen=True)
class McpServer:
    id: str
    integrated_account_id: str
    name: str
    config: JSONObject
    expires_at: datetime | None
    created_at: datetime
    updated_at: datetime
    token: str

    def is_expired(self, now: datetime) -> bool:
        return self.expires_at is not None and self.expires_at <= now

    def to_json(
        self, *, public_base_url: str | None = None, readings: Readings | None = None
    ) -> JSONObject:
        """The API's view (with `readings`, `config` as they show it; else as stored). With
        `public_base_url` also the secrets `token` and `url`."""
        config = copy.deepcopy(self.config)
        body: JSONObject = {
            "id": self.id,
            "integrated_account_id": self.integrated_account_id,
            "name": self.name,
            "config": config if readings is None else readings.shown(config),
            "expires_at": None if self.expires_at is None else format_timestamp(self.expires_at),
            "created_at": format_timestamp(self.created_at),
            "updated_at": format_timestamp(self.updated_at),
            "created_by": EMULATOR_USER_ID,
        }
        if public_base_url is not None:
            body["token"] = self.token
            body["url"] = f"{public_base_url.rstrip('/')}/mcp/{self.token}"
        return body


@dataclass(frozen=True)
class Integration:
    """An integration of Truto's catalog; its id is the same in every environment."""

    id: str
    name: str
    category: str

    @classmethod
    def named(cls, name: str) -> Integration:
        return cls(
            id=str(uuid.uuid5(_INTEGRATION_NAMESPACE, name)),
            name=name,
            category=INTEGRATION_CATEGORIES.get(name, "other"),
        )

    def to_json(self) -> JSONObject:
        return {"id": self.id, "name": self.name, "category": self.category}


@dataclass(frozen=True)
class EnvironmentIntegration:
    """An integration installed in the emulated environment (Truto's environment integration)."""

    id: str
    environment_id: str
    integration: Integration
    is_enabled: bool
    show_in_catalog: bool
    created_at: datetime
    updated_at: datetime

    def to_json(self) -> JSONObject:
        return {
            "id": self.id,
            "integration_id": self.integration.id,
            "environment_id": self.environment_id,
            "is_enabled": self.is_enabled,
            "show_in_catalog": self.show_in_catalog,
            "created_at": format_timestamp(self.created_at),
            "updated_at": format_timestamp(self.updated_at),
            "integration": self.integration.to_json(),
        }


@dataclass(frozen=True)
class IntegratedAccount:
    """A connected account of one installed integration. `context` holds its credentials, a
    fake secret here, which the API returns as Truto does."""

    id: str
    tenant_id: str
    environment_integration_id: str
    integration: Integration
    status: str
    is_sandbox: bool
    region: str
    context: JSONObject
    created_at: datetime
    updated_at: datetime
    super_query: bool = False

    def to_json(self) -> JSONObject:
        return {
            "id": self.id,
            "tenant_id": self.tenant_id,
            "environment_integration_id": self.environment_integration_id,
            "status": self.status,
            "is_sandbox": self.is_sandbox,
            "features": {"super_query": self.super_query},
            "region": self.region,
            "created_at": format_timestamp(self.created_at),
            "updated_at": format_timestamp(self.updated_at),
            "integration": self.integration.to_json(),
            "context": copy.deepcopy(self.context),
        }


def _query_value(query: Mapping[str, str], key: str) -> str | None:
    value = query.get(key)
    return value if value else None


def _query_choice(query: Mapping[str, str], key: str, choices: Iterable[str]) -> str | None:
    value, allowed = _query_value(query, key), tuple(choices)
    if value is not None and value not in allowed:
        raise BadRequestError(f"{key} must be one of {', '.join(allowed)}, got {value!r}")
    return value


def _query_instant(query: Mapping[str, str], key: str) -> datetime | None:
    value = _query_value(query, key)
    return None if value is None else _to_millis(read_timestamp(value, key))


@dataclass(frozen=True)
class AccountFilter:
    """The filters of `GET /integrated-account`; None filters nothing. A date-time filter
    matches the accounts whose timestamp is that very instant (at millisecond precision), or,
    with an operator (`created_at[gt]`), those after or before it (`bounds`)."""

    tenant_id: str | None = None
    is_sandbox: bool | None = None
    integration_name: str | None = None
    status: str | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None
    super_query: bool | None = None
    bounds: tuple[tuple[str, str, datetime], ...] = ()
    """(field, operator, instant) of each operator filter."""

    @classmethod
    def from_query(cls, query: Mapping[str, str]) -> AccountFilter:
        """Read the filters among `query` (others are ignored; an empty value filters nothing);
        a malformed value raises BadRequestError."""
        bounds = tuple(
            (field, operator, instant)
            for field in ("created_at", "updated_at")
            for operator in _OPERATORS
            if (instant := _query_instant(query, f"{field}[{operator}]")) is not None
        )
        return cls(
            tenant_id=_query_value(query, "tenant_id"),
            is_sandbox=_query_flag(query, "is_sandbox"),
            integration_name=_query_value(query, "integration.name"),
            status=_query_choice(query, "status", ACCOUNT_STATUSES),
            created_at=_query_instant(query, "created_at"),
            updated_at=_query_instant(query, "updated_at"),
            super_query=_query_flag(query, "features.super_query"),
            bounds=bounds,
        )

    def matches(self, account: IntegratedAccount) -> bool:
        wanted: list[tuple[object, object]] = [
            (self.tenant_id, account.tenant_id),
            (self.is_sandbox, account.is_sandbox),
            (self.integration_name, account.integration.name),
            (self.status, account.status),
            (self.created_at, account.created_at),
            (self.updated_at, account.updated_at),
            (self.super_query, account.super_query),
        ]
        return all(want is None or want == have for want, have in wanted) and all(
            _OPERATORS[operator](getattr(account, field), instant)
            for field, operator, instant in self.bounds
        )


def _query_flag(query: Mapping[str, str], key: str) -> bool | None:
    value = _query_value(query, key)
    if value is not None and value.lower() not in ("true", "false"):
        raise BadRequestError(f"{key} must be true or false, got {value!r}")
    return None if value is None else value.lower() == "true"


_Item = TypeVar("_Item")


@dataclass(frozen=True)
class Page(Generic[_Item]):
    items: list[_Item]
    next_cursor: str | None
    limit: int


class _Listed(Protocol):
    @property
    def created_at(self) -> datetime: ...
    @property
    def id(self) -> str: ...


_Listable = TypeVar("_Listable", bound=_Listed)


def _page(
    items: list[_Listable], query: Mapping[str, str], limit: int, tag: str
) -> Page[_Listable]:
    """The page of `items` after the query's `next_cursor` (of the list `tag`), ordered by
    (created_at, id): copies, and the cursor of the next page while there is one."""
    cursor = query.get("next_cursor")
    after = _decode_cursor(tag, cursor) if cursor else None
    ordered = sorted(items, key=lambda item: (item.created_at, item.id))
    if after is not None:
        ordered = [item for item in ordered if (item.created_at, item.id) > after]
    page = ordered[:limit]
    more = len(ordered) > limit
    next_cursor = _encode_cursor(tag, page[-1].created_at, page[-1].id) if more else None
    return Page(items=copy.deepcopy(page), next_cursor=next_cursor, limit=limit)


def _optional_string(fields: JSONObject, key: str) -> str | None:
    value = fields.get(key)
    if value is not None and (not isinstance(value, str) or not value.strip()):
        raise BadRequestError(f"{key} must be a non-empty string")
    return value


def _optional_choice(fields: JSONObject, key: str, choices: tuple[str, ...]) -> str | None:
    value = fields.get(key)
    if value is not None and value not in choices:
        raise BadRequestError(f"{key} must be one of {', '.join(choices)}")
    return value if isinstance(value, str) else None


def _optional_bool(fields: JSONObject, key: str) -> bool | None:
    value = fields.get(key)
    if value is not None and not isinstance(value, bool):
        raise BadRequestError(f"{key} must be a boolean")
    return value


def _optional_uuid(fields: JSONObject, key: str) -> str | None:
    value = _optional_string(fields, key)
    if value is None:
        return None
    normalized = normalize_uuid(value)
    if normalized is None:
        raise BadRequestError(f"{key} must be a UUID, got {value!r}")
    return normalized


def _fake_credentials() -> JSONObject:
    """What Truto keeps in an account's `context`: an OAuth token (a random, fake one)."""
    return {
        "oauth": {
            "token": {
                "access_token": f"fake-access-{secrets.token_urlsafe(24)}",
                "token_type": "Bearer",
            }
        }
    }


class Store:
    """All MCP servers, integrated accounts and installed integrations of one emulated Truto
    environment.

    `accounts=None` accepts every well-formed UUID as an integrated account (an account record
    with default fields is made on its first use; `GET /integrated-account` lists only the
    accounts added explicitly); a list of ids restricts the environment to those accounts
    (others answer 404) and makes each an account of the default installed integration
    (`hubspot`). Either way, accounts added by :meth:`add_account` exist too, and an account
    removed by :meth:`remove_account` answers 404 until added again. An account of the open mode
    that was not added stays unlisted even when :meth:`set_account_status` changes it.

    `readings` say how this Truto reads the loose points of its documentation (`_readings`;
    the strictest by default). `account_page_limit` is the largest page of the account list.
    """

    def __init__(
        self,
        *,
        accounts: Iterable[str] | None = None,
        clock: Callable[[], datetime] = utc_now,
        account_page_limit: int = ACCOUNT_PAGE_LIMIT,
        readings: Readings | None = None,
    ) -> None:
        self.environment_id = str(uuid.uuid4())
        """The emulated Truto environment: two emulators are two environments, whose installed
        integrations have ids of their own, as Truto's do."""
        self._lock = threading.RLock()
        self._servers: dict[str, McpServer] = {}
        self._initial_readings = readings or Readings()
        self.readings = self._initial_readings
        self._clock = clock
        self._ahead = timedelta(0)
        """How far this Truto's clock runs ahead of `clock` (`advance_clock`)."""
        self._open = accounts is None
        ids: list[str] = []
        for given in accounts or ():
            normalized = normalize_uuid(given)
            if normalized is None:
                raise ValueError("accounts must be UUID strings")
            ids.append(normalized)
        self._initial_page_limit = _check_page_limit(account_page_limit)
        self._page_limit = self._initial_page_limit
        # Accounts added explicitly (listed), accounts of the open mode made on first use (not
        # listed), ids removed (404 even in the open mode), installed integrations by id.
        self._accounts: dict[str, IntegratedAccount] = {}
        self._implicit: dict[str, IntegratedAccount] = {}
        self._removed: set[str] = set()
        self._installs: dict[str, EnvironmentIntegration] = {}
        now = self._now()
        self.default_install_id = str(
            uuid.uuid5(uuid.UUID(self.environment_id), DEFAULT_INTEGRATION)
        )
        """The installed integration of the accounts given by id only (`DEFAULT_INTEGRATION`)."""
        self._install_for(DEFAULT_INTEGRATION, self.default_install_id, now)
        for account_id in dict.fromkeys(ids):
            self._accounts[account_id] = self._new_account({"id": account_id}, now)
        self._initial_accounts = dict(self._accounts)
        self._initial_installs = dict(self._installs)

    # -- helpers (call with the lock held)

    def _now(self) -> datetime:
        return _to_millis(self._clock() + self._ahead)

    def advance_clock(self, seconds: float) -> None:
        """Move this Truto's time on, as if `seconds` had passed: expiries come due."""
        if seconds < 0:
            raise BadRequestError("the clock only moves on: seconds must be >= 0")
        with self._lock:
            self._ahead += timedelta(seconds=seconds)

    def _purge_expired(self, now: datetime) -> None:
        for server_id in [s.id for s in self._servers.values() if s.is_expired(now)]:
            del self._servers[server_id]

    def _lookup(self, account_id: str) -> IntegratedAccount:
        """The account, made on first use in the open mode; NotFoundError if there is none."""
        normalized = normalize_uuid(account_id)
        if normalized is not None and normalized not in self._removed:
            found = self._accounts.get(normalized) or self._implicit.get(normalized)
            if found is None and self._open:
                found = self._new_account({"id": normalized}, self._now())
                self._implicit[normalized] = found
            if found is not None:
                return found
        raise NotFoundError(f"Integrated account {account_id} not found")

    def _account(self, account_id: str) -> str:
        """An account the MCP endpoints serve: it exists and is not blocked."""
        found = self._lookup(account_id).id
        self.readings.refuse_if_blocked(found)
        return found

    def _install_for(
        self, name: str | None, install_id: str | None, now: datetime
    ) -> EnvironmentIntegration:
        """The installed integration an account is added to, installed on first use."""
        if install_id is not None and install_id in self._installs:
            install = self._installs[install_id]
            if name is not None and name != install.integration.name:
                raise BadRequestError(
                    f"environment integration {install_id} is {install.integration.name!r}, "
                    f"not {name!r}"
                )
            return install
        name = name or DEFAULT_INTEGRATION
        same = [i for i in self._installs.values() if i.integration.name == name]
        if same and install_id is not None:
            raise ConflictError(f"integration {name!r} is already installed as {same[0].id}")
        if same:
            return same[0]
        install = EnvironmentIntegration(
            id=install_id or str(uuid.uuid4()),
            environment_id=self.environment_id,
            integration=Integration.named(name),
            is_enabled=True,
            show_in_catalog=True,
            created_at=now,
            updated_at=now,
        )
        self._installs[install.id] = install
        return install

    def _new_account(self, body: object, now: datetime) -> IntegratedAccount:
        fields = _require_object(body, "request body")
        unknown = sorted(set(fields) - set(ACCOUNT_FIELDS))
        if unknown:
            raise BadRequestError(
                f"unknown field(s): {', '.join(unknown)} (allowed: {', '.join(ACCOUNT_FIELDS)})"
            )
        account_id = _optional_uuid(fields, "id") or str(uuid.uuid4())
        tenant_id = _optional_string(fields, "tenant_id") or f"tenant-{account_id[:8]}"
        name = _optional_string(fields, "integration")
        status = _optional_choice(fields, "status", ACCOUNT_STATUSES) or "active"
        is_sandbox = _optional_bool(fields, "is_sandbox") or False
        super_query = _optional_bool(fields, "super_query") or False
        region = _optional_choice(fields, "region", REGIONS) or "wnam"
        install_id = _optional_uuid(fields, "environment_integration_id")
        if account_id in self._accounts:
            raise ConflictError(f"Integrated account {account_id} already exists")
        install = self._install_for(name, install_id, now)
        return IntegratedAccount(
            id=account_id,
            tenant_id=tenant_id,
            environment_integration_id=install.id,
            integration=install.integration,
            status=status,
            is_sandbox=is_sandbox,
            super_query=super_query,
            region=region,
            context=_fake_credentials(),
            created_at=now,
            updated_at=now,
        )

    def _find(self, account_id: str, server_id: str) -> McpServer:
        account = self._account(account_id)
        self._purge_expired(self._now())
        normalized = normalize_uuid(server_id)
        server = self._servers.get(normalized) if normalized else None
        if server is None or server.integrated_account_id != account:
            raise NotFoundError(f"MCP server {server_id} not found")
        return server

    # -- the API

    def create(self, account_id: str, body: object) -> McpServer:
        with self._lock:
            account = self._account(account_id)
            now = self._now()
            fields = _require_object(body, "request body")
            _check_body_keys(fields)
            readings = self.readings
            if readings.config_required and fields.get("config") is None:
                raise BadRequestError("config is required (send {} to expose every tool)")
            config = validate_config(fields.get("config"), readings.newer_keys)
            readings.refuse_unmatched(account, config)
            self._purge_expired(now)
            if readings.plan_limit is not None and len(self._servers) >= readings.plan_limit:
                raise PlanLimitError(
                    f"Your plan allows {readings.plan_limit} MCP servers. Delete MCP servers "
                    "you no longer need, or upgrade your plan",
                    readings.plan_limit_status,
                )
            server = McpServer(
                id=str(uuid.uuid4()),
                integrated_account_id=account,
                name=validate_name(fields.get("name")),
                config=config,
                expires_at=validate_expires_at(fields.get("expires_at"), now),
                created_at=now,
                updated_at=now,
                token=secrets.token_urlsafe(32),
            )
            self._servers[server.id] = server
            return copy.deepcopy(server)

    def get(self, account_id: str, server_id: str) -> McpServer:
        with self._lock:
            return copy.deepcopy(self._find(account_id, server_id))

    def list_servers(self, account_id: str, query: Mapping[str, str]) -> Page[McpServer]:
        """The page `GET /integrated-account/{ia}/mcp?<query>` answers: `limit` 1..1000,
        `next_cursor` resuming after the last server seen."""
        limit = parse_limit(query.get("limit"), MAX_PAGE_LIMIT)
        with self._lock:
            account = self._account(account_id)
            self._purge_expired(self._now())
            servers = [s for s in self._servers.values() if s.integrated_account_id == account]
            return _page(servers, query, limit, "mcp")

    def update(self, account_id: str, server_id: str, body: object) -> McpServer:
        with self._lock:
            server = self._find(account_id, server_id)
            updated = self._apply(server, body, merge=True, enforce_lead=True)
            self._servers[server.id] = updated
            return copy.deepcopy(updated)

    def delete(self, account_id: str, server_id: str) -> str:
        with self._lock:
            server = self._find(account_id, server_id)
            del self._servers[server.id]
            return server.id

    def _apply(
        self, server: McpServer, body: object, *, merge: bool, enforce_lead: bool
    ) -> McpServer:
        fields = _require_object(body, "request body")
        _check_body_keys(fields)
        now = self._now()
        changes: JSONObject = {"updated_at": max(now, server.created_at)}
        if "name" in fields:
            changes["name"] = validate_name(fields["name"])
        if "config" in fields:
            sent, readings = fields["config"], self.readings
            changes["config"] = (
                merge_config(
                    server.config,
                    sent,
                    readings.newer_keys,
                    refuse_typed_null=readings.config_patch == "merge-null-refused",
                )
                if merge and readings.config_patch != "replace"
                else validate_config(sent, readings.newer_keys)
            )
            if merge:
                readings.refuse_unmatched(server.integrated_account_id, changes["config"])
        if "expires_at" in fields:
            changes["expires_at"] = validate_expires_at(
                fields["expires_at"], now, enforce_lead=enforce_lead
            )
        return replace(server, **changes)

    # -- out of band (the emulator's test hooks: "someone used the dashboard")

    def all_servers(self) -> list[McpServer]:
        """Every live server of every account, ordered by (created_at, id)."""
        with self._lock:
            self._purge_expired(self._now())
            return copy.deepcopy(sorted(self._servers.values(), key=lambda s: (s.created_at, s.id)))

    def edit(self, server_id: str, body: object) -> McpServer:
        """A dashboard edit: `config` is replaced as a whole, `expires_at` may lie in the past."""
        with self._lock:
            self._purge_expired(self._now())
            server = self._servers.get(normalize_uuid(server_id) or "")
            if server is None:
                raise NotFoundError(f"MCP server {server_id} not found")
            updated = self._apply(server, body, merge=False, enforce_lead=False)
            self._servers[server.id] = updated
            return copy.deepcopy(updated)

    def remove(self, server_id: str) -> None:
        with self._lock:
            self._purge_expired(self._now())
            if self._servers.pop(normalize_uuid(server_id) or "", None) is None:
                raise NotFoundError(f"MCP server {server_id} not found")

    def reset(self) -> None:
        """Back to the state right after construction: no servers, the constructor's accounts
        and installed integrations as they were, the first page limit and readings."""
        with self._lock:
            self._servers.clear()
            self._accounts = dict(self._initial_accounts)
            self._installs = dict(self._initial_installs)
            self._implicit.clear()
            self._removed.clear()
            self._page_limit = self._initial_page_limit
            self._ahead = timedelta(0)
            self.readings = self._initial_readings

    # -- integrated accounts and installed integrations: the API

    def get_account(self, account_id: str) -> IntegratedAccount:
        with self._lock:
            return copy.deepcopy(self._lookup(account_id))

    def list_accounts(self, query: Mapping[str, str]) -> Page[IntegratedAccount]:
        """The page `GET /integrated-account?<query>` answers: the accounts added explicitly
        that match its filters (`AccountFilter`), `limit` clipped to the page limit."""
        filters, limit = AccountFilter.from_query(query), parse_limit(query.get("limit"))
        with self._lock:
            limit = min(limit, self._page_limit)
            accounts = [a for a in self._accounts.values() if filters.matches(a)]
            return _page(accounts, query, limit, "integrated-account")

    def get_environment_integration(self, install_id: str) -> EnvironmentIntegration:
        with self._lock:
            install = self._installs.get(normalize_uuid(install_id) or "")
            if install is None:
                raise NotFoundError(f"Environment integration {install_id} not found")
            return copy.deepcopy(install)

    # -- integrated accounts: out of band (the test hooks)

    @property
    def account_page_limit(self) -> int:
        """The largest page of the account list."""
        with self._lock:
            return self._page_limit

    def set_account_page_limit(self, limit: object) -> int:
        if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
            raise BadRequestError("the account page limit must be an integer >= 1")
        with self._lock:
            self._page_limit = limit
            return limit

    def all_accounts(self) -> list[IntegratedAccount]:
        """Every account added explicitly (those the API lists), ordered by (created_at, id)."""
        with self._lock:
            return copy.deepcopy(
                sorted(self._accounts.values(), key=lambda a: (a.created_at, a.id))
            )

    def add_account(self, body: object) -> IntegratedAccount:
        """Add an account (fields of ACCOUNT_FIELDS, all optional); its installed integration is
        installed on first use. An id that already names an added account is a conflict."""
        with self._lock:
            account = self._new_account(body, self._now())
            self._implicit.pop(account.id, None)
            self._removed.discard(account.id)
            self._accounts[account.id] = account
            return copy.deepcopy(account)

    def set_account_status(self, account_id: str, status: object) -> IntegratedAccount:
        """Change an account's status (e.g. to `needs_reauth`); bumps `updated_at`."""
        if not isinstance(status, str) or status not in ACCOUNT_STATUSES:
            raise BadRequestError(f"status must be one of {', '.join(ACCOUNT_STATUSES)}")
        with self._lock:
            account = self._lookup(account_id)
            now = max(self._now(), account.created_at)
            updated = replace(account, status=status, updated_at=now)
            table = self._accounts if account.id in self._accounts else self._implicit
            table[account.id] = updated
            return copy.deepcopy(updated)

    def remove_account(self, account_id: str) -> list[str]:
        """Remove an account and its MCP servers (as Truto does); the servers' ids, ordered by
        (created_at, id). The account answers 404 from now on."""
        with self._lock:
            account = self._lookup(account_id)
            self._accounts.pop(account.id, None)
            self._implicit.pop(account.id, None)
            self._removed.add(account.id)
            self._purge_expired(self._now())
            servers = sorted(
                (s for s in self._servers.values() if s.integrated_account_id == account.id),
                key=lambda s: (s.created_at, s.id),
            )
            for server in servers:
                del self._servers[server.id]
            return [server.id for server in servers]

    def uninstall(self, install_id: str) -> str:
        """Remove an installed integration; its accounts stay (and still name it)."""
        with self._lock:
            install = self.get_environment_integration(install_id)
            del self._installs[install.id]
            return install.id
