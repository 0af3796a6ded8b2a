"""Check: validate a TrutoMcpServer's inputs and return their canonical form, or one failure
per invalid property naming it and what it accepts. No I/O.

The only module that needs pydantic; the provider imports it in `check` only, for inputs that
differ from the old ones, so refresh, destroy and a preview with nothing to change never load it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
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

from ._inputs import (
    ALLOWED,
    CONFIG_KEYS,
    INPUT_KEYS,
    MIN_EXPIRY_LEAD,
    canonical_config,
    canonical_string_set,
    canonical_timestamp,
    canonical_uuid,
    contains_unknown,
    parse_timestamp,
)

__all__ = ["CheckOutcome", "InputFailure", "canonical_inputs", "check_inputs"]


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
    return canonical_string_set(items)


def _uuid(value: Any) -> str:
    if not isinstance(value, str):
        raise PydanticCustomError("uuid_type", "must be a string, got {kind}", _kind(value))
    try:
        return canonical_uuid(value)
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

    model_config = ConfigDict(
        extra="forbid", strict=True, arbitrary_types_allowed=True, defer_build=True
    )

    methods: StringSet | None = None
    tags: StringSet | None = None
    tool_exposure: Annotated[Literal["all", "discovery"], WrapValidator(_pass_unknown)] | None = (
        None
    )
    require_api_token_auth: Annotated[bool, WrapValidator(_pass_unknown)] | None = None


class McpServerInputs(BaseModel):
    """The managed inputs of a TrutoMcpServer."""

    model_config = ConfigDict(
        extra="forbid", strict=True, arbitrary_types_allowed=True, defer_build=True
    )

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


def canonical_inputs(model: McpServerInputs) -> dict[str, Any]:
    """The property bag of validated inputs, without keys that are unset."""
    bag: dict[str, Any] = {
        "integrated_account_id": model.integrated_account_id,
        "name": model.name,
        "config": canonical_config(_config_bag(model.config)),
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


def _config_bag(config: McpServerConfig | Any) -> Any:
    if isinstance(config, McpServerConfig):
        return {key: getattr(config, key) for key in CONFIG_KEYS}
    return config
