"""One listing of an integrated account's MCP servers at a time, shared by a process's threads
(ARCHITECTURE.md): a caller lists only when the last listing began too early for it, so callers
arriving during one share the next (K callers cost two listings, not K)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from ._deadline import Deadline

Servers = list[dict[str, Any]]


class Listed(NamedTuple):
    began: float
    servers: Servers


@dataclass
class _Account:
    lock: threading.Lock = field(default_factory=threading.Lock)
    last: Listed | None = None
    failed: tuple[float, float, BaseException] | None = None
    """The latest listing that failed: when it began and ended, and its error."""


class AccountListings:
    """Listings of integrated accounts, each begun late enough for its caller; thread-safe."""

    def __init__(
        self,
        list_servers: Callable[[str, Deadline | None], Servers],
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._list_servers, self._clock = list_servers, clock
        self._lock = threading.Lock()
        self._accounts: dict[str, _Account] = {}

    def fresh(self, account_id: str, deadline: Deadline | None = None) -> Servers:
        """Every MCP server of the account, from a listing that began after this call."""
        return self.since(account_id, None, deadline).servers

    def since(
        self, account_id: str, began: float | None, deadline: Deadline | None = None
    ) -> Listed:
        """Every MCP server of the account, from a listing begun at `began` or later (None: after
        this call); a shared listing's error reaches every caller that could have used it."""
        asked = self._clock()
        began = asked if began is None else began
        with self._lock:
            account = self._accounts.setdefault(account_id, _Account())
        if deadline is None:
            account.lock.acquire()
        elif not account.lock.acquire(timeout=max(deadline.remaining(), 0.0)):
            from ._client import mcp_path  # loaded already: a listing is under way

            path = mcp_path(account_id)
            what = f"waiting on GET {path}: its MCP servers were being listed for other operations"
            raise deadline.error(time.monotonic(), what, method="GET", path=path)
        try:
            last, failed = account.last, account.failed
            if last is None or last.began < began:
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
