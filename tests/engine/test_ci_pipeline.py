"""`examples/ci/pulumi.yml` run step by step, in its order, on a fresh repository made from the
template, so that the pipeline users copy cannot rot: its shell steps run as written, and each
`pulumi/actions` step runs the CLI command the action runs; then the next commit's edit of the
program goes out as one PATCH, and the stack is destroyed."""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from devkit.project import EXAMPLES, ProjectFolder, server_steps
from truto_pulumi.emulator import Emulator

from ..kit import EXAMPLE_ACCOUNT
from ..lifecycle.helpers import (
    account_read,
    api_calls,
    collection_path,
    item_path,
    marked_post,
    masked_calls,
    renamed,
)

pytestmark = pytest.mark.engine

WORKFLOW = EXAMPLES / "ci" / "pulumi.yml"
STACK = "dev"
NAME = "acme-mcp read-only"
"""The template's server name for the project `acme-mcp`."""
READ_ONLY = {"config": {"methods": ["read"]}}


def expand(text: str, values: dict[str, str]) -> str:
    """GitHub's `${{ vars.X }}` / `${{ secrets.X }}` expressions, from `values`."""
    return re.sub(r"\$\{\{\s*([\w.]+)\s*\}\}", lambda m: values[m.group(1)], text)


def action_command(step: dict[str, Any], values: dict[str, str]) -> list[str]:
    """The CLI command a `pulumi/actions` step runs."""
    inputs = {key: expand(str(value), values) for key, value in step["with"].items()}
    command = [inputs["command"], "--stack", inputs["stack-name"]]
    if inputs["command"] in ("up", "destroy", "refresh"):
        command.append("--yes")  # the action never prompts
    if inputs.get("diff") == "True":
        command.append("--diff")
    return command


@pytest.fixture
def repository(
    project_cli: str, package_index: dict[str, str], emulator: Emulator, tmp_path: Path
) -> ProjectFolder:
    """A user's repository from the template, its stack `dev` made once by hand with the account
    in `Pulumi.dev.yaml`; `python` is Python 3.11 as actions/setup-python leaves it."""
    emulator.reset()
    bin_dir = tmp_path / "setup-python"
    bin_dir.mkdir()
    (bin_dir / "python").symlink_to(Path(sys.base_prefix) / "bin" / "python3")
    workspace = ProjectFolder(tmp_path, project_cli, tmp_path / "pulumi")
    workspace.pulumi("new", str(EXAMPLES / "template"), "--generate-only", "--yes",
                     "--name", "acme-mcp", "--dir", "repo")  # fmt: skip
    repo = ProjectFolder(tmp_path / "repo", project_cli, tmp_path / "pulumi")
    repo.env["PATH"] = f"{bin_dir}:{repo.env['PATH']}"
    repo.env.update(package_index)  # the user's package index
    repo.pulumi("stack", "init", STACK)
    repo.pulumi("config", "set", "integratedAccountId", EXAMPLE_ACCOUNT)
    return repo


def test_the_pipeline_example_runs_its_steps_in_order_on_a_fresh_repository(
    repository: ProjectFolder, emulator: Emulator
) -> None:
    workflow = yaml.safe_load(WORKFLOW.read_text())
    (job,) = workflow["jobs"].values()
    values = {"vars.PULUMI_STACK": STACK, "secrets.TRUTO_API_TOKEN": emulator.api_token}
    values["secrets.PULUMI_ACCESS_TOKEN"] = ""  # a self-managed (file://) backend instead
    env = {key: expand(str(value), values) for key, value in job["env"].items()}
    env["TRUTO_BASE_URL"] = emulator.url  # the emulator stands in for api.truto.one
    repository.env.update(env)
    ran: list[str] = []

    for step in job["steps"]:
        uses = step.get("uses", "")
        if uses.startswith("actions/checkout@"):
            assert (repository.folder / "Pulumi.yaml").is_file()
            assert (repository.folder / "requirements.txt").is_file()
        elif uses.startswith("actions/setup-python@"):
            version = repository.run(["python", "--version"]).stdout.split()[1]
            assert version.startswith(str(step["with"]["python-version"]))
        elif uses.startswith("pulumi/actions@"):
            command = action_command(step, values)
            emulator.clear_journal()
            repository.pulumi(*command)
            sent = masked_calls(emulator)
            if command[0] == "preview":
                assert sent == [], command
            else:
                (server,) = emulator.servers()
                assert sent == [
                    account_read(EXAMPLE_ACCOUNT),  # the account's installed integration
                    ("GET", collection_path(EXAMPLE_ACCOUNT), None),  # leftovers of killed runs
                    ("POST", collection_path(EXAMPLE_ACCOUNT), marked_post(NAME, **READ_ONLY)),
                    ("PATCH", item_path(server["id"], EXAMPLE_ACCOUNT), renamed(NAME)),
                ], command
        else:
            assert not uses, f"a step this test does not know: {step}"
            repository.run(["bash", "-eo", "pipefail", "-c", step["run"]])
        ran.append(step.get("name") or uses)

    assert ran == ["actions/checkout@v4", "actions/setup-python@v5",
                   "Install the program's dependencies", "Preview", "Up"]  # fmt: skip
    pulumi_yaml = yaml.safe_load((repository.folder / "Pulumi.yaml").read_text())
    venv = pulumi_yaml["runtime"]["options"]["virtualenv"]
    installed = (repository.folder / venv).glob("lib/python3*/site-packages/truto_pulumi")
    assert list(installed), "the install step did not fill the virtualenv Pulumi.yaml names"
    assert [(s["integrated_account_id"], s["name"]) for s in emulator.servers()] == [
        (EXAMPLE_ACCOUNT, NAME)
    ]
    repository.pulumi("preview", "--expect-no-changes", "--stack", STACK)

    program = repository.folder / "__main__.py"  # an edit, as the template's README suggests
    program.write_text(program.read_text().replace('} read-only"', '} support read-only"'))
    emulator.clear_journal()
    assert server_steps(repository.preview_plan("--stack", STACK)) == {"readonly": "update"}
    repository.pulumi("up", "--yes", "--skip-preview", "--stack", STACK)
    assert [(m, body) for m, _, body in api_calls(emulator)] == [
        ("PATCH", {"name": "acme-mcp support read-only"})
    ]
    shown = repository.pulumi("stack", "output", "--show-secrets", "mcp_url", "--stack", STACK)
    assert shown.stdout.strip() == emulator.servers()[0]["url"]
    repository.pulumi("destroy", "--yes", "--skip-preview", "--stack", STACK)
    assert emulator.servers() == []
