"""Diff, the create and PATCH bodies, and what refresh records (`_diff`): only managed inputs,
compared in canonical form, as tables; and one PATCH under every reading of Truto's docs."""

from __future__ import annotations

from typing import Any

import pytest
from pulumi.output import Unknown

from truto_pulumi._diff import InputDiff, as_recorded, create_body, diff_inputs, patch_body
from truto_pulumi._schema import CONFIG_DEFAULTS

from .kit import ACCOUNT, OTHER_ACCOUNT

CONFIG = {"methods": ["read"], "tags": ["a", "b"]}
EXPIRY, LATER = "2027-01-01T00:00:00Z", "2027-06-01T00:00:00Z"
SAME_INSTANT = "2027-01-01T01:00:00+01:00"
"""`EXPIRY` spelled otherwise."""
STATE: dict[str, Any] = {
    "integrated_account_id": ACCOUNT,
    "name": "reader",
    "config": CONFIG,
    "expires_at": EXPIRY,
    "url": "https://api.truto.one/mcp/secret",
    "token": "secret",
    "created_at": "2026-11-27T10:00:00.000Z",
    "updated_at": "2026-11-27T10:00:00.000Z",
    "__provider": "pickled",
}
DEFAULTS = {"tool_exposure": "all", "require_api_token_auth": False}
"""What a Truto that echoes defaults answers for a server that never set these keys."""
NEWER = "some_new_option"
"""A `config` option of a newer Truto, set in the dashboard, that this provider does not know."""
CLEARED = {"expires_at": None}
U = Unknown()


def state(**changes: Any) -> dict[str, Any]:
    """`STATE` with `changes` (a None removes the key)."""
    return {key: value for key, value in {**STATE, **changes}.items() if value is not None}


def desired(**changes: Any) -> dict[str, Any]:
    """The inputs of `STATE` as a program declares them, with `changes` (a None removes)."""
    props = {key: STATE[key] for key in ("integrated_account_id", "name", "config", "expires_at")}
    props.update(changes, __provider="pickled-again")
    return {key: value for key, value in props.items() if value is not None}


@pytest.mark.parametrize("account", [OTHER_ACCOUNT, U], ids=["changed", "unknown"])
def test_an_account_change_is_a_replace(account: Any) -> None:
    replaced, news = ("integrated_account_id",), desired(integrated_account_id=account)
    assert diff_inputs(STATE, news) == InputDiff(replaced, replaced)


@pytest.mark.parametrize(
    ("olds", "news", "body"),
    [
        pytest.param(STATE, desired(), {}, id="same_inputs_is_no_change"),
        pytest.param(STATE, desired(expires_at=SAME_INSTANT), {}, id="same_instant_is_no_change"),
        pytest.param(STATE, desired(integrated_account_id=ACCOUNT.upper()), {}, id="account_case"),
        pytest.param(STATE, desired(name=U), {"name": U}, id="unknown_name_is_update"),
        pytest.param(STATE, desired(name="renamed"), {"name": "renamed"}, id="rename_sends_name"),
        pytest.param(STATE, desired(expires_at=LATER), {"expires_at": LATER}, id="expiry_changed"),
        pytest.param(state(expires_at=None), desired(), {"expires_at": EXPIRY}, id="expiry_set"),
        pytest.param(STATE, desired(expires_at=None), CLEARED, id="expiry_cleared"),
        pytest.param(STATE, desired(name="n", expires_at=None), {"name": "n", **CLEARED}, id="two"),
        # What a changed config sends, and which echoed or declared defaults are no change, is
        # `test_one_patch_leaves_truto_with_the_declared_config_under_every_reading`'s.
        pytest.param(STATE, desired(config={**CONFIG, "tags": ["b", "a"]}), {},
                     id="reordered_tags_is_no_change"),
        pytest.param(STATE, desired(config={"methods": [U]}),
                     {"config": {"methods": [U], "tags": None}}, id="nested_unknown_is_update"),
        pytest.param(state(config={"require_api_token_auth": 0}), desired(config={}),
                     {"config": {"require_api_token_auth": False}}, id="zero_is_not_false"),
    ],
)  # fmt: skip
def test_a_change_is_an_update_whose_patch_carries_only_what_changed(
    olds: dict[str, Any], news: dict[str, Any], body: dict[str, Any]
) -> None:
    assert diff_inputs(olds, news) == InputDiff(tuple(body), ())
    assert patch_body(olds, news) == body


