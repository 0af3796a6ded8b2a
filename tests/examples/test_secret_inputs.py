"""A program whose inputs are secrets (`config.require_secret`, `Output.secret`): the test kit
hands the provider plain values and marks secret in its state what the engine marks, as the
engine does it (the dynamic provider host does not accept secrets; the engine copies the
secretness of each input onto the same-named output, into objects but not into lists)."""

from __future__ import annotations

import runpy
from pathlib import Path
from typing import Any

import pytest
from pulumi import automation as auto

from devkit import (
    MCP_SERVER_TYPE,
    NO_TRUTO_ENV,
    ProviderHost,
    SimulatedStack,
    mcp_server_stack,
)
from devkit.driver import EngineStack, is_secret
from truto_pulumi._mark import read_mark
from truto_pulumi.emulator import Emulator
from truto_pulumi.testing import run_program

from ..kit import ACCOUNT

pytestmark = pytest.mark.slow  # starts the provider host and the emulator

PROJECT = "secretive"

PROGRAM = f"""
import pulumi
from truto_pulumi import McpServerConfigArgs, TrutoMcpServer

config = pulumi.Config({PROJECT!r})
name = config.require_secret("serverName")
if config.get_bool("plainName"):
    name = pulumi.Output.unsecret(name)  # the same value, no longer secret
TrutoMcpServer(
    "hidden",
    integrated_account_id={ACCOUNT!r},
    name=name,
    config=McpServerConfigArgs(methods=["read"], tags=pulumi.Output.secret(["b", "a"])),
)
TrutoMcpServer(
    "whole",
    integrated_account_id={ACCOUNT!r},
    config=pulumi.Output.secret({{"methods": ["read"]}}),
)
"""

SECRET_PATHS = {"hidden": {"name", "config.tags"}, "whole": {"config"}}
"""What the engine keeps secret (besides the `token` and `url` every server has as
`additional_secret_outputs`): a secret inside `config` marks `config.tags`, not `config`."""


@pytest.fixture
def program(tmp_path: Path) -> Path:
    path = tmp_path / "__main__.py"
    path.write_text(PROGRAM)
    return path


def desired_from(
    program: Path, server_name: str, *, plain_name: bool = False
) -> dict[str, dict[str, Any]]:
    config = {f"{PROJECT}:serverName": server_name}
    if plain_name:
        config[f"{PROJECT}:plainName"] = "true"
    return run_program(program, project=PROJECT, config=config).desired(MCP_SERVER_TYPE)


def unmarked_name(posted: str) -> str:
    """The declared name a create POSTed under its mark (the PATCH after it gives it back)."""
    marked = read_mark(posted)
    assert marked is not None, f"POSTed without a create mark: {posted!r}"
    return marked[0]


def secrets_of(stack: SimulatedStack) -> dict[str, set[str]]:
    return {name: set(state.secrets) for name, state in stack.resources.items()}


def test_secret_inputs_reach_truto_in_plain_text_and_stay_secret_in_state(
    stack: SimulatedStack, emulator: Emulator, program: Path
) -> None:
    v1 = desired_from(program, "Hidden v1")
    assert stack.preview(v1).steps["hidden"].checked_inputs["name"] == "Hidden v1"

    stack.apply_step(v1)
    posts = [e["body"] for e in emulator.journal() if e["method"] == "POST"]
    unmarked = [
        {key: value for key, value in body.items() if key != "expires_at"}  # a provisional one
        | {"name": unmarked_name(body["name"])}
        for body in posts
    ]
    assert sorted(unmarked, key=str) == sorted(
        [
            {"name": "Hidden v1", "config": {"methods": ["read"], "tags": ["a", "b"]}},
            {"name": "whole", "config": {"methods": ["read"]}},
        ],
        key=str,
    )
    assert sorted(s["name"] for s in emulator.servers()) == ["Hidden v1", "whole"]
    hidden = stack.resources["hidden"]
    assert hidden.outputs["name"] == "Hidden v1"  # plain in the state's values ...
    assert secrets_of(stack) == SECRET_PATHS  # ... and marked secret
    assert hidden.secret_inputs == {"name", "config.tags"}

    emulator.clear_journal()
    v2 = desired_from(program, "Hidden v2")
    plan = stack.preview(v2)
    assert {n: s.op for n, s in plan.changes.items()} == {"hidden": "update"}
    assert plan.steps["hidden"].secret_inputs == {"name", "config.tags"}
    stack.apply_step(v2)
    assert [(e["method"], e["body"]) for e in emulator.journal()] == [
        ("PATCH", {"name": "Hidden v2"})
    ]
    assert secrets_of(stack) == SECRET_PATHS

    assert not any(outcome.drift for outcome in stack.refresh().values())
    assert secrets_of(stack) == SECRET_PATHS

    stack.destroy()
    assert emulator.servers() == []


