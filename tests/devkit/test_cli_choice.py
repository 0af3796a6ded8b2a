"""Which `pulumi` runs the tests and `make pulumi`: a user's installation (a CLI with its own
Python language host beside it) wins; otherwise the pinned build, which must have the language
host, or a project folder could not run."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from devkit.project import REPO, pulumi_cli

BUILD = REPO / "tools" / "pulumi-cli" / "build.sh"
CACHED = REPO / ".cache" / "pulumi" / "bin" / "pulumi"


def fake_installation(folder: Path, *, language_host: bool) -> Path:
    """A folder with an executable `pulumi` (printing a version) and maybe a language host."""
    folder.mkdir()
    names = ["pulumi", "pulumi-language-python"] if language_host else ["pulumi"]
    for name in names:
        tool = folder / name
        tool.write_text("#!/bin/sh\necho v3.999.0\n")
        tool.chmod(0o755)
    return folder / "pulumi"


@pytest.mark.parametrize("language_host", [True, False])
def test_a_pulumi_on_path_wins_with_its_language_host_beside_it_else_the_pinned_build(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, language_host: bool
) -> None:
    installed = fake_installation(tmp_path / "bin", language_host=language_host)
    monkeypatch.setenv("PATH", str(installed.parent))
    wins = language_host or not CACHED.is_file()
    assert pulumi_cli() == str(installed if wins else CACHED)


@pytest.mark.slow
def test_make_pulumi_builds_nothing_when_a_users_installation_is_on_path(tmp_path: Path) -> None:
    installed = fake_installation(tmp_path / "bin", language_host=True)
    cache = tmp_path / "cache"
    env = {**os.environ, "PATH": f"{installed.parent}{os.pathsep}{os.environ['PATH']}"}
    done = subprocess.run(
        ["bash", str(BUILD)],
        env={**env, "PULUMI_CACHE_DIR": str(cache)},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == (
        f"using {installed} (v3.999.0) and its pulumi-language-python; nothing to build"
    )
    assert not cache.exists()


@pytest.mark.slow
def test_make_pulumi_fails_when_no_language_host_can_be_installed(cli: str) -> None:
    if Path(cli) != CACHED:
        pytest.skip("the pinned build is not the CLI in use: nothing to check it against")
    path = os.pathsep.join(
        d for d in os.environ["PATH"].split(os.pathsep) if not (Path(d) / "pulumi").exists()
    )
    done = subprocess.run(
        ["bash", str(BUILD)],
        env={**os.environ, "PATH": path, "PULUMI_LANGUAGE_PYTHON_DIR": "/nonexistent"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 1
    assert "no Python language host to install: /nonexistent/install is missing" in done.stderr
    assert "cannot run a project folder" in done.stderr
