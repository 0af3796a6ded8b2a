"""What `SimulatedStack` keeps as the engine keeps it, where no test of the product shows it."""

from __future__ import annotations

import re

import pytest

from devkit import SimulatedStack, UpError
from truto_pulumi.emulator import Emulator

from ..kit import ACCOUNT, OTHER_ACCOUNT


@pytest.mark.slow
def test_an_old_server_whose_delete_fails_stays_pending_until_the_next_up_deletes_it(
    stack: SimulatedStack, emulator: Emulator
) -> None:
    stack.apply_step({"s": {"integrated_account_id": ACCOUNT, "name": "s"}})
    old = stack.resources["s"].id
    moved = {"s": {"integrated_account_id": OTHER_ACCOUNT, "name": "s"}}
    emulator.inject(method="DELETE", status=403, times=100)

    with pytest.raises(UpError, match=re.escape(f"s (old id {old})")):
        stack.up(moved)  # the replacement is made; deleting the old server fails

    assert [state.id for state in stack.pending_deletes] == [old]
    assert sorted(s["id"] for s in emulator.servers()) == sorted([old, stack.resources["s"].id])
    emulator.clear_faults()
    assert stack.apply_step(moved).ops == {"s": "same"}
    assert stack.pending_deletes == []
    assert [s["id"] for s in emulator.servers()] == [stack.resources["s"].id]