def test_an_output_stays_secret_while_its_input_turns_plain_without_a_change(
    stack: SimulatedStack, emulator: Emulator, program: Path
) -> None:
    stack.apply_step(desired_from(program, "Hidden"))
    emulator.clear_journal()

    stack.apply_step(desired_from(program, "Hidden", plain_name=True))

    assert emulator.journal() == []  # nothing changed, so the stored outputs are kept
    hidden = stack.resources["hidden"]
    assert hidden.secret_inputs == {"config.tags"}
    assert hidden.secrets == {"name", "config.tags"}
    stack.destroy()


# -- the same program under the real engine -----------------------------------------------------


def engine_secret_paths(values: dict[str, Any], prefix: str = "") -> set[str]:
    """Paths of the encrypted values in an exported property bag."""
    found: set[str] = set()
    for key, value in values.items():
        if is_secret(value):
            found.add(prefix + key)
        elif isinstance(value, dict):
            found |= engine_secret_paths(value, f"{prefix}{key}.")
    return found


@pytest.mark.engine
def test_the_kit_marks_secret_what_the_engine_marks(
    cli: str, emulator: Emulator, program: Path, tmp_path: Path
) -> None:
    engine = EngineStack(tmp_path / "engine", cli)
    engine.configure(emulator.api_token, emulator.url)

    def run_the_program() -> None:
        runpy.run_path(str(program), run_name="__main__")

    engine.program = run_the_program

    def engine_run(server_name: str, *, plain_name: bool = False) -> dict[str, set[str]]:
        engine.stack.set_config(f"{PROJECT}:serverName", auto.ConfigValue(server_name, secret=True))
        engine.stack.set_config(
            f"{PROJECT}:plainName", auto.ConfigValue("true" if plain_name else "false")
        )
        engine.up({})
        return engine_secrets()

    def engine_secrets() -> dict[str, set[str]]:
        servers = engine.servers()
        return {
            name: engine_secret_paths(server["outputs"]) - {"token", "url"}
            for name, server in servers.items()
        }

    emulator.reset()
    engine_marks = [
        engine_run("Hidden v1"),
        engine_run("Hidden v2"),
        engine_run("Hidden v2", plain_name=True),
    ]
    engine.refresh()
    engine_marks.append(engine_secrets())
    engine.destroy()

    emulator.reset()
    with ProviderHost(env=NO_TRUTO_ENV) as host:
        stack = mcp_server_stack(host, api_token=emulator.api_token, base_url=emulator.url)
        kit_marks = []
        for server_name, plain_name in [
            ("Hidden v1", False),
            ("Hidden v2", False),
            ("Hidden v2", True),
        ]:
            stack.up(desired_from(program, server_name, plain_name=plain_name))
            kit_marks.append(secrets_of(stack))
        stack.refresh()
        kit_marks.append(secrets_of(stack))
        stack.destroy()

    assert kit_marks == engine_marks
    assert engine_marks[0] == SECRET_PATHS
