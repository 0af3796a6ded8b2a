"""Live acceptance tests against the real Truto API, opt-in::

    TRUTO_ACC=1 TRUTO_API_TOKEN=... TRUTO_ACC_INTEGRATED_ACCOUNT_ID=<uuid> pytest tests/lifecycle

name every server they create `acceptance_name(...)`, with `ACCEPTANCE_PREFIX`; a run that
crashed may leave some. The sweeper deletes one account's servers whose name starts with it::

    TRUTO_API_TOKEN=... python -m devkit.sweep --integrated-account-id <uuid> [--dry-run]

It prints each server's id and name (never a token); exit status 0 when done, 1 on a failure.
"""

from __future__ import annotations

import argparse
import os
import secrets
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from truto_pulumi import TrutoError, TrutoNotFoundError
from truto_pulumi._client import TrutoClient
from truto_pulumi._settings import (
    API_TOKEN_ENV,
    BASE_URL_ENV,
    DEFAULT_BASE_URL,
    MISSING_TOKEN_MESSAGE,
    resolve_settings,
)  # fmt: skip

ACCEPTANCE_PREFIX = "truto-pulumi-test-"
"""Every MCP server an acceptance test creates has a name starting with this."""
_ACCOUNT_ENV = "TRUTO_ACC_INTEGRATED_ACCOUNT_ID"


@dataclass(frozen=True)
class AcceptanceSettings:
    """Where a live run goes. The token is left out of `repr`."""

    api_token: str = field(repr=False)
    integrated_account_id: str
    base_url: str = DEFAULT_BASE_URL


def missing_acceptance_env(environ: Mapping[str, str]) -> list[str]:
    """What a live run lacks of `TRUTO_ACC=1`, an API token and an integrated account."""
    missing = [] if environ.get("TRUTO_ACC", "").strip() == "1" else ["TRUTO_ACC=1"]
    return missing + [n for n in (API_TOKEN_ENV, _ACCOUNT_ENV) if not environ.get(n, "").strip()]


def acceptance_settings(environ: Mapping[str, str]) -> AcceptanceSettings | None:
    """The live-run settings, or None while `missing_acceptance_env` names anything."""
    if missing_acceptance_env(environ):
        return None
    base_url = environ.get(BASE_URL_ENV, "").strip() or DEFAULT_BASE_URL
    token, account = (environ[name].strip() for name in (API_TOKEN_ENV, _ACCOUNT_ENV))
    return AcceptanceSettings(token, account, base_url.rstrip("/"))


def acceptance_name(label: str, run_id: str | None = None) -> str:
    """A server name for a live test: the sweeper's prefix, a run id, then `label`."""
    return f"{ACCEPTANCE_PREFIX}{run_id or secrets.token_hex(4)}-{label}"


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
