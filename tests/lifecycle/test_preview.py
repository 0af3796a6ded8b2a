"""Preview: bad inputs and unknown values are settled by Check and Diff, through the real host,
without a single HTTP call (settings problems, a missing API token among them:
tests/test_provider_settings.py)."""

from __future__ import annotations

from typing import Any

import pytest

from devkit import UNKNOWN, CheckFailedError, SimulatedStack
from truto_pulumi.emulator import Emulator

from .helpers import NAME, api_calls, desired, from_now

pytestmark = pytest.mark.slow  # starts the provider host and the emulator


def failure_properties(stack: SimulatedStack, state: dict[str, dict[str, Any]]) -> dict[str, str]:
    plan = stack.preview(state)
    assert NAME not in plan.steps
    return {failed_path(failure): failure.reason for failure in plan.failures[NAME]}


def failed_path(failure: Any) -> str:
    """The property a check failure names: its `property`, or, for a nested path the engine
    could not resolve, the path that leads its reason."""
    return str(failure.property or failure.reason.split(": ", 1)[0])


# --- bad inputs (each rule: tests/test_check.py) ----------------------------------------------


def test_every_bad_property_fails_preview_and_up_at_once_each_named_without_http(
    stack: SimulatedStack, emulator: Emulator
) -> None:
    stack.up(desired())
    before = stack.resources[NAME]
    emulator.clear_journal()
    state = desired(
        name="",
        config={"tags": ["crm", "\t"], "colour": "red"},
        integrated_account_id="acct-1",
    )

    failures = failure_properties(stack, state)
    # Valid when written, but less than 60 s ahead by the time of the check:
    late = failure_properties(stack, desired(expires_at=from_now(30)))

    assert sorted(failures) == [
        "config.colour",
        "config.tags",
        "integrated_account_id",
        "name",
    ]
    assert "unknown property" in failures["config.colour"]
    assert "item 1" in failures["config.tags"]
    assert list(late) == ["expires_at"]
    assert "less than 60 s ahead" in late["expires_at"]
    assert "UUID" in failures["integrated_account_id"]
    assert "must not be empty" in failures["name"]
    with pytest.raises(CheckFailedError) as raised:
        stack.up(state)
    assert sorted(map(failed_path, raised.value.failures[NAME])) == sorted(failures)
    assert stack.resources[NAME] == before
    assert api_calls(emulator) == []


# --- unknown values -------------------------------------------------------------------------


CRM = {"methods": ["read"], "tags": ["crm"]}


@pytest.mark.parametrize(
    ("before", "props", "op", "replaces"),
    [
        (CRM, {"config": {"methods": ["read"], "tags": [UNKNOWN]}}, "update", []),
        (CRM, {"integrated_account_id": UNKNOWN}, "replace", ["integrated_account_id"]),
        (None, {"integrated_account_id": UNKNOWN, "name": UNKNOWN}, "create", []),
    ],
    ids=["one-tag", "integrated_account_id", "new-server"],
)
def test_unknown_value_at_preview_plans_a_change_without_http(
    stack: SimulatedStack,
    emulator: Emulator,
    before: dict[str, Any] | None,
    props: dict[str, Any],
    op: str,
    replaces: list[str],
) -> None:
    """Which unknown plans what, property by property: tests/test_diff.py."""
    if before is not None:
        stack.up(desired(config=before))
    emulator.clear_journal()

    plan = stack.preview(desired(**{"config": before, **props}))

    assert plan.failures == {}
    assert plan.steps[NAME].op == op
    assert plan.steps[NAME].replaces == replaces
    assert api_calls(emulator) == []
