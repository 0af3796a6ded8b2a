"""A fleet against Truto's rate limit: sixteen calls at once (the provider host widened by
`truto:hostConcurrency` 16, the README's setting for fleets), the emulator enforcing Truto's
500 requests per 10 s. The run sends more than one window's budget and draws no 429 from its
own traffic: the client's one limiter paces every thread."""

from __future__ import annotations

import pytest

from truto_pulumi.emulator import Emulator

from ..kit import OwnHostStackFactory
from .helpers import NAME, desired

pytestmark = pytest.mark.slow  # a provider host of its own and the emulator

SERVERS = 150
"""Over 600 requests: more than the 500 of one window, so only pacing avoids a 429."""


def test_an_up_refresh_and_destroy_of_150_servers_sixteen_at_once_draw_no_429(
    own_host_stack: OwnHostStackFactory, emulator: Emulator
) -> None:
    stack = own_host_stack(settings={"truto:hostConcurrency": "16"})
    stack.parallel = 16
    emulator.set_rate_limit(500, 10)
    try:
        stack.up({f"s{i}": desired(name=f"server {i}")[NAME] for i in range(SERVERS)})
        assert len(emulator.servers()) == SERVERS
        stack.refresh()
        stack.destroy()
    finally:
        emulator.set_rate_limit(None)
    statuses = [entry["status"] for entry in emulator.journal()]
    assert len(statuses) > 4 * SERVERS > 500  # POST, PATCH, GET and DELETE of each
    assert 429 not in statuses
    assert emulator.servers() == []
