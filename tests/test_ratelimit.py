"""The client-side limiter that keeps a large stack under Truto's rate limit and never slows
a small one."""

from __future__ import annotations

import threading
import time

import pytest

from truto_pulumi._ratelimit import (
    DEFAULT_REQUESTS_PER_SECOND,
    SEND_SLACK_SECONDS,
    RateLimiter,
)

from .kit import FakeClock


def test_requests_within_the_budget_are_never_delayed() -> None:
    clock = FakeClock()
    limiter = RateLimiter(49.0, clock=clock, sleep=clock.sleep)
    assert limiter.budget == 490
    assert [limiter.acquire() for _ in range(490)] == [0.0] * 490
    assert clock.now == 0.0


def test_over_the_budget_a_request_waits_for_the_oldest_to_leave_the_window() -> None:
    clock = FakeClock()
    limiter = RateLimiter(0.3, window=10.0, clock=clock, sleep=clock.sleep)  # 3 per 10 s
    limiter.acquire()
    clock.now = 4.0
    limiter.acquire()
    limiter.acquire()
    assert limiter.acquire() == pytest.approx(6.0)  # the first leaves the window at 10 s
    assert limiter.acquire() == pytest.approx(4.0)  # the second leaves it at 14 s


def test_default_budget_stays_under_truto_limit_in_any_ten_seconds() -> None:
    clock = FakeClock()
    limiter = RateLimiter(DEFAULT_REQUESTS_PER_SECOND, clock=clock, sleep=clock.sleep)
    sent = []
    for _ in range(2000):
        limiter.acquire()
        sent.append(clock.now)
    worst = max(sum(1 for t in sent if start <= t < start + 10.0) for start in sent)
    assert worst == 490


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


class LateWaker(FakeClock):
    """A busy machine: every sleep wakes `late` seconds after it was due."""

    def __init__(self, late: float) -> None:
        super().__init__()
        self.late = late

    def sleep(self, seconds: float) -> None:
        super().sleep(seconds + self.late)


def test_a_request_let_go_late_is_logged_when_it_really_went() -> None:
    clock = LateWaker(late=0.5)
    limiter = RateLimiter(0.2, window=10.0, clock=clock, sleep=clock.sleep)  # 2 per 10 s
    limiter.acquire()
    limiter.acquire()
    assert limiter.acquire() == pytest.approx(10.0)  # due at 10 s, went at 10.5 s
    assert limiter.acquire() == 0.0  # only that one in the window: at once, at 10.5 s
    # Due when the one that went at 10.5 s leaves the window (20.5 s), not at 20 s.
    assert limiter.acquire() == pytest.approx(10.0)
    assert clock.now == pytest.approx(21.0)


@pytest.mark.parametrize("late", [0.0, 0.1, 0.4])
def test_with_slack_no_ten_seconds_of_arrivals_exceed_the_budget_when_requests_arrive_late(
    late: float,
) -> None:
    """Each request reaches Truto up to `late` after it went; half a second of slack holds."""
    clock = FakeClock()
    limiter = RateLimiter(
        DEFAULT_REQUESTS_PER_SECOND, slack=SEND_SLACK_SECONDS, clock=clock, sleep=clock.sleep
    )
    arrivals = []
    for i in range(2000):
        limiter.acquire()
        arrivals.append(clock.now + (late if i % 2 else 0.0))
    arrivals.sort()
    worst = max(sum(1 for t in arrivals if start <= t < start + 10.0) for start in arrivals)
    assert worst <= 490


def test_slack_holds_each_send_that_much_longer() -> None:
    clock = FakeClock()
    limiter = RateLimiter(0.2, window=10.0, slack=0.5, clock=clock, sleep=clock.sleep)
    limiter.acquire()
    limiter.acquire()
    assert limiter.acquire() == pytest.approx(10.5)


def test_threads_share_one_budget() -> None:
    limiter = RateLimiter(20.0, window=0.5)  # 10 per half second
    started = time.monotonic()
    threads = [
        threading.Thread(target=lambda: [limiter.acquire() for _ in range(10)]) for _ in range(4)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # 40 requests at 10 per half second: the last ten cannot go before 1.5 s.
    assert time.monotonic() - started >= 1.5 * 0.95
