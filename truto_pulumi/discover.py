"""List an account's existing MCP servers as ready-to-paste `TrutoMcpServer(...)` code.

    python -m truto_pulumi.discover --integrated-account-id <uuid>

Each printed resource carries `adopt_id`, so `pulumi up` takes the server over instead of
creating a new one (`pulumi import` does not work for dynamic providers). Reads the API token
and base URL from TRUTO_API_TOKEN and TRUTO_BASE_URL.
"""

from __future__ import annotations

import argparse
import builtins
import keyword
import os
import re
import sys
import unicodedata
from collections.abc import Mapping, Sequence
from typing import Any

from ._client import TrutoClient
from ._errors import TrutoError
from ._inputs import CONFIG_KEYS, canonical_config
from ._settings import MISSING_TOKEN_MESSAGE, resolve_settings

__all__ = ["main", "render_program"]


def render_program(integrated_account_id: str, servers: Sequence[Mapping[str, Any]]) -> str:
    """Python code declaring each server with `adopt_id`, in the order given.

    Whatever the servers' names, the code runs: resource names are unique ASCII slugs, and
    variables unique identifiers that are no keyword and shadow nothing the code uses.
    """
    lines = [
        "from truto_pulumi import McpServerConfigArgs, TrutoMcpServer",
        "",
        f"ACCOUNT_ID = {integrated_account_id!r}",
    ]
    resource_names: set[str] = set()
    variables: set[str] = set(_TAKEN)
    for server in servers:
        resource_name = _unique(_slug(server), resource_names, "-")
        variable = _unique(_identifier(resource_name), variables, "_")
        lines += ["", f"{variable} = TrutoMcpServer(", f"    {resource_name!r},"]
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


_TAKEN = frozenset(
    {"ACCOUNT_ID", "McpServerConfigArgs", "TrutoMcpServer", "pulumi", *dir(builtins)}
)
"""Names the printed code (or a program it is pasted into) uses, or Python provides."""

_SOFT_KEYWORDS = frozenset({"_", "case", "match", "type", *keyword.softkwlist})
"""Soft keywords of every supported Python (`type` is one from 3.12): same code on each."""

_MAX_SLUG = 60


def _slug(server: Mapping[str, Any]) -> str:
    """A readable ASCII resource name from the server's name, else from its id."""
    name = unicodedata.normalize("NFKD", str(server.get("name") or ""))
    slug = re.sub(r"[^a-z0-9]+", "-", name.encode("ascii", "ignore").decode().lower())
    slug = slug[:_MAX_SLUG].strip("-")
    if not slug:
        slug = "mcp-" + re.sub(r"[^a-z0-9]", "", str(server.get("id", "")).lower())[:8]
    return slug.rstrip("-")


def _identifier(resource_name: str) -> str:
    """A Python variable name for a resource name: no keyword, no leading digit."""
    variable = resource_name.replace("-", "_")
    if not variable.isidentifier():
        variable = f"server_{variable}"
    if keyword.iskeyword(variable) or variable in _SOFT_KEYWORDS:
        variable = f"{variable}_server"
    return variable


def _unique(candidate: str, used: set[str], separator: str) -> str:
    """`candidate`, or it with the lowest free numeric suffix; recorded in `used`."""
    chosen, n = candidate, 2
    while chosen in used:
        chosen, n = f"{candidate}{separator}{n}", n + 1
    used.add(chosen)
    return chosen


if __name__ == "__main__":
    sys.exit(main())
