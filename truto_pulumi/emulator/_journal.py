"""The journal: what the emulator's API received, in arrival order (never any header)."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Any

from ._base import JSONObject


@dataclass
class JournalEntry:
    method: str
    path: str
    query: dict[str, str]
    body: Any
    status: int | None
    ts: float
    fault: JSONObject | None = None

    def to_json(self) -> JSONObject:
        return {
            "method": self.method,
            "path": self.path,
            "query": dict(self.query),
            "body": self.body,
            "status": self.status,
            "ts": self.ts,
            "fault": self.fault,
        }


class Journal:
    """Thread-safe, append-only (until cleared) list of API requests."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entries: list[JournalEntry] = []

    def record(self, method: str, path: str, query: dict[str, str], body: Any) -> JournalEntry:
        """Append a request as it arrives; its status is filled in by :meth:`finish`."""
        entry = JournalEntry(
            method=method, path=path, query=query, body=body, status=None, ts=time.time()
        )
        with self._lock:
            self._entries.append(entry)
        return entry

    def finish(
        self, entry: JournalEntry, status: int | None, fault: JSONObject | None = None
    ) -> None:
        """Set the status the client got (`None`: no answer at all) and the fault applied."""
        with self._lock:
            entry.status = status
            entry.fault = fault

    def entries(self) -> list[JSONObject]:
        with self._lock:
            return [entry.to_json() for entry in self._entries]

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
