"""Delete MCP servers left behind by acceptance tests.

Every server the live acceptance tests create is named with `ACCEPTANCE_PREFIX`; a run that
crashed half-way may leave some behind. The sweeper lists one integrated account's MCP servers
and deletes those whose name starts with the prefix::

    TRUTO_API_TOKEN=... python -m devkit.sweep --integrated-account-id <uuid>
    python -m devkit.sweep --integrated-account-id <uuid> --dry-run

It prints one line per server (id and name, never a token) and a summary. Exit status: 0 when
done, 1 when Truto refused a call, 2 for a usage problem (no API token, empty prefix).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Mapping, Sequence
from typing import Any, TextIO

from truto_pulumi import TrutoConfigError, TrutoError, TrutoNotFoundError
from truto_pulumi._client import TrutoClient
from truto_pulumi._settings import API_TOKEN_ENV, BASE_URL_ENV, resolve_settings

__all__ = ["ACCEPTANCE_PREFIX", "SweepError", "main", "sweep"]

ACCEPTANCE_PREFIX = "truto-pulumi-test-"
"""Every MCP server an acceptance test creates has a name starting with this."""

_SUMMARY_FIELDS = ("id", "name", "integrated_account_id")


class SweepError(TrutoError):
    """Some servers could not be deleted; `deleted` lists those that were, `errors` the rest."""

    def __init__(self, deleted: list[dict[str, Any]], errors: Mapping[str, TrutoError]) -> None:
        self.deleted = deleted
        self.errors = dict(errors)
        details = "; ".join(f"{server_id}: {error}" for server_id, error in self.errors.items())
        super().__init__(f"could not delete {len(self.errors)} MCP server(s): {details}")


def sweep(
    client: TrutoClient,
    account_id: str,
    prefix: str = ACCEPTANCE_PREFIX,
    dry_run: bool = False,
) -> list[dict[str, Any]]:
    """Delete the account's MCP servers whose name starts with `prefix`; return them.

    Each returned dict holds `id`, `name` and `integrated_account_id` only (no token). With
    `dry_run` nothing is deleted. A server already gone counts as deleted. Every server is
    tried; if some deletions fail, `SweepError` is raised at the end.
    """
    if not prefix.strip():
        raise ValueError("prefix must not be empty: it would sweep every MCP server")
    matching = [
        {key: server.get(key) for key in _SUMMARY_FIELDS}
        for server in client.list_mcp_servers(account_id)
        if isinstance(server.get("name"), str) and server["name"].startswith(prefix)
    ]
    if dry_run:
        return matching
    deleted: list[dict[str, Any]] = []
    errors: dict[str, TrutoError] = {}
    for server in matching:
        try:
            client.delete_mcp_server(account_id, str(server["id"]))
        except TrutoNotFoundError:
            deleted.append(server)  # gone meanwhile (or expired): the goal is reached
        except TrutoError as error:
            errors[str(server["id"])] = error
        else:
            deleted.append(server)
    if errors:
        raise SweepError(deleted, errors)
    return deleted


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m devkit.sweep",
        description=(
            "Delete the MCP servers of one Truto integrated account whose name starts with a "
            f"prefix (acceptance-test leftovers). Reads {API_TOKEN_ENV} and {BASE_URL_ENV}."
        ),
    )
    parser.add_argument("--integrated-account-id", required=True, help="the account to sweep")
    parser.add_argument(
        "--prefix",
        default=ACCEPTANCE_PREFIX,
        help=f"delete servers whose name starts with this (default: {ACCEPTANCE_PREFIX})",
    )
    parser.add_argument(
        "--dry-run", action="store_true", help="list what would be deleted, delete nothing"
    )
    return parser


def main(
    argv: Sequence[str] | None = None,
    *,
    environ: Mapping[str, str] | None = None,
    stdout: TextIO | None = None,
    stderr: TextIO | None = None,
) -> int:
    """The command line; returns the exit status."""
    out = sys.stdout if stdout is None else stdout
    err = sys.stderr if stderr is None else stderr
    args = _parser().parse_args(argv)
    account_id: str = args.integrated_account_id
    prefix: str = args.prefix
    dry_run: bool = args.dry_run
    if not account_id.strip():
        print("sweep: --integrated-account-id must not be empty", file=err)
        return 2
    if not prefix.strip():
        print("sweep: --prefix must not be empty (it would delete every MCP server)", file=err)
        return 2
    settings = resolve_settings({}, os.environ if environ is None else environ)
    if settings.api_token is None:
        print(
            f"sweep: no Truto API token: set the environment variable {API_TOKEN_ENV} "
            f"(and {BASE_URL_ENV} for another Truto than {settings.base_url})",
            file=err,
        )
        return 2
    try:
        client = TrutoClient(base_url=settings.base_url, api_token=settings.api_token)
    except TrutoConfigError as error:
        print(f"sweep: {error}", file=err)
        return 2
    verb = "would delete" if dry_run else "deleted"
    status = 0
    with client:
        try:
            swept = sweep(client, account_id, prefix, dry_run)
        except SweepError as error:
            swept = error.deleted
            for server_id, failure in error.errors.items():
                print(f"sweep: could not delete {server_id}: {failure}", file=err)
            status = 1
        except TrutoError as error:
            print(f"sweep: {error}", file=err)
            return 1
    for server in swept:
        print(f"{verb} {server['id']} {server['name']!r}", file=out)
    print(
        f"{verb} {len(swept)} MCP server(s) named {prefix}* of integrated account {account_id}",
        file=out,
    )
    return status


if __name__ == "__main__":
    sys.exit(main())
