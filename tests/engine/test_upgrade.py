"""Upgrading: a stack that release 0.2.0 made, in a project whose virtualenv then gets this
package in its place (`pip install`), previews no change, and its next `up` sends Truto nothing
while the state gains the hidden `__urn` input; a state the first release wrote (no
`token_known`) gets it from the next `refresh` (two GETs: it previews first) or `up` (none).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pulumi
import pytest

import truto_pulumi
from devkit.project import REPO, ProjectFolder
from truto_pulumi.emulator import Emulator

from ..kit import ACCOUNT
from ..lifecycle.helpers import api_calls, item_path
from .conftest import program_folder, to_emulator

pytestmark = pytest.mark.engine

RELEASE_0_2_0 = "0a743438e415c940aab68ad62c9c4c349934be56"
"""The last commit of release 0.2.0 (CHANGELOG.md)."""

PROGRAM = f"""
from truto_pulumi import TrutoMcpServer

TrutoMcpServer("scoped", integrated_account_id="{ACCOUNT}", config={{"methods": ["read"]}})
"""


def run(*argv: str | Path) -> str:
    """A command's output; its error output if it fails."""
    done = subprocess.run([str(a) for a in argv], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.fixture(scope="session")
def release_0_2_0(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder of wheels, built once a session: release 0.2.0's, from its commit (a shallow
    clone lacks it), its dependencies' and the setuptools that builds this package."""
    root = tmp_path_factory.mktemp("release-0.2.0")
    release = f"git+{REPO.as_uri()}@{RELEASE_0_2_0}"
    run(sys.executable, "-m", "pip", "wheel", "-q", "-w", root, release, "setuptools>=77")
    return root


def as_the_first_release_wrote_it(project: ProjectFolder) -> None:
    """The stack's state without `token_known`, which the first release did not write."""
    exported: dict[str, Any] = project.pulumi("stack", "export").json()
    for resource in exported["deployment"]["resources"]:
        resource.get("outputs", {}).pop("token_known", None)
    file = project.root / "first-release-state.json"
    file.write_text(json.dumps(exported))
    project.pulumi("stack", "import", "--file", str(file))
    assert "token_known" not in project.servers()["scoped"]["outputs"]


def test_a_stack_of_an_earlier_release_upgrades_without_a_request_that_changes_truto(
    release_0_2_0: Path, project_cli: str, emulator: Emulator, tmp_path: Path
) -> None:
    emulator.reset()
    venv = tmp_path / "venv"  # this run's pulumi and httpx, through a .pth; pip, the rest
    run(sys.executable, "-m", "venv", "--without-pip", venv)
    (site_packages,) = venv.glob("lib/python*/site-packages")
    (site_packages / "test-run.pth").write_text(Path(pulumi.__file__).parents[1].as_posix())
    python = venv / "bin" / "python"
    pip = (sys.executable, "-m", "pip", "--python", python, "install", "-q", "--no-index")
    (wheel,) = release_0_2_0.glob("truto_pulumi-0.2.0-*.whl")
    run(*pip, "--force-reinstall", "--no-deps", wheel)  # not this run's truto-pulumi
    run(*pip, "--find-links", release_0_2_0, wheel)  # 0.2.0's dependencies (pydantic)
    program_folder(tmp_path / "program", venv, PROGRAM)
    project = ProjectFolder(tmp_path / "program", project_cli, tmp_path / "pulumi")
    to_emulator(project, emulator)
    project.pulumi("up", "--yes", "--skip-preview")
    (server,) = emulator.servers()
    before = project.servers("--show-secrets")["scoped"]

    run(*pip, "--find-links", release_0_2_0, "--no-deps", REPO)
    version = "import truto_pulumi; print(truto_pulumi.__version__)"
    assert run(python, "-c", version).strip() == truto_pulumi.__version__ != "0.2.0"
    emulator.clear_journal()
    project.pulumi("preview", "--expect-no-changes")
    project.pulumi("up", "--yes", "--skip-preview", "--expect-no-changes")
    assert api_calls(emulator) == []
    after = project.servers("--show-secrets")["scoped"]
    assert after["inputs"] == {**before["inputs"], "__urn": before["urn"]}
    assert after["outputs"] == before["outputs"]

    read = ("GET", item_path(server["id"]), None)
    for command, calls in (("refresh", [read, read]), ("up", [])):
        as_the_first_release_wrote_it(project)
        emulator.clear_journal()
        project.pulumi(command, "--yes")
        outputs = project.servers("--show-secrets")["scoped"]["outputs"]
        outputs.pop("__urn", None)  # an update's outputs carry its inputs, the hidden one too
        assert outputs == before["outputs"], command
        assert api_calls(emulator) == calls, command
    project.pulumi("preview", "--expect-no-changes")
    emulator.clear_journal()
    project.pulumi("refresh", "--yes", "--skip-preview", "--expect-no-changes")
    assert api_calls(emulator) == [read]
