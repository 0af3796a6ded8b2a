"""Upgrading: a stack that release 0.2.0 made, in a project whose virtualenv then gets this
package in its place (`pip install`), previews no change, and its next `up` sends Truto nothing
while the state gains the hidden `__urn` input. A state of the first release (no `token_known`):
`lifecycle/test_lifecycle.py`."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

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


def test_a_stack_made_by_0_2_0_upgrades_with_no_change_and_no_request_that_changes_truto(
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
    for flags, calls in ((), [read, read]), (("--skip-preview",), [read]):  # it previews first
        emulator.clear_journal()
        project.pulumi("refresh", "--yes", "--expect-no-changes", *flags)
        assert api_calls(emulator) == calls
