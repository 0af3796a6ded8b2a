"""`pulumi new` from the template in `examples/template`, offline from its local path, at a
terminal as a user starts their own repository: it asks for the token and stores it as a
secret, and installs the program's dependencies. What such a project does in a pipeline (preview,
up, an edit as one PATCH, destroy) is `test_ci_pipeline.py`."""

from __future__ import annotations

import os
import pty
import select
import time
from pathlib import Path

import pytest

from devkit.project import EXAMPLES, ProjectFolder
from truto_pulumi.emulator import Emulator

from ..kit import EXAMPLE_ACCOUNT

pytestmark = pytest.mark.engine

TEMPLATE = EXAMPLES / "template"


@pytest.fixture
def workspace(
    project_cli: str, package_index: dict[str, str], emulator: Emulator, tmp_path: Path
) -> ProjectFolder:
    """An empty folder to run `pulumi new` in; pip finds `truto-pulumi` in `package_index`, as a
    user's pip finds it in their package index."""
    emulator.reset()
    (tmp_path / "repos").mkdir()
    return ProjectFolder(tmp_path / "repos", project_cli, tmp_path, env=dict(package_index))


def test_pulumi_new_asks_for_the_token_and_stores_it_encrypted(
    workspace: ProjectFolder, emulator: Emulator
) -> None:
    """At a terminal, `pulumi new` prompts for each config value of the template; the token's
    answer is saved as ciphertext in `Pulumi.<stack>.yaml`, and the project is ready to run."""
    answers = {b"truto:apiToken": emulator.api_token, b"integratedAccountId": EXAMPLE_ACCOUNT}
    env = {k: v for k, v in workspace.env.items() if k != "CI"}
    argv = [workspace.cli, "new", str(TEMPLATE), "--name", "asked", "--stack", "dev",
            "--description", "asked at a terminal", "--dir", "asked"]  # fmt: skip
    transcript, status = run_at_a_terminal(argv, workspace.folder, env, answers)

    assert status == 0, transcript.decode(errors="replace")
    assert b"truto:apiToken" in transcript  # it was asked for
    assert emulator.api_token.encode() not in transcript  # and typed without echo
    stack_file = (workspace.folder / "asked" / "Pulumi.dev.yaml").read_text()
    assert "truto:apiToken:\n    secure: v1:" in stack_file
    assert emulator.api_token not in stack_file
    assert f"asked:integratedAccountId: {EXAMPLE_ACCOUNT}" in stack_file
    project = workspace.folder / "asked"
    assert (project / "venv" / "bin" / "python").is_file()  # `pulumi new` ran the install
    assert "${PROJECT}" not in (project / "README.md").read_text()


def run_at_a_terminal(
    argv: list[str], cwd: Path, env: dict[str, str], answers: dict[bytes, str], timeout: float = 240
) -> tuple[bytes, int]:
    """Run a command on a pseudo-terminal, typing each answer when its prompt appears."""
    pid, fd = pty.fork()
    if pid == 0:  # the child: become the command
        os.chdir(cwd)
        os.execve(argv[0], argv, env)
    transcript, since_answer = b"", b""
    deadline = time.monotonic() + timeout
    pending = dict(answers)
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([fd], [], [], 1.0)
            if not ready:
                continue
            try:
                chunk = os.read(fd, 4096)
            except OSError:  # the child closed the terminal
                break
            if not chunk:
                break
            transcript += chunk
            since_answer += chunk
            for prompt in [p for p in pending if p in since_answer]:
                time.sleep(0.2)
                os.write(fd, pending.pop(prompt).encode() + b"\r")
                since_answer = b""
        else:
            os.kill(pid, 9)
    finally:
        os.close(fd)
    _, status = os.waitpid(pid, 0)
    return transcript, os.waitstatus_to_exitcode(status)
