"""What changed between a resource's state and its desired inputs (in canonical form; an unknown
is a change), and the create and PATCH bodies that apply it. Pure functions."""

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
    changed = [p for p in DIFFED_INPUTS if _differs(p, olds.get(p.name), news.get(p.name))]
    return InputDiff(tuple(p.name for p in changed), tuple(p.name for p in changed if p.replaces))


def _differs(prop: Property, old: Any, new: Any) -> bool:
    """Whether `new` is another value than `old`: in canonical form, or not known yet."""
    return contains_unknown(new) or canonical_form(prop, old) != canonical_form(prop, new)


def as_recorded(live: Mapping[str, Any], recorded: Mapping[str, Any]) -> dict[str, Any]:
    """The inputs Truto has (`live`), each one equal to the `recorded` one as recorded: a
    refresh shows no drift where Truto merely echoes a default."""
    inputs = dict(live)
    for prop in DIFFED_INPUTS:
        if not _differs(prop, recorded.get(prop.name), live.get(prop.name)):
            inputs.pop(prop.name, None)
            if recorded.get(prop.name) is not None:
                inputs[prop.name] = recorded[prop.name]
    return inputs


def create_body(inputs: Mapping[str, Any]) -> dict[str, Any]:
    """The POST body: a PATCH's from nothing, with `config` `{}` (every tool) if none declared."""
    return {**patch_body({}, inputs), "config": dict(inputs.get("config") or {})}


def patch_body(olds: Mapping[str, Any], news: Mapping[str, Any]) -> dict[str, Any]:
    """The fields that changed from `olds` to `news` (a removed `expires_at` as `null`). The
    program is the whole desired `config`, sent whole with each key it drops as its default, else
    `null`: right whether Truto replaces `config`, merges it, or merges and refuses `null`."""
    changes = diff_inputs(olds, news).changes
    return {
        p.name: _config_patch(p, olds.get(p.name), news.get(p.name))
        if p.shape == "config"
        else news.get(p.name)
        for p in DIFFED_INPUTS
        if p.patchable and p.name in changes
    }


def _config_patch(prop: Property, old: Any, new: Any) -> dict[str, Any]:
    """The desired `config`, and each key the old one has beyond it as its default, or `null`."""
    desired = {key: value for key, value in (new or {}).items() if value is not None}
    dropped = [key for key in canonical_form(prop, old) or {} if key not in desired]
    return {**desired, **{key: CONFIG_DEFAULTS.get(key) for key in dropped}}
