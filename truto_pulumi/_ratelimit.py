"""Client-side pacing that keeps a large stack under Truto's rate limit without slowing a
small one.

Truto allows 500 requests per 10 s per API token. The limiter keeps a sliding log of send
times and lets a request go at once while fewer than `rate * window` were sent in the last
`window` seconds; otherwise it waits until the oldest of them leaves the window. So no
10-second interval ever sees more than the budget, and a run that stays under it is never
delayed. The default, 49 per second over Truto's 10-second window, is a budget of 490.

A request reaches Truto a little after the limiter lets it go, later still on a busy machine
(the thread woke late, the GIL was taken). So the log keeps the time each request really went,
and the provider's limiter counts each one for `SEND_SLACK_SECONDS` beyond the window: a
request that arrives up to that much late still finds Truto's window as the log saw it.

Each `pulumi` command runs a new provider host whose log starts empty, while Truto may still
count the last command's requests: what that costs is a 429, retried after its `Retry-After`
(`bench/back_to_back.py` measures it). Nothing is shared between processes.
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
    """Thread-safe sliding-window limiter: `acquire()` waits until a request may be sent.
    `slack`: seconds each send counts beyond the window.

    Each caller reserves its send time under the lock, then sleeps outside it, so waiters
    keep their order and never poll; the log then keeps the time it really woke.
    """

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
        self.rate = rate
        self.window = window
        self.budget = max(1, int(rate * window))
        self._held = window + slack  # how long a send counts in the log
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._sent: list[float] = []  # send times, sorted; older than one window are dropped

    def acquire(self, *, deadline: float | None = None) -> float:
        """Reserve the next send time and wait for it; returns the seconds waited.

        Raises `TimeoutError`, reserving nothing, if that time comes after `deadline`
        (a `clock()` value).
        """
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
