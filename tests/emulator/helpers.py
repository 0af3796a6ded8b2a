"""Small helpers shared by the emulator tests."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from truto_pulumi.emulator import Readings
from truto_pulumi.emulator._state import format_timestamp

from ..kit import ACCOUNT

EVERY_READING_CHANGED = Readings(
    config_required=False,
    echo_defaults=False,
    config_patch="replace",
    list_key="results",
    plan_limit=3,
    plan_limit_status=402,
    blocked_accounts=frozenset({ACCOUNT}),
    account_tools={ACCOUNT: ({"method": "list", "tags": ["crm"]},)},
)
"""Each reading off its default."""


def mcp_path(account: str, server_id: str | None = None) -> str:
    base = f"/integrated-account/{account}/mcp"
    return base if server_id is None else f"{base}/{server_id}"


def in_seconds(seconds: float) -> str:
    """An `expires_at` value this many seconds from now."""
    return format_timestamp(datetime.now(timezone.utc) + timedelta(seconds=seconds))
