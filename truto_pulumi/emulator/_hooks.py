"""The emulator's test hooks (`/_emulator/...`) called over HTTP: one client for every way the
emulator runs (in a thread of the test, or in a process of its own)."""

from __future__ import annotations

from typing import Any

import httpx

from ._base import JSONObject

__all__ = ["HOOK_PREFIX", "EmulatorHooks"]

HOOK_PREFIX = "/_emulator"


class EmulatorHooks:
    """Journal, faults, out-of-band edits of servers and accounts, reset, latency, rate limit
    and page limit of a running emulator.

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
        server: JSONObject = self._hook("PATCH", f"/servers/{server_id}", fields)
        return server

    def delete_server(self, server_id: str) -> None:
        self._hook("DELETE", f"/servers/{server_id}")

    def reset(self) -> None:
        """Forget servers, journal and faults; accounts, installed integrations and settings
        back to the start values."""
        self._hook("POST", "/reset")

    def set_latency(self, seconds: float) -> None:
        """Seconds added to every API answer from now on."""
        self._hook("POST", "/latency", {"seconds": seconds})

    def set_readings(self, **readings: Any) -> JSONObject:
        """How this Truto reads the loose points of its documentation from now on: the fields of
        `Readings` (`config_patch="replace"`, `echo_defaults=False`, `blocked_accounts=[id]`,
        `account_tools={id: [tool]}`, `plan_limit=10`, ...); those not given take their
        default, the strictest reading. Answers the readings in force."""
        answer: JSONObject = self._hook("POST", "/readings", readings)
        return answer

    def advance_clock(self, seconds: float) -> None:
        """Move the emulated Truto's time on by `seconds`: what expires by then is gone."""
        self._hook("POST", "/clock", {"advance": seconds})

    def set_rate_limit(self, requests: int | None, per_seconds: float = 10.0) -> None:
        """Enforce `requests` per `per_seconds` per token (429 beyond); None disables it."""
        self._hook("POST", "/rate-limit", {"requests": requests, "per_seconds": per_seconds})

    # -- integrated accounts and installed integrations

    def accounts(self) -> list[JSONObject]:
        """Every account added explicitly (what `GET /integrated-account` lists), with `context`."""
        accounts: list[JSONObject] = self._hook("GET", "/accounts")
        return accounts

    def add_account(self, **fields: Any) -> JSONObject:
        """Add an integrated account: `id`, `tenant_id`, `integration` (a name), `status`,
        `is_sandbox`, `region`, `environment_integration_id`; defaults for those left out."""
        account: JSONObject = self._hook("POST", "/accounts", fields)
        return account

    def set_account_status(self, account_id: str, status: str) -> JSONObject:
        """Change an account's status, e.g. to `needs_reauth` (bumps `updated_at`)."""
        account: JSONObject = self._hook("PATCH", f"/accounts/{account_id}", {"status": status})
        return account

    def remove_account(self, account_id: str) -> list[str]:
        """Delete an account and, as Truto does, its MCP servers; their ids."""
        answer: JSONObject = self._hook("DELETE", f"/accounts/{account_id}")
        servers: list[str] = answer["servers"]
        return servers

    def uninstall_integration(self, environment_integration_id: str) -> None:
        """Uninstall an installed integration (its accounts stay, naming it)."""
        self._hook("DELETE", f"/environment-integrations/{environment_integration_id}")

    def environment(self) -> JSONObject:
        """The emulated Truto environment: `environment_id`, and the installed integration of
        the accounts given by id only (`default_environment_integration_id`). Two emulators
        are two environments: their ids differ."""
        environment: JSONObject = self._hook("GET", "/environment")
        return environment

    def set_account_page_limit(self, limit: int) -> None:
        """The largest page of `GET /integrated-account` from now on."""
        self._hook("POST", "/account-page-limit", {"limit": limit})
