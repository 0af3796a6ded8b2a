"""The canonical form of inputs (`_inputs`): instants in UTC, a server read back from Truto in
the form check gives, and which new inputs are identical to the old, as tables. What check
answers is in `test_check.py`."""

from __future__ import annotations

from typing import Any

import pytest
from pulumi.output import Unknown

from truto_pulumi._inputs import canonical_live_inputs, canonical_timestamp, unchanged_inputs

from .kit import ACCOUNT, bag


@pytest.mark.parametrize(
    ("text", "canonical"),
    [
        ("2024-01-10T10:00:00.000Z", "2024-01-10T10:00:00Z"),
        ("2024-01-10T10:00:00.120Z", "2024-01-10T10:00:00.120Z"),
        ("2024-01-10 12:30:00-02:00", "2024-01-10T14:30:00Z"),
    ],
)
def test_canonical_timestamp(text: str, canonical: str) -> None:
    assert canonical_timestamp(text) == canonical


SERVER = {"integrated_account_id": ACCOUNT, "name": "reader", "id": "x", "token": "t"}


@pytest.mark.parametrize(
    ("answer", "inputs"),
    [
        pytest.param({}, {"integrated_account_id": ACCOUNT, "name": "reader"}, id="plain"),
        pytest.param(
            {"integrated_account_id": ACCOUNT.upper()},
            {"integrated_account_id": ACCOUNT, "name": "reader"},
            id="account_upper_case",
        ),
        pytest.param(
            {"config": {"tags": ["b", "a", "b"], "methods": ["read"], "tool_exposure": None}},
            {
                "integrated_account_id": ACCOUNT,
                "name": "reader",
                "config": {"tags": ["a", "b"], "methods": ["read"]},
            },
            id="tags_as_a_set_and_unset_keys_dropped",
        ),
        pytest.param(
            {"config": {}}, {"integrated_account_id": ACCOUNT, "name": "reader"}, id="empty_config"
        ),
        pytest.param(
            {"expires_at": "2027-01-01T01:00:00.000+01:00"},
            {
                "integrated_account_id": ACCOUNT,
                "name": "reader",
                "expires_at": "2027-01-01T00:00:00Z",
            },
            id="expiry_in_utc",
        ),
        pytest.param(
            {"expires_at": "soon", "integrated_account_id": "not-a-uuid"},
            {"integrated_account_id": "not-a-uuid", "name": "reader", "expires_at": "soon"},
            id="what_does_not_parse_is_kept_as_sent",
        ),
        pytest.param(
            {"config": {"tags": ["b", 1], "surprise": True}},
            {
                "integrated_account_id": ACCOUNT,
                "name": "reader",
                "config": {"tags": ["b", 1], "surprise": True},
            },
            id="unexpected_config_kept_as_sent",
        ),
    ],
)
def test_a_server_read_back_from_truto_comes_in_canonical_form(
    answer: dict[str, Any], inputs: dict[str, Any]
) -> None:
    assert canonical_live_inputs({**SERVER, **answer}) == inputs


CONFIG = {"methods": ["read"], "tags": ["a", "b"], "require_api_token_auth": True}


@pytest.mark.parametrize(
    ("olds", "news", "unchanged"),
    [
        pytest.param(bag(config=CONFIG), bag(config=CONFIG), True, id="identical"),
        pytest.param(
            bag(__provider="old pickle"), bag(__provider="new pickle"), True, id="provider_aside"
        ),
        pytest.param({}, bag(), False, id="no_olds_is_a_create"),
        pytest.param(bag(), bag(name="renamed"), False, id="changed_value"),
        pytest.param(bag(), bag(expires_at="2027-01-01T00:00:00Z"), False, id="added_key"),
        pytest.param(bag(expires_at="2027-01-01T00:00:00Z"), bag(), False, id="removed_key"),
        pytest.param(
            bag(config=CONFIG),
            bag(config={**CONFIG, "tags": ["b", "a"]}),
            False,
            id="reordered_tags_are_judged_by_check",
        ),
        pytest.param(
            bag(config=CONFIG),
            bag(config={**CONFIG, "require_api_token_auth": 1}),
            False,
            id="one_is_not_true",
        ),
        pytest.param(
            bag(config=CONFIG),
            bag(config={**CONFIG, "methods": ("read",)}),
            False,
            id="tuple_is_not_list",
        ),
        pytest.param(bag(), bag(name=Unknown()), False, id="unknown_value"),
    ],
)
def test_only_identical_inputs_skip_validation(
    olds: dict[str, Any], news: dict[str, Any], unchanged: bool
) -> None:
    expected = {k: v for k, v in olds.items() if not k.startswith("__")} if unchanged else None
    assert unchanged_inputs(olds, news) == expected
