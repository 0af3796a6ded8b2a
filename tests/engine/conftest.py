"""Fixtures for the real-engine suite: example and program project folders, and a package index
for projects made from the template (the `cli` fixtures are in tests/conftest)."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from devkit.project import REPO, ProjectFolder, checkout_copy
from truto_pulumi.emulator import Emulator


@pytest.fixture(scope="session")
def package_index(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """pip's environment for a user's package index, the only one pip reads: this package's
    sdist and wheel, its dependencies' wheels (the `policy` extra's too) and those `pulumi
    install` upgrades, made once a session by `tools/dist.py index` (CI's `make dist` checks it)."""
    folder = tmp_path_factory.mktemp("wheelhouse")
    subprocess.run(
        [sys.executable, str(REPO / "tools" / "dist.py"), "index", str(folder)],
        check=True,
        capture_output=True,
        timeout=600,
    )
    return {"PIP_FIND_LINKS": str(folder), "PIP_NO_INDEX": "1"}


PROGRAM_VENV = Path(sys.prefix)
"""The virtualenv project folders run their programs on: the test run's (this package and
pulumi). A `pulumi install` of an example is the demo's first step (`test_demo.py`)."""


@pytest.fixture(scope="session")
def example_folders(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """basic, fleet and accounts in one checkout of this repository, each with a `venv` (as their
    Pulumi.yaml says) that links to `PROGRAM_VENV`: their requirements are basic's, which the demo
    installs. Example name -> folder."""
    root = tmp_path_factory.mktemp("checkout") / "truto-pulumi"
    folders = {name: checkout_copy(root, name) for name in ("basic", "fleet", "accounts")}
    for name, folder in folders.items():
        requirements = (folder / "requirements.txt").read_text()
        assert requirements == (folders["basic"] / "requirements.txt").read_text(), name
        (folder / "venv").symlink_to(PROGRAM_VENV)
    return folders


def program_folder(folder: Path, venv: Path, source: str, name: str = "truto-program") -> None:
    """A project folder `name` whose `__main__.py` is `source`, run on the virtualenv `venv`."""
    folder.mkdir()
    (folder / "Pulumi.yaml").write_text(
        f"name: {name}\nruntime:\n  name: python\n  options:\n    toolchain: pip\n"
        f"    virtualenv: {venv}\n"
    )
    (folder / "__main__.py").write_text(source)


def to_emulator(
    project: ProjectFolder, emulator: Emulator, plain: dict[str, str] | None = None
) -> None:
    """Stack `dev` made and configured for the emulator (the token as a secret, the base URL
    and `plain`, whose keys are paths), in two commands."""
    project.pulumi("stack", "init", "dev")
    project.set_config(
        {"truto:baseUrl": emulator.url, **(plain or {})},
        secret={"truto:apiToken": emulator.api_token},
        path=True,
    )


def failed(project: ProjectFolder, *args: str) -> str:
    """What a CLI command that must fail printed."""
    result = project.pulumi(*args, check=False)
    assert result.returncode != 0, result.text
    return result.text


@pytest.fixture
def example_project(
    example_folders: dict[str, Path], project_cli: str, emulator: Emulator, tmp_path: Path
) -> Callable[[str], ProjectFolder]:
    """`example_project("basic")`: the installed example folder with a fresh backend, PULUMI_HOME
    and stack `dev` (no stack config yet); the emulator is reset."""
    emulator.reset()

    def make(example: str) -> ProjectFolder:
        folder = example_folders[example]
        for stale in folder.glob("Pulumi.*.yaml"):
            stale.unlink()
        project = ProjectFolder(folder, project_cli, tmp_path / example)
        project.pulumi("stack", "init", "dev")
        return project

    return make


@pytest.fixture
def program_project(
    project_cli: str, emulator: Emulator, tmp_path: Path
) -> Callable[[str], ProjectFolder]:
    """`program_project(source)`: a project folder `truto-program` whose `__main__.py` is
    `source`, run on `PROGRAM_VENV`, with stack `dev` configured for the emulator; the emulator
    is reset."""
    emulator.reset()

    def make(source: str) -> ProjectFolder:
        program_folder(tmp_path / "truto-program", PROGRAM_VENV, source)
        project = ProjectFolder(tmp_path / "truto-program", project_cli, tmp_path / "pulumi")
        to_emulator(project, emulator)
        return project

    return make
