"""The servers the benchmark manages: N desired resources, and the one-field update of them."""

from __future__ import annotations

import uuid
from typing import Any

from truto_pulumi.testing import MCP_SERVER_TYPE

__all__ = ["ACCOUNTS", "MCP_SERVER_TYPE", "PATCH_FIELD", "desired"]

ACCOUNTS = [str(uuid.UUID(int=0x6E3A_0000_0000_4000_8000_0000_0000_0000 + i)) for i in range(8)]
"""Integrated accounts the servers are spread over (the emulator accepts any UUID)."""

PATCH_FIELD = "name"
"""The one field the update step changes."""


def desired(n: int, *, generation: int = 0) -> dict[str, dict[str, Any]]:
    """`n` servers by resource name; `generation` > 0 renames every one (a one-field update).

    Inputs are already canonical (sorted methods/tags, lower-case UUID) so that the reference
    provider, which does no validation, sends exactly the HTTP bodies ours does.
    """
    suffix = "" if generation == 0 else f" v{generation + 1}"
    return {
        f"srv-{i:04d}": {
            "integrated_account_id": ACCOUNTS[i % len(ACCOUNTS)],
            "name": f"Bench server {i}{suffix}",
            "config": {"methods": ["list", "read"], "tags": ["bench", "crm"]},
        }
        for i in range(n)
    }
