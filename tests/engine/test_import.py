"""`pulumi import` of a TrutoMcpServer, run for real: the CLI in a project folder, its Python
language host and the dynamic provider host (`python -m pulumi.dynamic` in the project's
virtualenv), against the emulator. The route that works, `discover --project-dir`:
tests/engine/test_discover_environment.py.

Why import fails, and what an import file with `outputs` does instead: docs/refresh-and-adoption.md
("Why not `pulumi import`").
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from devkit import MCP_SERVER_TYPE
from devkit.project import ProjectFolder
from truto_pulumi._resource import _pickled_provider
from truto_pulumi.emulator import Emulator

from ..kit import ACCOUNT
from ..lifecycle.helpers import api_calls, made_in_dashboard
from .conftest import PROGRAM_VENV, program_folder, to_emulator

pytestmark = pytest.mark.engine

NAME = "legacy"
CONFIG = {"methods": ["read"]}
MISSING_ID = "0d5e7c1a-0000-4000-8000-00000000dead"
PROGRAM = """\
import pulumi

from truto_pulumi import McpServerConfigArgs, TrutoMcpServer

TrutoMcpServer(
    {name!r},
    integrated_account_id={account!r},
    name={name!r},
    config=McpServerConfigArgs(methods=["read"]),
    opts=pulumi.ResourceOptions(import_={import_id!r}),
)
"""
"""A program declaring the dashboard-made server; `import_id` set, it asks to import it."""

PROVIDER_HOST_FAILURE = (
    "pulumi/dynamic/__main__.py",
    "in Read",
    "providerStr = props[PROVIDER_KEY]",
    "KeyError: '__provider'",
)
"""What the dynamic provider host prints when the engine's Read carries no `__provider`."""


@pytest.fixture
def project(project_cli: str, emulator: Emulator, tmp_path: Path) -> ProjectFolder:
    """A project folder declaring `legacy` (no import), stack `dev` set to the emulator. It runs
    in the basic example's virtualenv (installed once per session): the same packages."""
    emulator.reset()
    folder = tmp_path / "project"
    program_folder(folder, PROGRAM_VENV, "", name="truto-import")
    declare(folder, import_id=None)
    project = ProjectFolder(folder, project_cli, tmp_path / "pulumi")
    to_emulator(project, emulator)
    return project


@pytest.fixture
def legacy(emulator: Emulator, project: ProjectFolder) -> dict[str, Any]:
    """The server made in the dashboard, outside Pulumi; the journal starts after it."""
    answered = made_in_dashboard(emulator, ACCOUNT, name=NAME, config=CONFIG)
    emulator.clear_journal()
    (made,) = [s for s in emulator.servers() if s["id"] == answered["id"]]
    return made  # as Truto holds it: `config` without the defaults the API echoes


def declare(folder: Path, *, import_id: str | None) -> None:
    """Write the program: `legacy`, with the `import_` option when `import_id` is given."""
    program = PROGRAM.format(name=NAME, account=ACCOUNT, import_id=import_id)
    (folder / "__main__.py").write_text(program)


def import_file(folder: Path, spec: dict[str, Any]) -> Path:
    """A `pulumi import --file` file holding one resource."""
    path = folder.parent / "import.json"
    path.write_text(json.dumps({"resources": [{"type": MCP_SERVER_TYPE, "name": NAME, **spec}]}))
    return path


def with_provider(props: dict[str, Any]) -> dict[str, Any]:
    """Properties plus `__provider`, pickled as `TrutoMcpServer` pickles it."""
    return {**props, "__provider": _pickled_provider()}


def test_pulumi_import_in_each_form_fails_in_the_dynamic_provider_host_and_changes_nothing(
    project: ProjectFolder, emulator: Emulator, legacy: dict[str, Any]
) -> None:
    """The command, an import file (even with the pickled provider in its inputs) and the
    `import_` option of a program."""
    result = project.pulumi("import", MCP_SERVER_TYPE, NAME, legacy["id"], "--yes", check=False)
    assert "Previewing import (dev)" in result.stdout
    assert "Importing (dev)" not in result.stdout  # it fails in the preview
    assert "error: preview failed: step application failed: Traceback" in result.stdout
    inputs = with_provider({"integrated_account_id": ACCOUNT, "name": NAME, "config": CONFIG})
    path = import_file(project.folder, {"id": legacy["id"], "inputs": inputs})
    from_file = project.pulumi("import", "--file", str(path), "--yes", check=False)
    declare(project.folder, import_id=legacy["id"])
    option = project.pulumi("up", "--yes", check=False)

    for failed in (result, from_file, option):
        assert failed.returncode == 1
        assert [line for line in PROVIDER_HOST_FAILURE if line not in failed.stdout] == []
    assert api_calls(emulator) == []  # nothing reached Truto, nothing is in the state
    assert (project.servers(), emulator.servers()) == ({}, [legacy])


def test_pulumi_import_file_with_outputs_writes_them_to_the_state_without_asking_truto(
    project: ProjectFolder, emulator: Emulator, legacy: dict[str, Any]
) -> None:
    """Since CLI 3.254 the engine writes an import file's outputs and skips Read: the state is
    written (code generation then fails: a dynamic provider has no schema), and a server that
    does not exist is taken on trust until a refresh proves it gone."""
    inputs = {"integrated_account_id": ACCOUNT, "name": NAME, "config": CONFIG}
    outputs = {**inputs, "token_known": False}
    spec = {"id": legacy["id"], "inputs": with_provider(inputs), "outputs": with_provider(outputs)}

    result = project.pulumi(
        "import", "--file", str(import_file(project.folder, spec)), "--yes", check=False
    )

    assert result.returncode == 1
    assert "= 1 imported" in result.stdout
    assert "Error loading schema from plugin" in result.stderr
    assert api_calls(emulator) == []  # the engine skipped Read: nothing checked the server
    state = project.servers()[NAME]
    assert (state["id"], state["protect"]) == (legacy["id"], True)
    assert {k: v for k, v in state["outputs"].items() if k != "__provider"} == outputs
    project.pulumi("preview", "--expect-no-changes")  # the program declares what was imported
    assert api_calls(emulator) == []
    project.pulumi("refresh", "--yes", "--skip-preview", "--expect-no-changes")
    assert {method for method, _, _ in api_calls(emulator)} == {"GET"}
    assert emulator.servers() == [legacy]

    ghost = {"id": MISSING_ID, "inputs": with_provider(inputs), "outputs": with_provider(inputs)}
    ghost_file = import_file(project.folder, ghost)
    ghost_file.write_text(ghost_file.read_text().replace(f'"name": "{NAME}"', '"name": "ghost"'))
    project.pulumi("import", "--file", str(ghost_file), "--yes", "--generate-code=false")
    assert project.servers()["ghost"]["id"] == MISSING_ID
    project.pulumi("refresh", "--yes", "--skip-preview")  # Read: 404, the account's list lacks it
    assert sorted(project.servers()) == [NAME]
    assert {method for method, _, _ in api_calls(emulator)} == {"GET"}
    assert emulator.servers() == [legacy]
