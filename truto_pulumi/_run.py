"""What one provider host knows across the operations of one Pulumi run, which the engine serves
from one configured provider on several threads at once: the HTTP client, the accounts' listings,
the ids the stack holds, the adoptions, the accounts swept, and which creates replace."""

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
        """The one HTTP client of this process, opened on first use (preview loads no httpx)."""
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
        """Hold a server this run made, noting when: a listing begun before can't prove it gone."""
        with self._lock:
            self._held.add(server_id)
            self._made[server_id] = time.monotonic()

    def existed_since(self, server_id: str) -> float:
        """Since when the server is known to exist: when this run made it, else always."""
        with self._lock:
            return self._made.get(server_id, float("-inf"))

    def release(self, server_id: str) -> None:
        """Forget a server that was deleted or found gone (or whose adoption failed)."""
        with self._lock:
            self._held.discard(server_id)
            self._adopted.pop(server_id, None)

    def reserve_adoption(self, server_id: str, holder: str, urn: str | None = None) -> str | None:
        """Claim `server_id` for `holder` (URN `urn`) atomically: None, else why it cannot."""
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
        """Whether `urn` itself adopted `server_id` in this run: its replacement took it again."""
        with self._lock:
            return urn is not None and self._adopted.get(server_id, (None, None))[1] == urn

    def first_create_under(self, account_id: str) -> bool:
        """True once per account and process: that create sweeps it (`remove_left_behind`)."""
        return self._add(self._swept, account_id)

    def integrated_account(
        self, account_id: str, read: Callable[[], Mapping[str, object]]
    ) -> Mapping[str, object]:
        """The account as `read()` gives it, once per account: concurrent callers wait for it."""
        with self._lock:
            reading = self._account_reads.setdefault(account_id, threading.Lock())
        with reading:
            if account_id not in self._accounts:
                self._accounts[account_id] = read()
            return self._accounts[account_id]

    def note_state(self, urn: str | None) -> None:
        """Note that resource `urn` has a state (a Check with old inputs, or a Read)."""
        self._add(self._with_state, urn)

    def replaces(self, urn: str | None) -> bool:
        """Whether a Create for `urn` replaces a resource with a state (`note_state`). A `pulumi
        up --replace` tells the provider nothing (pulumi/pulumi `step_generator.go`): its Create
        adopts an `adopt_id` server again, and the old one's delete keeps it (`readopted`)."""
        return urn is not None and urn in self._with_state
