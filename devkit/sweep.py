"""Delete the MCP servers live acceptance tests left behind, and nothing else.

Every server a live test creates is named with `ACCEPTANCE_PREFIX`; a run that crashed may leave
some. The sweeper deletes one account's servers whose name starts with the prefix::

    TRUTO_API_TOKEN=... python -m devkit.sweep --integrated-account-id <uuid> [--dry-run]

It prints each server's id and name (never a token); exit status 0 when done, 1 on a failure.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from truto_pulumi import TrutoError, TrutoNotFoundError
from truto_pulumi._client import TrutoClient
from truto_pulumi._settings import MISSING_TOKEN_MESSAGE, resolve_settings

__all__ = ["ACCEPTANCE_PREFIX", "main", "sweep"]

ACCEPTANCE_PREFIX = "truto-pulumi-test-"
"""Every MCP server an acceptance test creates has a name starting with this."""


def sweep(
    client: TrutoClient, account_id: str, prefix: str = ACCEPTANCE_PREFIX, dry_run: bool = False
) -> list[tuple[str, str]]:
    """Delete the account's MCP servers whose name starts with `prefix` (never empty: that
    would be every server); their ids and names. One already gone counts as deleted; every
    one is tried, then a `TrutoError` names those that could not be deleted."""
    if not prefix.strip():
        raise ValueError("prefix must not be empty: it would sweep every MCP server")
    matching = [
        (str(server["id"]), server["name"])
        for server in client.list_mcp_servers(account_id)
        if isinstance(server.get("name"), str) and server["name"].startswith(prefix)
    ]
    failed = []
    for server_id, _ in [] if dry_run else matching:
        try:
            client.delete_mcp_server(account_id, server_id)
        except TrutoNotFoundError:
            pass  # gone meanwhile (or expired): the goal is reached
        except TrutoError as error:
            failed.append(f"{server_id}: {error}")
    if failed:
        raise TrutoError(f"could not delete {len(failed)} MCP server(s): {'; '.join(failed)}")
    return matching


def main(argv: Sequence[str] | None = None) -> int:
    """The command line; returns the exit status."""
    parser = argparse.ArgumentParser(prog="python -m devkit.sweep", description=__doc__)
    parser.add_argument("--integrated-account-id", required=True)
    parser.add_argument("--prefix", default=ACCEPTANCE_PREFIX)
    parser.add_argument("--dry-run", action="store_true", help="list, delete nothing")
    args = parser.parse_args(argv)
    try:
        settings = resolve_settings({}, os.environ)
        if settings.api_token is None:
            raise TrutoError(MISSING_TOKEN_MESSAGE)
        with TrutoClient(base_url=settings.base_url, api_token=settings.api_token) as client:
            swept = sweep(client, args.integrated_account_id, args.prefix, args.dry_run)
    except (TrutoError, ValueError) as error:
        print(f"sweep: {error}", file=sys.stderr)
        return 1
    verb = "would delete" if args.dry_run else "deleted"
    for server_id, name in swept:
        print(f"{verb} {server_id} {name!r}")
    print(f"{verb} {len(swept)} MCP server(s) named {args.prefix}*")
    return 0


if __name__ == "__main__":
    sys.exit(main())
