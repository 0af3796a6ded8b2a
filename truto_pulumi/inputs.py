"""Validation and canonical form of a TrutoMcpServer's inputs (what `check` does, with no I/O).

Canonical form is what `check` returns and what create/update/read echo as outputs, so that the
next diff compares like with like: methods and tags de-duplicated and sorted, the account id as a
lower-case UUID, timestamps in UTC at millisecond precision (Truto's own precision), an empty
`config` dropped. Unknown (computed) values pass through unvalidated.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Annotated, Any, Literal

from pulumi.output import Unknown
from pydantic import (
    BaseModel,
    ConfigDict,
    ValidationError,
    ValidatorFunctionWrapHandler,
    WrapValidator,
)
from pydantic_core import PydanticCustomError

__all__ = [
    "ALLOWED",
    "CONFIG_KEYS",
    "DIFFED_KEYS",
    "INPUT_KEYS",
    "MIN_EXPIRY_LEAD",
    "CheckOutcome",
    "InputFailure",
    "canonical_config",
    "canonical_inputs",
    "canonical_timestamp",
    "check_inputs",
    "contains_unknown",
    "parse_timestamp",
]

DIFFED_KEYS = ("integrated_account_id", "name", "config", "expires_at")
"""The inputs that describe the server; a change to one is an update or a replacement."""

INPUT_KEYS = (*DIFFED_KEYS, "adopt_id")
"""Every input, as stored in state. `adopt_id` only matters at create: it is never diffed."""

CONFIG_KEYS = ("methods", "tags", "tool_exposure", "require_api_token_auth")

MIN_EXPIRY_LEAD = timedelta(seconds=60)
"""Truto rejects an `expires_at` less than 60 s ahead."""

ALLOWED: dict[str, str] = {
    "integrated_account_id": "the UUID of a Truto integrated account",
    "name": "a non-empty string",
    "config": "an object with any of methods, tags, tool_exposure, require_api_token_auth",
    "config.methods": (
        "a non-empty list of method names (list, get, create, update, delete, a custom method) "
        "or the groups read, write"
    ),
    "config.tags": "a non-empty list of non-empty tag strings",
    "config.tool_exposure": "'all' or 'discovery'",
    "config.require_api_token_auth": "true or false",
    "expires_at": "an RFC 3339 timestamp at least 60 s ahead, e.g. 2027-01-01T00:00:00Z",
    "adopt_id": "the UUID of an existing MCP server of this integrated account to take over",
}
"""What each property accepts, quoted in check failures."""

_RFC3339 = re.compile(
    r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$",
)


def contains_unknown(value: Any) -> bool:
    """Whether a property value is, or holds, an unknown (computed) value."""
    if isinstance(value, Unknown):
        return True
    if isinstance(value, Mapping):
        return any(contains_unknown(v) for v in value.values())
    if isinstance(value, list | tuple):
        return any(contains_unknown(v) for v in value)
    return False


def parse_timestamp(value: str) -> datetime:
    """Parse an RFC 3339 timestamp into an aware UTC datetime truncated to milliseconds."""
    if not _RFC3339.match(value):
        raise ValueError("not an RFC 3339 timestamp with a time zone")
    text = value.replace("z", "Z").replace("Z", "+00:00").replace("t", "T").replace(" ", "T")
    # Python < 3.11 accepts at most 6 fraction digits; Truto keeps milliseconds.
    text = re.sub(r"\.(\d{1,6})\d*", lambda m: "." + m.group(1).ljust(6, "0"), text)
    try:
        instant = datetime.fromisoformat(text).astimezone(timezone.utc)
    except OverflowError:
        raise ValueError("timestamp out of range") from None
    return instant.replace(microsecond=instant.microsecond // 1000 * 1000)


def canonical_timestamp(value: str) -> str:
    """The canonical text of a timestamp: UTC, `Z`, milliseconds only when not zero."""
    instant = parse_timestamp(value)
    text = f"{instant.year:04d}" + instant.strftime("-%m-%dT%H:%M:%S")
    if instant.microsecond:
        text += f".{instant.microsecond // 1000:03d}"
    return text + "Z"


def _pass_unknown(value: Any, handler: ValidatorFunctionWrapHandler) -> Any:
    return value if isinstance(value, Unknown) else handler(value)


def _non_empty_string(value: Any) -> str:
    if not isinstance(value, str):
        raise PydanticCustomError("string_type", "must be a string, got {kind}", _kind(value))
    if not value.strip():
        raise PydanticCustomError("empty_string", "must not be empty or blank")
    return value


def _string_set(value: Any, handler: ValidatorFunctionWrapHandler) -> Any:
    if isinstance(value, Unknown):
        return value
    if not isinstance(value, list | tuple):
        raise PydanticCustomError("list_type", "must be a list, got {kind}", _kind(value))
    if not value:
        raise PydanticCustomError("empty_list", "must not be empty (omit it to apply no filter)")
    items = handler(list(value))
    if contains_unknown(items):
        return items
    return sorted(set(items))


def _uuid(value: Any) -> str:
    if not isinstance(value, str):
        raise PydanticCustomError("uuid_type", "must be a string, got {kind}", _kind(value))
    try:
        return str(uuid.UUID(value))
    except ValueError:
        raise PydanticCustomError("uuid_parsing", "{value} is not a UUID", _shown(value)) from None


def _timestamp(value: Any) -> str:
    if not isinstance(value, str):
        raise PydanticCustomError("timestamp_type", "must be a string, got {kind}", _kind(value))
    try:
        return canonical_timestamp(value)
    except ValueError:
        raise PydanticCustomError(
            "timestamp_parsing", "{value} is not an RFC 3339 timestamp", _shown(value)
        ) from None


def _shown(value: Any) -> dict[str, str]:
    text = repr(value)
    return {"value": text if len(text) <= 60 else text[:57] + "..."}


def _kind(value: Any) -> dict[str, str]:
    return {"kind": "null" if value is None else type(value).__name__}


def _wrapped(func: Any) -> WrapValidator:
    def validate(value: Any, handler: ValidatorFunctionWrapHandler) -> Any:
        return value if isinstance(value, Unknown) else func(value)

    return WrapValidator(validate)


NonEmptyString = Annotated[str, _wrapped(_non_empty_string)]
StringSet = Annotated[list[NonEmptyString], WrapValidator(_string_set)]
UuidString = Annotated[str, _wrapped(_uuid)]
Timestamp = Annotated[str, _wrapped(_timestamp)]


class McpServerConfig(BaseModel):
    """`config` of an MCP server: which tools it exposes."""

    model_config = ConfigDict(extra="forbid", strict=True, arbitrary_types_allowed=True)

    methods: StringSet | None = None
    tags: StringSet | None = None
    tool_exposure: Annotated[Literal["all", "discovery"], WrapValidator(_pass_unknown)] | None = (
        None
    )
    require_api_token_auth: Annotated[bool, WrapValidator(_pass_unknown)] | None = None


class McpServerInputs(BaseModel):
    """The managed inputs of a TrutoMcpServer."""

    model_config = ConfigDict(extra="forbid", strict=True, arbitrary_types_allowed=True)

    integrated_account_id: UuidString
    name: NonEmptyString
    config: Annotated[McpServerConfig, WrapValidator(_pass_unknown)] | None = None
    expires_at: Timestamp | None = None
    adopt_id: UuidString | None = None


@dataclass(frozen=True)
class InputFailure:
    """One invalid property: its dotted path and what is wrong with it."""

    property: str
    reason: str


@dataclass(frozen=True)
class CheckOutcome:
    """Canonical inputs when valid, else the failures (one per property)."""

    inputs: dict[str, Any]
    failures: list[InputFailure] = field(default_factory=list)


def canonical_config(config: Any) -> Any:
    """Canonical `config`: None when it sets nothing, else only the keys that are set."""
    if isinstance(config, McpServerConfig):
        config = {key: getattr(config, key) for key in CONFIG_KEYS}
    if not isinstance(config, Mapping):
        return config
    kept = {key: value for key, value in config.items() if value is not None}
    return kept or None


def canonical_inputs(model: McpServerInputs) -> dict[str, Any]:
    """The property bag of validated inputs, without keys that are unset."""
    bag: dict[str, Any] = {
        "integrated_account_id": model.integrated_account_id,
        "name": model.name,
        "config": canonical_config(model.config),
        "expires_at": model.expires_at,
        "adopt_id": model.adopt_id,
    }
    return {key: value for key, value in bag.items() if value is not None}


def check_inputs(
    news: Mapping[str, Any],
    *,
    olds: Mapping[str, Any] | None = None,
    now: datetime | None = None,
) -> CheckOutcome:
    """Validate a property bag and return its canonical form or one failure per bad property.

    With `now`, a new or changed `expires_at` must lie at least a minute after it; an expiry
    equal to the one in `olds` is not re-judged, so an expired server does not block preview.
    """
    bag = {key: value for key, value in news.items() if not key.startswith("__")}
    try:
        model = McpServerInputs.model_validate(bag)
    except ValidationError as error:
        return CheckOutcome(dict(bag), _failures(error))
    inputs = canonical_inputs(model)
    failure = _expiry_failure(inputs.get("expires_at"), olds, now)
    return CheckOutcome(inputs, [failure] if failure else [])


def _expiry_failure(
    expires_at: Any, olds: Mapping[str, Any] | None, now: datetime | None
) -> InputFailure | None:
    if now is None or not isinstance(expires_at, str):
        return None
    previous = (olds or {}).get("expires_at")
    if isinstance(previous, str) and _same_instant(previous, expires_at):
        return None
    lead = parse_timestamp(expires_at) - now
    if lead >= MIN_EXPIRY_LEAD:
        return None
    when = "is in the past" if lead.total_seconds() <= 0 else "is less than 60 s ahead"
    return InputFailure(
        "expires_at",
        f"{expires_at} {when} (now {canonical_timestamp(now.isoformat())}); "
        f"expected {ALLOWED['expires_at']}, or no expiry",
    )


def _same_instant(left: str, right: str) -> bool:
    try:
        return parse_timestamp(left) == parse_timestamp(right)
    except ValueError:
        return left == right


_OWN_ERRORS = frozenset(
    {
        "string_type",
        "empty_string",
        "list_type",
        "empty_list",
        "uuid_type",
        "uuid_parsing",
        "timestamp_type",
        "timestamp_parsing",
    }
)


def _failures(error: ValidationError) -> list[InputFailure]:
    reasons: dict[str, list[str]] = {}
    for detail in error.errors(include_url=False):
        names = [part for part in detail["loc"] if isinstance(part, str)]
        items = [part for part in detail["loc"] if isinstance(part, int)]
        if detail["type"] == "extra_forbidden":
            prop = ".".join(names)
            allowed = CONFIG_KEYS if len(names) > 1 else INPUT_KEYS
            reasons.setdefault(prop, []).append(f"unknown property; allowed: {', '.join(allowed)}")
            continue
        # Drop the validator names pydantic adds to the location of a union or wrapper.
        prop = ".".join(name for name in names if name in INPUT_KEYS or name in CONFIG_KEYS)
        if detail["type"] == "missing":
            message = "is required"
        elif detail["type"] in _OWN_ERRORS:
            message = detail["msg"]
        else:
            message = f"got {_shown(detail['input'])['value']}"
        if items:
            message = f"item {items[0]} {message}"
        reasons.setdefault(prop, []).append(message)
    failures = []
    for prop, messages in reasons.items():
        hint = f"; expected {ALLOWED[prop]}" if prop in ALLOWED else ""
        failures.append(InputFailure(prop, "; ".join(dict.fromkeys(messages)) + hint))
    return failures
