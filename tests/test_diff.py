"""Diff and PATCH body: only managed inputs, compared in canonical form, as tables."""

from __future__ import annotations

from typing import Any

import pytest
from pulumi.output import Unknown

from truto_pulumi._diff import InputDiff, as_recorded, create_body, diff_inputs, patch_body
from truto_pulumi._schema import CONFIG_PROPERTIES

from .kit import ACCOUNT, OTHER_ACCOUNT

STATE: dict[str, Any] = {
    "integrated_account_id": ACCOUNT,
    "name": "reader",
    "config": {"methods": ["read"], "tags": ["companies", "contacts"]},
    "expires_at": "2027-01-01T00:00:00Z",
    "url": "https://api.truto.one/mcp/secret",
    "token": "secret",
    "created_at": "2026-11-27T10:00:00.000Z",
    "updated_at": "2026-11-27T10:00:00.000Z",
    "__provider": "pickled",
}


def desired(**changes: Any) -> dict[str, Any]:
    props = {key: STATE[key] for key in ("integrated_account_id", "name", "config", "expires_at")}
    props.update(changes)
    props["__provider"] = "pickled-again"
    return {key: value for key, value in props.items() if value is not None}


@pytest.mark.parametrize(
    ("news", "changes", "replaces"),
    [
        pytest.param(desired(), (), (), id="same_inputs_is_no_change"),
        pytest.param(
            desired(config={"methods": ["read"], "tags": ["contacts", "companies"]}),
            (),
            (),
            id="reordered_tags_is_no_change",
        ),
        pytest.param(
            desired(expires_at="2027-01-01T01:00:00+01:00"), (), (), id="same_instant_is_no_change"
        ),
        pytest.param(
            desired(integrated_account_id=ACCOUNT.upper()), (), (), id="account_case_is_no_change"
        ),
        pytest.param(
            desired(integrated_account_id=OTHER_ACCOUNT),
            ("integrated_account_id",),
            ("integrated_account_id",),
            id="account_change_is_replace",
        ),
        pytest.param(desired(name=Unknown()), ("name",), (), id="unknown_name_is_update"),
        pytest.param(
            desired(config={"methods": [Unknown()]}), ("config",), (), id="nested_unknown_is_update"
        ),
        pytest.param(
            desired(integrated_account_id=Unknown()),
            ("integrated_account_id",),
            ("integrated_account_id",),
            id="unknown_account_is_replace",
        ),
    ],
)
def test_diff_no_change_replace_or_unknown(
    news: dict[str, Any], changes: tuple[str, ...], replaces: tuple[str, ...]
) -> None:
    result = diff_inputs(STATE, news)
    assert result.changes == changes
    assert result.replaces == replaces


DEFAULTS = {"tool_exposure": "all", "require_api_token_auth": False}
"""What a Truto that echoes defaults answers for a server that never set these keys."""


@pytest.mark.parametrize(
    ("old", "new", "changes"),
    [
        pytest.param({}, None, (), id="empty_config_equals_no_config"),
        pytest.param({**STATE["config"], **DEFAULTS}, STATE["config"], (), id="echoed_defaults"),
        pytest.param(STATE["config"], {**STATE["config"], **DEFAULTS}, (), id="declared_defaults"),
        pytest.param(DEFAULTS, None, (), id="echoed_defaults_of_no_config"),
        pytest.param({"tool_exposure": "all"}, {}, (), id="one_echoed_default"),
        pytest.param({"tool_exposure": "discovery"}, None, ("config",), id="non_default_value"),
        pytest.param({"require_api_token_auth": True}, {}, ("config",), id="non_default_flag"),
        pytest.param({"require_api_token_auth": 0}, {}, ("config",), id="zero_is_not_false"),
    ],
)
def test_a_config_key_at_its_default_equals_the_key_absent(
    old: Any, new: Any, changes: tuple[str, ...]
) -> None:
    assert diff_inputs({**STATE, "config": old}, desired(config=new)).changes == changes


