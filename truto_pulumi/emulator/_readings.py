"""How this emulated Truto reads the points Truto's documentation leaves loose, and the account
facts behind the refusals it documents. Each is a switch of the constructor (`readings=`), the
command line and the `/_emulator/readings` hook; the default is the strictest reading.

- `config_required`: a create without `config` is refused (Truto's notes mark it required).
- `echo_defaults`: answers show `config` with its documented defaults filled in.
- `config_patch`: what a PATCHed `config` does: `merge-null-refused` (merged one level deep,
  `null` deletes a key but is refused for a key with a documented type and default), `merge`
  (`null` deletes any key) or `replace` (the sent `config` replaces the stored one).
- `list_key`: the list answers' key, `result` or `results` (both appear in Truto's pages).
- `plan_limit`, `plan_limit_status`: the number of MCP servers the plan allows, and the status
  of the refusal beyond it.
- `blocked_accounts`: integrated accounts Truto has blocked; every call under one answers 503.
- `account_tools`: an account's tools (`{"resource", "method", "tags"}`); a create, or a PATCH
  with `config`, whose methods and tags match none of them is refused with 400. An account
  without a list matches any filter.
- `newer_keys`: `config` options of a newer Truto, accepted and kept as sent.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any

from ._base import BadRequestError, JSONObject, normalize_uuid, string_list

__all__ = [
    "CONFIG_DEFAULTS",
    "CONFIG_PATCHES",
    "KNOWN_CONFIG_FIELDS",
    "LIST_KEYS",
    "PLAN_LIMIT_STATUSES",
    "Readings",
    "UnavailableError",
    "matches_a_tool",
]

KNOWN_CONFIG_FIELDS = ("methods", "tags", "tool_exposure", "require_api_token_auth")
"""The `config` keys this Truto knows (besides `newer_keys`)."""
CONFIG_DEFAULTS: JSONObject = {"tool_exposure": "all", "require_api_token_auth": False}
"""The documented defaults of `config` keys; the emulator's own copy of Truto's rule."""
CONFIG_PATCHES = ("merge-null-refused", "merge", "replace")
LIST_KEYS = ("result", "results")
PLAN_LIMIT_STATUSES = (400, 402, 403, 409, 422)
_METHOD_GROUPS = {"read": ("get", "list"), "write": ("create", "update", "delete")}


class UnavailableError(BadRequestError):
    """Truto's answer for an integrated account it has blocked."""

    status = 503


