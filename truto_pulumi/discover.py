"""`python -m truto_pulumi.discover`: the MCP servers of one integrated account
(`--integrated-account-id`), or of every account the lookups' filters match (`--integration`,
`--tenant-id`, `--status`, or `--all-accounts`), as `TrutoMcpServer(...)` code, each with
`adopt_id` so that `pulumi up` takes it over (`pulumi import` fails for dynamic providers), or a
Pulumi project folder declaring them all. Reads TRUTO_API_TOKEN and TRUTO_BASE_URL as the
lookups do; never prints or writes the token or anything derived from it.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import re
import sys
import unicodedata
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from ._errors import TrutoError
from ._inputs import canonical_live_inputs
from ._lookups import (
    ACCOUNT_STATUSES,
    IntegratedAccount,
    configured,
    get_integrated_accounts,
    get_mcp_servers,
)
from ._mark import read_mark
from ._schema import CONFIG_KEYS
from ._settings import DEFAULT_BASE_URL

__all__ = ["main", "render_program", "render_project", "write_project"]

_PROJECT_FILES = ("Pulumi.yaml", "requirements.txt", "__main__.py")
"""What `--project-dir` writes, in this order."""

_PROJECT_NAME = re.compile(r"[A-Za-z0-9_.-]{1,100}")
"""Pulumi's rule for project names (`tokens.ValidateProjectName`)."""

_IMPORT = "from truto_pulumi import McpServerConfigArgs, TrutoMcpServer"

_PROGRAM_HEADER = '''"""Existing Truto MCP servers, adopted: each declares `adopt_id`, so the first
`pulumi up` takes the server over (nothing is created, nothing changes while the declaration
matches) and this stack manages it from then on. Written by `python -m truto_pulumi.discover`;
edit freely."""

'''
"""The written `__main__.py`'s docstring: what the program does and where it came from."""

_Servers = Sequence[Mapping[str, Any]]


def render_program(integrated_account_id: str, servers: _Servers) -> str:
    """Python code declaring each server of one account with `adopt_id`, in the order given.
    Whatever the servers' names, the code runs: resource names are unique ASCII slugs, each
    variable is `server_` and its slug, so unique and shadowing nothing."""
    lines = [_IMPORT, "", f"ACCOUNT_ID = {integrated_account_id!r}"]
    return "\n".join(lines + _declarations("ACCOUNT_ID", "", servers, set())) + "\n"


def _render_environment(accounts: Sequence[tuple[IntegratedAccount, _Servers]]) -> str:
    """`render_program` for several accounts, in the order given: per account a comment (its
    integration, tenant and status), a constant `ACCOUNT_<n>` and its servers, whose resource
    names start with the slug of its tenant and integration, unique across all accounts."""
    lines, used = [_IMPORT], set[str]()
    for number, (account, servers) in enumerate(accounts, 1):
        tenant, integration = account.tenant_id, account.integration_name
        about = {"tenant": tenant, "integration": integration, "status": account.status}
        said = ", ".join(f"{key} {value!r}" for key, value in about.items() if value)
        lines += ["", "", f"# {said}" if said else "# an integrated account"]
        lines.append(f"ACCOUNT_{number} = {account.id!r}")
        prefix = _slug(f"{tenant or ''} {integration or ''}", "account", account.id)
        lines += _declarations(f"ACCOUNT_{number}", prefix, servers, used)
    return "\n".join(lines) + "\n"


def _declarations(constant: str, prefix: str, servers: _Servers, used: set[str]) -> list[str]:
    """The lines declaring each server under the account `constant`; resource names are
    `prefix`, a hyphen and the server's slug, unique within `used` (which records them)."""
    lines = []
    for server in servers:
        slug = _slug(server.get("name"), "mcp", server.get("id"))
        resource_name = _unique(f"{prefix}-{slug}" if prefix else slug, used)
        arguments = {"integrated_account_id": constant, "name": repr(server.get("name"))}
        config = canonical_live_inputs(server).get("config")
        if config:
            given = ", ".join(f"{key}={config[key]!r}" for key in CONFIG_KEYS if key in config)
            arguments["config"] = f"McpServerConfigArgs({given})"
        if server.get("expires_at"):
            arguments["expires_at"] = repr(server["expires_at"])
        lines += ["", f"server_{resource_name.replace('-', '_')} = TrutoMcpServer("]
        lines += [f"    {resource_name!r},", *(f"    {k}={v}," for k, v in arguments.items())]
        lines += [f"    adopt_id={server['id']!r},  # take over the existing server", ")"]
    return lines


