"""Inputs (`_inputs`): what check answers (canonical inputs, or one failure per bad property
naming it and what it accepts), a server read back from Truto in the same canonical form, and
which inputs are identical to the old ones, as tables; then, with generated bags of anything the
wire delivers, that every bag gets such an answer and never an exception."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pulumi.output import Unknown

from truto_pulumi._diff import as_recorded
from truto_pulumi._inputs import (
    CheckOutcome,
    canonical_live_inputs,
    check_inputs,
    contains_unknown,
    described,
    unchanged_inputs,
)
from truto_pulumi._schema import CONFIG_KEYS, INPUT_KEYS

from .kit import ACCOUNT, bag

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
SERVER = {"integrated_account_id": ACCOUNT, "name": "reader", "id": "x", "token": "t"}
"""A server as Truto answers it: its fields and more."""


@pytest.mark.parametrize(
    ("given", "canonical"),
    [
        pytest.param({}, {}, id="minimal"),
        pytest.param({"integrated_account_id": ACCOUNT.upper()}, {}, id="account_id_lower_cased"),
        pytest.param({"config": {"methods": ["write", "read", "read"], "tags": ["b", "a", "b"]}},
                     {"config": {"methods": ["read", "write"], "tags": ["a", "b"]}},
                     id="methods_and_tags_deduplicated_and_sorted"),
        pytest.param({"config": {}}, {}, id="empty_config_dropped"),
        pytest.param({"config": {"tags": None, "tool_exposure": "discovery"}},
                     {"config": {"tool_exposure": "discovery"}}, id="unset_config_key_dropped"),
        *(
            pytest.param({"expires_at": given}, {"expires_at": canonical}, id=name)
            for name, given, canonical in [
                ("expiry_in_utc", "2027-01-01 01:00:00+01:00", "2027-01-01T00:00:00Z"),
                ("negative_offset", "2027-01-01T01:00:00.5-05:30", "2027-01-01T06:30:00.500Z"),
                ("to_milliseconds", "2027-01-01t00:00:00.123456789z", "2027-01-01T00:00:00.123Z"),
                ("zero_ms_dropped", "2027-01-01T00:00:00.000-00:00", "2027-01-01T00:00:00Z"),
                ("before_year_1000", "0999-06-01T00:00:00+00:00", "0999-06-01T00:00:00Z"),
            ]
        ),
        pytest.param({"__provider": "pickled"}, {}, id="provider_key_not_part_of_inputs"),
    ],
)  # fmt: skip
def test_valid_inputs_and_a_server_read_back_from_truto_take_one_canonical_form(
    given: dict[str, Any], canonical: dict[str, Any]
) -> None:
    expected = bag(**canonical)
    assert check_inputs(bag(**given)) == CheckOutcome(expected, [])
    assert check_inputs(expected).inputs == expected
    assert canonical_live_inputs({**SERVER, **given}) == expected


def test_check_keeps_a_declared_default_that_refresh_reads_as_the_key_absent() -> None:
    config = {"tool_exposure": "all", "require_api_token_auth": False}
    assert check_inputs(bag(config=config)).inputs == bag(config=config)
    answer = {**SERVER, "config": {**config, "tags": ["a"]}}
    assert canonical_live_inputs(answer) == bag(config={"tags": ["a"]})


@pytest.mark.parametrize(
    "answer",
    [
        {"expires_at": "soon", "integrated_account_id": "not-a-uuid"},
        {"config": {"tags": ["b", 1], "surprise": True}},
    ],
)
def test_refresh_keeps_what_does_not_parse_as_truto_sent_it(answer: dict[str, Any]) -> None:
    assert canonical_live_inputs({**SERVER, **answer}) == {**bag(), **answer}


METHODS = "a non-empty list of method names (list, get, create, update, delete, a custom method)"
CHOICES = "expected 'all' or 'discovery'"
CONFIG_ALLOWED = ", ".join(CONFIG_KEYS)


@pytest.mark.parametrize(
    ("path", "value", "reason"),
    [
        ("integrated_account_id", None, "is required; expected the UUID of a Truto integrated"),
        ("integrated_account_id", "acct-1", "'acct-1' is not a UUID"),
        ("integrated_account_id", ACCOUNT[:-1], f"'{ACCOUNT[:-1]}' is not a UUID"),
        ("integrated_account_id", 42.0, "must be a string, got the number 42"),
        ("name", None, "is required"),
        ("name", "  ", "must not be empty"),
        ("name", 5.0, "must be a string, got the number 5; expected a non-empty string"),
        ("name", True, "must be a string, got the boolean True"),
        ("name", ["a", 1.0], "must be a string, got the list ['a', 1]"),
        ("config", "all", "got the string 'all'; expected an object with any of methods, tags"),
        ("config.methods", [], "must not be empty (omit it to apply no filter); expected a"),
        ("config.methods", "read", "must be a list, got the string 'read'"),
        ("config.methods", ["read", ""], "item 1 must not be empty"),
        ("config.methods", ["read", 3.0], "item 1 must be a string, got the number 3"),
        ("config.tags", {"crm": 1.0}, "must be a list, got the object {'crm': 1}"),
        ("config.tool_exposure", "some", f"config.tool_exposure: got 'some'; {CHOICES}"),
        ("config.tool_exposure", 1.0, f"got the number 1; {CHOICES}"),
        ("config.require_api_token_auth", "yes", "got the string 'yes'; expected true or false"),
        ("config.scopes", ["x"], f"config.scopes: unknown property; allowed: {CONFIG_ALLOWED}"),
        ("url", "https://x", f"unknown property; allowed: {', '.join(INPUT_KEYS)}"),
        ("expires_at", "next week", "'next week' is not an RFC 3339 timestamp"),
        ("expires_at", 2.5, "must be a string, got the number 2.5; expected an RFC 3339"),
        ("expires_at", "2026-11-27T11:00:00Z", "is in the past (now 2026-11-27T12:00:00Z)"),
        ("expires_at", "2026-11-27T12:00:30Z", "less than 60 s ahead (now 2026-11-27T12:00:00Z)"),
        *[("expires_at", text, "is not an RFC 3339 timestamp") for text in [
            "2027-01-01T00:00:00", "2027-01-01T00:00:00+01", "2027-01-01T00:00:00Z\n",
            "2027-02-30T00:00:00Z", "2027-01-01T24:00:00Z", "2027-01-01T00:00:00+24:00",
            "9999-12-31T23:00:00-05:00", "0001-01-01T00:00:00+01:00"]],
        ("expires_at", "0999-06-01T00:00:00Z", "is in the past"),
    ],
)  # fmt: skip
def test_invalid_property_fails_check_naming_it_and_what_the_user_wrote(
    path: str, value: Any, reason: str
) -> None:
    key = path.removeprefix("config.")
    props = bag(config={key: value}) if key != path else bag(**{path: value})
    (failure,) = check_inputs(props, now=NOW).failures
    # The engine prints "property P value {<nil>}" for a P that is not a key of the inputs:
    # such a path leads the reason instead.
    assert failure.path == path
    assert failure.property == (path if props.get(path) is not None else "")
    assert failure.reason.startswith(f"{path}: ") or failure.property == path
    assert reason in failure.reason
    assert "float" not in failure.reason


def test_each_bad_field_gets_one_failure_saying_what_is_allowed() -> None:
    props = bag(name="", config={"methods": ["", 3.0], "tool_exposure": "x"}, expires_at="soon")
    failures = {f.path: f.reason for f in check_inputs(props, now=NOW).failures}
    assert sorted(failures) == ["config.methods", "config.tool_exposure", "expires_at", "name"]
    assert failures["config.methods"] == (
        "config.methods: item 0 must not be empty or blank; item 1 must be a string, "
        f"got the number 3; expected {METHODS} or the groups read, write"
    )
    assert "e.g. 2027-01-01T00:00:00Z" in failures["expires_at"]


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (-3.0, "the number -3"),
        (1e300, "the number 1e+300"),
        (float("nan"), "the number nan"),
        ([1.0, "a", [True]], "the list [1, 'a', [True]]"),
        (("read",), "the list ['read']"),
        ([Unknown()], "the list [<unknown>]"),
        (None, "None"),
        ("y" * 100, "the string '" + "y" * 56 + "..."),
        (b"raw", "a value of type bytes"),
    ],
)
def test_a_value_is_described_as_the_user_wrote_it(value: Any, text: str) -> None:
    assert described(value) == text


def test_unknown_values_pass_unvalidated_and_known_parts_beside_them_are_checked() -> None:
    name, tags, method = Unknown(), Unknown(), Unknown()
    props = {
        "integrated_account_id": Unknown(),
        "name": name,
        "config": {"methods": ["read", method], "tags": tags},
        "expires_at": Unknown(),
    }
    outcome = check_inputs(props, now=NOW)
    assert outcome.failures == []
    assert outcome.inputs["name"] is name
    assert outcome.inputs["config"] == {"methods": ["read", method], "tags": tags}
    failures = check_inputs(bag(config={"methods": [Unknown(), ""]}), now=NOW).failures
    assert [f.path for f in failures] == ["config.methods"]


@pytest.mark.parametrize(
    ("old", "failed"),
    [
        pytest.param("2026-11-27T11:00:00Z", [], id="unchanged_past_expiry_does_not_block"),
        pytest.param("2026-11-27T12:00:00+01:00", [], id="same_instant_is_unchanged"),
        pytest.param("2026-11-27T10:00:00Z", ["expires_at"], id="changed_must_be_ahead"),
    ],
)
def test_only_a_new_or_changed_expiry_must_lie_ahead(old: str, failed: list[str]) -> None:
    past, olds = bag(expires_at="2026-11-27T11:00:00Z"), bag(expires_at=old)
    assert [f.property for f in check_inputs(past, olds=olds, now=NOW).failures] == failed


def test_a_name_that_parses_as_a_create_mark_is_refused_without_showing_it() -> None:
    marked = "secret-reports [pulumi creating 0123456789ab-0badc0de]"
    (failure,) = check_inputs(bag(name=marked), now=NOW).failures
    assert "must not end in a Pulumi create mark" in failure.reason
    assert "secret-reports" not in failure.reason


CONFIGURED = bag(config={"methods": ["read"], "tags": ["a", "b"], "require_api_token_auth": True})


def alike(**change: Any) -> dict[str, Any]:
    return bag(config={**CONFIGURED["config"], **change})


@pytest.mark.parametrize(
    ("olds", "news", "unchanged"),
    [
        pytest.param(CONFIGURED, alike(), True, id="identical"),
        pytest.param(bag(__provider="old"), bag(__provider="new"), True, id="provider_aside"),
        pytest.param({}, bag(), False, id="no_olds_is_a_create"),
        pytest.param(bag(), bag(name="renamed"), False, id="changed_value"),
        pytest.param(bag(), bag(expires_at="2027-01-01T00:00:00Z"), False, id="added_key"),
        pytest.param(bag(expires_at="2027-01-01T00:00:00Z"), bag(), False, id="removed_key"),
        pytest.param(bag(), bag(name=Unknown()), False, id="unknown_value"),
        # Alike but not identical: check judges them.
        pytest.param(CONFIGURED, alike(tags=["b", "a"]), False, id="reordered_tags_judged"),
        pytest.param(CONFIGURED, alike(require_api_token_auth=1), False, id="one_is_not_true"),
        pytest.param(CONFIGURED, alike(methods=("read",)), False, id="tuple_is_not_list"),
    ],
)
def test_only_identical_inputs_skip_validation(
    olds: dict[str, Any], news: dict[str, Any], unchanged: bool
) -> None:
    expected = {k: v for k, v in olds.items() if not k.startswith("__")} if unchanged else None
    assert unchanged_inputs(olds, news) == expected


# -- generated: any bag the wire delivers -----------------------------------------------------

numbers = st.integers(-(2**53), 2**53).map(float)  # the wire makes every number a float
leaves = st.one_of(st.none(), st.booleans(), st.floats(), numbers, st.text(), st.builds(Unknown))
anything = st.recursive(
    leaves,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner),
    max_leaves=9,
)
uuids = st.uuids().map(str).flatmap(lambda text: st.sampled_from([text, text.upper()]))
offsets = st.sampled_from(
    [UTC, timezone(timedelta(hours=5, minutes=30)), timezone(-timedelta(hours=8))]
)
timestamps = st.datetimes(
    datetime(2026, 11, 27, 12, 2), datetime(9998, 12, 31), timezones=offsets
).map(lambda instant: instant.isoformat())
non_blank = st.text(min_size=1, max_size=30).filter(str.strip)
sets = st.lists(st.sampled_from(["read", "write"]) | non_blank, min_size=1, max_size=8)
configs = {
    "methods": sets,
    "tags": sets,
    "tool_exposure": st.sampled_from(["all", "discovery"]),
    "require_api_token_auth": st.booleans(),
}
valid_bags = st.fixed_dictionaries(
    {"integrated_account_id": uuids, "name": non_blank},
    optional={
        # A None is an unset key, as a program may send.
        "config": st.fixed_dictionaries(
            {}, optional={k: st.none() | v for k, v in configs.items()}
        ),
        "expires_at": timestamps,
        "adopt_id": uuids,
        "__provider": st.text(max_size=100),
    },
)


@st.composite
def wire_bags(draw: st.DrawFn) -> dict[str, Any]:
    """A valid bag with perhaps a few values (top level or in `config`) replaced by anything,
    an unknown among them, and perhaps keys of no property (near misses are rows above)."""
    props: dict[str, Any] = draw(valid_bags)
    # Not "": the resource class sends fixed keys, so a key "" cannot reach check.
    keys = st.sampled_from([*INPUT_KEYS, *CONFIG_KEYS]) | st.text(min_size=1, max_size=20)
    for key, value in draw(
        st.dictionaries(keys, st.builds(Unknown) | anything, max_size=3)
    ).items():
        if key not in CONFIG_KEYS:
            props[key] = value
        elif isinstance(props.get("config"), dict):
            props["config"][key] = value
    return props


@settings(max_examples=250, deadline=None)
@given(wire_bags(), st.just({}) | wire_bags())
def test_any_bag_gets_failures_naming_a_property_or_stable_inputs_refresh_reads_back(
    props: dict[str, Any], olds: dict[str, Any]
) -> None:
    outcome = check_inputs(props, olds=olds, now=NOW)
    for failure in outcome.failures:
        # Named where the engine finds it: a set top-level key, else "" and the path first.
        if failure.property:
            assert props.get(failure.property) is not None, vars(failure)
        else:
            assert failure.reason.startswith(f"{failure.path}: "), vars(failure)
        assert failure.reason.strip(), vars(failure)
    inputs = outcome.inputs
    if outcome.failures or contains_unknown(inputs):
        return
    assert {"integrated_account_id", "name"} <= set(inputs) <= set(INPUT_KEYS)
    for key in {"integrated_account_id", "adopt_id"} & set(inputs):
        assert inputs[key] == str(uuid.UUID(inputs[key]))
    assert inputs.get("expires_at", "Z").endswith("Z")
    assert None not in inputs.get("config", {}).values()
    assert check_inputs(inputs, olds=olds, now=NOW) == CheckOutcome(inputs, [])
    # Refresh canonicalizes what Truto answers without validating it: for a valid server it
    # must give check's canonical form, or refresh would report drift.
    server = {key: value for key, value in props.items() if key != "adopt_id"}
    live = {key: value for key, value in inputs.items() if key != "adopt_id"}
    assert as_recorded(canonical_live_inputs(server), live) == live
