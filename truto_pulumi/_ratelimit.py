"""Client-side pacing under Truto's rate limit (500 requests per 10 s per API token): a sliding
log of send times, so no 10 s see more than the budget (49 per second: 490) and a run under it
is never delayed. Nothing is shared between processes: a new `pulumi` command may pay one 429,
retried after its `Retry-After` (`bench/back_to_back.py` measures it)."""

from __future__ import annotations

import bisect
import threading
import time
from collections.abc import Callable

DEFAULT_REQUESTS_PER_SECOND = 49.0
SEND_SLACK_SECONDS = 0.5
"""Seconds the provider counts each send beyond the window: a request may reach Truto late."""


class RateLimiter:
    """Thread-safe sliding-window limiter: each caller reserves its send time under the lock,
    then sleeps outside it, so waiters keep their order and never poll."""

    def __init__(
        self,
        rate: float,
        *,
        window: float = 10.0,
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
        self._sent: list[float] = []  # send times, sorted; those out of the window are dropped

    def acquire(self, *, deadline: float | None = None) -> float:
        """Reserve the next send time and wait for it (the seconds waited); `TimeoutError`,
        reserving nothing, if that comes after `deadline` (a `clock()`)."""
        with self._lock:
            now = self._clock()
            del self._sent[: bisect.bisect_right(self._sent, now - self._held)]
            at = now
            if len(self._sent) >= self.budget:
                at = max(now, self._sent[-self.budget] + self._held)
            if deadline is not None and at > deadline:
                raise TimeoutError("the client-side rate limit leaves no room before the deadline")
            bisect.insort(self._sent, at)
        if at > now:
            self._sleep(at - now)
        late = self._clock()
        if late > at:  # woke late (a busy machine): log when the request really goes
            with self._lock:
                index = bisect.bisect_left(self._sent, at)
                if index < len(self._sent) and self._sent[index] == at:
                    del self._sent[index]
                bisect.insort(self._sent, late)
        return at - now
