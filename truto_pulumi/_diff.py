"""What changed between a resource's state and its desired inputs, and the bodies of the create
and the PATCH that apply them.

Pure functions, no I/O. Only the inputs that describe the server are compared (not
`adopt_id`, which matters only at create), in canonical form: methods and
tags as sets, timestamps as instants, an empty `config` the same as none, and a `config` key at
its documented default the same as the key absent (Truto may echo defaults). An unknown value
is a change; on `integrated_account_id` it forces a replacement, as any real change there does.
A `config` key the program does not declare is removed, also one this provider does not know
(an option of a newer Truto set in the dashboard): the program is the whole desired `config`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ._inputs import canonical_form, contains_unknown
from ._schema import CONFIG_BY_NAME, DIFFED_INPUTS, INPUTS, Property


@dataclass(frozen=True)
class InputDiff:
    """The managed inputs that differ, and those among them that force a replacement."""

    changes: tuple[str, ...]
    replaces: tuple[str, ...]


def diff_inputs(olds: Mapping[str, Any], news: Mapping[str, Any]) -> InputDiff:
    """Compare previous outputs (or inputs) with new inputs, key by key."""
    changed = [p for p in DIFFED_INPUTS if _differs(p, olds.get(p.name), news.get(p.name))]
    return InputDiff(tuple(p.name for p in changed), tuple(p.name for p in changed if p.replaces))


def as_recorded(live: Mapping[str, Any], recorded: Mapping[str, Any]) -> dict[str, Any]:
    """The inputs Truto has (`live`), each one the diff finds equal to the `recorded` one in
    its recorded form: a refresh shows no drift where Truto merely echoes a default."""
    inputs = dict(live)
    for prop in DIFFED_INPUTS:
        if not _differs(prop, recorded.get(prop.name), live.get(prop.name)):
            inputs.pop(prop.name, None)
            if recorded.get(prop.name) is not None:
                inputs[prop.name] = recorded[prop.name]
    return inputs


def create_body(inputs: Mapping[str, Any]) -> dict[str, Any]:
    """The body of the POST that creates a server with these (canonical) inputs. `config` is
    always sent, `{}` (every tool of the account) when none is declared: Truto requires it."""
    body: dict[str, Any] = {}
    for prop in INPUTS:
        value = inputs.get(prop.name)
        if prop.shape == "config":
            value = dict(value or {})
        if prop.patchable and prop.truto is not None and value is not None:
            body[prop.truto] = value
    return body


def patch_body(olds: Mapping[str, Any], news: Mapping[str, Any]) -> dict[str, Any]:
    """The PATCH body that takes a server from `olds` to `news`: only the fields that changed.

    A changed `config` is sent whole; each key the server has that `news` does not declare goes
    as its documented default, or as `null` where it has none (known or not). That gives the
    declared `config` whether Truto replaces it, merges it one level deep with `null` deleting a
    key, or merges it and refuses `null` for a typed key.
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
    """The whole desired `config`, and for each key of the old one it does not declare (and that
    is not at its default already), that key's default (`null` when it has none)."""
    desired = {key: value for key, value in (new or {}).items() if value is not None}
    previous = canonical_form("config", old) or {}
    return {**desired, **{key: _default(key) for key in previous if key not in desired}}


def _default(key: str) -> Any:
    prop = CONFIG_BY_NAME.get(key)
    return None if prop is None else prop.default


def _differs(prop: Property, old: Any, new: Any) -> bool:
    """Whether `new` is another value than `old`: in canonical form, or not known yet."""
    if contains_unknown(new):
        return True
    return bool(canonical_form(prop.shape, old) != canonical_form(prop.shape, new))
