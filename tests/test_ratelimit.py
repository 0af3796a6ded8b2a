"""The client-side limiter that keeps a large stack under Truto's rate limit and never slows
a small one; a clock moved by hand, so no test waits."""

from __future__ import annotations

import bisect
import threading

import pytest

from truto_pulumi._ratelimit import DEFAULT_REQUESTS_PER_SECOND, SEND_SLACK_SECONDS, RateLimiter

from .kit import FakeClock


@pytest.mark.parametrize("slack", [0.0, 0.5])
def test_over_the_budget_a_request_waits_for_the_oldest_to_leave_the_window_and_slack(
    slack: float,
) -> None:
    clock = FakeClock()
    limiter = RateLimiter(0.3, window=10.0, slack=slack, clock=clock, sleep=clock.sleep)  # 3/10 s
    limiter.acquire()
    clock.now = 4.0
    limiter.acquire()
    limiter.acquire()
    assert limiter.acquire() == pytest.approx(6.0 + slack)  # the first leaves at 10 s (+ slack)
    assert limiter.acquire() == pytest.approx(4.0)  # the second leaves 4 s after the first


@pytest.mark.parametrize(
    ("slack", "late"), [(0.0, 0.0), (SEND_SLACK_SECONDS, 0.1), (SEND_SLACK_SECONDS, 0.4)]
)
def test_no_ten_seconds_of_arrivals_exceed_the_budget_with_slack_for_requests_arriving_late(
    slack: float, late: float
) -> None:
    """Every other request reaches Truto `late` after it went; half a second of slack holds.
    The budget's first requests are never delayed."""
    clock = FakeClock()
    limiter = RateLimiter(DEFAULT_REQUESTS_PER_SECOND, slack=slack, clock=clock, sleep=clock.sleep)
    arrivals = []
    for i in range(2000):
        waited = limiter.acquire()
        assert i >= 490 or (waited, clock.now) == (0.0, 0.0)
        arrivals.append(clock.now + (late if i % 2 else 0.0))
    arrivals.sort()
    worst = max(bisect.bisect_left(arrivals, t + 10.0) - i for i, t in enumerate(arrivals))
    assert worst == 490  # the whole budget, never more


def test_acquire_refuses_to_wait_past_the_deadline_and_reserves_nothing() -> None:
    clock = FakeClock()
    limiter = RateLimiter(0.1, window=10.0, clock=clock, sleep=clock.sleep)
    limiter.acquire()
    with pytest.raises(TimeoutError):
        limiter.acquire(deadline=5.0)
    assert limiter.acquire(deadline=10.0) == pytest.approx(10.0)


@pytest.mark.parametrize(
    ("rate", "window", "slack"), [(0, 10.0, 0.0), (-1, 10.0, 0.0), (1, 0, 0.0), (1, 10.0, -1.0)]
)
def test_rate_and_window_must_be_positive_and_slack_not_negative(
    rate: float, window: float, slack: float
) -> None:
    with pytest.raises(ValueError, match="positive"):
        RateLimiter(rate, window=window, slack=slack)


def test_a_request_let_go_late_is_logged_when_it_really_went() -> None:
    clock = FakeClock()

    def wakes_late(seconds: float) -> None:  # a busy machine
        clock.sleep(seconds + 0.5)

    limiter = RateLimiter(0.2, window=10.0, clock=clock, sleep=wakes_late)  # 2 per 10 s
    limiter.acquire()
    limiter.acquire()
    assert limiter.acquire() == pytest.approx(10.0)  # due at 10 s, went at 10.5 s
    assert limiter.acquire() == 0.0  # only that one in the window: at once, at 10.5 s
    # Due when the one that went at 10.5 s leaves the window (20.5 s), not at 20 s.
    assert limiter.acquire() == pytest.approx(10.0)
    assert clock.now == pytest.approx(21.0)


def test_threads_share_one_budget_in_the_order_they_reserve() -> None:
    limiter = RateLimiter(20.0, window=0.5, clock=lambda: 0.0, sleep=lambda _: None)  # 10 per 0.5 s
    waits: list[float] = []

    def send_ten() -> None:
        for _ in range(10):
            waits.append(limiter.acquire())

    threads = [threading.Thread(target=send_ten) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # 40 requests at 10 per half second, wherever they came from: ten at each half second.
    assert sorted(waits) == [0.0] * 10 + [0.5] * 10 + [1.0] * 10 + [1.5] * 10
