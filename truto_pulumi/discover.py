"""List an account's existing MCP servers as ready-to-paste `TrutoMcpServer(...)` code.

    python -m truto_pulumi.discover --integrated-account-id <uuid>

Each printed resource carries `adopt_id`, so `pulumi up` takes the server over instead of
creating a new one (`pulumi import` does not work for dynamic providers). Reads the API token
and base URL from TRUTO_API_TOKEN and TRUTO_BASE_URL.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from collections.abc import Mapping, Sequence
from typing import Any

from .client import TrutoClient
from .errors import TrutoError
from .inputs import CONFIG_KEYS, canonical_config
from .settings import MISSING_TOKEN_MESSAGE, resolve_settings

__all__ = ["main", "render_program"]


def render_program(integrated_account_id: str, servers: Sequence[Mapping[str, Any]]) -> str:
    """Python code declaring each server with `adopt_id`, in the order given."""
    lines = [
        "from truto_pulumi import McpServerConfigArgs, TrutoMcpServer",
        "",
        f"ACCOUNT_ID = {integrated_account_id!r}",
    ]
    used: set[str] = set()
    for server in servers:
        resource_name = _resource_name(str(server.get("name") or "mcp"), used)
        lines += ["", f"{_variable(resource_name)} = TrutoMcpServer(", f"    {resource_name!r},"]
        lines.append("    integrated_account_id=ACCOUNT_ID,")
        lines.append(f"    name={server.get('name')!r},")
        config = canonical_config(server.get("config"))
        if config:
            arguments = ", ".join(f"{k}={config[k]!r}" for k in CONFIG_KEYS if k in config)
            lines.append(f"    config=McpServerConfigArgs({arguments}),")
        if server.get("expires_at"):
            lines.append(f"    expires_at={server['expires_at']!r},")
        lines.append(f"    adopt_id={server['id']!r},  # take over the existing server")
        lines.append(")")
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    """Print the code for every MCP server of the account; 0 on success, 2 on an error."""
    parser = argparse.ArgumentParser(
        prog="python -m truto_pulumi.discover",
        description="Print TrutoMcpServer code (with adopt_id) for an account's MCP servers.",
    )
    parser.add_argument("--integrated-account-id", required=True)
    args = parser.parse_args(argv)
    settings = resolve_settings({}, os.environ)
    if settings.api_token is None:
        print(f"error: {MISSING_TOKEN_MESSAGE}", file=sys.stderr)
        return 2
    try:
        with TrutoClient(base_url=settings.base_url, api_token=settings.api_token) as client:
            servers = client.list_mcp_servers(args.integrated_account_id)
    except TrutoError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(f"# {len(servers)} MCP server(s) of integrated account {args.integrated_account_id}")
    print(render_program(args.integrated_account_id, servers), end="")
    return 0


def _resource_name(name: str, used: set[str]) -> str:
    base = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-") or "mcp"
    candidate, n = base, 2
    while candidate in used:
        candidate, n = f"{base}-{n}", n + 1
    used.add(candidate)
    return candidate


def _variable(resource_name: str) -> str:
    variable = resource_name.replace("-", "_")
    return variable if variable[0].isalpha() else f"server_{variable}"


if __name__ == "__main__":
    sys.exit(main())