@dataclass(frozen=True)
class Readings:
    """The loose points of Truto's documentation, each read one way (see the module)."""

    config_required: bool = True
    echo_defaults: bool = True
    config_patch: str = "merge-null-refused"
    list_key: str = "result"
    plan_limit: int | None = None
    plan_limit_status: int = 403
    blocked_accounts: frozenset[str] = frozenset()
    account_tools: Mapping[str, tuple[JSONObject, ...]] = field(default_factory=dict)
    newer_keys: frozenset[str] = frozenset()

    @classmethod
    def from_json(cls, body: object) -> Readings:
        """Readings from a JSON object of any of the fields; those left out take their default."""
        if not isinstance(body, dict):
            raise BadRequestError("readings must be a JSON object")
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(body) - known)
        if unknown:
            raise BadRequestError(f"unknown reading(s): {', '.join(unknown)}")
        readings = cls(
            config_required=_flag(body, "config_required", cls.config_required),
            echo_defaults=_flag(body, "echo_defaults", cls.echo_defaults),
            config_patch=_choice(body, "config_patch", CONFIG_PATCHES, cls.config_patch),
            list_key=_choice(body, "list_key", LIST_KEYS, cls.list_key),
            plan_limit=_limit(body.get("plan_limit")),
            plan_limit_status=_choice(
                body, "plan_limit_status", PLAN_LIMIT_STATUSES, cls.plan_limit_status
            ),
            blocked_accounts=frozenset(_uuids(body.get("blocked_accounts", []))),
            account_tools=_tools(body.get("account_tools", {})),
            newer_keys=frozenset(string_list(body.get("newer_keys", []), "newer_keys")),
        )
        if readings.newer_keys & set(KNOWN_CONFIG_FIELDS):
            raise BadRequestError("newer_keys must not name a known config key")
        return readings

    def to_json(self) -> JSONObject:
        return {
            "config_required": self.config_required,
            "echo_defaults": self.echo_defaults,
            "config_patch": self.config_patch,
            "list_key": self.list_key,
            "plan_limit": self.plan_limit,
            "plan_limit_status": self.plan_limit_status,
            "blocked_accounts": sorted(self.blocked_accounts),
            "account_tools": {k: list(v) for k, v in sorted(self.account_tools.items())},
            "newer_keys": sorted(self.newer_keys),
        }

    def shown(self, config: JSONObject) -> JSONObject:
        """A stored `config` as answers show it."""
        return {**CONFIG_DEFAULTS, **config} if self.echo_defaults else dict(config)

    def refuse_if_blocked(self, account_id: str) -> None:
        if account_id in self.blocked_accounts:
            raise UnavailableError(f"Integrated account {account_id} is blocked. Contact support.")

    def refuse_unmatched(self, account_id: str, config: JSONObject) -> None:
        """Truto's "AI-ready" refusal: a filter that matches no tool of the account."""
        tools = self.account_tools.get(account_id)
        if tools is not None and not matches_a_tool(config, tools):
            raise BadRequestError(
                "No tools match the given methods and tags for this integrated account. "
                "Change config.methods or config.tags"
            )


def matches_a_tool(config: Mapping[str, Any], tools: tuple[JSONObject, ...]) -> bool:
    """Whether a `config`'s methods (groups expanded) and tags, ANDed, keep at least one tool."""
    methods = config.get("methods")
    tags = config.get("tags")
    allowed = None
    if isinstance(methods, list):
        allowed = {m for name in methods for m in _METHOD_GROUPS.get(name, (name,))}
    for tool in tools:
        if allowed is not None and tool.get("method") not in allowed:
            continue
        if isinstance(tags, list) and not set(tags) & set(tool.get("tags", [])):
            continue
        return True
    return False


def _flag(body: Mapping[str, Any], key: str, default: bool) -> bool:
    value = body.get(key, default)
    if not isinstance(value, bool):
        raise BadRequestError(f"{key} must be true or false")
    return value


def _choice(body: Mapping[str, Any], key: str, choices: tuple[Any, ...], default: Any) -> Any:
    value = body.get(key, default)
    if value not in choices or isinstance(value, bool):
        raise BadRequestError(f"{key} must be one of {', '.join(map(str, choices))}")
    return value


def _limit(value: object) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise BadRequestError("plan_limit must be an integer >= 0, or null")
    return value


def _uuids(value: object) -> list[str]:
    ids = [normalize_uuid(v) for v in string_list(value, "blocked_accounts")]
    if None in ids:
        raise BadRequestError("blocked_accounts must be integrated account UUIDs")
    return [i for i in ids if i is not None]


def _tools(value: object) -> dict[str, tuple[JSONObject, ...]]:
    if not isinstance(value, dict):
        raise BadRequestError("account_tools must map account UUIDs to arrays of tools")
    tools: dict[str, tuple[JSONObject, ...]] = {}
    for account, items in value.items():
        account_id = normalize_uuid(account) if isinstance(account, str) else None
        if account_id is None or not isinstance(items, list):
            raise BadRequestError("account_tools must map account UUIDs to arrays of tools")
        for tool in items:
            if (
                not isinstance(tool, dict)
                or not isinstance(tool.get("method"), str)
                or not set(tool) <= {"resource", "method", "tags"}
            ):
                raise BadRequestError('a tool is {"resource": str, "method": str, "tags": [str]}')
            string_list(tool.get("tags", []), "a tool's tags")
        tools[account_id] = tuple(dict(tool) for tool in items)
    return tools
