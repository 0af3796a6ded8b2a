"""`examples/ci/pulumi.yml` run step by step, in its order, on a fresh repository made from the
template, for each event that starts it (a pull request, a push to main, the schedule), so that
the pipeline users copy cannot rot: its shell steps run as written, each step only on the events
its `if` names, and each `pulumi/actions` step runs the CLI command the action runs."""

from __future__ import annotations

import re
import shutil
import sys
from pathlib import Path
from types import SimpleNamespace
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
PACK_FLAGS = {"policyPacks": "--policy-pack", "policyPackConfigs": "--policy-pack-config"}


def expand(text: str, values: dict[str, str]) -> str:
    """GitHub's `${{ vars.X }}` / `${{ secrets.X }}` expressions, from `values`."""
    return re.sub(r"\$\{\{\s*([\w.]+)\s*\}\}", lambda m: values[m.group(1)], text)


def action_command(step: dict[str, Any], values: dict[str, str]) -> list[str]:
    """The CLI command a `pulumi/actions` step runs."""
    inputs = {key: expand(str(value), values) for key, value in step["with"].items()}
    command = [inputs["command"], "--stack", inputs["stack-name"]]
    if inputs["command"] in ("up", "destroy", "refresh"):
        command.append("--yes")  # the action never prompts
    flags = ("diff", "refresh", "expect-no-changes")
    command += [f"--{flag}" for flag in flags if inputs.get(flag, "").lower() == "true"]
    return command + [a for k, f in PACK_FLAGS.items() if k in inputs for a in (f, inputs[k])]


def runs_on(step: dict[str, Any], event: str) -> bool:
    """Whether a step runs for `event` on main: its `if`, as GitHub evaluates the `==`, `&&` and
    `||` of this workflow."""
    condition = str(step.get("if", "true")).replace("&&", " and ").replace("||", " or ")
    github = SimpleNamespace(event_name=event, ref="refs/heads/main")
    return bool(eval(condition, {"true": True}, {"github": github}))


@pytest.fixture
def repository(
    project_cli: str, package_index: dict[str, str], emulator: Emulator, tmp_path: Path
) -> ProjectFolder:
    """A user's repository from the template, its stack `dev` made once by hand with the account
    in `Pulumi.dev.yaml`, and `guardrails/` a copy of the policy pack as the workflow's header
    says; `python` is Python 3.11 as actions/setup-python leaves it."""
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
    guardrails = repo.folder / "guardrails"
    guardrails.mkdir()
    for name in ("PulumiPolicy.yaml", "__main__.py"):
        shutil.copy(EXAMPLES / "guardrails" / name, guardrails)
    (guardrails / "requirements.txt").write_text("truto-pulumi[policy]\n")
    (guardrails / "config.json").write_text('{"truto-server-expires": {"max_days": 30}}\n')
    return repo


class Pipeline:
    """The workflow's one job as each event runs it on `repository`, against the emulator."""

    def __init__(self, repository: ProjectFolder, emulator: Emulator) -> None:
        self.repository, self.emulator = repository, emulator
        self.job = next(iter(yaml.safe_load(WORKFLOW.read_text())["jobs"].values()))
        self.values = {"vars.PULUMI_STACK": STACK, "secrets.TRUTO_API_TOKEN": emulator.api_token}
        self.values["secrets.PULUMI_ACCESS_TOKEN"] = ""  # a self-managed (file://) backend
        repository.env.update({k: expand(str(v), self.values) for k, v in self.job["env"].items()})
        repository.env["TRUTO_BASE_URL"] = emulator.url  # stands in for api.truto.one

    def run(self, event: str, *, fails: bool = False) -> tuple[list[str], str]:
        """The names of the steps `event` ran and what its `pulumi/actions` step printed; the
        step fails exactly when `fails`."""
        ran, printed = [], ""
        for step in (s for s in self.job["steps"] if runs_on(s, event)):
            uses = step.get("uses", "")
            if uses.startswith("actions/checkout@"):
                assert (self.repository.folder / "Pulumi.yaml").is_file()
                assert (self.repository.folder / "requirements.txt").is_file()
            elif uses.startswith("actions/setup-python@"):
                version = self.repository.run(["python", "--version"]).stdout.split()[1]
                assert version.startswith(str(step["with"]["python-version"]))
            elif uses.startswith("pulumi/actions@"):
                result = self.repository.pulumi(*action_command(step, self.values), check=False)
                assert (result.returncode != 0) == fails, result.text
                printed = result.text
            else:
                assert not uses, f"a step this test does not know: {step}"
                self.repository.run(["bash", "-eo", "pipefail", "-c", step["run"]])
            ran.append(step.get("name") or uses)
        return ran, printed


