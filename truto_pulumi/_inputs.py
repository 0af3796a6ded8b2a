"""A TrutoMcpServer's inputs: check (one failure per invalid property, saying what it accepts)
and the canonical form (sets sorted, UUIDs lower case, timestamps in UTC to the millisecond as
Truto keeps them, an empty `config` dropped) that the diff compares and refresh reads back, both
from one parser (`_parse`). Unknown values pass unjudged. No I/O."""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from pulumi.output import Unknown

from ._mark import read_mark
from ._schema import CONFIG_BY_NAME, CONFIG_DEFAULTS, DIFFED_INPUTS, INPUTS, Property

_RFC3339 = re.compile(r"(\d{4}-\d\d-\d\d)[Tt ](\d\d:\d\d:\d\d)(?:\.(\d+))?([Zz]|[+-]\d\d:\d\d)")


def contains_unknown(value: Any) -> bool:
    """Whether a property value is, or holds, an unknown (computed) value."""
    if isinstance(value, Mapping):
        return any(map(contains_unknown, value.values()))
    if isinstance(value, list | tuple):
        return any(map(contains_unknown, value))
    return isinstance(value, Unknown)


def parse_timestamp(value: str) -> datetime:
    """An RFC 3339 timestamp as a UTC datetime cut to milliseconds, as Truto keeps it."""
    match = _RFC3339.fullmatch(value)
    if match is None:
        raise ValueError("not an RFC 3339 timestamp with a time zone")
    day, time, fraction, zone = match.groups()
    text = f"{day}T{time}.{(fraction or '')[:3].ljust(3, '0')}{zone.upper().replace('Z', '+00:00')}"
    try:
        return datetime.fromisoformat(text).astimezone(UTC)
    except OverflowError:
        raise ValueError("timestamp out of range") from None


def canonical_timestamp(value: str) -> str:
    """The canonical text of a timestamp: UTC, `Z`, milliseconds only when not zero."""
    text = parse_timestamp(value).isoformat(timespec="milliseconds")
    return text.replace(".000+00:00", "Z").replace("+00:00", "Z")


def lead_problem(prop: Property, when: Any, now: datetime) -> str | None:
    """Why a timestamp `when` of `prop` lies less than its `lead_seconds` after `now` (`<when>
    is in the past`); None when far enough ahead, or `prop` asks no lead."""
    lead = parse_timestamp(when) - now if isinstance(when, str) and prop.lead_seconds else None
    if lead is None or lead >= timedelta(seconds=prop.lead_seconds or 0):
        return None
    ahead = f"less than {prop.lead_seconds} s ahead" if lead.total_seconds() > 0 else "in the past"
    return f"{when} is {ahead}"


_TYPES: dict[str | None, tuple[Any, str]] = {
    "string_set": ((list, tuple), "must be a list, "),
    "choice": (str, ""),
    "flag": (bool, ""),
    "config": (Mapping, ""),
}
"""The type of a shape's values and how a failure of that type opens; else a string's."""


def _parse(prop: Property, value: Any) -> Any:
    """`value` of `prop` in canonical form (unknowns as they are), else a ValueError saying why."""
    if value is None or isinstance(value, Unknown):
        if value is None and prop.required:
            raise ValueError("is required")
        return value
    shape, shown = prop.shape, _clipped(repr(value))
    kind, opening = _TYPES.get(shape, (str, "must be a string, "))
    if not isinstance(value, kind):
        raise ValueError(f"{opening}got {described(value)}")
    if shape == "text" and not value.strip():
        raise ValueError("must not be empty or blank")
    if shape == "text" and read_mark(value) is not None:
        # A marked name makes the server one under way (or a killed run's leftover) to every
        # create of the stack. The name is not shown: it may be a secret.
        raise ValueError("must not end in a Pulumi create mark, [pulumi creating …]")
    if shape == "choice" and value not in prop.choices:
        raise ValueError(f"got {shown}")
    if shape == "string_set" and not value:
        raise ValueError("must not be empty (omit it to apply no filter)")
    if shape == "string_set":
        problems = [
            f"item {index} must be a string, got {described(item)}"
            if not isinstance(item, str)
            else f"item {index} must not be empty or blank"
            for index, item in enumerate(value)
            if not isinstance(item, Unknown) and not (isinstance(item, str) and item.strip())
        ]
        if problems:
            raise ValueError("; ".join(problems))
        return value if contains_unknown(value) else sorted(set(value))
    if shape in ("uuid", "timestamp"):
        try:
            return str(uuid.UUID(value)) if shape == "uuid" else canonical_timestamp(value)
        except ValueError:
            what = "a UUID" if shape == "uuid" else "an RFC 3339 timestamp"
            raise ValueError(f"{shown} is not {what}") from None
    return value


def canonical_form(prop: Property, value: Any) -> Any:
    """`value` of `prop` in canonical form as far as it parses, else as it is; a `config` loses
    unset keys and those at their default (Truto may echo them), and keeps unknown ones."""
    if prop.shape == "config" and isinstance(value, Mapping):
        known = {
            k: canonical_form(CONFIG_BY_NAME[k], value[k]) for k in CONFIG_BY_NAME.keys() & value
        }
        kept = {**value, **known}
        return {k: v for k, v in kept.items() if v is not None and not _at_default(k, v)} or None
    try:
        return _parse(prop, value)
    except ValueError:
        return value


