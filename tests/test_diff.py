"""Diff and PATCH body: only managed inputs, compared in canonical form, as tables."""

from __future__ import annotations

from typing import Any

import pytest
from pulumi.output import Unknown

from truto_pulumi._diff import diff_inputs, patch_body

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
        pytest.param(desired(name="renamed"), ("name",), (), id="rename_is_update"),
        pytest.param(
            desired(config={"methods": ["read"], "tags": ["contacts"]}),
            ("config",),
            (),
            id="tag_change_is_update",
        ),
        pytest.param(desired(config=None), ("config",), (), id="removed_config_is_update"),
        pytest.param(desired(expires_at=None), ("expires_at",), (), id="cleared_expiry_is_update"),
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
def test_diff(news: dict[str, Any], changes: tuple[str, ...], replaces: tuple[str, ...]) -> None:
    result = diff_inputs(STATE, news)
    assert result.changes == changes
    assert result.replaces == replaces


def test_empty_config_equals_no_config() -> None:
    olds = {**desired(config=None), "config": {}}
    assert diff_inputs(olds, desired(config=None)).changes == ()


@pytest.mark.parametrize(
    ("news", "body"),
    [
        pytest.param(desired(), {}, id="nothing_changed"),
        pytest.param(desired(name="renamed"), {"name": "renamed"}, id="rename_sends_name_only"),
        pytest.param(
            desired(config={"methods": ["read"], "tags": ["contacts"]}),
            {"config": {"methods": ["read"], "tags": ["contacts"]}},
            id="tag_change_sends_whole_config",
        ),
        pytest.param(
            desired(config={"tags": ["contacts"], "tool_exposure": "discovery"}),
            {"config": {"tags": ["contacts"], "tool_exposure": "discovery", "methods": None}},
            id="removed_key_sent_as_null",
        ),
        pytest.param(
            desired(config=None),
            {"config": {"methods": None, "tags": None}},
            id="removed_config_clears_every_key",
        ),
        pytest.param(
            desired(expires_at="2027-06-01T00:00:00Z"),
            {"expires_at": "2027-06-01T00:00:00Z"},
            id="expiry_changed",
        ),
        pytest.param(desired(expires_at=None), {"expires_at": None}, id="expiry_cleared_with_null"),
        pytest.param(
            desired(name="n", expires_at=None),
            {"name": "n", "expires_at": None},
            id="two_fields_changed",
        ),
    ],
)
def test_patch_body(news: dict[str, Any], body: dict[str, Any]) -> None:
    assert patch_body(STATE, news) == body


def test_patch_body_sets_expiry_on_a_server_without_one() -> None:
    olds = {**STATE}
    del olds["expires_at"]
    assert patch_body(olds, desired()) == {"expires_at": "2027-01-01T00:00:00Z"}


def test_patch_body_adds_config_to_a_server_without_one() -> None:
    olds = {**STATE}
    del olds["config"]
    assert patch_body(olds, desired()) == {"config": STATE["config"]}


NEWER_OPTION = "some_new_option"
"""A `config` option of a newer Truto, set in the dashboard, that this provider does not know."""


def test_a_config_key_the_program_does_not_declare_is_sent_as_null_even_if_unknown() -> None:
    live = {**STATE, "config": {**STATE["config"], NEWER_OPTION: "strict"}}
    assert patch_body(live, desired()) == {"config": {**STATE["config"], NEWER_OPTION: None}}


def merged(live: dict[str, Any], sent: dict[str, Any]) -> dict[str, Any]:
    """`config` after a PATCH by a Truto that merges it one level deep (null removes)."""
    return {key: value for key, value in {**live, **sent}.items() if value is not None}


def replaced(live: dict[str, Any], sent: dict[str, Any]) -> dict[str, Any]:
    """`config` after a PATCH by a Truto that replaces it with what was sent."""
    return {key: value for key, value in sent.items() if value is not None}


@pytest.mark.parametrize("truto_patch", [merged, replaced], ids=["merge", "replace"])
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
    ],
)
@pytest.mark.parametrize(
    "declared",
    [
        pytest.param(None, id="declared_none"),
        pytest.param({"methods": ["read"]}, id="declared_methods"),
        pytest.param({"tags": ["hr"], "require_api_token_auth": True}, id="declared_other"),
    ],
)
def test_one_patch_leaves_truto_with_the_declared_config_whether_it_merges_or_replaces(
    live: dict[str, Any], declared: dict[str, Any] | None, truto_patch: Any
) -> None:
    body = patch_body({**STATE, "config": live}, desired(config=declared))
    after = truto_patch(live, body["config"]) if "config" in body else live
    assert diff_inputs({"config": after}, {"config": declared}).changes == ()
