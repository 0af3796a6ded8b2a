"""Provider settings through the real provider host, as the engine configures it: typed stack
config (`pulumi config set --type`, numbers in `Pulumi.<stack>.yaml`) is honoured or refused,
and a settings problem fails preview naming the setting, never an empty property. Each problem
and its wording: `test_settings.py`; a missing token: `lifecycle/test_preview.py`."""

from __future__ import annotations

from typing import Any

import pytest

from devkit import UpError
from truto_pulumi.emulator import Emulator

from .kit import ACCOUNT, OwnHostStackFactory

pytestmark = pytest.mark.slow  # starts the provider host and the emulator

SERVER = {"srv": {"integrated_account_id": ACCOUNT, "name": "srv"}}
TOKEN = "settings-test-token-do-not-leak"


@pytest.mark.parametrize(
    ("settings", "setting", "reason"),
    [
        pytest.param(
            {"truto:requestTimeoutSeconds": True},
            "truto:requestTimeoutSeconds",
            "truto:requestTimeoutSeconds must be a number, got a value of type bool",
            id="typed_bool_for_a_number",
        ),
        pytest.param(
            {"truto:baseUrl": f"https://{TOKEN}@api.truto.one"},
            "truto:baseUrl",
            "but it carries user info (user:password@); give the token as truto:apiToken: "
            "got 'https://api.truto.one'",
            id="base_url_with_user_info",
        ),
    ],
)
def test_a_settings_problem_fails_preview_naming_the_setting(
    own_host_stack: OwnHostStackFactory,
    emulator: Emulator,
    settings: dict[str, Any],
    setting: str,
    reason: str,
) -> None:
    stack = own_host_stack(settings=settings)

    plan = stack.preview(SERVER)

    (failure,) = plan.failures["srv"]
    assert failure.property == setting
    assert reason in failure.reason
    assert TOKEN not in failure.reason
    assert emulator.journal() == []  # preview makes no request


def test_typed_numbers_are_honoured(
    own_host_stack: OwnHostStackFactory, emulator: Emulator
) -> None:
    stack = own_host_stack(
        settings={"truto:operationTimeoutSeconds": 1.5, "truto:maxRequestsPerSecond": 0}
    )
    assert stack.preview(SERVER).failures == {}
    stack.up(SERVER)
    emulator.inject(method="PATCH", times=100, status=503)

    with pytest.raises(UpError) as info:
        stack.up({"srv": {**SERVER["srv"], "name": "renamed"}})

    assert "operation timeout of 1.5 s (truto:operationTimeoutSeconds) ran out" in str(info.value)
    emulator.clear_faults()
    stack.destroy()
