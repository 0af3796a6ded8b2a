"""What one provider host knows across the operations of one Pulumi run: the HTTP client (opened
at the first operation, so preview never loads httpx), the accounts' server listings
(`_listings`), the ids the stack's resources hold, the servers adopted in this run, the accounts
checked for what interrupted runs of an earlier release left, and which creates replace a
resource. The engine serves every TrutoMcpServer of a stack from one configured provider
instance, on several threads at once; `configure` makes this object for all of them.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import TYPE_CHECKING

from ._listings import AccountListings
from ._settings import ProviderSettings

if TYPE_CHECKING:
    from ._client import TrutoClient

__all__ = ["RunState"]


class RunState:
    """Shared, thread-safe state of one provider process; nothing here is ever pickled."""

    def __init__(self, settings: ProviderSettings) -> None:
        self.settings = settings
        self._lock = threading.Lock()
        self._client: TrutoClient | None = None
        self._operations = 0
        self._held: set[str] = set()
        self._made: dict[str, float] = {}
        self._adopted: dict[str, tuple[str, str | None]] = {}
        """Servers adopted in this run: who adopted each, and that resource's URN."""
        self._swept: set[str] = set()
        self._accounts: dict[str, Mapping[str, object]] = {}
        self._account_reads: dict[str, threading.Lock] = {}
        self._with_state: set[str] = set()
        self.listings = AccountListings(
            lambda account, deadline: self.client().list_mcp_servers(account, deadline)
        )
        """The accounts' server listings every operation of this process shares (`_listings`)."""

    @contextmanager
    def operating(self) -> Iterator[None]:
        """Count an operation under way for as long as the block runs (`busy`)."""
        with self._lock:
            self._operations += 1
        try:
            yield
        finally:
            with self._lock:
                self._operations -= 1

    def busy(self) -> bool:
        """Whether an operation that talks to Truto is under way."""
        return self._operations > 0

    def client(self) -> TrutoClient:
        """The one HTTP client of this process, opened on first use."""
        with self._lock:
            if self._client is None:
                from ._client import client_for  # httpx loads here, not during preview

                self._client = client_for(self.settings)
            return self._client

    def _add(self, into: set[str], key: str | None) -> bool:
        """Add `key`, when there is one, to `into`: whether it was not there before."""
        with self._lock:
            if not key or key in into:
                return False
            into.add(key)
            return True

    def hold(self, server_id: str) -> None:
        """Note a server id that a resource of the stack holds (seen in its state or made)."""
        self._add(self._held, server_id)

    def held(self) -> frozenset[str]:
        """The server ids resources of the stack hold, as of the asking."""
        with self._lock:
            return frozenset(self._held)

    def note_made(self, server_id: str) -> None:
        """Note a server this run made: a listing begun before now cannot prove it gone."""
        with self._lock:
            self._made[server_id] = time.monotonic()

    def existed_since(self, server_id: str) -> float:
        """Since when the server is known to exist (a `time.monotonic()` value): when this run
        made it, else before the run began (it is in the stack's state)."""
        with self._lock:
            return self._made.get(server_id, float("-inf"))

    def release(self, server_id: str) -> None:
        """Forget a server that was deleted or found gone (or whose adoption failed)."""
        with self._lock:
            self._held.discard(server_id)
            self._adopted.pop(server_id, None)

    def reserve_adoption(self, server_id: str, holder: str, urn: str | None = None) -> str | None:
        """Claim `server_id` for the resource described by `holder` (URN `urn`), atomically:
        None when the claim succeeded, else why it cannot be taken."""
        with self._lock:
            if server_id in self._adopted:
                return f"it was already adopted in this run by {self._adopted[server_id][0]}"
            if server_id in self._held:
                return "a resource of this stack already manages it"
            self._adopted[server_id] = (holder, urn)
            self._held.add(server_id)
            return None

    def adopted_by(self, server_id: str) -> str | None:
        """Who adopted `server_id` during this run, if anyone did."""
        with self._lock:
            return self._adopted.get(server_id, (None, None))[0]

    def readopted(self, server_id: str, urn: str | None) -> bool:
        """Whether `server_id` was adopted in this run by the resource `urn` itself: its
        replacement took the old server over again instead of making a new one."""
        with self._lock:
            return urn is not None and self._adopted.get(server_id, (None, None))[1] == urn

    def first_create_under(self, account_id: str) -> bool:
        """True once per account and process: for the create that checks it for servers an
        interrupted run of an earlier release left."""
        return self._add(self._swept, account_id)

    def integrated_account(
        self, account_id: str, read: Callable[[], Mapping[str, object]]
    ) -> Mapping[str, object]:
        """The account as `read()` gives it, read once per account in this process (a run),
        also by creates under it at once: the others wait for the first one's read."""
        with self._lock:
            reading = self._account_reads.setdefault(account_id, threading.Lock())
        with reading:
            if account_id not in self._accounts:
                self._accounts[account_id] = read()
            return self._accounts[account_id]

    def note_state(self, urn: str | None) -> None:
        """Note that resource `urn` has a state in the stack (the engine sent its old inputs in
        a Check, or read it for a refresh)."""
        self._add(self._with_state, urn)

    def replaces(self, urn: str | None) -> bool:
        """Whether a Create for `urn` replaces a resource of the stack rather than adding it: its
        URN had a Check with old inputs or a Read in this run (`note_state`). A `pulumi up
        --replace` (or `pulumi state taint`) calls Check without olds, then Create, and tells the
        provider nothing (pulumi/pulumi `step_generator.go`): that Create of a resource declaring
        adopt_id adopts its server again, and the delete of the old one keeps it (`readopted`)."""
        return urn is not None and urn in self._with_state
