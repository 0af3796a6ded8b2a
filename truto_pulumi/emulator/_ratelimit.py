"""Truto's per-token rate limit (500 requests per 10 s), as a sliding window log."""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable


class SlidingWindowLog:
    """Allow at most `requests` accepted requests per key within any `per_seconds` window."""

    def __init__(
        self, requests: int, per_seconds: float, *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        if requests < 1 or per_seconds <= 0:
            raise ValueError("rate limit needs requests >= 1 and per_seconds > 0")
        self.requests = requests
        self.per_seconds = per_seconds
        self._clock = clock
        self._lock = threading.Lock()
        self._hits: dict[str, deque[float]] = {}

    @property
    def retry_after(self) -> int:
        """The `Retry-After` seconds sent with a 429 (Truto sends the window, i.e. 10)."""
        return max(1, math.ceil(self.per_seconds))

    def allow(self, key: str) -> bool:
        """Count a request for `key`; False (and not counted) when it is over the limit."""
        now = self._clock()
        with self._lock:
            hits = self._hits.setdefault(key, deque())
            while hits and hits[0] <= now - self.per_seconds:
                hits.popleft()
            if len(hits) >= self.requests:
                return False
            hits.append(now)
            return True


def parse_rate_limit(text: str) -> tuple[int, float]:
    """`"500/10"` -> `(500, 10.0)`."""
    requests, sep, seconds = text.partition("/")
    try:
        parsed = (int(requests), float(seconds))
    except ValueError:
        raise ValueError(
            f"rate limit must look like REQUESTS/SECONDS, e.g. 500/10: {text!r}"
        ) from None
    if not sep or parsed[0] < 1 or parsed[1] <= 0:
        raise ValueError(f"rate limit must look like REQUESTS/SECONDS, e.g. 500/10: {text!r}")
    return parsed
