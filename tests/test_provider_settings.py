"""Provider settings through the real provider host, as the engine configures it: typed stack
config (`pulumi config set --type`, numbers in `Pulumi.<stack>.yaml`) is refused naming the
setting at preview, or honoured. Each problem and its wording: `test_settings.py`; a missing
token: `lifecycle/test_preview.py`; a misspelt key: `engine/test_preview_messages.py`."""

from __future__ import annotations

import pytest

from devkit import UpError
from truto_pulumi.emulator import Emulator

from .kit import ACCOUNT, OwnHostStackFactory

pytestmark = pytest.mark.slow  # starts the provider host and the emulator

SERVER = {"srv": {"integrated_account_id": ACCOUNT, "name": "srv"}}


def test_typed_settings_are_refused_naming_the_setting_or_honoured(
    own_host_stack: OwnHostStackFactory, emulator: Emulator
) -> None:
    refused = own_host_stack(settings={"truto:requestTimeoutSeconds": True}).preview(SERVER)
    (failure,) = refused.failures["srv"]
    assert failure.property == "truto:requestTimeoutSeconds"
    assert failure.reason == (
        "truto:requestTimeoutSeconds must be a number, got a value of type bool"
    )
    assert emulator.journal() == []  # preview makes no request

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
