"""One listing of an integrated account's MCP servers at a time, shared by a process's threads.

A 404 proven by the account's list, a lost create's settle and the sweep of what killed runs
left each need a listing that began after a given moment: after they asked (`fresh`), or after
the server was known to exist (`since`: a server once gone never comes back, so the 404s of K
servers of the state refreshed at once share one listing). Each account has a lock and its last
listing with the time it began: a caller takes the lock, and lists only when that listing began
too early for it. So callers that arrive while a listing runs wait for it to end, and the first
of them lists once for all: K callers cost at most two listings, not K times every page of N,
and accounts never wait for each other.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any, NamedTuple
from urllib.parse import quote

from ._deadline import Deadline

__all__ = ["AccountListings", "Listed"]

Servers = list[dict[str, Any]]


class Listed(NamedTuple):
    """A listing's servers and when it began (a `time.monotonic()` value)."""

    began: float
    servers: Servers


class _Account:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.last: Listed | None = None
        """The latest listing that ended with the servers."""
        self.failed: tuple[float, float, BaseException] | None = None
        """The latest listing that failed: when it began and ended, and its error."""


class AccountListings:
    """Listings of integrated accounts, each begun late enough for its caller, one at a time
    per account (the module docstring says why); thread-safe."""

    def __init__(
        self,
        list_servers: Callable[[str, Deadline | None], Servers],
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._list_servers = list_servers
        self._clock = clock
        self._lock = threading.Lock()
        self._accounts: dict[str, _Account] = {}

    def fresh(self, account_id: str, deadline: Deadline | None = None) -> Servers:
        """Every MCP server of the account, from a listing that began after this call."""
        return self.since(account_id, None, deadline).servers

    def since(
        self, account_id: str, began: float | None, deadline: Deadline | None = None
    ) -> Listed:
        """Every MCP server of the account, from a listing that began at `began` or later
        (None: after this call). Waits for another caller's listing until the operation's
        `deadline` (None: as long as it takes), else raises its `TrutoDeadlineError`; a listing
        it runs itself gets the deadline. A listing's error reaches every caller that waited for
        it and could have used its servers; a caller that asks after it ended lists again."""
        asked = self._clock()
        began = asked if began is None else began
        with self._lock:
            account = self._accounts.setdefault(account_id, _Account())
        if deadline is None:
            account.lock.acquire()
        elif not account.lock.acquire(timeout=max(deadline.remaining(), 0.0)):
            path = f"/integrated-account/{quote(account_id, safe='')}/mcp"
            what = f"waiting on GET {path}: its MCP servers were being listed for other operations"
            raise deadline.error(time.monotonic(), what, method="GET", path=path)
        try:
            last = account.last
            if last is None or last.began < began:
                failed = account.failed
                if failed is not None and failed[0] >= began and failed[1] >= asked:
                    raise failed[2]  # the listing this caller waited for, and could use, failed
                started = self._clock()
                try:
                    last = account.last = Listed(started, self._list_servers(account_id, deadline))
                except BaseException as error:
                    account.failed = (started, self._clock(), error)
                    raise
            return Listed(last.began, [dict(server) for server in last.servers])
        finally:
            account.lock.release()
