"""What one provider host knows across the operations of one Pulumi run.

The engine serves every TrutoMcpServer of a stack from one configured provider instance, on
several threads at once. This object is made by `configure` and holds what those threads share:
the HTTP client (opened at the first operation, so preview never loads httpx), the ids held by
resources of the stack, the servers adopted during this run, and the creates under way.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

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
        self._held: set[str] = set()
        self._adopted: dict[str, str] = {}
        self._creating: Counter[tuple[str, str]] = Counter()

    def client(self) -> TrutoClient:
        """The one HTTP client of this process, opened on first use."""
        with self._lock:
            if self._client is None:
                from ._client import TrutoClient  # httpx loads here, not during preview
                from ._ratelimit import RateLimiter

                settings = self.settings
                assert settings.api_token is not None
                limiter = None
                if settings.max_requests_per_second > 0:
                    limiter = RateLimiter(settings.max_requests_per_second)
                self._client = TrutoClient(
                    base_url=settings.base_url,
                    api_token=settings.api_token,
                    timeout=settings.request_timeout,
                    rate_limiter=limiter,
                )
            return self._client

    # --- ids held by resources -----------------------------------------------------------

    def hold(self, server_id: str) -> None:
        """Note a server id that a resource of the stack holds (seen in its state or made)."""
        if server_id:
            with self._lock:
                self._held.add(server_id)

    def release(self, server_id: str) -> None:
        """Forget a server that was deleted or found gone."""
        with self._lock:
            self._held.discard(server_id)
            self._adopted.pop(server_id, None)

    def held(self) -> frozenset[str]:
        with self._lock:
            return frozenset(self._held)

    # --- adoption ----------------------------------------------------------------------------

    def reserve_adoption(self, server_id: str, holder: str) -> str | None:
        """Claim `server_id` for the resource described by `holder`, atomically.

        Returns None when the claim succeeded, else why it cannot be taken.
        """
        with self._lock:
            if server_id in self._adopted:
                return f"it was already adopted in this run by {self._adopted[server_id]}"
            if server_id in self._held:
                return "a resource of this stack already manages it"
            self._adopted[server_id] = holder
            self._held.add(server_id)
            return None

    def cancel_adoption(self, server_id: str) -> None:
        """Undo `reserve_adoption` after the adoption failed."""
        self.release(server_id)

    def adopted_by(self, server_id: str) -> str | None:
        """Who adopted `server_id` during this run, if anyone did."""
        with self._lock:
            return self._adopted.get(server_id)

    # --- creates under way -------------------------------------------------------------------

    @contextmanager
    def creating(self, account_id: str, name: str) -> Iterator[None]:
        """Mark a create of `name` under `account_id` as under way for the block."""
        key = (account_id, name)
        with self._lock:
            self._creating[key] += 1
        try:
            yield
        finally:
            with self._lock:
                self._creating[key] -= 1
                if not self._creating[key]:
                    del self._creating[key]

    def creates_under_way(self, account_id: str, name: str) -> int:
        """How many creates of `name` under `account_id` run right now, the caller's included."""
        with self._lock:
            return self._creating[(account_id, name)]
