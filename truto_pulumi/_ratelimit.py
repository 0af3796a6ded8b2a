"""Client-side pacing under Truto's rate limit (500 requests per 10 s per API token).

A sliding log of send times: a request goes at once while fewer than `rate * window` went in
the last `window` seconds, else when the oldest of them leaves it; so no 10 s ever see more
than the budget (49 per second: 490), and a run under it is never delayed. A thread may wake
late on a busy machine, so the log keeps when each request really went, and the provider's
limiter counts each `SEND_SLACK_SECONDS` beyond the window, for requests that reach Truto late.
Nothing is shared between processes: a new `pulumi` command whose host starts an empty log while
Truto still counts the last one's requests pays a 429, retried after its `Retry-After`
(`bench/back_to_back.py` measures it).
"""

from __future__ import annotations

import bisect
import threading
import time
from collections.abc import Callable

__all__ = [
    "DEFAULT_REQUESTS_PER_SECOND",
    "SEND_SLACK_SECONDS",
    "TRUTO_WINDOW_SECONDS",
    "RateLimiter",
]


DEFAULT_REQUESTS_PER_SECOND = 49.0
TRUTO_WINDOW_SECONDS = 10.0
SEND_SLACK_SECONDS = 0.5


class RateLimiter:
    """Thread-safe sliding-window limiter: `acquire()` waits until a request may be sent;
    `slack`: seconds each send counts beyond the window. Each caller reserves its send time
    under the lock, then sleeps outside it: waiters keep their order and never poll."""

    def __init__(
        self,
        rate: float,
        *,
        window: float = TRUTO_WINDOW_SECONDS,
        slack: float = 0.0,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if rate <= 0 or window <= 0 or slack < 0:
            raise ValueError(
                f"rate and window must be positive and slack not negative, got {rate}, "
                f"{window} and {slack}"
            )
        self.budget = max(1, int(rate * window))
        self._held = window + slack  # how long a send counts in the log
        self._clock, self._sleep = clock, sleep
        self._lock = threading.Lock()
        self._sent: list[float] = []  # send times, sorted; older than one window are dropped

    def acquire(self, *, deadline: float | None = None) -> float:
        """Reserve the next send time and wait for it; returns the seconds waited. Raises
        `TimeoutError`, reserving nothing, if that time comes after `deadline` (a `clock()`)."""
        with self._lock:
            now = self._clock()
            expired = bisect.bisect_right(self._sent, now - self._held)
            del self._sent[:expired]
            at = now
            if len(self._sent) >= self.budget:
                at = max(now, self._sent[-self.budget] + self._held)
            if deadline is not None and at > deadline:
                raise TimeoutError("the client-side rate limit leaves no room before the deadline")
            bisect.insort(self._sent, at)
        wait = at - now
        if wait > 0:
            self._sleep(wait)
        self._sent_at_last(at)
        return wait

    def _sent_at_last(self, reserved: float) -> None:
        """Move a reservation to the moment its request really goes: a thread that woke late
        (a busy machine) must not leave Truto's window fuller than the log says."""
        now = self._clock()
        if now <= reserved:
            return
        with self._lock:
            index = bisect.bisect_left(self._sent, reserved)
            if index < len(self._sent) and self._sent[index] == reserved:
                del self._sent[index]
            bisect.insort(self._sent, now)
