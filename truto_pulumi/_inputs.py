"""A TrutoMcpServer's inputs, shape by shape (`_schema.Shape`): check (one failure per invalid
property, naming it and what it accepts) and the canonical form (sets sorted, UUIDs in lower
case, timestamps in UTC to the millisecond as Truto keeps them, an empty `config` dropped) that
check returns, the diff compares and refresh reads back. Unknown values pass unjudged. No I/O.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

from pulumi.output import Unknown

from ._mark import read_mark
from ._schema import (
    ALLOWED,
    CONFIG_BY_NAME,
    CONFIG_PROPERTIES,
    DIFFED_INPUTS,
    INPUTS,
    Property,
    Shape,
)

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


def lead_problem(when: str, lead_seconds: int, now: datetime) -> str | None:
    """Why a timestamp that must lie `lead_seconds` after `now` does not; None when it does."""
    lead = parse_timestamp(when) - now
    if lead >= timedelta(seconds=lead_seconds):
        return None
    return "is in the past" if lead.total_seconds() <= 0 else f"is less than {lead_seconds} s ahead"


def canonical_form(shape: Shape | None, value: Any) -> Any:
    """`value` in canonical form as far as it parses, else as it is (never an error): what the
    diff compares and refresh reads back. A `config` loses its unset keys and those at their
    documented default (Truto may echo them); a key this release does not know is kept."""
    if shape == "config" and isinstance(value, Mapping):
        kept = {}
        for key, item in value.items():
            prop = CONFIG_BY_NAME.get(key)
            if prop is not None and prop.shape is not None:
                item = None if prop.at_default(item) else canonical_form(prop.shape, item)
            if item is not None:
                kept[key] = item
        return kept or None
    if shape == "string_set" and isinstance(value, list | tuple) and all(map(_is_str, value)):
        return sorted(set(value))
    if shape in ("uuid", "timestamp") and isinstance(value, str):
        try:
            return _canonical_text(shape, value)
        except ValueError:
            return value
    return value


def _is_str(value: Any) -> bool:
    return isinstance(value, str)


def _canonical_text(shape: Shape, value: str) -> str:
    return str(uuid.UUID(value)) if shape == "uuid" else canonical_timestamp(value)


def canonical_live_inputs(server: Mapping[str, Any]) -> dict[str, Any]:
    """The inputs a server has in Truto, in canonical form, for refresh to compare with state.
    Without validation: a value that does not parse shows as a difference, not an error."""
    live = {p.name: canonical_form(p.shape, server.get(p.name)) for p in DIFFED_INPUTS}
    return {key: value for key, value in live.items() if value is not None}


def unchanged_inputs(olds: Mapping[str, Any], news: Mapping[str, Any]) -> dict[str, Any] | None:
    """The old inputs if the new ones are identical to them, types too (`1` is not `True`;
    `__` keys aside), else None: check returns them unjudged, as what refresh read from Truto."""
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


# -- check -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class InputFailure:
    """One invalid property as the engine shows it: "property P value V has a problem: R",
    `{<nil>}` for a P that is not a top-level input. So `property` is the dotted `path` only when
    it is such a key; otherwise "", and `reason` opens with the path."""

    property: str
    reason: str
    path: str


@dataclass(frozen=True)
class CheckOutcome:
    """Canonical inputs when valid, else the failures (one per property)."""

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
    inputs = _checked(INPUTS, bag, "", problems)
    if problems:
        failures = [
            InputFailure(path, problem, path)
            if bag.get(path) is not None or not path
            else InputFailure("", f"{path}: {problem}", path)
            for path, problem in problems.items()
        ]
        return CheckOutcome(bag, failures)
    lead = [
        failure
        for prop in INPUTS
        if (failure := _lead_failure(prop, inputs.get(prop.name), olds, now)) is not None
    ]
    return CheckOutcome(inputs, lead)


def _checked(
    props: tuple[Property, ...], bag: Mapping[str, Any], prefix: str, problems: dict[str, str]
) -> dict[str, Any]:
    """The canonical values of `bag`'s set keys (unknowns as they are); what is wrong with
    each other one goes into `problems`, by path, followed by what the path accepts."""
    allowed = [p.name for p in props]
    for key in bag:
        if key not in allowed:
            problems[prefix + key] = f"unknown property; allowed: {', '.join(allowed)}"
    values: dict[str, Any] = {}
    for prop in props:
        path, value = prefix + prop.name, bag.get(prop.name)
        problem = _problem(prop, value)
        if problem is not None:
            problems[path] = f"{problem}; expected {ALLOWED[path]}"
        elif prop.shape == "config" and isinstance(value, Mapping):
            values[prop.name] = _checked(CONFIG_PROPERTIES, value, "config.", problems) or None
        else:
            values[prop.name] = canonical_form(prop.shape, value)
    return {key: value for key, value in values.items() if value is not None}


def _problem(prop: Property, value: Any) -> str | None:
    """What is wrong with a value of `prop`, in the user's terms; None for an unknown value."""
    shape, shown = prop.shape, _clipped(repr(value))
    if value is None or isinstance(value, Unknown):
        return "is required" if value is None and prop.required else None
    if shape in ("text", "uuid", "timestamp") and not isinstance(value, str):
        return f"must be a string, got {described(value)}"
    if shape == "text" and not value.strip():
        return "must not be empty or blank"
    if shape == "text" and read_mark(value) is not None:
        # A marked name makes the server one under way (or a killed run's leftover) to every
        # create of the stack. The name is not shown: it may be a secret.
        return "must not end in a Pulumi create mark, [pulumi creating …]"
    if shape in ("uuid", "timestamp"):
        try:
            _canonical_text(shape, value)
        except ValueError:
            return f"{shown} is not {'a UUID' if shape == 'uuid' else 'an RFC 3339 timestamp'}"
    if shape == "string_set":
        return _string_set_problem(value)
    if shape == "choice" and value not in prop.choices:
        return f"got {shown if isinstance(value, str) else described(value)}"
    if (shape == "flag" and not isinstance(value, bool)) or (
        shape == "config" and not isinstance(value, Mapping)
    ):
        return f"got {described(value)}"
    return None