@pytest.mark.parametrize(
    ("config", "expiry", "body"),
    [
        pytest.param(None, None, {"config": {}}, id="no_config_sends_empty_config"),
        pytest.param(DEFAULTS, None, {"config": DEFAULTS}, id="declared_defaults_sent"),
        pytest.param(CONFIG, EXPIRY, {"config": CONFIG, "expires_at": EXPIRY}, id="all_fields"),
    ],
)
def test_create_body_always_carries_config_and_only_truto_fields(
    config: Any, expiry: Any, body: dict[str, Any]
) -> None:
    assert CONFIG_DEFAULTS == DEFAULTS  # every config key with a default is documented
    inputs = {**desired(config=config, expires_at=expiry), "adopt_id": OTHER_ACCOUNT}
    assert create_body(inputs) == {"name": "reader", **body}


TAGGED = {"config": {"tags": ["a"]}}
SPELLED, EDITED = {"expires_at": SAME_INSTANT}, {**TAGGED, "name": "edited"}


@pytest.mark.parametrize(
    ("live", "was", "want"),
    [
        pytest.param({"config": {"tags": ["a"], **DEFAULTS}}, TAGGED, TAGGED, id="echoed_defaults"),
        pytest.param({"config": DEFAULTS}, {}, {}, id="echoed_defaults_of_no_config"),
        pytest.param({"expires_at": EXPIRY}, SPELLED, SPELLED, id="same_instant_as_recorded"),
        pytest.param(EDITED, {"name": "reader"}, EDITED, id="drift_is_shown"),
    ],
)
def test_refresh_keeps_the_recorded_form_of_equal_inputs(live: Any, was: Any, want: Any) -> None:
    assert as_recorded(live, was) == want


def merged(live: dict[str, Any], sent: dict[str, Any]) -> dict[str, Any]:
    """`config` after a PATCH by a Truto that merges it one level deep (null removes)."""
    return {key: value for key, value in {**live, **sent}.items() if value is not None}


def merged_refusing_null(live: dict[str, Any], sent: dict[str, Any]) -> dict[str, Any]:
    """`config` after a PATCH by a Truto that merges it and refuses `null` for a typed key."""
    assert not [key for key in DEFAULTS if key in sent and sent[key] is None], sent
    return merged(live, sent)


def replaced(live: dict[str, Any], sent: dict[str, Any]) -> dict[str, Any]:
    """`config` after a PATCH by a Truto that replaces it with what was sent."""
    return merged({}, sent)


LIVE = {
    "live_empty": {},
    "live_known": {"methods": ["read"]},
    "live_known_and_newer": {"methods": ["read"], NEWER: "strict"},
    "live_newer_only": {NEWER: False},
    "live_newer_object": {"tags": ["hr"], "tool_exposure": "discovery", NEWER: {"level": 2}},
    "live_off_defaults": {"tool_exposure": "discovery", "require_api_token_auth": True},
}
DECLARED = {
    "declared_none": None,
    "declared_methods": {"methods": ["read"]},
    "declared_other": {"tags": ["hr"], "require_api_token_auth": True},
    "declared_a_default": {"tool_exposure": "all"},
}


@pytest.mark.parametrize("echo", [False, True], ids=["defaults_absent", "defaults_echoed"])
@pytest.mark.parametrize(
    "truto_patch", [merged, merged_refusing_null, replaced], ids=lambda f: f.__name__
)
@pytest.mark.parametrize("live", LIVE.values(), ids=LIVE)
@pytest.mark.parametrize("declared", DECLARED.values(), ids=DECLARED)
def test_one_patch_leaves_truto_with_the_declared_config_under_every_reading(
    live: dict[str, Any], declared: dict[str, Any] | None, truto_patch: Any, echo: bool
) -> None:
    body = patch_body(state(config=live), desired(config=declared))
    after = truto_patch(live, body["config"]) if "config" in body else live
    answered = {**DEFAULTS, **after} if echo else after
    assert diff_inputs({"config": answered}, {"config": declared}).changes == ()
    assert patch_body(state(config=answered), desired(config=declared)) == {}
