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
    create_model,
)
from pydantic_core import PydanticCustomError

from ._inputs import (
    canonical_config,
    canonical_string_set,
    canonical_timestamp,
    canonical_uuid,
    contains_unknown,
    lead_problem,
    parse_timestamp,
)
from ._mark import read_mark
from ._schema import ALLOWED, CONFIG_KEYS, CONFIG_PROPERTIES, INPUT_KEYS, INPUTS, Property

__all__ = [
    "CheckOutcome",
    "InputFailure",
    "canonical_inputs",
    "check_inputs",
    "described",
    "input_failure",
]


def _pass_unknown(value: Any, handler: ValidatorFunctionWrapHandler) -> Any:
    return value if isinstance(value, Unknown) else handler(value)


def _non_empty_string(value: Any) -> str:
    if not isinstance(value, str):
        raise PydanticCustomError("string_type", "must be a string, got {kind}", _kind(value))
    if not value.strip():
        raise PydanticCustomError("empty_string", "must not be empty or blank")
    return value


def _name(value: Any) -> str:
    """A server's name: no create mark at its end, which would make it a server under way (or
    a killed run's leftover) to every create of the stack. The name may be a secret: unshown."""
    name = _non_empty_string(value)
    if read_mark(name) is not None:
        raise PydanticCustomError(
            "marked_name", "must not end in a Pulumi create mark, [pulumi creating …]"
        )
    return name


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
    return {"value": _clipped(repr(value))}


def _kind(value: Any) -> dict[str, str]:
    return {"kind": described(value)}


def _clipped(text: str) -> str:
    """At most 60 characters: a failure quotes a value, never a whole document."""
    return text if len(text) <= 60 else text[:57] + "..."


def described(value: Any) -> str:
    """A value as the user wrote it, its kind first: `the number 5`, never `float` (the wire
    turns every number into a float), `the boolean True`, `the list [...]`."""
    if value is None:
        return "None"
    if isinstance(value, bool):
        return f"the boolean {value}"
    if isinstance(value, int | float):
        return f"the number {_number_text(value)}"
    if isinstance(value, str):
        return f"the string {_clipped(repr(value))}"
    if isinstance(value, list | tuple):
        return f"the list {_clipped(_written(value))}"
    if isinstance(value, Mapping):
        return f"the object {_clipped(_written(value))}"
    return f"a value of type {type(value).__name__}"


def _written(value: Any) -> str:
    """A value as Python source, numbers as the user wrote them (`[1, 'a']`, not `[1.0, 'a']`)."""
    if isinstance(value, bool) or value is None:
        return repr(value)
    if isinstance(value, int | float):
        return _number_text(value)
    if isinstance(value, Unknown):
        return "<unknown>"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_written(item) for item in value) + "]"
    if isinstance(value, Mapping):
        pairs = (f"{_written(key)}: {_written(item)}" for key, item in value.items())
        return "{" + ", ".join(pairs) + "}"
    return repr(value)


def _number_text(number: float) -> str:
    """`5` for 5.0: a whole number is shown as written, not as the float the wire made of it."""
    if isinstance(number, float) and number.is_integer() and abs(number) <= 2**53:
        return str(int(number))
    return repr(number)


def _wrapped(func: Any) -> WrapValidator:
    def validate(value: Any, handler: ValidatorFunctionWrapHandler) -> Any:
        return value if isinstance(value, Unknown) else func(value)

    return WrapValidator(validate)


NonEmptyString = Annotated[str, _wrapped(_non_empty_string)]
StringSet = Annotated[list[NonEmptyString], WrapValidator(_string_set)]
UuidString = Annotated[str, _wrapped(_uuid)]
Timestamp = Annotated[str, _wrapped(_timestamp)]


_MODEL_CONFIG = ConfigDict(
    extra="forbid", strict=True, arbitrary_types_allowed=True, defer_build=True
)


def _annotation(prop: Property) -> Any:
    """The validated type of an input, by its shape; an unknown value passes any of them."""
    if prop.shape == "uuid":
        return UuidString
    if prop.shape == "text":
        return Annotated[str, _wrapped(_name)]
    if prop.shape == "timestamp":
        return Timestamp
    if prop.shape == "string_set":
        return StringSet
    if prop.shape == "choice":
        return Annotated[Literal[prop.choices], WrapValidator(_pass_unknown)]
    if prop.shape == "flag":
        return Annotated[bool, WrapValidator(_pass_unknown)]
    if prop.shape == "config":
        return Annotated[McpServerConfig, WrapValidator(_pass_unknown)]
    raise AssertionError(f"{prop.name}: no validation for shape {prop.shape!r}")


def _model(name: str, props: tuple[Property, ...]) -> type[BaseModel]:
    fields: dict[str, Any] = {
        p.name: (_annotation(p), ...) if p.required else (_annotation(p) | None, None)
        for p in props
    }
    return create_model(name, __config__=_MODEL_CONFIG, **fields)


