"""Check: the validation of a server's inputs (`_check.check_inputs`), the failures naming the
property at fault (`input_failure`, `InputFailure`) and how a value is described (`described`),
as tables. `test_check_properties.py` checks the same with generated property bags."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

import pytest
from pulumi.output import Unknown

from truto_pulumi._check import InputFailure, check_inputs, described, input_failure

from .kit import ACCOUNT, bag

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=timezone.utc)


@pytest.mark.parametrize(
    ("props", "expected"),
    [
        pytest.param(bag(), bag(), id="minimal"),
        pytest.param(
            bag(integrated_account_id=ACCOUNT.upper()), bag(), id="account_id_lower_cased"
        ),
        pytest.param(
            bag(config={"methods": ["write", "read", "read"], "tags": ["b", "a", "b"]}),
            bag(config={"methods": ["read", "write"], "tags": ["a", "b"]}),
            id="methods_and_tags_deduplicated_and_sorted",
        ),
        pytest.param(bag(config={}), bag(), id="empty_config_dropped"),
        pytest.param(
            bag(config={"tool_exposure": "discovery", "require_api_token_auth": False}),
            bag(config={"tool_exposure": "discovery", "require_api_token_auth": False}),
            id="tool_exposure_and_auth_kept",
        ),
        pytest.param(
            bag(expires_at="2027-01-01T01:00:00+01:00"),
            bag(expires_at="2027-01-01T00:00:00Z"),
            id="expiry_in_utc",
        ),
        pytest.param(
            bag(expires_at="2027-01-01t00:00:00.123456z"),
            bag(expires_at="2027-01-01T00:00:00.123Z"),
            id="expiry_truncated_to_milliseconds",
        ),
        pytest.param(bag(__provider="pickled"), bag(), id="provider_key_not_part_of_inputs"),
    ],
)
def test_valid_inputs_become_canonical(props: dict[str, Any], expected: dict[str, Any]) -> None:
    outcome = check_inputs(props, now=NOW)
    assert outcome.failures == []
    assert outcome.inputs == expected


@pytest.mark.parametrize(
    ("props", "prop", "fragment"),
    [
        (bag(integrated_account_id=None), "integrated_account_id", "is required"),
        (bag(integrated_account_id="acct-1"), "integrated_account_id", "'acct-1' is not a UUID"),
        (bag(integrated_account_id=42.0), "integrated_account_id", "must be a string"),
        (bag(name=None), "name", "is required"),
        (bag(name="  "), "name", "must not be empty"),
        (bag(name=7.0), "name", "must be a string, got the number 7"),
        (bag(config="all"), "config", "expected an object with any of methods"),
        (bag(config={"methods": []}), "config.methods", "must not be empty"),
        (
            bag(config={"methods": "read"}),
            "config.methods",
            "must be a list, got the string 'read'",
        ),
        (bag(config={"methods": ["read", ""]}), "config.methods", "item 1 must not be empty"),
        (bag(config={"tags": [1.0]}), "config.tags", "item 0 must be a string"),
        (bag(config={"tool_exposure": "some"}), "config.tool_exposure", "'all' or 'discovery'"),
        (
            bag(config={"require_api_token_auth": "yes"}),
            "config.require_api_token_auth",
            "true or false",
        ),
        (bag(config={"scopes": ["x"]}), "config.scopes", "unknown property"),
        (bag(expires_at="next week"), "expires_at", "is not an RFC 3339 timestamp"),
        (bag(expires_at="2027-01-01T00:00:00"), "expires_at", "is not an RFC 3339 timestamp"),
        (bag(expires_at="2026-11-27T11:00:00Z"), "expires_at", "is in the past"),
        (bag(expires_at="2026-11-27T12:00:30Z"), "expires_at", "is less than 60 s ahead"),
        (bag(url="https://x"), "url", "unknown property; allowed: integrated_account_id"),
    ],
)
def test_invalid_property_fails_check_naming_it(
    props: dict[str, Any], prop: str, fragment: str
) -> None:
    outcome = check_inputs(props, now=NOW)
    assert [failure.path for failure in outcome.failures] == [prop]
    assert fragment in outcome.failures[0].reason


def test_each_bad_field_gets_one_failure_saying_what_is_allowed() -> None:
    props = bag(
        name="",
        config={"methods": ["", 3.0], "tool_exposure": "x"},
        expires_at="soon",
    )
    failures = {f.path: f.reason for f in check_inputs(props, now=NOW).failures}
    assert sorted(failures) == ["config.methods", "config.tool_exposure", "expires_at", "name"]
    assert "item 0 must not be empty" in failures["config.methods"]
    assert "item 1 must be a string" in failures["config.methods"]
    assert failures["config.tool_exposure"] == (
        "config.tool_exposure: got 'x'; expected 'all' or 'discovery'"
    )
    assert "e.g. 2027-01-01T00:00:00Z" in failures["expires_at"]


METHODS_ALLOWED = (
    "a non-empty list of method names (list, get, create, update, delete, a custom method) "
    "or the groups read, write"
)


@pytest.mark.parametrize(
    ("props", "prop", "reason"),
    [
        pytest.param(
            bag(name=5.0),
            "name",
            "must be a string, got the number 5; expected a non-empty string",
            id="whole_number_not_float",
        ),
        pytest.param(
            bag(name=True),
            "name",
            "must be a string, got the boolean True; expected a non-empty string",
            id="boolean",
        ),
        pytest.param(
            bag(name=["a", 1.0]),
            "name",
            "must be a string, got the list ['a', 1]; expected a non-empty string",
            id="list",
        ),
        pytest.param(
            bag(expires_at=2.5),
            "expires_at",
            "must be a string, got the number 2.5; expected an RFC 3339 timestamp at least 60 s "
            "ahead, e.g. 2027-01-01T00:00:00Z",
            id="fraction",
        ),
        pytest.param(
            bag(config="all"),
            "config",
            "got the string 'all'; expected an object with any of methods, tags, tool_exposure, "
            "require_api_token_auth",
            id="string_for_an_object",
        ),
        pytest.param(
            bag(config={"methods": ["read", 3.0]}),
            "",
            "config.methods: item 1 must be a string, got the number 3; "
            f"expected {METHODS_ALLOWED}",
            id="nested_item",
        ),
        pytest.param(
            bag(config={"methods": []}),
            "",
            "config.methods: must not be empty (omit it to apply no filter); "
            f"expected {METHODS_ALLOWED}",
            id="nested_empty_list",
        ),
        pytest.param(
            bag(config={"tags": {"crm": 1.0}}),
            "",
            "config.tags: must be a list, got the object {'crm': 1}; "
            "expected a non-empty list of non-empty tag strings",
            id="nested_object_for_a_list",
        ),
        pytest.param(
            bag(config={"require_api_token_auth": "yes"}),
            "",
            "config.require_api_token_auth: got the string 'yes'; expected true or false",
            id="nested_string_for_a_boolean",
        ),
        pytest.param(
            bag(config={"tool_exposure": 1.0}),
            "",
            "config.tool_exposure: got the number 1; expected 'all' or 'discovery'",
            id="nested_number_for_a_choice",
        ),
        pytest.param(
            bag(integrated_account_id=None),
            "",
            "integrated_account_id: is required; expected the UUID of a Truto integrated account",
            id="missing_is_not_a_property_of_the_inputs",
        ),
    ],
)
def test_a_failure_names_the_path_and_what_the_user_wrote_never_the_wire_type(
    props: dict[str, Any], prop: str, reason: str
) -> None:
    (failure,) = check_inputs(props, now=NOW).failures
    assert (failure.property, failure.reason) == (prop, reason)
    assert "float" not in failure.reason


@pytest.mark.parametrize(
    ("path", "inputs", "expected"),
    [
        pytest.param("name", {"name": 5.0}, InputFailure("name", "bad", "name"), id="top_level"),
        pytest.param(
            "config.methods",
            {"config": {"methods": [3.0]}},
            InputFailure("", "config.methods: bad", "config.methods"),
            id="nested",
        ),
        pytest.param("name", {}, InputFailure("", "name: bad", "name"), id="absent"),
        pytest.param(
            "name", {"name": None}, InputFailure("", "name: bad", "name"), id="none_is_not_sent"
        ),
    ],
)
def test_the_engine_gets_a_property_it_finds_in_the_inputs_else_the_path_leads_the_reason(
    path: str, inputs: dict[str, Any], expected: InputFailure
) -> None:
    # The engine prints "property P value {<nil>}" for a P that is not a key of the inputs.
    assert input_failure(path, "bad", inputs) == expected


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (5.0, "the number 5"),
        (-3.0, "the number -3"),
        (2.5, "the number 2.5"),
        (1e300, "the number 1e+300"),
        (float("nan"), "the number nan"),
        (7, "the number 7"),
        (True, "the boolean True"),
        (False, "the boolean False"),
        ("x", "the string 'x'"),
        ([1.0, "a", [True]], "the list [1, 'a', [True]]"),
        (("read",), "the list ['read']"),
        ({"k": 2.0}, "the object {'k': 2}"),
        ([Unknown()], "the list [<unknown>]"),
        (None, "None"),
        ("y" * 100, "the string '" + "y" * 56 + "..."),
        (b"raw", "a value of type bytes"),
    ],
)
def test_a_value_is_described_as_the_user_wrote_it(value: Any, text: str) -> None:
    assert described(value) == text


def test_unknown_values_pass_unvalidated() -> None:
    unknown_name, unknown_tags, unknown_method = Unknown(), Unknown(), Unknown()
    props = {
        "integrated_account_id": Unknown(),
        "name": unknown_name,
        "config": {"methods": ["read", unknown_method], "tags": unknown_tags},
        "expires_at": Unknown(),
    }
    outcome = check_inputs(props, now=NOW)
    assert outcome.failures == []
    assert outcome.inputs["name"] is unknown_name
    assert outcome.inputs["config"]["tags"] is unknown_tags
    assert outcome.inputs["config"]["methods"] == ["read", unknown_method]


def test_known_parts_beside_unknowns_are_still_validated() -> None:
    props = bag(config={"methods": [Unknown(), ""]})
    failures = check_inputs(props, now=NOW).failures
    assert [f.path for f in failures] == ["config.methods"]


def test_unchanged_past_expiry_does_not_block_preview() -> None:
    expired = "2026-11-27T11:00:00Z"
    outcome = check_inputs(bag(expires_at=expired), olds=bag(expires_at=expired), now=NOW)
    assert outcome.failures == []


def test_changed_expiry_must_be_in_the_future() -> None:
    outcome = check_inputs(
        bag(expires_at="2026-11-27T11:00:00Z"),
        olds=bag(expires_at="2026-11-27T10:00:00Z"),
        now=NOW,
    )
    assert [f.property for f in outcome.failures] == ["expires_at"]


def test_canonical_inputs_are_stable() -> None:
    first = check_inputs(
        bag(config={"tags": ["z", "a"]}, expires_at="2027-03-01T10:00:00.5+02:00"), now=NOW
    ).inputs
    assert check_inputs(first, now=NOW).inputs == first


def test_a_name_that_parses_as_a_create_mark_is_refused_without_showing_it() -> None:
    marked = "secret-reports [pulumi creating 0123456789ab-0badc0de]"
    (failure,) = check_inputs(bag(name=marked), now=NOW).failures
    assert "must not end in a Pulumi create mark" in failure.reason
    assert "secret-reports" not in failure.reason
