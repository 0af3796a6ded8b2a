"""`pulumi stack export --show-secrets | python -m truto_pulumi.recover [--yes]`: after a killed
`pulumi up`, delete the servers its creates made that the state does not hold, each once confirmed
(`--yes`: all): renames that reached Truto after every process that could record them was gone,
found by the pending creates' account and name. docs/reliability.md gives the steps."""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import json
import sys
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from ._errors import TrutoError, TrutoNotFoundError
from ._lookups import configured, get_mcp_servers
from ._schema import TYPE_TOKEN

__all__ = ["left_by_killed_run", "main"]


def left_by_killed_run(
    deployment: Mapping[str, Any], servers_of: Callable[[str], list[dict[str, Any]]]
) -> list[dict[str, Any]]:
    """The servers, in Truto's order, named as a pending create of the deployment under its
    account, and not held by a resource (a marked one Truto deletes at its provisional expiry)."""
    resources = deployment.get("resources") or []
    held = {str(r.get("id")) for r in resources if r.get("type") == TYPE_TOKEN}
    wanted: dict[str, set[str]] = {}
    for operation in deployment.get("pending_operations") or []:
        resource = operation.get("resource") or {}
        if operation.get("type") != "creating" or resource.get("type") != TYPE_TOKEN:
            continue
        inputs = resource.get("inputs") or {}
        account, name = inputs.get("integrated_account_id"), inputs.get("name")
        if not isinstance(account, str) or not isinstance(name, str):
            raise ValueError(
                f"a pending create ({resource.get('urn')}) has a secret or missing name or "
                "account: export the state with `pulumi stack export --show-secrets`"
            )
        wanted.setdefault(account, set()).add(name)
    return [
        {**server, "integrated_account_id": account}
        for account, names in sorted(wanted.items())
        for server in servers_of(account)
        if server.get("name") in names and str(server.get("id")) not in held
    ]


def main(argv: Sequence[str] | None = None) -> int:
    """List what a killed run left, delete what is confirmed; 0 when done, 2 on an error."""
    parser = argparse.ArgumentParser(
        prog="python -m truto_pulumi.recover",
        description="Delete the MCP servers a killed `pulumi up` made that its stack does not "
        "hold (reads `pulumi stack export --show-secrets` on standard input).",
    )
    parser.add_argument("--yes", action="store_true", help="delete every server listed")
    confirmed = parser.parse_args(argv).yes
    try:
        _, client = configured("recover")
        exported = json.load(sys.stdin)
        found = left_by_killed_run(
            exported.get("deployment", exported),
            lambda account: [dataclasses.asdict(s) for s in get_mcp_servers(account)],
        )
        if not found:
            print("nothing to remove: no server of a pending create lacks a resource")
        for server in found:
            what = (
                f"MCP server {server['id']} ({server['name']!r}, created "
                f"{server['created_at']}) of integrated account {server['integrated_account_id']}"
            )
            delete = confirmed or input(f"delete {what}? [y/N] ").strip().lower() == "y"
            if delete:
                with contextlib.suppress(TrutoNotFoundError):  # gone already: as good
                    client.delete_mcp_server(server["integrated_account_id"], server["id"])
            print(f"{'deleted' if delete else 'kept'} {what}")
    except (ValueError, TrutoError, KeyError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