def drift(printed: str) -> dict[str, str]:
    """What a failed drift check's `--diff` output plans, by resource name; the refresh's own
    steps aside."""
    step = (
        r"\((create|update|replace|delete)\)\n(?:\s+\[id=[^\]]*\]\n)?\s+\[urn=[^\]]*::([^\]:]+)\]"
    )
    assert "error: no changes were expected" in printed, printed
    return {name: operation for operation, name in re.findall(step, printed)}


SETUP = ["actions/checkout@v4", "actions/setup-python@v5", "Install the program's dependencies"]
PACK = [*SETUP, "Install the policy pack's dependencies"]


def test_the_pipeline_example_runs_each_events_steps_on_a_fresh_repository(
    repository: ProjectFolder, emulator: Emulator
) -> None:
    pipeline = Pipeline(repository, emulator)
    assert pipeline.run("pull_request")[0] == [*PACK, "Preview"]
    assert api_calls(emulator) == []

    assert pipeline.run("push")[0] == [*PACK, "Up"]
    (server,) = emulator.servers()
    assert masked_calls(emulator) == [
        account_read(EXAMPLE_ACCOUNT),  # the account's installed integration
        ("GET", collection_path(EXAMPLE_ACCOUNT), None),  # leftovers of killed runs
        ("POST", collection_path(EXAMPLE_ACCOUNT), marked_post(NAME, **READ_ONLY)),
        ("PATCH", item_path(server["id"], EXAMPLE_ACCOUNT), renamed(NAME)),
    ]
    pulumi_yaml = yaml.safe_load((repository.folder / "Pulumi.yaml").read_text())
    venv = pulumi_yaml["runtime"]["options"]["virtualenv"]
    installed = (repository.folder / venv).glob("lib/python3*/site-packages/truto_pulumi")
    assert list(installed), "the install step did not fill the virtualenv Pulumi.yaml names"
    assert [(s["integrated_account_id"], s["name"]) for s in emulator.servers()] == [
        (EXAMPLE_ACCOUNT, NAME)
    ]
    assert pipeline.run("schedule")[0] == [*SETUP, "Drift check"]  # no drift: it passes

    emulator.edit_server(server["id"], name="edited in the dashboard")
    _, printed = pipeline.run("workflow_dispatch", fails=True)
    assert drift(printed) == {"readonly": "update"}
    assert re.search(r'~ name *: "edited in the dashboard" => "acme-mcp read-only"', printed)
    emulator.clear_journal()
    # The way back: the state still holds the declared name, so `up` alone sees nothing to do.
    repository.pulumi("up", "--refresh", "--yes", "--skip-preview", "--stack", STACK)
    assert [(m, body) for m, _, body in api_calls(emulator) if m != "GET"] == [
        ("PATCH", {"name": NAME})
    ]

    program = repository.folder / "__main__.py"
    declared = program.read_text()
    program.write_text(declared.replace('["read"]', '["read", "write"]'))
    emulator.clear_journal()
    _, printed = pipeline.run("pull_request", fails=True)  # a pull request the pack refuses
    assert re.search(r"\[mandatory\]\s+truto-write-access\s+\(\S+: readonly\)", printed)
    assert api_calls(emulator) == []

    # an edit, as the template's README suggests
    program.write_text(declared.replace('} read-only"', '} support read-only"'))
    emulator.clear_journal()
    assert server_steps(repository.preview_plan("--stack", STACK)) == {"readonly": "update"}
    pipeline.run("push")
    assert [(m, body) for m, _, body in api_calls(emulator)] == [
        ("PATCH", {"name": "acme-mcp support read-only"})
    ]
    shown = repository.pulumi("stack", "output", "--show-secrets", "mcp_url", "--stack", STACK)
    assert shown.stdout.strip() == emulator.servers()[0]["url"]

    emulator.delete_server(server["id"])
    emulator.clear_journal()
    state = repository.export()
    _, printed = pipeline.run("schedule", fails=True)
    assert drift(printed) == {"readonly": "create"}
    assert {m for m, _, _ in api_calls(emulator)} == {"GET"}  # a drift check changes nothing
    assert repository.export()["resources"] == state["resources"]
    repository.pulumi("destroy", "--yes", "--skip-preview", "--stack", STACK)
    assert emulator.servers() == []
