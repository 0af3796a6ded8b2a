"""Truto's documented refusals through the provider host: its words, what to do, and what is
kept (how the CLI shows a provider's error: `tests/engine/test_preview_messages.py`)."""

from __future__ import annotations

from typing import Any

import pytest

from devkit import OperationError, SimulatedStack
from truto_pulumi.emulator import Emulator

from ..kit import ACCOUNT
from .helpers import NAME, desired

pytestmark = pytest.mark.slow  # starts the provider host and the emulator


def refusal(stack: SimulatedStack, state: dict[str, dict[str, Any]]) -> str:
    """What an `up` of `state` that must fail says."""
    with pytest.raises(OperationError) as raised:
        stack.up(state)
    return str(raised.value)


def test_a_config_that_matches_no_tool_fails_with_trutos_words_and_what_to_do(
    stack: SimulatedStack, emulator: Emulator
) -> None:
    emulator.set_readings(account_tools={ACCOUNT: [{"method": "list", "tags": ["crm"]}]})
    hr, crm = (desired(config={"tags": [tag]}) for tag in ("hr", "crm"))

    refused_create = refusal(stack, hr)
    assert emulator.servers() == []
    stack.up(crm)
    refused_patch = refusal(stack, hr)

    for refused, nothing in ((refused_create, "created"), (refused_patch, "changed")):
        assert "No tools match the given methods and tags" in refused
        assert f"Nothing was {nothing}." in refused
        assert "match no tool of the integrated account" in refused
    assert [s["config"] for s in emulator.servers()] == [{"tags": ["crm"]}]
    assert stack.resources[NAME].outputs["config"] == {"tags": ["crm"]}


def test_a_create_beyond_the_plan_limit_fails_with_trutos_words_and_keeps_what_was_made(
    stack: SimulatedStack, emulator: Emulator
) -> None:
    emulator.set_readings(plan_limit=2)

    refused = refusal(stack, {f"s{n}": desired(name=f"s{n}")[NAME] for n in range(4)})

    assert "Your plan allows 2 MCP servers" in refused
    assert "beyond the plan's limit on MCP servers" in refused
    live = {s["id"]: s["token"] for s in emulator.servers()}
    assert len(live) == 2
    assert {s.id: s.outputs["token"] for s in stack.resources.values()} == live
