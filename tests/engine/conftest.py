"""Fixtures for the real-engine suite: an `EngineStack` per test (`make_engine_stack`,
`engine_stack`), example and program project folders (the `cli` fixture is in tests/conftest)."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from devkit.driver import EngineStack
from devkit.project import REPO, ProjectFolder, checkout_copy
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


@pytest.fixture(scope="session")
def installed_examples(
    project_cli: str, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, Path]:
    """Each example folder in a checkout of this repository, after `pulumi install` (made once
    per session, on first use): example name -> folder."""
    return _InstalledExamples(project_cli, tmp_path_factory)


class _InstalledExamples(dict[str, Path]):
    def __init__(self, cli: str, tmp_path_factory: pytest.TempPathFactory) -> None:
        super().__init__()
        self._cli = cli
        self._tmp = tmp_path_factory

    def __missing__(self, example: str) -> Path:
        root = self._tmp.mktemp(f"checkout-{example}")
        folder = checkout_copy(root / "truto-pulumi", example)
        ProjectFolder(folder, self._cli, root / "install").pulumi("install")
        self[example] = folder
        return folder


@pytest.fixture
def example_project(
    installed_examples: dict[str, Path], project_cli: str, emulator: Emulator, tmp_path: Path
) -> Callable[[str], ProjectFolder]:
    """`example_project("basic")`: the installed example folder with a fresh backend, PULUMI_HOME
    and stack `dev` (no stack config yet); the emulator is reset."""
    emulator.reset()

    def make(example: str) -> ProjectFolder:
        folder = installed_examples[example]
        for stale in folder.glob("Pulumi.*.yaml"):
            stale.unlink()
        project = ProjectFolder(folder, project_cli, tmp_path / example)
        project.pulumi("stack", "init", "dev")
        return project

    return make


@pytest.fixture
def program_project(
    installed_examples: dict[str, Path], project_cli: str, emulator: Emulator, tmp_path: Path
) -> Callable[[str], ProjectFolder]:
    """`program_project(source)`: a project folder `truto-program` whose `__main__.py` is
    `source`, run on the installed basic example's virtualenv (this package and pulumi), with
    stack `dev` configured for the emulator (the token as a secret, the base URL); the emulator
    is reset."""
    emulator.reset()
    venv = installed_examples["basic"] / "venv"

    def make(source: str) -> ProjectFolder:
        folder = tmp_path / "truto-program"
        folder.mkdir()
        (folder / "Pulumi.yaml").write_text(
            "name: truto-program\n"
            "runtime:\n  name: python\n  options:\n    toolchain: pip\n"
            f"    virtualenv: {venv}\n"
        )
        (folder / "__main__.py").write_text(source)
        project = ProjectFolder(folder, project_cli, tmp_path / "pulumi")
        project.pulumi("stack", "init", "dev")
        project.pulumi("config", "set", "--secret", "truto:apiToken", emulator.api_token)
        project.pulumi("config", "set", "truto:baseUrl", emulator.url)
        return project

    return make
