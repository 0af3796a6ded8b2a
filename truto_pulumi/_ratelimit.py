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

Each `pulumi` command runs a new provider host, and a `pulumi destroy` right after an `up`
would start with an empty log while Truto still counts the `up`'s last ten seconds. So the
processes of one machine that use one API token and base URL share their send times through a
file (`SendLog`: times only, named by a hash, in the user's temporary folder): a new limiter
starts from what the last window held.
"""

from __future__ import annotations

import bisect
import hashlib
import logging
import os
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

__all__ = [
    "DEFAULT_REQUESTS_PER_SECOND",
    "SEND_SLACK_SECONDS",
    "TRUTO_WINDOW_SECONDS",
    "RateLimiter",
    "SendLog",
]

_log = logging.getLogger("truto_pulumi.ratelimit")

DEFAULT_REQUESTS_PER_SECOND = 49.0
TRUTO_WINDOW_SECONDS = 10.0
SEND_SLACK_SECONDS = 0.5


class RateLimiter:
    """Thread-safe sliding-window limiter: `acquire()` waits until a request may be sent.
    `slack`: seconds each send counts beyond the window; `shared`: the send times of this
    machine's other processes with the same token, read at the start and added to.

    Each caller reserves its send time under the lock, then sleeps outside it, so waiters
    keep their order and never poll; the log then keeps the time it really woke.
    """

    def __init__(
        self,
        rate: float,
        *,
        window: float = TRUTO_WINDOW_SECONDS,
        slack: float = 0.0,
        shared: SendLog | None = None,
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
        self._shared = shared
        self._sent: list[float] = []  # send times, sorted; older than one window are dropped
        if shared is not None:
            now = clock()
            self._sent = sorted(now - ago for ago in shared.ages(within=self._held))

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
        if self._shared is not None:
            self._shared.record()
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


class SendLog:
    """Send times (wall clock) shared by the processes of one machine that use one API token
    and base URL: a file of one time per line, appended to by each request. Best effort: a
    file that cannot be read or written leaves each process with its own log."""

    _KEEP_BYTES = 64 * 1024
    """A file grown past this is cut back to its recent lines when a limiter starts."""

    def __init__(self, path: Path, *, wall: Callable[[], float] = time.time) -> None:
        self.path = path
        self._wall = wall
        self._lock = threading.Lock()

    @classmethod
    def for_token(cls, api_token: str, base_url: str) -> SendLog:
        """The log of this token at this URL, in the user's temporary folder, named by a hash
        that neither shows the token nor lets it be found."""
        digest = hashlib.sha256(f"{base_url}\n{api_token}".encode()).hexdigest()[:24]
        folder = Path(tempfile.gettempdir()) / f"truto-pulumi-{_user()}"
        return cls(folder / f"sent-{digest}.log")

    def ages(self, *, within: float) -> list[float]:
        """How many seconds ago each send of the last `within` seconds went (cuts the file
        back to those when it has grown large)."""
        now = self._wall()
        try:
            lines = self.path.read_text(encoding="ascii").split()
        except (OSError, ValueError):
            return []
        recent = []
        for line in lines:
            try:
                ago = now - float(line)
            except ValueError:
                continue
            if 0 <= ago <= within:
                recent.append(ago)
        if len(lines) * 16 > self._KEEP_BYTES:
            self._rewrite(now, recent)
        return recent

    def record(self) -> None:
        """Add a send at this moment."""
        line = f"{self._wall():.3f}\n"
        with self._lock:
            try:
                self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
                with self.path.open("a", encoding="ascii") as file:
                    file.write(line)
            except OSError as error:
                _log.debug("could not record a send in %s: %s", self.path, error)

    def _rewrite(self, now: float, ages: list[float]) -> None:
        kept = "".join(f"{now - ago:.3f}\n" for ago in sorted(ages, reverse=True))
        try:
            partial = self.path.with_suffix(f".{os.getpid()}.tmp")
            partial.write_text(kept, encoding="ascii")
            partial.replace(self.path)
        except OSError as error:
            _log.debug("could not cut back %s: %s", self.path, error)


def _user() -> str:
    """Who runs this process, for a temporary folder of their own."""
    getuid = getattr(os, "getuid", None)
    return str(getuid()) if getuid is not None else os.environ.get("USERNAME", "user")
