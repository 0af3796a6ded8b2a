"""Property-based tests of `check`: any property bag gets an answer, never an exception, and
a valid bag in any spelling comes back in the canonical form refresh reads back from Truto.

The bags are what the wire can deliver: wrong types, numbers as floats, None, unknowns
(`pulumi.output.Unknown`) anywhere, huge and unicode strings, extra keys, valid-looking values
mixed with invalid ones. The answer is either failures that each name a property and a reason,
or canonical inputs, which check again to themselves.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping
from datetime import datetime, timedelta, timezone
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from pulumi.output import Unknown

from truto_pulumi._diff import as_recorded
from truto_pulumi._inputs import (
    CheckOutcome,
    InputFailure,
    canonical_live_inputs,
    check_inputs,
    contains_unknown,
)
from truto_pulumi._schema import CONFIG_KEYS, INPUT_KEYS

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=timezone.utc)
METHOD_NAMES = ("list", "get", "create", "update", "delete", "read", "write", "search_all")
UUID_KEYS = ("integrated_account_id", "adopt_id")
CANONICAL_TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{3})?Z$")
FUZZ = settings(max_examples=250, deadline=None)
VALID = settings(max_examples=200, deadline=None)


# -- strategies: anything the wire delivers --------------------------------------------------

unknowns = st.builds(Unknown)
wire_numbers = st.one_of(
    st.integers(min_value=-(2**53), max_value=2**53).map(float),  # ints arrive as floats
    st.floats(),  # nan and infinities included
)
scalars = st.one_of(st.none(), st.booleans(), wire_numbers, st.text(), unknowns)
anything = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=12), inner, max_size=4)
    ),
    max_leaves=12,
)


# -- strategies: valid values ----------------------------------------------------------------


def _any_case(text: str, flips: list[bool]) -> str:
    return "".join(c.upper() if flip else c for c, flip in zip(text, flips, strict=False))


uuids_any_case = st.builds(
    _any_case, st.uuids().map(str), st.lists(st.booleans(), min_size=36, max_size=36)
)
non_blank = st.text(min_size=1, max_size=30).filter(lambda s: bool(s.strip()))
method_lists = st.lists(st.sampled_from(METHOD_NAMES) | non_blank, min_size=1, max_size=8)
tag_lists = st.lists(non_blank, min_size=1, max_size=8)
config_values: dict[str, st.SearchStrategy[Any]] = {
    "methods": method_lists,
    "tags": tag_lists,
    "tool_exposure": st.sampled_from(["all", "discovery"]),
    "require_api_token_auth": st.booleans(),
}


@st.composite
def future_timestamps(draw: st.DrawFn) -> tuple[str, str]:
    """(RFC 3339 text in some offset and spelling, its expected canonical form).

    At least two minutes after NOW; at most year 9998 (the calendar edges have their own test).
    """
    instant = draw(
        st.datetimes(
            min_value=(NOW + timedelta(minutes=2)).replace(tzinfo=None),
            max_value=datetime(9998, 12, 31),
            timezones=st.just(timezone.utc),
        )
    )
    offset_minutes = draw(st.integers(min_value=-(24 * 60 - 1), max_value=24 * 60 - 1))
    local = instant.astimezone(timezone(timedelta(minutes=offset_minutes)))
    separator = draw(st.sampled_from("Tt "))
    text = (
        f"{local.year:04d}-{local.month:02d}-{local.day:02d}{separator}"
        f"{local.hour:02d}:{local.minute:02d}:{local.second:02d}"
    )
    digits = draw(st.integers(min_value=0, max_value=9))
    if digits:
        extra = draw(st.text(alphabet="0123456789", min_size=3, max_size=3))
        text += "." + (f"{local.microsecond:06d}" + extra)[:digits]
    if offset_minutes == 0:
        text += draw(st.sampled_from(["Z", "z", "+00:00", "-00:00"]))
    else:
        sign = "+" if offset_minutes > 0 else "-"
        hours, minutes = divmod(abs(offset_minutes), 60)
        text += f"{sign}{hours:02d}:{minutes:02d}"
    millis = int((f"{local.microsecond:06d}" + "000")[: min(digits, 3)].ljust(3, "0"))
    canonical = instant.strftime("%Y-%m-%dT%H:%M:%S")
    canonical += (f".{millis:03d}" if millis else "") + "Z"
    return text, canonical


@st.composite
def valid_bags(draw: st.DrawFn) -> tuple[dict[str, Any], dict[str, Any]]:
    """(a valid property bag, the canonical inputs `check` must answer)."""
    account = draw(uuids_any_case)
    name = draw(non_blank)
    bag: dict[str, Any] = {"integrated_account_id": account, "name": name}
    expected: dict[str, Any] = {"integrated_account_id": account.lower(), "name": name}
    if draw(st.booleans()):  # a None is an unset key, as a program may send
        optional = {key: st.none() | values for key, values in config_values.items()}
        bag["config"] = config = draw(st.fixed_dictionaries({}, optional=optional))
        canonical = {
            key: sorted(set(value)) if isinstance(value, list) else value
            for key, value in config.items()
            if value is not None
        }
        if canonical:
            expected["config"] = canonical
    if draw(st.booleans()):
        bag["expires_at"], expected["expires_at"] = draw(future_timestamps())
    for key in UUID_KEYS[1:]:
        if draw(st.booleans()):
            bag[key] = draw(uuids_any_case)
            expected[key] = bag[key].lower()
    if draw(st.booleans()):
        bag["__provider"] = draw(st.text(max_size=100))
    return bag, expected


# -- strategies: valid-looking values mixed with invalid ones --------------------------------

near_uuids = (
    st.uuids()
    .map(str)
    .flatmap(lambda u: st.sampled_from([u.replace("-", ""), "{" + u + "}", u[:-1], u + "0"]))
)
near_timestamps = st.one_of(
    future_timestamps().map(lambda pair: pair[0]),
    future_timestamps().map(lambda pair: pair[0][:-1]),  # offset cut short
    future_timestamps().map(lambda pair: pair[0] + "\n"),
    # Years 1000-9998: the calendar's edges are pinned in `test_inputs.py`.
    st.datetimes(min_value=datetime(1000, 1, 2), max_value=datetime(9998, 12, 31)).map(
        lambda d: d.isoformat() + "Z"
    ),
    st.sampled_from(["2026-11-27T12:00:30Z", "2026-02-30T00:00:00Z", "2027-01-01T24:00:00Z"]),
)


extra_keys = st.dictionaries(
    # Non-empty: the resource class sends fixed keys, so a key "" cannot reach check.
    st.text(min_size=1, max_size=20).filter(lambda k: k not in INPUT_KEYS + CONFIG_KEYS),
    anything,
    max_size=2,
)
replacements = st.one_of(anything, unknowns, near_uuids, near_timestamps, st.lists(non_blank))


@st.composite
def perturbed_bags(draw: st.DrawFn) -> dict[str, Any]:
    """A valid bag with a few of its values (top level or in config) replaced by anything, a
    near-miss or an unknown, and perhaps keys of no property."""
    bag, _ = draw(valid_bags())
    keys = st.sampled_from([*INPUT_KEYS, *CONFIG_KEYS])
    for key, value in draw(st.dictionaries(keys, replacements, max_size=2)).items():
        if key in INPUT_KEYS:
            bag[key] = value
        elif isinstance(bag.get("config"), dict):
            bag["config"][key] = value
    return {**draw(st.one_of(st.just({}), extra_keys)), **bag}


# -- what a well-formed answer is ------------------------------------------------------------


def assert_canonical(inputs: Mapping[str, Any], olds: Mapping[str, Any]) -> None:
    """Canonical inputs: managed keys only, each in the one spelling `check` produces, which
    `check` gives again (what lets the provider return inputs identical to the old ones)."""
    assert {"integrated_account_id", "name"} <= set(inputs) <= set(INPUT_KEYS)
    for key, value in inputs.items():
        if isinstance(value, str) and key in UUID_KEYS:
            assert value == str(uuid.UUID(value))
        if isinstance(value, str) and key == "expires_at":
            assert CANONICAL_TIMESTAMP.match(value), value
    config = inputs.get("config")
    if isinstance(config, dict):
        assert config, "an empty config is dropped"
        assert set(config) <= set(CONFIG_KEYS)
        assert None not in config.values()
    if not contains_unknown(inputs):
        assert check_inputs(inputs, olds=olds, now=NOW) == CheckOutcome(dict(inputs), [])


def assert_named(failures: list[InputFailure], bag: Mapping[str, Any]) -> None:
    """Each failure names its property where the engine finds it (a top-level key of the bag,
    else "" with the dotted path opening the reason: never `{<nil>}`) and says what is wrong."""
    for failure in failures:
        if failure.property:
            assert bag.get(failure.property) is not None, vars(failure)
        else:
            assert failure.reason.startswith(f"{failure.path}: "), vars(failure)
        assert failure.reason.strip(), vars(failure)


# -- the properties --------------------------------------------------------------------------


@FUZZ
@given(
    perturbed_bags(),
    st.one_of(st.just({}), perturbed_bags(), valid_bags().map(lambda pair: pair[1])),
)
def test_any_bag_and_olds_get_failures_or_stable_canonical_inputs_never_an_exception(
    bag: dict[str, Any], olds: dict[str, Any]
) -> None:
    outcome = check_inputs(bag, olds=olds, now=NOW)
    if outcome.failures:
        assert_named(outcome.failures, bag)
    else:
        assert_canonical(outcome.inputs, olds)


@VALID
@given(valid_bags())
def test_a_valid_bag_comes_back_canonical_as_refresh_reads_it_back_from_truto(
    pair: tuple[dict[str, Any], dict[str, Any]],
) -> None:
    bag, expected = pair
    assert check_inputs(bag, now=NOW) == CheckOutcome(expected, [])
    assert_canonical(expected, {})
    # Refresh canonicalizes what Truto answers without validating it: for any valid server it
    # must give check's canonical form, or refresh would report drift.
    server = {key: value for key, value in bag.items() if key != "adopt_id"}
    live = {key: value for key, value in expected.items() if key != "adopt_id"}
    assert as_recorded(canonical_live_inputs(server), live) == live
