"""Shared values and small readers of the emulator's journal for the lifecycle tests."""

from __future__ import annotations

from typing import Any

from truto_pulumi.emulator import Emulator

ACCOUNT = "4f5a1c2e-0000-4000-8000-00000000000a"
OTHER_ACCOUNT = "4f5a1c2e-0000-4000-8000-00000000000b"
NAME = "srv"
"""The Pulumi resource name used by most tests."""


def desired(**props: Any) -> dict[str, dict[str, Any]]:
    """The desired state: one server `NAME` in `ACCOUNT`, overridden by `props`.

    A value of None removes the property (as if the program did not set it).
    """
    base: dict[str, Any] = {"integrated_account_id": ACCOUNT, "name": "reader"}
    merged = {**base, **props}
    return {NAME: {key: value for key, value in merged.items() if value is not None}}


def api_calls(emulator: Emulator) -> list[tuple[str, str, Any]]:
    """(method, path, body) of every API request the emulator received, in order."""
    return [(entry["method"], entry["path"], entry["body"]) for entry in emulator.journal()]


def requests_of(emulator: Emulator, method: str) -> list[dict[str, Any]]:
    """The journal entries of one HTTP method."""
    return [entry for entry in emulator.journal() if entry["method"] == method]


def collection_path(account: str = ACCOUNT) -> str:
    return f"/integrated-account/{account}/mcp"


def item_path(server_id: str, account: str = ACCOUNT) -> str:
    return f"/integrated-account/{account}/mcp/{server_id}"


def made_in_dashboard(emulator: Emulator, account: str, **body: Any) -> dict[str, Any]:
    """A server made outside Pulumi (as in Truto's dashboard), with its token."""
    with emulator.client() as http:
        answer = http.post(collection_path(account), json=body)
    answer.raise_for_status()
    created: dict[str, Any] = answer.json()
    return created