def render_project(of: str, program: str, project_name: str) -> dict[str, str]:
    """The files of a Pulumi project folder (`_PROJECT_FILES`) running `program` (the MCP
    servers of `of`, as the description says): its first `pulumi up` adopts every server as it
    is, name, config and expires_at as given, so nothing is PATCHed."""
    description = f"Truto MCP servers of {of}, adopted by python -m truto_pulumi.discover"
    return {
        "Pulumi.yaml": f"name: {json.dumps(project_name)}\n"  # JSON strings are YAML's too
        f"description: {json.dumps(description)}\n"
        "runtime:\n  name: python\n  options:\n    toolchain: pip\n    virtualenv: venv\n",
        "requirements.txt": "truto-pulumi>=0.1,<1\npulumi>=3.235,<4\n",  # as examples/template
        "__main__.py": _PROGRAM_HEADER + program,
    }


def write_project(directory: Path, files: Mapping[str, str]) -> None:
    """Create `directory` (if needed) and the files in it, overwriting nothing: FileExistsError
    if it holds a project already; then nothing is written."""
    _refuse_a_project(directory)
    directory.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        with (directory / name).open("x", encoding="utf-8", newline="\n") as file:
            file.write(text)


def _refuse_a_project(directory: Path) -> None:
    """FileExistsError, saying what to do, if `directory` holds one of a project's files."""
    present = [name for name in (*_PROJECT_FILES, "Pulumi.yml") if (directory / name).exists()]
    if present:
        raise FileExistsError(
            f"{directory} already holds {', '.join(present)}: discover writes a new project "
            "folder and overwrites nothing. Choose a new or empty folder, or leave out "
            "--project-dir to print the code and paste it into your program"
        )


def _project_name(name: str) -> str:
    """`--project-name`, if Pulumi accepts it."""
    if not _PROJECT_NAME.fullmatch(name):
        raise argparse.ArgumentTypeError(
            f"{name!r}: Pulumi project names are 1 to 100 alphanumerics, hyphens, underscores "
            "and periods"
        )
    return name


def _project_name_for(directory: Path) -> str:
    """What `pulumi new` would name the project: the folder's name, if Pulumi accepts it."""
    name = directory.resolve().name
    return name if _PROJECT_NAME.fullmatch(name) else "truto-mcp-servers"


def _arguments(argv: Sequence[str] | None) -> argparse.Namespace:
    """The command line; a usage error (exit 2) unless it chooses the accounts one way."""
    parser = argparse.ArgumentParser(
        prog="python -m truto_pulumi.discover",
        description="Print TrutoMcpServer code (with adopt_id) for the MCP servers of an "
        "account, or of every account matching the filters, or write a Pulumi project folder "
        "that adopts them all.",
    )
    parser.add_argument("--integrated-account-id", metavar="ID", help="one account")
    parser.add_argument("--integration", help="filter: the integration's name, e.g. hubspot")
    parser.add_argument("--tenant-id", help="filter: the tenant's id")
    parser.add_argument(
        "--status", choices=ACCOUNT_STATUSES, metavar="STATUS", help="filter: %(choices)s"
    )
    parser.add_argument(
        "--all-accounts", action="store_true", help="every account of the token's environment"
    )
    parser.add_argument("--project-dir", type=Path, help="write the project there (new folder)")
    parser.add_argument("--project-name", type=_project_name, help="default: the folder's name")
    args = parser.parse_args(argv)
    filters = {key: getattr(args, key) for key in ("integration", "tenant_id", "status")}
    args.filters = {key: value for key, value in filters.items() if value is not None}
    if sum([args.integrated_account_id is not None, bool(args.filters), args.all_accounts]) != 1:
        parser.error(
            "choose the accounts one way: --integrated-account-id, or filters (--integration, "
            "--tenant-id, --status; an account matches all given), or --all-accounts"
        )
    return args


