"""`python -m truto_pulumi.discover --integrated-account-id <uuid> [--project-dir <dir>]`: an
account's MCP servers as `TrutoMcpServer(...)` code, each with `adopt_id` so that `pulumi up`
takes it over (`pulumi import` fails for dynamic providers), or a Pulumi project folder declaring
them all. Reads TRUTO_API_TOKEN and TRUTO_BASE_URL as the lookups do; never prints or writes the
token or anything derived from it.
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
from ._lookups import configured, get_mcp_servers
from ._mark import read_mark
from ._schema import CONFIG_KEYS
from ._settings import DEFAULT_BASE_URL

__all__ = ["main", "render_program", "render_project", "write_project"]

_PROJECT_FILES = ("Pulumi.yaml", "requirements.txt", "__main__.py")
"""What `--project-dir` writes, in this order."""

_PROJECT_NAME = re.compile(r"[A-Za-z0-9_.-]{1,100}")
"""Pulumi's rule for project names (`tokens.ValidateProjectName`)."""

_PROGRAM_HEADER = '''"""Existing Truto MCP servers, adopted: each declares `adopt_id`, so the first
`pulumi up` takes the server over (nothing is created, nothing changes while the declaration
matches) and this stack manages it from then on. Written by `python -m truto_pulumi.discover`;
edit freely."""

'''
"""The written `__main__.py`'s docstring: what the program does and where it came from."""


def render_program(integrated_account_id: str, servers: Sequence[Mapping[str, Any]]) -> str:
    """Python code declaring each server with `adopt_id`, in the order given. Whatever the
    servers' names, the code runs: resource names are unique ASCII slugs, each variable is
    `server_` and its slug, so unique and shadowing nothing."""
    lines = ["from truto_pulumi import McpServerConfigArgs, TrutoMcpServer", ""]
    lines.append(f"ACCOUNT_ID = {integrated_account_id!r}")
    resource_names: set[str] = set()
    for server in servers:
        resource_name = _unique(_slug(server), resource_names)
        arguments = {"integrated_account_id": "ACCOUNT_ID", "name": repr(server.get("name"))}
        config = canonical_live_inputs(server).get("config")
        if config:
            given = ", ".join(f"{key}={config[key]!r}" for key in CONFIG_KEYS if key in config)
            arguments["config"] = f"McpServerConfigArgs({given})"
        if server.get("expires_at"):
            arguments["expires_at"] = repr(server["expires_at"])
        lines += ["", f"server_{resource_name.replace('-', '_')} = TrutoMcpServer("]
        lines += [f"    {resource_name!r},", *(f"    {k}={v}," for k, v in arguments.items())]
        lines += [f"    adopt_id={server['id']!r},  # take over the existing server", ")"]
    return "\n".join(lines) + "\n"


def render_project(
    integrated_account_id: str, servers: Sequence[Mapping[str, Any]], project_name: str
) -> dict[str, str]:
    """The files of a Pulumi project folder (`_PROJECT_FILES`) whose first `pulumi up` adopts
    every server as it is: name, config and expires_at as given, so nothing is PATCHed."""
    description = (
        f"Truto MCP servers of integrated account {integrated_account_id}, "
        "adopted by python -m truto_pulumi.discover"
    )
    return {
        "Pulumi.yaml": f"name: {json.dumps(project_name)}\n"  # JSON strings are YAML's too
        f"description: {json.dumps(description)}\n"
        "runtime:\n  name: python\n  options:\n    toolchain: pip\n    virtualenv: venv\n",
        "requirements.txt": "truto-pulumi>=0.1,<1\npulumi>=3.200,<4\n",  # as examples/template
        "__main__.py": _PROGRAM_HEADER + render_program(integrated_account_id, servers),
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


def main(argv: Sequence[str] | None = None) -> int:
    """Print the code for every MCP server of the account, or write it as a project folder
    (`--project-dir`); 0 on success, 2 on an error."""
    parser = argparse.ArgumentParser(
        prog="python -m truto_pulumi.discover",
        description="Print TrutoMcpServer code (with adopt_id) for an account's MCP servers, "
        "or write a Pulumi project folder that adopts them all.",
    )
    parser.add_argument("--integrated-account-id", required=True)
    parser.add_argument("--project-dir", type=Path, help="write the project there (new folder)")
    parser.add_argument("--project-name", type=_project_name, help="default: the folder's name")
    args = parser.parse_args(argv)
    account, folder = args.integrated_account_id, args.project_dir
    try:
        settings, _ = configured("discover")
        if folder is not None:
            _refuse_a_project(folder)  # before asking Truto anything
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
        if folder is None:
            print(f"# {len(servers)} MCP server(s) of integrated account {account}")
            print(render_program(account, servers), end="")
            return 0
        if not servers:
            raise ValueError(
                f"integrated account {account} has no MCP servers: nothing to adopt, no project "
                "written"
            )
        name = args.project_name or _project_name_for(folder)
        write_project(folder, render_project(account, servers, name))
    except (TrutoError, OSError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    count = f"{len(servers)} MCP server(s) of integrated account {account}"
    print(f"Wrote {', '.join(_PROJECT_FILES)} to {folder}: {count}, each with adopt_id.")
    print("Next, in that folder:\n  pulumi install\n  pulumi stack init <stack>")
    print("  pulumi config set --secret truto:apiToken <token>   # or TRUTO_API_TOKEN")
    if settings.base_url != DEFAULT_BASE_URL:
        print(f"  pulumi config set truto:baseUrl {settings.base_url}")
    print(f"  pulumi preview   # {len(servers)} to create: each an adoption, nothing new in Truto")
    print("  pulumi up")
    return 0


def _slug(server: Mapping[str, Any]) -> str:
    """A readable ASCII resource name from the server's name, else from its id: lower-case
    letters and digits joined by single hyphens."""
    name = unicodedata.normalize("NFKD", str(server.get("name") or ""))
    slug = re.sub(r"[^a-z0-9]+", "-", name.encode("ascii", "ignore").decode().lower())
    slug = slug[:60].strip("-")
    if not slug:
        slug = "mcp-" + re.sub(r"[^a-z0-9]", "", str(server.get("id", "")).lower())[:8]
    return slug.rstrip("-")


def _unique(candidate: str, used: set[str]) -> str:
    """`candidate`, or it with the lowest free numeric suffix; recorded in `used`."""
    chosen, n = candidate, 2
    while chosen in used:
        chosen, n = f"{candidate}-{n}", n + 1
    used.add(chosen)
    return chosen


if __name__ == "__main__":
    sys.exit(main())