def _string_set_problem(value: Any) -> str | None:
    if not isinstance(value, list | tuple):
        return f"must be a list, got {described(value)}"
    if not value:
        return "must not be empty (omit it to apply no filter)"
    problems = [
        f"item {index} must be a string, got {described(item)}"
        if not isinstance(item, str)
        else f"item {index} must not be empty or blank"
        for index, item in enumerate(value)
        if not isinstance(item, Unknown) and not (isinstance(item, str) and item.strip())
    ]
    return "; ".join(problems) or None


def _lead_failure(
    prop: Property, when: Any, olds: Mapping[str, Any] | None, now: datetime | None
) -> InputFailure | None:
    """A set or changed timestamp that lies less than `prop.lead_seconds` ahead of `now`."""
    if now is None or not isinstance(when, str) or prop.lead_seconds is None:
        return None
    previous = (olds or {}).get(prop.name)
    if isinstance(previous, str) and canonical_form("timestamp", previous) == when:
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


# -- how a failure shows a value -------------------------------------------------------------


def _clipped(text: str) -> str:
    """At most 60 characters: a failure quotes a value, never a whole document."""
    return text if len(text) <= 60 else text[:57] + "..."


def described(value: Any) -> str:
    """A value as the user wrote it, its kind first: `the number 5`, never `float` (the wire
    turns every number into a float), `the boolean True`, `the list [...]`."""
    kind = next((text for kind, text in _KINDS if isinstance(value, kind)), None)
    if value is None or kind is None:
        return "None" if value is None else f"a value of type {type(value).__name__}"
    return f"{kind} {_clipped(_written(value))}"


_KINDS = (
    (bool, "the boolean"),
    (int | float, "the number"),
    (str, "the string"),
    (list | tuple, "the list"),
    (Mapping, "the object"),
)


def _written(value: Any) -> str:
    """A value as Python source, numbers as the user wrote them (`[1, 'a']`, not `[1.0, 'a']`);
    a whole number as written, not as the float the wire made of it."""
    if isinstance(value, float) and value.is_integer() and abs(value) <= 2**53:
        return str(int(value))
    if isinstance(value, Unknown):
        return "<unknown>"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_written(item) for item in value) + "]"
    if isinstance(value, Mapping):
        pairs = (f"{_written(key)}: {_written(item)}" for key, item in value.items())
        return "{" + ", ".join(pairs) + "}"
    return repr(value)
