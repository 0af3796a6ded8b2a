"""Fault rules (which request consumes which rule) and the rate limit's window, on a fake clock."""

from __future__ import annotations

from truto_pulumi.emulator._faults import FaultPlan
from truto_pulumi.emulator._ratelimit import SlidingWindowLog

from ..kit import FakeClock


def test_rules_match_method_and_path_regex_in_registration_order_for_their_times() -> None:
    plan = FaultPlan()
    plan.add({"method": "get", "path": r"/mcp/[0-9a-f-]+$", "times": 2, "action": {"status": 503}})
    plan.add({"action": {"status": 500}})

    taken = [
        plan.take("GET", "/integrated-account/a/mcp"),  # the path does not match: the next rule
        plan.take("PATCH", "/integrated-account/a/mcp/1f"),  # nor the method: no rule is left
        plan.take("GET", "/integrated-account/a/mcp/1f"),
    ]
    assert [rule["times"] for rule in plan.pending()] == [1]
    taken += [plan.take("get", "/x/mcp/2e"), plan.take("GET", "/x/mcp/2e")]
    plan.add({"times": 3, "action": {"drop": True}})
    plan.clear()

    assert [None if a is None else a.status for a in taken] == [500, None, 503, 503, None]
    assert plan.pending() == []


def test_the_rate_limit_counts_accepted_requests_per_token_in_a_sliding_window() -> None:
    clock = FakeClock()
    limiter = SlidingWindowLog(2, 10.0, clock=clock)

    first = [limiter.allow("t"), limiter.allow("other"), limiter.allow("t")]
    clock.advance(5)
    refused = limiter.allow("t")  # refused: not counted
    clock.advance(5)
    later = [limiter.allow("t"), limiter.allow("t"), limiter.allow("t")]

    assert (first, refused, later) == ([True, True, True], False, [True, True, False])
    assert limiter.retry_after == 10
    assert SlidingWindowLog(1, 0.25).retry_after == 1