def main(argv: Sequence[str] | None = None) -> int:
    """Print the code for every MCP server of the chosen accounts, or write it as a project
    folder (`--project-dir`); 0 on success, 2 on an error."""
    args = _arguments(argv)
    account, folder = args.integrated_account_id, args.project_dir
    unwritten = "" if folder is None else ", no project written"
    try:
        settings, _ = configured("discover")
        if folder is not None:
            _refuse_a_project(folder)  # before asking Truto anything
        if account is not None:
            servers = _adoptable(account)
            of, program = f"integrated account {account}", render_program(account, servers)
            if not servers and folder is not None:
                raise ValueError(f"{of} has no MCP servers: nothing to adopt{unwritten}")
        else:
            scope = "of the API token's environment"
            if args.filters:
                scope = "matching " + ", ".join(f"{k}={v!r}" for k, v in args.filters.items())
            accounts = get_integrated_accounts(**args.filters)
            if not accounts:
                raise ValueError(f"no integrated account {scope}: nothing to adopt{unwritten}")
            found = [(a, servers) for a in accounts if (servers := _adoptable(a.id))]
            if not found:
                raise ValueError(
                    f"the {len(accounts)} integrated account(s) {scope} have no MCP servers: "
                    f"nothing to adopt{unwritten}"
                )
            servers = [server for _, listed in found for server in listed]
            of, program = f"{len(found)} integrated account(s) {scope}", _render_environment(found)
        if folder is None:
            print(f"# {len(servers)} MCP server(s) of {of}")
            print(program, end="")
            return 0
        name = args.project_name or _project_name_for(folder)
        write_project(folder, render_project(of, program, name))
    except (TrutoError, OSError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    count = f"{len(servers)} MCP server(s) of {of}"
    print(f"Wrote {', '.join(_PROJECT_FILES)} to {folder}: {count}, each with adopt_id.")
    print("Next, in that folder:\n  pulumi install\n  pulumi stack init <stack>")
    print("  pulumi config set --secret truto:apiToken <token>   # or TRUTO_API_TOKEN")
    if settings.base_url != DEFAULT_BASE_URL:
        print(f"  pulumi config set truto:baseUrl {settings.base_url}")
    print(f"  pulumi preview   # {len(servers)} to create: each an adoption, nothing new in Truto")
    print("  pulumi up")
    return 0


def _adoptable(account: str) -> list[dict[str, Any]]:
    """The account's MCP servers, but those carrying a Pulumi create mark, each said on stderr."""
    servers = []
    for server in get_mcp_servers(account, include_in_flight=True):
        if read_mark(server.name) is None:
            servers.append(dataclasses.asdict(server))
            continue
        print(
            f"# left out: MCP server {server.id} ({server.name!r}) carries a Pulumi create "
            "mark: a stack's create is under way, or a killed run left it and Truto deletes "
            "it at its provisional expiry",
            file=sys.stderr,
        )
    return servers


def _slug(text: object, fallback: str, identifier: object) -> str:
    """A readable ASCII name from `text`: lower-case letters and digits joined by single
    hyphens; else `fallback`, a hyphen and the first 8 of them in `identifier`."""
    name = unicodedata.normalize("NFKD", str(text or ""))
    slug = re.sub(r"[^a-z0-9]+", "-", name.encode("ascii", "ignore").decode().lower())
    short = re.sub(r"[^a-z0-9]", "", str(identifier or "").lower())[:8]
    return slug[:60].strip("-") or f"{fallback}-{short}".rstrip("-")


def _unique(candidate: str, used: set[str]) -> str:
    """`candidate`, or it with the lowest free numeric suffix; recorded in `used`."""
    chosen, n = candidate, 2
    while chosen in used:
        chosen, n = f"{candidate}-{n}", n + 1
    used.add(chosen)
    return chosen


if __name__ == "__main__":
    sys.exit(main())