def _at_default(key: str, value: Any) -> bool:
    """Whether `value` is `key`'s documented default, of its type too (`0` is not `false`)."""
    default = CONFIG_DEFAULTS.get(key)
    return default is not None and (type(value), value) == (type(default), default)


def canonical_live_inputs(server: Mapping[str, Any]) -> dict[str, Any]:
    """A server's inputs in Truto, canonical but not validated: a bad value is a difference."""
    live = {p.name: canonical_form(p, server.get(p.name)) for p in DIFFED_INPUTS}
    return {key: value for key, value in live.items() if value is not None}


def unchanged_inputs(olds: Mapping[str, Any], news: Mapping[str, Any]) -> dict[str, Any] | None:
    """The old inputs if the new ones are identical (`1` is not `True`; `__` keys aside), else
    None: check returns them unjudged, as refresh read them from Truto."""
    old = {key: value for key, value in olds.items() if not key.startswith("__")}
    new = {key: value for key, value in news.items() if not key.startswith("__")}
    return old if old and _identical(old, new) else None


def _identical(left: Any, right: Any) -> bool:
    if type(left) is not type(right) or isinstance(left, Unknown):
        return False
    if isinstance(left, dict):
        return left.keys() == right.keys() and all(_identical(left[k], right[k]) for k in left)
    if isinstance(left, list | tuple):
        return len(left) == len(right) and all(map(_identical, left, right))
    return bool(left == right)


@dataclass(frozen=True)
class InputFailure:
    """One invalid property; the engine shows `{<nil>}` for one not a top-level input, so then
    `property` is "" and `reason` opens with the dotted `path`."""

    property: str
    reason: str
    path: str


@dataclass(frozen=True)
class CheckOutcome:
    """Canonical inputs when valid, else the inputs as given and one failure per property."""

    inputs: dict[str, Any]
    failures: list[InputFailure] = field(default_factory=list)


def check_inputs(
    news: Mapping[str, Any],
    *,
    olds: Mapping[str, Any] | None = None,
    now: datetime | None = None,
) -> CheckOutcome:
    """A property bag's canonical form, or one failure per bad property. With `now`, a new or
    changed `expires_at` must lie a minute ahead (an expired server does not block preview)."""
    bag = {key: value for key, value in news.items() if not key.startswith("__")}
    problems: dict[str, str] = {}

    def checked(props: tuple[Property, ...], values: Mapping[str, Any], prefix: str) -> Any:
        """The canonical values of `values`' set keys; the others' problems go to `problems`."""
        names = [p.name for p in props]
        for key in values:
            if key not in names:
                problems[prefix + key] = f"unknown property; allowed: {', '.join(names)}"
        kept = {}
        for prop in props:
            value = values.get(prop.name)
            try:
                value = _parse(prop, value)
                previous = canonical_form(prop, (olds or {}).get(prop.name))
                if now and (late := lead_problem(prop, value, now)) and previous != value:
                    raise ValueError(f"{late} (now {canonical_timestamp(now.isoformat())})")
            except ValueError as problem:
                problems[prefix + prop.name] = f"{problem}; expected {prop.accepts}"
                continue
            if prop.shape == "config" and isinstance(value, Mapping):
                value = checked(tuple(CONFIG_BY_NAME.values()), value, "config.")
            if value is not None:
                kept[prop.name] = value
        return kept or None

    inputs = checked(INPUTS, bag, "") or {}
    failures = [
        InputFailure(path, problem, path)
        if bag.get(path) is not None or not path
        else InputFailure("", f"{path}: {problem}", path)
        for path, problem in problems.items()
    ]
    return CheckOutcome(bag if failures else inputs, failures)


def _clipped(text: str) -> str:
    """At most 60 characters: a failure quotes a value, never a whole document."""
    return text if len(text) <= 60 else text[:57] + "..."


def described(value: Any) -> str:
    """A value as the user wrote it, its kind first: `the number 5` (the wire makes it a float),
    `the boolean True`, `the list [...]`."""
    for kind, text in _KINDS:
        if isinstance(value, kind):
            return f"{text} {_clipped(_written(value))}"
    return "None" if value is None else f"a value of type {type(value).__name__}"


_KINDS = (
    (bool, "the boolean"),
    (int | float, "the number"),
    (str, "the string"),
    (list | tuple, "the list"),
    (Mapping, "the object"),
)


def _written(value: Any) -> str:
    """A value as Python source, a whole number as written (`[1, 'a']`, not `[1.0, 'a']`)."""
    if isinstance(value, float) and value.is_integer() and abs(value) <= 2**53:
        return str(int(value))
    if isinstance(value, Unknown):
        return "<unknown>"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(map(_written, value)) + "]"
    if isinstance(value, Mapping):
        return "{" + ", ".join(f"{key!r}: {_written(item)}" for key, item in value.items()) + "}"
    return repr(value)
