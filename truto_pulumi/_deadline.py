"""The deadline of one operation: made when it starts, and passed to every call it makes."""

from __future__ import annotations

import time
from dataclasses import dataclass

from ._errors import TrutoDeadlineError, TrutoError


@dataclass(frozen=True)
class Deadline:
    """When an operation's calls must be done by (`time.monotonic()`), its timeout, and the
    setting that gave it ("" for a call's own)."""

    at: float
    timeout: float
    setting: str = ""

    @classmethod
    def after(cls, timeout: float, setting: str = "", *, now: float | None = None) -> Deadline:
        return cls((time.monotonic() if now is None else now) + timeout, timeout, setting)

    def remaining(self) -> float:
        return self.at - time.monotonic()

    def error(
        self, now: float, what: str, *, method: str, path: str, last_error: TrutoError | None = None
    ) -> TrutoDeadlineError:
        """The error of a call that ran out of time at `now` doing `what` (`waiting on GET /x`)."""
        ran_out = f"operation timeout of {self.timeout:g} s ({self.setting}) ran out"
        elapsed = now - (self.at - self.timeout)
        message = f"{ran_out if self.setting else 'gave up'} after {elapsed:.1f} s {what}"
        return TrutoDeadlineError(message, method=method, path=path, last_error=last_error)