McpServerConfig = _model("McpServerConfig", CONFIG_PROPERTIES)
"""`config` of an MCP server: which tools it exposes."""
McpServerInputs = _model("McpServerInputs", INPUTS)
"""The inputs of a TrutoMcpServer."""


@dataclass(frozen=True)
class InputFailure:
    """One invalid property as the engine shows it; `path` is its dotted path (`config.methods`).

    The engine prints a failure as "property P value V has a problem: R", looking P up among
    the program's top-level inputs, and prints `{<nil>}` for a path it cannot find there. So
    `property` is the path only when it is such a key; otherwise it is "" (the engine then
    prints "has a problem: R") and `reason` opens with the path.
    """

    property: str
    reason: str
    path: str


def input_failure(path: str, problem: str, inputs: Mapping[str, Any]) -> InputFailure:
    """The failure for `path`, worded so the engine names the path and never prints `{<nil>}`."""
    if inputs.get(path) is not None or not path:
        return InputFailure(path, problem, path)
    return InputFailure("", f"{path}: {problem}", path)


@dataclass(frozen=True)
class CheckOutcome:
    """Canonical inputs when valid, else the failures (one per property)."""

    inputs: dict[str, Any]
    failures: list[InputFailure] = field(default_factory=list)


def canonical_inputs(model: BaseModel) -> dict[str, Any]:
    """The property bag of validated inputs, without keys that are unset."""
    bag: dict[str, Any] = {key: getattr(model, key) for key in INPUT_KEYS}
    for prop in INPUTS:
        if prop.shape == "config":
            bag[prop.name] = canonical_config(_config_bag(bag[prop.name]))
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
        return CheckOutcome(dict(bag), _failures(error, bag))
    inputs = canonical_inputs(model)
    failures = [
        failure
        for prop in INPUTS
        if prop.lead_seconds is not None
        and (failure := _lead_failure(prop, inputs.get(prop.name), olds, now)) is not None
    ]
    return CheckOutcome(inputs, failures)


def _lead_failure(
    prop: Property, when: Any, olds: Mapping[str, Any] | None, now: datetime | None
) -> InputFailure | None:
    """A set or changed timestamp that lies less than `prop.lead_seconds` ahead of `now`."""
    if now is None or not isinstance(when, str) or prop.lead_seconds is None:
        return None
    previous = (olds or {}).get(prop.name)
    if isinstance(previous, str) and _same_instant(previous, when):
        return None
    problem = lead_problem(when, prop.lead_seconds, now)
    if problem is None:
        return None
    return InputFailure(
        prop.name,
        f"{when} {problem} (now {canonical_timestamp(now.isoformat())}); "
        f"expected {ALLOWED[prop.name]}, or no expiry",
        prop.name,
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
        "marked_name",
        "list_type",
        "empty_list",
        "uuid_type",
        "uuid_parsing",
        "timestamp_type",
        "timestamp_parsing",
    }
)


def _failures(error: ValidationError, inputs: Mapping[str, Any]) -> list[InputFailure]:
    """One failure per property path, each problem in the user's terms, then what it accepts."""
    problems: dict[str, list[str]] = {}
    for detail in error.errors(include_url=False):
        names = [part for part in detail["loc"] if isinstance(part, str)]
        items = [part for part in detail["loc"] if isinstance(part, int)]
        if detail["type"] == "extra_forbidden":
            allowed = CONFIG_KEYS if len(names) > 1 else INPUT_KEYS
            problem = f"unknown property; allowed: {', '.join(allowed)}"
            problems.setdefault(".".join(names), []).append(problem)
            continue
        # Drop the validator names pydantic adds to the location of a union or wrapper.
        path = ".".join(name for name in names if name in INPUT_KEYS or name in CONFIG_KEYS)
        problem = _problem(detail["type"], detail["msg"], detail["input"])
        if items:
            problem = f"item {items[0]} {problem}"
        problems.setdefault(path, []).append(problem)
    failures = []
    for path, messages in problems.items():
        hint = f"; expected {ALLOWED[path]}" if path in ALLOWED else ""
        failures.append(input_failure(path, "; ".join(dict.fromkeys(messages)) + hint, inputs))
    return failures


def _problem(kind: str, message: str, value: Any) -> str:
    """What is wrong with one value: our own message, or what the user gave."""
    if kind == "missing":
        return "is required"
    if kind in _OWN_ERRORS:
        return message
    if kind == "literal_error" and isinstance(value, str):
        return f"got {_shown(value)['value']}"  # the right type, not one of the choices
    return f"got {described(value)}"


def _config_bag(config: BaseModel | Any) -> Any:
    if isinstance(config, McpServerConfig):
        return {key: getattr(config, key) for key in CONFIG_KEYS}
    return config
