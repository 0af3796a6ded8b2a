"""Fixtures for the real-engine suite: an `EngineStack` per test (`make_engine_stack`,
`engine_stack`), example and program project folders (the `cli` fixture is in tests/conftest)."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from devkit.driver import REPO, EngineStack
from devkit.project import ProjectFolder, checkout_copy
from truto_pulumi.emulator import Emulator

from ..kit import EngineStackFactory


@pytest.fixture
def make_engine_stack(cli: str, emulator: Emulator, tmp_path: Path) -> EngineStackFactory:
    """`make_engine_stack()` gives a configured stack of the real engine against the emulator
    (reset); pass `api_token=None`, `base_url=...`, `env` or settings to change its config."""
    emulator.reset()
    made: list[EngineStack] = []

    def make(
        *,
        api_token: str | None = "",
        base_url: str | None = "",
        env: dict[str, str] | None = None,
        **settings: str,
    ) -> EngineStack:
        stack = EngineStack(tmp_path / f"stack{len(made)}", cli, env=dict(env or {}))
        stack.configure(
            emulator.api_token if api_token == "" else api_token,
            emulator.url if base_url == "" else base_url,
            **settings,
        )
        made.append(stack)
        return stack

    return make


@pytest.fixture
def engine_stack(make_engine_stack: EngineStackFactory) -> EngineStack:
    """A stack of the real engine against the emulator (reset), as `make_engine_stack()` gives."""
    return make_engine_stack()


@pytest.fixture(scope="session")
def wheelhouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder holding this package's wheel: what a user's package index serves. Projects made
    from the template find `truto-pulumi` there (PIP_FIND_LINKS)."""
    folder = tmp_path_factory.mktemp("wheelhouse")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--quiet",
            "--no-deps",
            "-w",
            str(folder),
            str(REPO),
        ],
        check=True,
        capture_output=True,
        timeout=300,
    )
    return folder


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
