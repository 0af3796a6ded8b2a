"""A program whose inputs are secrets (`config.require_secret`, `Output.secret`): the test kit
hands the provider plain values and keeps those properties secret, as the engine does."""

from __future__ import annotations

from pathlib import Path

from truto_pulumi.emulator import Emulator
from truto_pulumi.testing import Stack, run_program

ACCOUNT = "4f5a1c2e-0000-4000-8000-000000000001"
PROJECT = "secretive"

PROGRAM = f"""
import pulumi
from truto_pulumi import McpServerConfigArgs, TrutoMcpServer

config = pulumi.Config()
TrutoMcpServer(
    "hidden",
    integrated_account_id={ACCOUNT!r},
    name=config.require_secret("serverName"),
    config=McpServerConfigArgs(methods=["read"], tags=pulumi.Output.secret(["b", "a"])),
)
"""


def desired_from(program: Path, server_name: str) -> dict[str, dict[str, object]]:
    run = run_program(program, project=PROJECT, config={f"{PROJECT}:serverName": server_name})
    return run.desired()


def test_secret_inputs_reach_truto_in_plain_text_and_stay_secret_in_state(
    stack: Stack, emulator: Emulator, tmp_path: Path
) -> None:
    program = tmp_path / "__main__.py"
    program.write_text(PROGRAM)

    stack.apply_step(desired_from(program, "Hidden v1"))
    (post,) = [e for e in emulator.journal() if e["method"] == "POST"]
    assert post["body"] == {
        "name": "Hidden v1",
        "config": {"methods": ["read"], "tags": ["a", "b"]},
    }
    state = stack.resources["hidden"]
    assert state.secrets == {"name", "config"}
    assert state.outputs["name"] == "Hidden v1"

    emulator.clear_journal()
    stack.apply_step(desired_from(program, "Hidden v2"))
    assert [(e["method"], e["body"]) for e in emulator.journal()] == [
        ("PATCH", {"name": "Hidden v2"})
    ]
    assert stack.resources["hidden"].secrets == {"name", "config"}

    assert stack.refresh()["hidden"].drift is False
    assert stack.resources["hidden"].secrets == {"name", "config"}
    stack.destroy()
    assert emulator.servers() == []
