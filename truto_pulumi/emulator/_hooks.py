"""The emulator's test hooks (`/_emulator/...`) called over HTTP: one client for every way the
emulator runs (in a thread of the test, or in a process of its own)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import httpx

from ._state import JSONObject, format_timestamp

__all__ = ["HOOK_PREFIX", "EmulatorHooks"]

HOOK_PREFIX = "/_emulator"


class EmulatorHooks:
    """Journal, faults, out-of-band edits, reset, latency and rate limit of a running emulator.

    A subclass calls `_open_hooks(url, api_token)` once the emulator answers and `_close_hooks()`
    when it stops.
    """

    _api_url: str = ""
    _api_token: str = ""
    _hooks: httpx.Client | None = None

    def _open_hooks(self, url: str, api_token: str) -> None:
        self._api_url, self._api_token = url, api_token
        self._hooks = httpx.Client(base_url=f"{url}{HOOK_PREFIX}", timeout=30.0)

    def _close_hooks(self) -> None:
        if self._hooks is not None:
            self._hooks.close()
            self._hooks = None

    def client(self, **kwargs: Any) -> httpx.Client:
        """An httpx client for the API: base URL and bearer token preset."""
        headers = {"Authorization": f"Bearer {self._api_token}", **kwargs.pop("headers", {})}
        return httpx.Client(base_url=self._api_url, headers=headers, **kwargs)

    def _hook(self, method: str, path: str, body: Any = None) -> Any:
        if self._hooks is None:
            raise RuntimeError("the emulator is not running")
        kwargs: dict[str, Any] = {} if body is None else {"json": body}
        response = self._hooks.request(method, path, **kwargs)
        response.raise_for_status()
        return response.json()

    def journal(self) -> list[JSONObject]:
        """Every API request so far: `method, path, query, body, status, ts, fault`."""
        entries: list[JSONObject] = self._hook("GET", "/journal")
        return entries

    def clear_journal(self) -> None:
        self._hook("DELETE", "/journal")

    def inject(
        self, *, method: str | None = None, path: str | None = None, times: int = 1, **action: Any
    ) -> JSONObject:
        """Make the next `times` matching API requests misbehave; see `faults.py` for actions.

        `emu.inject(method="POST", status=429, retry_after=1)`,
        `emu.inject(path=r"/mcp$", drop=True)`, `emu.inject(lose_answer=True, status=500)`.
        """
        rule: JSONObject = self._hook(
            "POST", "/faults", {"method": method, "path": path, "times": times, "action": action}
        )
        return rule

    def faults(self) -> list[JSONObject]:
        """The pending fault rules (with their remaining `times`)."""
        rules: list[JSONObject] = self._hook("GET", "/faults")
        return rules

    def clear_faults(self) -> None:
        self._hook("DELETE", "/faults")

    def servers(self) -> list[JSONObject]:
        """Every live server of every account, including `token` and `url`."""
        servers: list[JSONObject] = self._hook("GET", "/servers")
        return servers

    def edit_server(self, server_id: str, **fields: Any) -> JSONObject:
        """Change `name`, `config` (replaced whole) or `expires_at` (any time, even past)."""
        if isinstance(fields.get("expires_at"), datetime):
            fields["expires_at"] = format_timestamp(fields["expires_at"])
        server: JSONObject = self._hook("PATCH", f"/servers/{server_id}", fields)
        return server

    def delete_server(self, server_id: str) -> None:
        self._hook("DELETE", f"/servers/{server_id}")

    def reset(self) -> None:
        """Forget servers, journal and faults; latency and rate limit back to the start values."""
        self._hook("POST", "/reset")

    def set_latency(self, seconds: float) -> None:
        """Seconds added to every API answer from now on."""
        self._hook("POST", "/latency", {"seconds": seconds})

    def set_config_rules(self, *, patch: str = "merge", newer_keys: Sequence[str] = ()) -> None:
        """How PATCH treats `config` (`merge` or `replace`), and the options of a newer Truto
        (`newer_keys`) that are accepted and kept though this provider does not know them."""
        self._hook("POST", "/config-rules", {"patch": patch, "newer_keys": list(newer_keys)})

    def set_rate_limit(self, requests: int | None, per_seconds: float = 10.0) -> None:
        """Enforce `requests` per `per_seconds` per token (429 beyond); None disables it."""
        self._hook("POST", "/rate-limit", {"requests": requests, "per_seconds": per_seconds})
