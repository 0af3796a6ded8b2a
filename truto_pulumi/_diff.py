"""What changed between a resource's state and its desired inputs, and the bodies of the create
and the PATCH that apply them.

Pure functions, no I/O. Only the inputs that describe the server are compared (not
`adopt_id`, which matters only at create), in canonical form: methods and
tags as sets, timestamps as instants, an empty `config` the same as none. An unknown value is a
change; on `integrated_account_id` it forces a replacement, as any real change there does.
A `config` key the program does not declare is removed, also one this provider does not know
(an option of a newer Truto set in the dashboard): the program is the whole desired `config`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ._inputs import canonical_config, contains_unknown, parse_timestamp
from ._schema import DIFFED_INPUTS, INPUTS, Property, Shape, config_property

__all__ = [
    "InputDiff",
    "create_body",
    "diff_inputs",
    "patch_body",
]


@dataclass(frozen=True)
class InputDiff:
    """The managed inputs that differ, and those among them that force a replacement."""

    changes: tuple[str, ...]
    replaces: tuple[str, ...]


def diff_inputs(olds: Mapping[str, Any], news: Mapping[str, Any]) -> InputDiff:
    """Compare previous outputs (or inputs) with new inputs, key by key."""
    changed = [p for p in DIFFED_INPUTS if _differs(p, olds.get(p.name), news.get(p.name))]
    return InputDiff(tuple(p.name for p in changed), tuple(p.name for p in changed if p.replaces))


def create_body(inputs: Mapping[str, Any]) -> dict[str, Any]:
    """The body of the POST that creates a server with these (canonical) inputs."""
    return {
        p.truto: inputs[p.name]
        for p in INPUTS
        if p.patchable and p.truto is not None and inputs.get(p.name) is not None
    }


def patch_body(olds: Mapping[str, Any], news: Mapping[str, Any]) -> dict[str, Any]:
    """The PATCH body that takes a server from `olds` to `news`: only the fields that changed.

    A changed `config` is sent whole, with `null` for every key the server has that `news` does
    not declare (known or not), which gives the intended result whether Truto replaces `config`
    or merges it one level deep.
    A removed `expires_at` is sent as `null`, which clears the expiry.
    """
    body: dict[str, Any] = {}
    changes = diff_inputs(olds, news).changes
    for prop in INPUTS:
        if prop.name not in changes or not prop.patchable or prop.truto is None:
            continue
        if prop.shape == "config":
            body[prop.truto] = _config_patch(olds.get(prop.name), news.get(prop.name))
        else:
            body[prop.truto] = news.get(prop.name)
    return body


def _config_patch(old: Any, new: Any) -> dict[str, Any]:
    """The whole desired `config`, and `null` for each key of the old one it does not declare."""
    desired = dict(canonical_config(new) or {})
    previous = canonical_config(old) or {}
    removed = {key: None for key in previous if key not in desired}
    return {**desired, **removed}


def _differs(prop: Property, old: Any, new: Any) -> bool:
    if contains_unknown(new):
        return True
    assert prop.shape is not None
    return bool(_comparable(prop.shape, old) != _comparable(prop.shape, new))


def _comparable(shape: Shape, value: Any) -> Any:
    """A value as the diff compares it: sets as sets, timestamps as instants, UUIDs in one case."""
    if value is None:
        return None
    if shape == "config":
        config = canonical_config(value)
        if not isinstance(config, Mapping):
            return config
        return {key: _comparable_config_value(key, item) for key, item in config.items()}
    if shape == "string_set" and isinstance(value, list | tuple):
        return frozenset(value)
    if shape == "timestamp" and isinstance(value, str):
        try:
            return parse_timestamp(value)
        except ValueError:
            return value
    if shape == "uuid" and isinstance(value, str):
        return value.lower()
    return value


def _comparable_config_value(key: str, value: Any) -> Any:
    prop = config_property(key)
    if prop is None or prop.shape is None or value is None:
        return value
    return _comparable(prop.shape, value)
