"""A stateful local stand-in for Truto's MCP servers API (`/integrated-account/{ia}/mcp`) and the
parts of its Admin API around it: integrated accounts (`GET /integrated-account`, filtered and
paged, and `GET /integrated-account/{id}`) and installed integrations
(`GET /environment-integration/{id}`).

Needs the `emulator` extra (starlette, uvicorn). In tests::

    from truto_pulumi.emulator import Emulator

    with Emulator(api_token="test-token") as emu:            # uvicorn on 127.0.0.1, a free port
        with emu.client() as api:                         # httpx, base URL + bearer token set
            created = api.post(f"/integrated-account/{ia}/mcp", json={"name": "docs"}).json()
        emu.inject(method="GET", status=503, times=2)     # the next two GETs answer 503
        emu.inject(method="POST", lose_answer=True)       # the next create happens, answer lost
        emu.edit_server(created["id"], name="renamed")    # out-of-band (dashboard) edit
        assert [e["status"] for e in emu.journal()] == [201]
        acct = emu.add_account(integration="salesforce", tenant_id="acme")  # listed by the API
        emu.set_account_status(acct["id"], "needs_reauth")
        emu.remove_account(acct["id"])                    # and its MCP servers: all 404 now

Accounts: with `accounts=None` (the default) every UUID is an account for the MCP endpoints
and for `GET /integrated-account/{id}` (a record with default fields is made on first use), but
`GET /integrated-account` lists only the accounts added with `add_account`; with
`accounts=[ids]` only those ids (and added ones) exist, and are listed. An account given by id
is `active`, of `hubspot` (one installed integration, whose id is this emulator's own:
`environment()["default_environment_integration_id"]`; two emulators are two Truto
environments), region `wnam`, tenant `tenant-<first 8 hex>`.
Its `context` holds a fake OAuth access token, as Truto returns credentials there. The list
filters on `tenant_id`, `is_sandbox`, `integration.name`, `status`, `created_at` and
`updated_at` (a date-time: that very instant, at millisecond precision); other query parameters
are ignored, a malformed value answers 400. Its pages hold at most `account_page_limit` items
(100; a larger `limit` is clipped to it). Removing an account removes its MCP servers.

From a shell: ``python -m truto_pulumi.emulator --port 8787 --api-token T`` (or ``truto-emulator``).
As an ASGI app: ``create_app(api_token="T")``. Test hooks live under ``/_emulator/`` (no auth):
``journal``, ``faults``, ``servers``, ``accounts``, ``environment-integrations``, ``reset``,
``latency``, ``rate-limit``, ``account-page-limit``, ``readings``, ``clock`` (its time moved
on: ``emu.advance_clock(seconds)``), ``environment``, ``health``.

Readings: where Truto's documentation is loose, the emulator reads it one way, the strictest
by default, and each reading is a switch (``Emulator(readings=Readings(...))``, a command-line
flag, ``emu.set_readings(...)``): `config` required on create or not, defaults echoed in answers
or not, a PATCHed `config` merged (``null`` deleting a key, or refused for a typed key) or
replaced, lists under ``result`` or ``results``; and the facts behind Truto's documented
refusals: blocked accounts (503), an account's tools (a filter that matches none: 400), the
plan's limit on MCP servers.
``RemoteEmulator(url, api_token)`` calls them, with the methods of ``Emulator`` (``journal()``,
``inject(...)``, ``add_account(...)``, ``reset()``, ``client()``...), on an emulator running
elsewhere, such as one started from a shell.
"""

from __future__ import annotations

from types import TracebackType
from typing import TypeVar

from ._app import create_app
from ._hooks import EmulatorHooks
from ._readings import Readings
from ._server import Emulator, run_emulator

__all__ = ["Emulator", "Readings", "RemoteEmulator", "create_app", "run_emulator"]

_Remote = TypeVar("_Remote", bound="RemoteEmulator")


class RemoteEmulator(EmulatorHooks):
    """An emulator running elsewhere (``python -m truto_pulumi.emulator`` in a process of its
    own), reached at `url` with `api_token`: the hooks and API client of :class:`Emulator`.

    A context manager; `close()` releases its HTTP client and leaves the emulator running.
    """

    def __init__(self, url: str, api_token: str) -> None:
        self.url = url.rstrip("/")
        self.api_token = api_token
        self._open_hooks(self.url, api_token)

    def close(self) -> None:
        """Release the hooks' HTTP client (idempotent)."""
        self._close_hooks()

    def __enter__(self: _Remote) -> _Remote:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
