"""What changed between a resource's state and its desired inputs, and the PATCH that applies it.

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

from ._inputs import DIFFED_KEYS, canonical_config, contains_unknown, parse_timestamp

__all__ = [
    "PATCHABLE_KEYS",
    "REPLACE_KEYS",
    "InputDiff",
    "diff_inputs",
    "patch_body",
]

REPLACE_KEYS = ("integrated_account_id",)
"""Inputs Truto cannot change in place: a change replaces the server."""

PATCHABLE_KEYS = ("name", "config", "expires_at")
"""Inputs a PATCH can change."""


@dataclass(frozen=True)
class InputDiff:
    """The managed inputs that differ, and those among them that force a replacement."""

    changes: tuple[str, ...]
    replaces: tuple[str, ...]


def diff_inputs(olds: Mapping[str, Any], news: Mapping[str, Any]) -> InputDiff:
    """Compare previous outputs (or inputs) with new inputs, key by key."""
    changes = tuple(key for key in DIFFED_KEYS if _differs(key, olds.get(key), news.get(key)))
    return InputDiff(changes, tuple(key for key in changes if key in REPLACE_KEYS))


def patch_body(olds: Mapping[str, Any], news: Mapping[str, Any]) -> dict[str, Any]:
    """The PATCH body that takes a server from `olds` to `news`: only the fields that changed.

    A changed `config` is sent whole, with `null` for every key the server has that `news` does
    not declare (known or not), which gives the intended result whether Truto replaces `config`
    or merges it one level deep.
    A removed `expires_at` is sent as `null`, which clears the expiry.
    """
    body: dict[str, Any] = {}
    for key in diff_inputs(olds, news).changes:
        if key == "config":
            body["config"] = _config_patch(olds.get("config"), news.get("config"))
        elif key in PATCHABLE_KEYS:
            body[key] = news.get(key)
    return body


def _config_patch(old: Any, new: Any) -> dict[str, Any]:
    """The whole desired `config`, and `null` for each key of the old one it does not declare."""
    desired = dict(canonical_config(new) or {})
    previous = canonical_config(old) or {}
    removed = {key: None for key in previous if key not in desired}
    return {**desired, **removed}


def _differs(key: str, old: Any, new: Any) -> bool:
    if contains_unknown(new):
        return True
    return bool(_comparable(key, old) != _comparable(key, new))


def _comparable(key: str, value: Any) -> Any:
    if value is None:
        return None
    if key == "config":
        config = canonical_config(value)
        if not isinstance(config, Mapping):
            return config
        return {name: _comparable(name, item) for name, item in config.items()}
    if key in ("methods", "tags") and isinstance(value, list | tuple):
        return frozenset(value)
    if key == "expires_at" and isinstance(value, str):
        try:
            return parse_timestamp(value)
        except ValueError:
            return value
    if key == "integrated_account_id" and isinstance(value, str):
        return value.lower()
    return value
