"""The client-side limiter that keeps a large stack under Truto's rate limit and never slows
a small one."""

from __future__ import annotations

import threading
import time

import pytest

from truto_pulumi._ratelimit import DEFAULT_REQUESTS_PER_SECOND, RateLimiter

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


@pytest.mark.parametrize(("rate", "window"), [(0, 10.0), (-1, 10.0), (1, 0)])
def test_rate_and_window_must_be_positive(rate: float, window: float) -> None:
    with pytest.raises(ValueError, match="positive"):
        RateLimiter(rate, window=window)


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
