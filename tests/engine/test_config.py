"""Provider settings as users write them, read by the real engine's provider host."""

from __future__ import annotations

import pytest
from pulumi import automation as auto

from truto_pulumi.emulator import Emulator

from ..kit import ACCOUNT, EngineStackFactory

pytestmark = pytest.mark.engine

READER = {"integrated_account_id": ACCOUNT, "name": "reader"}


def test_token_and_base_url_from_the_environment_when_config_has_none(
    make_engine_stack: EngineStackFactory, emulator: Emulator
) -> None:
    stack = make_engine_stack(
        api_token=None,
        base_url=None,
        env={"TRUTO_API_TOKEN": emulator.api_token, "TRUTO_BASE_URL": emulator.url},
    )
    stack.up({"reader": READER})
    assert len(emulator.servers()) == 1
    assert "truto:apiToken" not in str(stack.export())  # nothing of it in state at all


def test_a_typed_number_set_with_the_cli_is_honoured(
    make_engine_stack: EngineStackFactory, emulator: Emulator
) -> None:
    stack = make_engine_stack()
    stack.up({"reader": READER})
    stack.cli_run("config", "set", "--type", "float", "truto:operationTimeoutSeconds", "1.5")
    emulator.inject(method="PATCH", times=100, status=503)
    try:
        with pytest.raises(auto.CommandError) as raised:
            stack.up({"reader": {**READER, "name": "renamed"}})
    finally:
        emulator.clear_faults()
    assert "operation timeout of 1.5 s (truto:operationTimeoutSeconds) ran out" in str(raised.value)


def test_a_typed_boolean_for_a_number_fails_preview_naming_the_setting(
    make_engine_stack: EngineStackFactory, emulator: Emulator
) -> None:
    stack = make_engine_stack()
    stack.cli_run("config", "set", "--type", "bool", "truto:requestTimeoutSeconds", "true")
    with pytest.raises(auto.CommandError) as raised:
        stack.preview({"reader": READER})
    assert "truto:requestTimeoutSeconds" in str(raised.value)
    assert emulator.journal() == []
