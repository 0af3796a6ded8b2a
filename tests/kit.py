"""What the test modules share besides fixtures (those are in the conftests): the integrated
account ids they declare servers in, a property bag of a server's inputs, a clock they move by
hand, an API token hard to scrub with the check that text shows none of it, and how many
requests the emulator held at once. The machinery shared with `bench/` is `devkit`."""

from __future__ import annotations

import base64
import bisect
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any, Final
from urllib.parse import quote

from devkit import SimulatedStack


def account_id(n: int) -> str:
    """The `n`-th integrated account id of the tests (a UUID, as Truto's are): `ACCOUNT` is the
    first, `OTHER_ACCOUNT` the second."""
    return f"4f5a1c2e-0000-4000-8000-{n:012x}"


ACCOUNT: Final = account_id(1)
"""The integrated account a test declares its servers in."""

OTHER_ACCOUNT: Final = account_id(2)
"""A second account, where a test needs one that is not `ACCOUNT`."""

EXAMPLE_ACCOUNTS: Final = [
    "8d0c1f52-6b1e-4c7e-9a43-0d6f2f0c1a11",
    "2f4e9b7a-3c5d-4e6f-8a9b-1c2d3e4f5a6b",
]
"""The two accounts the examples' READMEs and `examples/demo.py` configure: the tests of the
examples and of project folders configure them too, as a user following a README does."""

EXAMPLE_ACCOUNT: Final = EXAMPLE_ACCOUNTS[0]
"""The first of `EXAMPLE_ACCOUNTS`, for a program or stack that needs one account."""


def bag(**changes: Any) -> dict[str, Any]:
    """A server's inputs as the engine sends them to check: `ACCOUNT` and the name `reader`,
    with `changes` on top (a None leaves the key out)."""
    props: dict[str, Any] = {"integrated_account_id": ACCOUNT, "name": "reader"}
    props.update(changes)
    return {key: value for key, value in props.items() if value is not None}


class FakeClock:
    """A clock that moves only when told: `clock()` is the time now (seconds, as
    `time.monotonic` gives it); `sleep(seconds)` records the wait in `waits` and moves time on;
    `advance(seconds)` moves it without a wait. `utc()` is the time as a UTC datetime, `epoch`
    at 0 s, for code that reads the wall clock."""

    def __init__(self, start: float = 0.0, *, epoch: datetime | None = None) -> None:
        self.now = start
        self.epoch = epoch or datetime(2024, 1, 1, tzinfo=UTC)
        self.waits: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.waits.append(seconds)
        self.now += seconds

    def advance(self, seconds: float) -> None:
        self.now += seconds

    def utc(self) -> datetime:
        return self.epoch + timedelta(seconds=self.now)


OwnHostStackFactory = Callable[..., SimulatedStack]
"""The `own_host_stack` fixture: `own_host_stack(api_token=..., base_url=..., settings=...,
env=..., stack=..., new_host_each_run=...)`, a `SimulatedStack` on a provider host of its own."""


ODD_TOKEN: Final = 'tok/4f9c+2b7e=a1d0 9c3e"5f6a77b1e0c2'
"""36 characters, with those JSON escapes (`/`, `"`) and URL encodings (`+`, `=`, space) touch."""


def json_unicode(text: str, spec: str = "04x") -> str:
    """`text` with every character JSON-escaped as `\\uXXXX` (`spec` formats the code)."""
    return "".join(f"\\u{ord(c):{spec}}" for c in text)


def shows_token(text: str, token: str = ODD_TOKEN) -> list[str]:
    """The pieces of `token` that `text` shows: 8 characters in a row verbatim, JSON- or
    percent-encoded, or 11 base64 characters of it at any byte alignment."""
    windows = [token[i : i + 8] for i in range(len(token) - 7)]
    needles = {
        form
        for window in windows
        for form in (window, window.replace("/", "\\/"), json_unicode(window), quote(window))
    }
    for prefix in (b"", b"B", b"Be"):
        inner = base64.b64encode(prefix + token.encode()).decode()[4:-4]
        needles |= {inner[i : i + 11] for i in range(len(inner) - 10)}
    return sorted(n for n in needles if n.lower() in text.lower())


def peak_in_flight(journal: list[dict[str, Any]], latency: float) -> int:
    """The most API requests the emulator held at once, from its journal: each request is held
    for the added `latency` from its arrival (`ts`). One caller's next request arrives only
    after its answer, so N callers never show more than N."""
    arrivals = sorted(float(entry["ts"]) for entry in journal)
    window = latency * 0.9  # the answer leaves `latency` after arrival, plus the emulator's work
    return max(
        (i + 1 - bisect.bisect_right(arrivals, t - window) for i, t in enumerate(arrivals)),
        default=0,
    )
