"""One listing of an integrated account's MCP servers at a time, shared by a process's threads.

A 404 proven by the account's list, a lost create's settle and the sweep of what killed runs
left each need the list as it is *now*: one that began after they asked. Listed one by one,
K such callers in an account of N servers cost K times every page of N. Here a caller that
finds no listing of its account under way starts one; callers that arrive while one is under
way (it began before them, so it cannot serve them) join the one queued behind it, which one
of them starts when the first ends and which answers them all. So an account has at most one
listing running and one queued, however many callers wait, and accounts never wait for each
other.

A caller that can do with an older listing says since when (`since`): a 404 for a server that
existed before this run began is proven by any listing of the run that lacks it (a server once
gone never comes back), so the 404s of K servers refreshed at once share one listing, and the
requests of a refresh grow with N, not with K times the pages of N.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any, NamedTuple
from urllib.parse import quote

from ._errors import TrutoDeadlineError
from ._settings import OPERATION_TIMEOUT_KEY

__all__ = ["AccountListings", "ListServers", "Listed"]

ListServers = Callable[[str], list[dict[str, Any]]]
"""Every MCP server of an integrated account (`TrutoClient.list_mcp_servers`)."""

Servers = list[dict[str, Any]]


class Listed(NamedTuple):
    """A listing's servers and when it began (a `time.monotonic()` value)."""

    began: float
    servers: Servers


class _Listing:
    """One listing of an account, begun or queued, and its outcome once it ended."""

    def __init__(self) -> None:
        self.began = float("inf")
        """When it began running; infinity while queued."""
        self.ended = False
        self.servers: Servers = []
        self.error: BaseException | None = None
        self.waiting = 0
        """Callers that joined it while queued and have not yet taken its outcome or given up."""

    def outcome(self) -> Servers:
        """The servers it listed, copied for each caller, or raise its error."""
        if self.error is not None:
            raise self.error
        return [dict(server) for server in self.servers]


class _Account:
    """The listing of one account under way, and the one queued behind it."""

    def __init__(self) -> None:
        self.changed = threading.Condition(threading.Lock())
        self.running: _Listing | None = None
        self.queued: _Listing | None = None
        self.last: _Listing | None = None
        """The latest listing that ended with the servers."""


class AccountListings:
    """Listings of integrated accounts, each begun after its callers asked, at most one running
    and one queued per account (the module docstring says why); thread-safe."""

    def __init__(
        self, list_servers: ListServers, *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._list_servers = list_servers
        self._clock = clock
        self._lock = threading.Lock()
        self._accounts: dict[str, _Account] = {}

    def fresh(self, account_id: str, *, timeout: float | None = None) -> Servers:
        """Every MCP server of the account, from a listing that began after this call. Waits at
        most `timeout` seconds for another caller's listing (pass the operation's remaining
        time; None waits as long as that listing takes), else raises `TrutoDeadlineError`.
        A listing's error is raised to every caller it serves: the same exception object."""
        return self.since(account_id, self._clock(), timeout=timeout).servers

    def since(self, account_id: str, began: float, *, timeout: float | None = None) -> Listed:
        """Every MCP server of the account, from a listing that began at `began` or later: the
        latest one that ended, the one under way, or one begun after this call. `timeout` and
        errors as `fresh`."""
        account = self._account(account_id)
        with account.changed:
            last, running = account.last, account.running
            if last is not None and last.began >= began:
                return Listed(last.began, last.outcome())
            if running is not None and running.began >= began:
                listing = self._join(account, account_id, running, timeout)
            elif running is None and account.queued is None:
                listing = account.running = self._started(_Listing())
            else:
                listing = self._join(account, account_id, None, timeout)
            if listing.ended:
                return Listed(listing.began, listing.outcome())
        return Listed(listing.began, self._run(account, listing, account_id))

    def waiting(self, account_id: str) -> int:
        """How many callers wait for the listing queued behind the account's running one."""
        account = self._account(account_id)
        with account.changed:
            return 0 if account.queued is None else account.queued.waiting

    def _account(self, account_id: str) -> _Account:
        with self._lock:
            return self._accounts.setdefault(account_id, _Account())

    def _started(self, listing: _Listing) -> _Listing:
        listing.began = self._clock()
        return listing

    def _join(
        self,
        account: _Account,
        account_id: str,
        running: _Listing | None,
        timeout: float | None,
    ) -> _Listing:
        """Join `running` (the listing under way), or else the one queued behind it (queue it if
        none is), and wait until it ended or is this caller's to start (then it is running, and
        returned not ended). Called with `account.changed` held."""
        listing = running or account.queued or _Listing()
        if running is None:
            account.queued = listing
        listing.waiting += 1
        began = time.monotonic()
        while True:
            if listing.ended:
                listing.waiting -= 1
                return listing
            if account.running is None and account.queued is listing:
                listing.waiting -= 1  # the one before it ended: this caller starts it
                account.running, account.queued = self._started(listing), None
                return listing
            left = None if timeout is None else timeout - (time.monotonic() - began)
            if left is not None and left <= 0:
                listing.waiting -= 1
                if listing.waiting == 0 and account.queued is listing:
                    account.queued = None  # nobody is left to take it
                raise _waited_too_long(account_id, time.monotonic() - began)
            account.changed.wait(left)

    def _run(self, account: _Account, listing: _Listing, account_id: str) -> Servers:
        """List the account for `listing` (running, started by this caller) and hand its
        outcome to every caller that joined it."""
        try:
            servers = self._list_servers(account_id)
        except BaseException as error:
            self._end(account, listing, [], error)
            raise
        self._end(account, listing, servers, None)
        return listing.outcome()

    @staticmethod
    def _end(
        account: _Account, listing: _Listing, servers: Servers, error: BaseException | None
    ) -> None:
        with account.changed:
            listing.servers, listing.error, listing.ended = servers, error, True
            account.running = None
            if error is None:
                account.last = listing
            account.changed.notify_all()


def _waited_too_long(account_id: str, waited: float) -> TrutoDeadlineError:
    """The deadline error of a caller that gave up waiting for a listing another one runs, in
    the words the client uses for an operation that ran out of time."""
    path = f"/integrated-account/{quote(account_id, safe='')}/mcp"
    return TrutoDeadlineError(
        f"operation timeout ({OPERATION_TIMEOUT_KEY}) ran out after waiting {waited:.1f} s on "
        f"GET {path}: the account's MCP servers were being listed for other operations, and "
        "the listing queued for this one had not ended",
        method="GET",
        path=path,
    )
