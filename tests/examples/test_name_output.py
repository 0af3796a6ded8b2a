"""A program whose `name` is an Output that may resolve to None (an optional config value):
the server is named after the resource, as when no name is given, through the test kit and the
real provider host."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from devkit import MCP_SERVER_TYPE, SimulatedStack
from truto_pulumi._mark import read_mark, stack_tag
from truto_pulumi.emulator import Emulator
from truto_pulumi.testing import run_program

from ..kit import ACCOUNT

pytestmark = pytest.mark.slow  # starts the provider host and the emulator

PROJECT = "naming"

PROGRAM = f"""
import pulumi
from truto_pulumi import TrutoMcpServer

config = pulumi.Config()
optional_name = config.get("serverName")
TrutoMcpServer(
    "plain", integrated_account_id={ACCOUNT!r}, name=pulumi.Output.from_input(optional_name)
)
TrutoMcpServer(
    "hidden", integrated_account_id={ACCOUNT!r}, name=pulumi.Output.secret(optional_name)
)
"""


@pytest.fixture
def program(tmp_path: Path) -> Path:
    path = tmp_path / "__main__.py"
    path.write_text(PROGRAM)
    return path


def desired_from(program: Path, **config: str) -> dict[str, dict[str, Any]]:
    values = {f"{PROJECT}:{key}": value for key, value in config.items()}
    return run_program(program, project=PROJECT, config=values).desired(MCP_SERVER_TYPE)


def test_a_name_output_resolving_to_none_names_the_server_after_the_resource(
    stack: SimulatedStack, emulator: Emulator, program: Path
) -> None:
    stack.apply_step(desired_from(program))

    posts = sorted(e["body"]["name"] for e in emulator.journal() if e["method"] == "POST")
    marks = [read_mark(name) for name in posts]  # POSTed under this stack's create mark
    tag = stack_tag(stack.urn("plain"))
    assert [(m[0], m[1].stack) if m else None for m in marks] == [("hidden", tag), ("plain", tag)]
    assert sorted(s["name"] for s in emulator.servers()) == ["hidden", "plain"]

    emulator.clear_journal()
    stack.apply_step(desired_from(program, serverName="Given"))
    patches = [e["body"] for e in emulator.journal() if e["method"] == "PATCH"]
    assert patches == [{"name": "Given"}, {"name": "Given"}]
    stack.destroy()
