"""A TrutoMcpServer's inputs in canonical form, shape by shape (`_schema.Shape`).

Canonical form is what `check` (`_check.py`) returns and what create/update/read echo as
outputs, so that the next diff compares like with like: methods and tags de-duplicated and
sorted, the account id as a lower-case UUID, timestamps in UTC at millisecond precision
(Truto's own precision), an empty `config` dropped. Unknown (computed) values pass through.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timedelta, timezone
from typing import Any

from pulumi.output import Unknown

from ._schema import DIFFED_INPUTS, Shape, config_property

__all__ = [
    "canonical_config",
    "canonical_live_inputs",
    "canonical_string_set",
    "canonical_timestamp",
    "canonical_uuid",
    "contains_unknown",
    "lead_problem",
    "parse_timestamp",
    "unchanged_inputs",
]

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


def lead_problem(when: str, lead_seconds: int, now: datetime) -> str | None:
    """Why a timestamp that must lie `lead_seconds` after `now` does not; None when it does."""
    lead = parse_timestamp(when) - now
    if lead >= timedelta(seconds=lead_seconds):
        return None
    return "is in the past" if lead.total_seconds() <= 0 else f"is less than {lead_seconds} s ahead"


def canonical_timestamp(value: str) -> str:
    """The canonical text of a timestamp: UTC, `Z`, milliseconds only when not zero."""
    instant = parse_timestamp(value)
    text = f"{instant.year:04d}" + instant.strftime("-%m-%dT%H:%M:%S")
    if instant.microsecond:
        text += f".{instant.microsecond // 1000:03d}"
    return text + "Z"


def canonical_config(config: Any) -> Any:
    """Canonical `config`: None when it sets nothing, else only the keys that are set."""
    if not isinstance(config, Mapping):
        return config
    kept = {key: value for key, value in config.items() if value is not None}
    return kept or None


def canonical_uuid(value: str) -> str:
    """A UUID as lower-case hyphenated text; ValueError when `value` is not a UUID."""
    return str(uuid.UUID(value))


def canonical_string_set(items: Sequence[str]) -> list[str]:
    """A set of strings (methods, tags) as a sorted list without duplicates."""
    return sorted(set(items))


def canonical_live_inputs(server: Mapping[str, Any]) -> dict[str, Any]:
    """The inputs a server has in Truto, in canonical form, for refresh to compare with state;
    a `config` key at its documented default is left out, as Truto may or may not echo it.

    Field by field and without validation (refresh must not load pydantic): a value that does
    not parse is kept as Truto sent it, so that it shows as a difference rather than an error.
    """
    inputs: dict[str, Any] = {}
    for prop in DIFFED_INPUTS:
        assert prop.shape is not None  # every input has one
        value = _live_value(prop.shape, server.get(str(prop.truto)))
        if value is not None:
            inputs[prop.name] = value
    return inputs


def _live_value(shape: Shape, value: Any) -> Any:
    if shape == "config":
        if isinstance(value, Mapping):
            value = {key: _live_config_value(key, item) for key, item in value.items()}
        return canonical_config(value)
    if isinstance(value, str) and shape == "uuid":
        return _or_as_sent(canonical_uuid, value)
    if isinstance(value, str) and shape == "timestamp":
        return _or_as_sent(canonical_timestamp, value)
    if shape == "string_set" and _strings(value):
        return canonical_string_set(value)
    return value


def _live_config_value(key: str, value: Any) -> Any:
    prop = config_property(key)
    if prop is None or prop.shape is None:
        return value  # a key of a newer Truto: kept, so the diff removes it
    if prop.at_default(value):
        return None  # a Truto that echoes defaults: the same as the key absent
    return _live_value(prop.shape, value)


def unchanged_inputs(olds: Mapping[str, Any], news: Mapping[str, Any]) -> dict[str, Any] | None:
    """The old inputs if the new ones are identical to them (`__` keys aside), else None.

    Check returns these as they are, without loading pydantic: check of its own answer is that
    answer, and like an unchanged expiry, an unchanged value refresh read from Truto is not
    judged again. Identical means of the same types too: `1` is not `True`.
    """
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


def _strings(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(item, str) for item in value)


def _or_as_sent(canonical: Callable[[str], str], value: str) -> str:
    try:
        return canonical(value)
    except ValueError:
        return value
