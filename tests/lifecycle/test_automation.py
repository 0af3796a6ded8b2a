"""The real Pulumi CLI (through the Automation API) against the emulator: up, an empty
preview, destroy. It runs only where the `pulumi` CLI is on PATH, with a local file backend in
a temporary directory (no Pulumi Cloud, no login)."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import pulumi
import pytest
from pulumi import automation as auto

from truto_pulumi import McpServerConfigArgs, TrutoMcpServer
from truto_pulumi.emulator import Emulator
from truto_pulumi.settings import API_TOKEN_ENV, API_TOKEN_KEY, BASE_URL_ENV, BASE_URL_KEY

from .helpers import ACCOUNT, api_calls

PROJECT = "truto-lifecycle"
STACK = "dev"


def program() -> None:
    """One read-only MCP server, its id exported."""
    server = TrutoMcpServer(
        "reader",
        integrated_account_id=ACCOUNT,
        config=McpServerConfigArgs(methods=["read"], tags=["crm"]),
    )
    pulumi.export("server_id", server.id)


def workspace_options(tmp_path: Path) -> auto.LocalWorkspaceOptions:
    """A hermetic workspace: file backend, own PULUMI_HOME, this virtualenv's Python."""
    backend = tmp_path / "backend"
    backend.mkdir()
    venv = Path(sys.prefix)
    env = {
        "PULUMI_BACKEND_URL": backend.as_uri(),
        "PULUMI_CONFIG_PASSPHRASE": "truto-lifecycle-test",
        "PULUMI_SKIP_UPDATE_CHECK": "true",
        # The dynamic provider host (`python -m pulumi.dynamic`) must import truto_pulumi.
        "PULUMI_RUNTIME_VIRTUALENV": str(venv),
        "PATH": os.pathsep.join([str(venv / "bin"), os.environ.get("PATH", "")]),
        # Only the stack config may point the provider somewhere.
        API_TOKEN_ENV: "",
        BASE_URL_ENV: "",
    }
    return auto.LocalWorkspaceOptions(
        pulumi_home=str(tmp_path / "pulumi-home"),
        env_vars=env,
        project_settings=auto.ProjectSettings(
            name=PROJECT,
            runtime=auto.ProjectRuntimeInfo(name="python", options={"virtualenv": str(venv)}),
            backend=auto.ProjectBackend(url=backend.as_uri()),
        ),
    )


def test_cli_up_then_empty_preview_then_destroy_against_the_emulator(
    emulator: Emulator, tmp_path: Path
) -> None:
    cli = shutil.which("pulumi")
    if cli is None:
        pytest.skip(
            "pulumi CLI not on PATH: install it (https://www.pulumi.com/docs/install/) "
            "to run the Automation API lifecycle test"
        )
    emulator.reset()
    stack = auto.create_or_select_stack(
        stack_name=STACK,
        project_name=PROJECT,
        program=program,
        opts=workspace_options(tmp_path),
    )
    try:
        stack.set_config(API_TOKEN_KEY, auto.ConfigValue(value=emulator.token, secret=True))
        stack.set_config(BASE_URL_KEY, auto.ConfigValue(value=emulator.url))

        up = stack.up(on_output=print)
        assert up.summary.result == "succeeded"
        assert (up.summary.resource_changes or {}).get(auto.OpType.CREATE) == 2  # stack + server
        (server,) = emulator.servers()
        assert (server["name"], server["config"]) == (
            "reader",
            {"methods": ["read"], "tags": ["crm"]},
        )
        assert up.outputs["server_id"].value == server["id"]

        emulator.clear_journal()
        preview = stack.preview(on_output=print, expect_no_changes=True)
        changes = {op: n for op, n in preview.change_summary.items() if op != auto.OpType.SAME}
        assert changes == {}
        assert api_calls(emulator) == []  # preview runs Check and Diff only

        destroyed = stack.destroy(on_output=print)
        assert destroyed.summary.result == "succeeded"
        assert emulator.servers() == []
    finally:
        stack.workspace.remove_stack(STACK, force=True)
