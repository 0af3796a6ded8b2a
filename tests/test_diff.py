"""Diff and PATCH body: only managed inputs, compared in canonical form, as tables."""

from __future__ import annotations

from typing import Any

import pytest
from pulumi.output import Unknown

from truto_pulumi._diff import diff_inputs, patch_body

ACCOUNT = "4f5a1c2e-0000-4000-8000-000000000001"
OTHER_ACCOUNT = "4f5a1c2e-0000-4000-8000-000000000002"

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
