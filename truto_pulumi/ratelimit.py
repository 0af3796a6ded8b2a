"""A token bucket that paces requests so a large stack stays under Truto's rate limit.

Truto allows 500 requests per 10 s per API token. With a bucket of `rate` tokens per second
and a burst of one second's worth, no 10-second window can see more than `11 * rate`
requests; the default of 45 per second keeps that at 495.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

__all__ = ["DEFAULT_REQUESTS_PER_SECOND", "RateLimiter"]

DEFAULT_REQUESTS_PER_SECOND = 45.0


class RateLimiter:
    """Thread-safe token bucket: `acquire()` waits until a request may be sent.

    Kept as a theoretical arrival time (GCRA): each caller reserves the next free slot under
    the lock, then sleeps outside it, so waiters are served in order without polling.
    """

    def __init__(
        self,
        rate: float,
        *,
        burst: float | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if rate <= 0:
            raise ValueError(f"rate must be positive, got {rate}")
        self.rate = rate
        self.burst = max(1.0, rate if burst is None else burst)
        self._interval = 1.0 / rate
        self._tolerance = (self.burst - 1.0) * self._interval
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._arrival = clock()

    def acquire(self, *, deadline: float | None = None) -> float:
        """Take the next slot, waiting for it; returns the seconds waited.

        Raises `TimeoutError`, reserving nothing, if the slot comes after `deadline`
        (a `clock()` value).
        """
        with self._lock:
            now = self._clock()
            arrival = max(self._arrival, now)
            allowed = arrival - self._tolerance
            if deadline is not None and allowed > deadline:
                raise TimeoutError("the client-side rate limit leaves no room before the deadline")
            self._arrival = arrival + self._interval
        wait = max(0.0, allowed - now)
        if wait:
            self._sleep(wait)
        return wait
