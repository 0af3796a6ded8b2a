"""A TrutoMcpServer's inputs: their keys, what each accepts, and their canonical form.

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

__all__ = [
    "ALLOWED",
    "CONFIG_KEYS",
    "DIFFED_KEYS",
    "INPUT_KEYS",
    "MIN_EXPIRY_LEAD",
    "canonical_config",
    "canonical_live_inputs",
    "canonical_string_set",
    "canonical_timestamp",
    "canonical_uuid",
    "contains_unknown",
    "parse_timestamp",
    "unchanged_inputs",
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
    """The inputs a server has in Truto, in canonical form, for refresh to compare with state.

    Field by field and without validation (refresh must not load pydantic): a value that does
    not parse is kept as Truto sent it, so that it shows as a difference rather than an error.
    """
    inputs = {key: server[key] for key in DIFFED_KEYS if server.get(key) is not None}
    if isinstance(account := inputs.get("integrated_account_id"), str):
        inputs["integrated_account_id"] = _or_as_sent(canonical_uuid, account)
    if isinstance(expires_at := inputs.get("expires_at"), str):
        inputs["expires_at"] = _or_as_sent(canonical_timestamp, expires_at)
    config = inputs.pop("config", None)
    if isinstance(config, Mapping):
        config = {
            key: canonical_string_set(value) if key in _SET_KEYS and _strings(value) else value
            for key, value in config.items()
        }
    config = canonical_config(config)
    if config is not None:
        inputs["config"] = config
    return inputs


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


_SET_KEYS = ("methods", "tags")


def _strings(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(item, str) for item in value)


def _or_as_sent(canonical: Callable[[str], str], value: str) -> str:
    try:
        return canonical(value)
    except ValueError:
        return value
