"""Preview: unknown values are settled by Check and Diff, through the real host, without a single
HTTP call (bad inputs at preview, through the CLI: tests/engine/test_preview_messages.py; settings
problems, a missing API token among them: tests/test_provider_settings.py)."""

from __future__ import annotations

from typing import Any

import pytest

from devkit import UNKNOWN, SimulatedStack
from truto_pulumi.emulator import Emulator

from .helpers import NAME, api_calls, desired

pytestmark = pytest.mark.slow  # starts the provider host and the emulator


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
