"""The emulator's in-memory store of MCP servers and the request validation rules.

Pure Python, no HTTP: every method takes already-decoded JSON values and either returns a copy
of the affected record or raises :class:`BadRequestError` / :class:`NotFoundError`. One lock
guards the store, so it may be shared between threads.
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
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta, timezone
from typing import Any

JSONObject = dict[str, Any]

#: `expires_at` must lie at least this far in the future when a client sets it.
SHORTEST_EXPIRY_AHEAD = timedelta(seconds=60)
#: Page size of `GET /integrated-account/{ia}/mcp` when the client sends no `limit`.
DEFAULT_PAGE_LIMIT = 100
#: Largest accepted `limit`; larger values are answered with 400.
MAX_PAGE_LIMIT = 1000
#: The `created_by` of every server the emulator creates (the "user" owning the API token).
EMULATOR_USER_ID = "5f1c0a3e-7b1d-4c52-9d3e-2a6f1e0b9c41"

TOOL_EXPOSURES = ("all", "discovery")
KNOWN_CONFIG_FIELDS = ("methods", "tags", "tool_exposure", "require_api_token_auth")
BODY_KEYS = ("name", "config", "expires_at")
CONFIG_PATCHES = ("merge", "replace")
NO_NEWER_KEYS: frozenset[str] = frozenset()

_TIMESTAMP_SHAPE = re.compile(
    r"(?P<date>\d{4}-\d{2}-\d{2})[Tt ](?P<time>\d{2}:\d{2}:\d{2})(?:\.(?P<frac>\d+))?"
    r"(?P<tz>[Zz]|[+-]\d{2}:\d{2})"
)
_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")


class EmulatorError(Exception):
    """A request the emulator refuses; `status` is the HTTP status it answers with."""

    status = 500

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class BadRequestError(EmulatorError):
    status = 400


class NotFoundError(EmulatorError):
    status = 404


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


def _to_millis(moment: datetime) -> datetime:
    moment = moment.astimezone(timezone.utc)
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)


def format_timestamp(moment: datetime) -> str:
    """`2024-01-10T10:00:00.000Z`: UTC, millisecond precision, `Z` suffix."""
    moment = moment.astimezone(timezone.utc)
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
    return moment.astimezone(timezone.utc)


def normalize_uuid(value: str) -> str | None:
    """The lower-case canonical form of a hyphenated UUID, or None if `value` is not one."""
    if _UUID.fullmatch(value) is None:
        return None
    return str(uuid.UUID(value))


# --------------------------------------------------------------------------- validation


def validate_name(value: object) -> str:
    if not isinstance(value, str) or not value.strip():
        raise BadRequestError("name must be a non-empty string")
    return value


def _validate_string_list(key: str, value: object) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(item, str) and item for item in value):
        raise BadRequestError(f"config.{key} must be an array of non-empty strings")
    return list(value)


def validate_config_entry(
    key: str, value: object, newer_keys: frozenset[str] = NO_NEWER_KEYS
) -> object:
    """Validate one non-null `config` key: unknown keys are rejected, `newer_keys` kept as sent."""
    if key in newer_keys:
        return copy.deepcopy(value)
    if key in ("methods", "tags"):
        return _validate_string_list(key, value)
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
    stored: JSONObject, patch: object, newer_keys: frozenset[str] = NO_NEWER_KEYS
) -> JSONObject:
    """PATCH semantics, one level deep: sent keys replace, `null` removes, others are kept.

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
            merged.pop(key, None)
        else:
            merged[key] = validate_config_entry(key, value, newer_keys)
    return merged


@dataclass(frozen=True)
class ConfigRules:
    """How this Truto treats `config`: whether PATCH merges it one level deep or replaces it,
    and the options of a newer Truto (any value) that the provider does not know."""

    patch: str = "merge"
    newer_keys: frozenset[str] = NO_NEWER_KEYS

    @classmethod
    def from_json(cls, body: object) -> ConfigRules:
        """`{"patch": "merge"|"replace", "newer_keys": [str, ...]}`, both optional."""
        fields = _require_object(body, "request body")
        unknown = sorted(set(fields) - {"patch", "newer_keys"})
        if unknown:
            raise BadRequestError(f"unknown field(s): {', '.join(unknown)}")
        patch = fields.get("patch", "merge")
        if patch not in CONFIG_PATCHES:
            raise BadRequestError(f"patch must be one of {', '.join(CONFIG_PATCHES)}")
        keys = fields.get("newer_keys", [])
        if not isinstance(keys, list) or not all(isinstance(k, str) and k for k in keys):
            raise BadRequestError("newer_keys must be an array of non-empty strings")
        if set(keys) & set(KNOWN_CONFIG_FIELDS):
            raise BadRequestError("newer_keys must not name a known config key")
        return cls(patch=patch, newer_keys=frozenset(keys))

    def to_json(self) -> JSONObject:
        return {"patch": self.patch, "newer_keys": sorted(self.newer_keys)}


def validate_expires_at(
    value: object, now: datetime, *, enforce_lead: bool = True
) -> datetime | None:
    if value is None:
        return None
    moment = read_timestamp(value, "expires_at")
    if enforce_lead and moment - now < SHORTEST_EXPIRY_AHEAD:
        raise BadRequestError("expires_at must be at least 60 seconds in the future")
    return _to_millis(moment)


def _check_body_keys(body: JSONObject) -> None:
    unknown = sorted(set(body) - set(BODY_KEYS))
    if unknown:
        raise BadRequestError(
            f"unknown field(s): {', '.join(unknown)} (allowed: {', '.join(BODY_KEYS)})"
        )


