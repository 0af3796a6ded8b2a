"""The client-side token bucket that keeps a large stack under Truto's rate limit."""

from __future__ import annotations

import threading
import time

import pytest

from truto_pulumi.ratelimit import DEFAULT_REQUESTS_PER_SECOND, RateLimiter


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def test_burst_passes_then_requests_are_spaced_by_the_rate() -> None:
    clock = FakeClock()
    limiter = RateLimiter(10.0, burst=3.0, clock=clock, sleep=clock.sleep)
    waits = [limiter.acquire() for _ in range(5)]
    assert waits[:3] == [0.0, 0.0, 0.0]
    assert waits[3:] == pytest.approx([0.1, 0.1])


def test_default_rate_stays_under_truto_limit_in_any_ten_seconds() -> None:
    clock = FakeClock()
    limiter = RateLimiter(DEFAULT_REQUESTS_PER_SECOND, clock=clock, sleep=clock.sleep)
    sent = []
    while clock.now < 30.0:
        limiter.acquire()
        sent.append(clock.now)
    worst = max(sum(1 for t in sent if start <= t < start + 10.0) for start in sent)
    assert worst <= 500


def test_acquire_refuses_to_wait_past_the_deadline() -> None:
    clock = FakeClock()
    limiter = RateLimiter(1.0, clock=clock, sleep=clock.sleep)
    limiter.acquire()
    with pytest.raises(TimeoutError):
        limiter.acquire(deadline=0.5)
    assert limiter.acquire(deadline=2.0) == pytest.approx(1.0)


def test_rate_must_be_positive() -> None:
    with pytest.raises(ValueError, match="positive"):
        RateLimiter(0)


def test_threads_share_one_bucket() -> None:
    limiter = RateLimiter(200.0, burst=1.0)
    started = time.monotonic()
    threads = [
        threading.Thread(target=lambda: [limiter.acquire() for _ in range(10)]) for _ in range(4)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # 40 requests at 200/s with a burst of 1 need at least 39 / 200 s.
    assert time.monotonic() - started >= 39 / 200 * 0.95
