"""What changed between a resource's state and its desired inputs, and the bodies of the create
and the PATCH that apply them. Pure functions. Only the inputs that describe the server are
compared, in canonical form (`_inputs.canonical_form`); an unknown value is a change. The program
is the whole desired `config`: a key it does not declare is removed, known or not.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ._inputs import canonical_form, contains_unknown
from ._schema import CONFIG_DEFAULTS, DIFFED_INPUTS, Property


@dataclass(frozen=True)
class InputDiff:
    """The managed inputs that differ, and those among them that force a replacement."""

    changes: tuple[str, ...]
    replaces: tuple[str, ...]


def diff_inputs(olds: Mapping[str, Any], news: Mapping[str, Any]) -> InputDiff:
    """Compare previous outputs (or inputs) with new inputs, key by key."""
    changed = [p for p in DIFFED_INPUTS if _differs(p, olds.get(p.name), news.get(p.name))]
    return InputDiff(tuple(p.name for p in changed), tuple(p.name for p in changed if p.replaces))


def _differs(prop: Property, old: Any, new: Any) -> bool:
    """Whether `new` is another value than `old`: in canonical form, or not known yet."""
    return contains_unknown(new) or canonical_form(prop, old) != canonical_form(prop, new)


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
    """The body of the POST that creates a server with these (canonical) inputs: a PATCH's from
    nothing, and `config` as declared, `{}` (every tool of the account) if none: Truto needs it."""
    return {**patch_body({}, inputs), "config": dict(inputs.get("config") or {})}


def patch_body(olds: Mapping[str, Any], news: Mapping[str, Any]) -> dict[str, Any]:
    """The PATCH body that takes a server from `olds` to `news`: only the fields that changed,
    a removed `expires_at` as `null` (which clears it). A changed `config` is sent whole, each key
    the server has that `news` does not declare as its documented default, else `null` (known or
    not): the declared `config` whether Truto replaces it, merges it one level deep with `null`
    deleting a key, or merges it and refuses `null` for a typed key."""
    changes = diff_inputs(olds, news).changes
    return {
        p.name: _config_patch(p, olds.get(p.name), news.get(p.name))
        if p.shape == "config"
        else news.get(p.name)
        for p in DIFFED_INPUTS
        if p.patchable and p.name in changes
    }


def _config_patch(prop: Property, old: Any, new: Any) -> dict[str, Any]:
    """The whole desired `config`, and for each key of the old one it does not declare (and that
    is not at its default already), that key's default (`null` when it has none)."""
    desired = {key: value for key, value in (new or {}).items() if value is not None}
    dropped = [key for key in canonical_form(prop, old) or {} if key not in desired]
    return {
        **desired,
        **{key: CONFIG_DEFAULTS.get(key) for key in dropped},
    }