def test_every_config_key_with_a_default_is_documented() -> None:
    assert {p.name: p.default for p in CONFIG_PROPERTIES if p.default is not None} == DEFAULTS


@pytest.mark.parametrize(
    ("inputs", "body"),
    [
        pytest.param(
            {"integrated_account_id": ACCOUNT, "name": "n"},
            {"name": "n", "config": {}},
            id="no_config_sends_empty_config",
        ),
        pytest.param(
            {"integrated_account_id": ACCOUNT, "name": "n", "config": {"tags": ["a"]}},
            {"name": "n", "config": {"tags": ["a"]}},
            id="declared_config_sent",
        ),
        pytest.param(
            {**desired(), "adopt_id": OTHER_ACCOUNT},
            {"name": "reader", "config": STATE["config"], "expires_at": STATE["expires_at"]},
            id="only_truto_fields",
        ),
    ],
)
def test_create_body_always_carries_config(inputs: dict[str, Any], body: dict[str, Any]) -> None:
    assert create_body(inputs) == body


@pytest.mark.parametrize(
    ("live", "recorded", "expected"),
    [
        pytest.param(
            {"config": {"tags": ["a"], **DEFAULTS}},
            {"config": {"tags": ["a"]}},
            {"config": {"tags": ["a"]}},
            id="echoed_defaults_keep_the_recorded_config",
        ),
        pytest.param({"config": DEFAULTS}, {}, {}, id="echoed_defaults_of_no_config"),
        pytest.param(
            {"expires_at": "2027-01-01T00:00:00Z"},
            {"expires_at": "2027-01-01T01:00:00+01:00"},
            {"expires_at": "2027-01-01T01:00:00+01:00"},
            id="same_instant_keeps_the_recorded_spelling",
        ),
        pytest.param(
            {"config": {"tool_exposure": "discovery"}, "name": "edited"},
            {"config": {}, "name": "reader"},
            {"config": {"tool_exposure": "discovery"}, "name": "edited"},
            id="real_drift_is_shown",
        ),
    ],
)
def test_as_recorded(live: Any, recorded: Any, expected: Any) -> None:
    assert as_recorded(live, recorded) == expected


NEWER_OPTION = "some_new_option"
"""A `config` option of a newer Truto, set in the dashboard, that this provider does not know."""
NO_EXPIRY = {key: value for key, value in STATE.items() if key != "expires_at"}
NO_CONFIG = {key: value for key, value in STATE.items() if key != "config"}


@pytest.mark.parametrize(
    ("olds", "news", "body"),
    [
        pytest.param(STATE, desired(name="renamed"), {"name": "renamed"}, id="rename_sends_name"),
        pytest.param(
            STATE,
            desired(config={"methods": ["read"], "tags": ["contacts"]}),
            {"config": {"methods": ["read"], "tags": ["contacts"]}},
            id="tag_change_sends_whole_config",
        ),
        pytest.param(
            STATE,
            desired(config={"tags": ["contacts"], "tool_exposure": "discovery"}),
            {"config": {"tags": ["contacts"], "tool_exposure": "discovery", "methods": None}},
            id="removed_key_without_default_sent_as_null",
        ),
        pytest.param(
            STATE,
            desired(config=None),
            {"config": {"methods": None, "tags": None}},
            id="removed_config_clears_every_key",
        ),
        pytest.param(
            {**STATE, "config": {**STATE["config"], NEWER_OPTION: "strict"}},
            desired(),
            {"config": {**STATE["config"], NEWER_OPTION: None}},
            id="undeclared_key_sent_as_null_even_if_unknown",
        ),
        pytest.param(
            {**STATE, "config": {"tags": ["a"], "tool_exposure": "discovery"}},
            desired(config={"tags": ["a"]}),
            {"config": {"tags": ["a"], "tool_exposure": "all"}},
            id="dropped_tool_exposure_sent_as_its_default",
        ),
        pytest.param(
            {**STATE, "config": {"tags": ["a"], "require_api_token_auth": True}},
            desired(config={"tags": ["a"]}),
            {"config": {"tags": ["a"], "require_api_token_auth": False}},
            id="dropped_flag_sent_as_its_default",
        ),
        pytest.param(NO_CONFIG, desired(), {"config": STATE["config"]}, id="config_added"),
        pytest.param(
            STATE,
            desired(expires_at="2027-06-01T00:00:00Z"),
            {"expires_at": "2027-06-01T00:00:00Z"},
            id="expiry_changed",
        ),
        pytest.param(NO_EXPIRY, desired(), {"expires_at": STATE["expires_at"]}, id="expiry_set"),
        pytest.param(STATE, desired(expires_at=None), {"expires_at": None}, id="expiry_cleared"),
        pytest.param(
            STATE,
            desired(name="n", expires_at=None),
            {"name": "n", "expires_at": None},
            id="two_fields_changed",
        ),
    ],
)
def test_a_change_is_an_update_whose_patch_carries_only_what_changed(
    olds: dict[str, Any], news: dict[str, Any], body: dict[str, Any]
) -> None:
    assert diff_inputs(olds, news) == InputDiff(tuple(body), ())
    assert patch_body(olds, news) == body


