"""The journal: what the emulator's API received, in arrival order (never any header)."""

from __future__ import annotations

import threading
import time
from typing import Any

from ._base import JSONObject


class Journal:
    """Thread-safe, append-only (until cleared) list of API requests: `method, path, query,
    body, status, ts, fault` each."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entries: list[JSONObject] = []

    def record(self, method: str, path: str, query: dict[str, str], body: Any) -> JSONObject:
        """Append a request as it arrives; its status is filled in by :meth:`finish`."""
        entry: JSONObject = {"method": method, "path": path, "query": query, "body": body}
        entry.update(status=None, ts=time.time(), fault=None)
        with self._lock:
            self._entries.append(entry)
        return entry

    def finish(self, entry: JSONObject, status: int | None, fault: JSONObject | None) -> None:
        """Set the status the client got (`None`: no answer at all) and the fault applied."""
        with self._lock:
            entry.update(status=status, fault=fault)

    def entries(self) -> list[JSONObject]:
        with self._lock:
            return [{**entry, "query": dict(entry["query"])} for entry in self._entries]

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