def parse_limit(raw: str | None) -> int:
    """The `limit` query parameter: default 100, an integer in 1..1000 else BadRequestError."""
    if raw is None or raw == "":
        return DEFAULT_PAGE_LIMIT
    try:
        limit = int(raw)
    except ValueError:
        raise BadRequestError(f"limit must be an integer, got {raw!r}") from None
    if not 1 <= limit <= MAX_PAGE_LIMIT:
        raise BadRequestError(f"limit must be between 1 and {MAX_PAGE_LIMIT}")
    return limit


def encode_cursor(created_at: datetime, server_id: str) -> str:
    raw = json.dumps([format_timestamp(created_at), server_id]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, str]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        stamp, server_id = json.loads(raw)
        if not isinstance(server_id, str):
            raise ValueError(server_id)
        return read_timestamp(stamp, "next_cursor"), server_id
    except (binascii.Error, ValueError, TypeError, BadRequestError):
        raise BadRequestError("next_cursor is not a cursor this API returned") from None


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
    created_by: str | None
    token: str

    def is_expired(self, now: datetime) -> bool:
        return self.expires_at is not None and self.expires_at <= now

    def to_json(self, *, public_base_url: str | None = None) -> JSONObject:
        """The API's view. With `public_base_url` also the secrets `token` and `url`."""
        body: JSONObject = {
            "id": self.id,
            "integrated_account_id": self.integrated_account_id,
            "name": self.name,
            "config": copy.deepcopy(self.config),
            "expires_at": None if self.expires_at is None else format_timestamp(self.expires_at),
            "created_at": format_timestamp(self.created_at),
            "updated_at": format_timestamp(self.updated_at),
            "created_by": self.created_by,
        }
        if public_base_url is not None:
            body["token"] = self.token
            body["url"] = f"{public_base_url.rstrip('/')}/mcp/{self.token}"
        return body


@dataclass(frozen=True)
class Page:
    items: list[McpServer]
    next_cursor: str | None
    limit: int


class Store:
    """All MCP servers of one emulated Truto environment.

    `accounts=None` accepts every well-formed UUID as an integrated account; a set of ids
    restricts the environment to those accounts (others answer 404). `config_rules` say how
    PATCH treats `config` and which newer options this Truto knows (default: merge, none).
    """

    def __init__(
        self,
        *,
        accounts: Iterable[str] | None = None,
        clock: Callable[[], datetime] = utc_now,
        created_by: str | None = EMULATOR_USER_ID,
    ) -> None:
        self._lock = threading.RLock()
        self._servers: dict[str, McpServer] = {}
        self.config_rules = ConfigRules()
        self._clock = clock
        self._created_by = created_by
        self._accounts: frozenset[str] | None = None
        if accounts is not None:
            normalized = {normalize_uuid(a) for a in accounts}
            if None in normalized:
                raise ValueError("accounts must be UUID strings")
            self._accounts = frozenset(a for a in normalized if a is not None)

    # -- helpers (call with the lock held)

    def _now(self) -> datetime:
        return _to_millis(self._clock())

    def _purge_expired(self, now: datetime) -> None:
        for server_id in [s.id for s in self._servers.values() if s.is_expired(now)]:
            del self._servers[server_id]

    def _account(self, account_id: str) -> str:
        normalized = normalize_uuid(account_id)
        if normalized is None or (self._accounts is not None and normalized not in self._accounts):
            raise NotFoundError(f"Integrated account {account_id} not found")
        return normalized

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
            server = McpServer(
                id=str(uuid.uuid4()),
                integrated_account_id=account,
                name=validate_name(fields.get("name")),
                config=validate_config(fields.get("config"), self.config_rules.newer_keys),
                expires_at=validate_expires_at(fields.get("expires_at"), now),
                created_at=now,
                updated_at=now,
                created_by=self._created_by,
                token=secrets.token_urlsafe(32),
            )
            self._servers[server.id] = server
            return copy.deepcopy(server)

    def get(self, account_id: str, server_id: str) -> McpServer:
        with self._lock:
            return copy.deepcopy(self._find(account_id, server_id))

    def list_servers(
        self, account_id: str, *, limit: int = DEFAULT_PAGE_LIMIT, cursor: str | None = None
    ) -> Page:
        """One page, ordered by (created_at, id); `cursor` resumes after the last item seen."""
        if not 1 <= limit <= MAX_PAGE_LIMIT:
            raise BadRequestError(f"limit must be between 1 and {MAX_PAGE_LIMIT}")
        after = decode_cursor(cursor) if cursor else None
        with self._lock:
            account = self._account(account_id)
            self._purge_expired(self._now())
            servers = sorted(
                (s for s in self._servers.values() if s.integrated_account_id == account),
                key=lambda s: (s.created_at, s.id),
            )
            if after is not None:
                servers = [s for s in servers if (s.created_at, s.id) > after]
            page = servers[:limit]
            more = len(servers) > limit
            next_cursor = encode_cursor(page[-1].created_at, page[-1].id) if more else None
            return Page(items=copy.deepcopy(page), next_cursor=next_cursor, limit=limit)

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
            sent, rules = fields["config"], self.config_rules
            changes["config"] = (
                merge_config(server.config, sent, rules.newer_keys)
                if merge and rules.patch == "merge"
                else validate_config(sent, rules.newer_keys)
            )
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

    def clear(self) -> None:
        with self._lock:
            self._servers.clear()