def merged(live: dict[str, Any], sent: dict[str, Any]) -> dict[str, Any]:
    """`config` after a PATCH by a Truto that merges it one level deep (null removes)."""
    return {key: value for key, value in {**live, **sent}.items() if value is not None}


def merged_refusing_null(live: dict[str, Any], sent: dict[str, Any]) -> dict[str, Any]:
    """`config` after a PATCH by a Truto that merges it and refuses `null` for a typed key."""
    assert not [key for key in DEFAULTS if key in sent and sent[key] is None], sent
    return merged(live, sent)


def replaced(live: dict[str, Any], sent: dict[str, Any]) -> dict[str, Any]:
    """`config` after a PATCH by a Truto that replaces it with what was sent."""
    return {key: value for key, value in sent.items() if value is not None}


@pytest.mark.parametrize("echo", [False, True], ids=["defaults_absent", "defaults_echoed"])
@pytest.mark.parametrize(
    "truto_patch",
    [merged, merged_refusing_null, replaced],
    ids=["merge", "merge_refusing_null", "replace"],
)
@pytest.mark.parametrize(
    "live",
    [
        pytest.param({}, id="live_empty"),
        pytest.param({"methods": ["read"]}, id="live_known"),
        pytest.param({"methods": ["read"], NEWER_OPTION: "strict"}, id="live_known_and_newer"),
        pytest.param({NEWER_OPTION: False}, id="live_newer_only"),
        pytest.param(
            {"tags": ["hr"], "tool_exposure": "discovery", NEWER_OPTION: {"level": 2}},
            id="live_newer_object",
        ),
        pytest.param(
            {"tool_exposure": "discovery", "require_api_token_auth": True}, id="live_off_defaults"
        ),
    ],
)
@pytest.mark.parametrize(
    "declared",
    [
        pytest.param(None, id="declared_none"),
        pytest.param({"methods": ["read"]}, id="declared_methods"),
        pytest.param({"tags": ["hr"], "require_api_token_auth": True}, id="declared_other"),
        pytest.param({"tool_exposure": "all"}, id="declared_a_default"),
    ],
)
def test_one_patch_leaves_truto_with_the_declared_config_under_every_reading(
    live: dict[str, Any], declared: dict[str, Any] | None, truto_patch: Any, echo: bool
) -> None:
    body = patch_body({**STATE, "config": live}, desired(config=declared))
    after = truto_patch(live, body["config"]) if "config" in body else live
    answered = {**DEFAULTS, **after} if echo else after
    assert diff_inputs({"config": answered}, {"config": declared}).changes == ()
    assert patch_body({**STATE, "config": answered}, desired(config=declared)) == {}
