"""A program whose inputs are secrets (`config.require_secret`, `Output.secret`) under the real
engine: Truto gets them in plain text (the dynamic provider host does not accept secrets, so the
engine unwraps them), and the state keeps secret what was: the engine copies the secretness of
each input onto the same-named output, into objects but not into lists, and keeps an output
secret while its input turns plain without a change."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from devkit.project import ProjectFolder, is_secret
from truto_pulumi.emulator import Emulator

from ..engine.conftest import PROGRAM_VENV, program_folder, to_emulator
from ..kit import ACCOUNT
from ..lifecycle.helpers import marked_post, masked, renamed

pytestmark = pytest.mark.engine

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


def engine_secret_paths(values: dict[str, Any], prefix: str = "") -> set[str]:
    """Paths of the encrypted values in an exported property bag."""
    found: set[str] = set()
    for key, value in values.items():
        if is_secret(value):
            found.add(prefix + key)
        elif isinstance(value, dict):
            found |= engine_secret_paths(value, f"{prefix}{key}.")
    return found


def sent_sorted(sent: list[tuple[str, Any]]) -> list[tuple[str, Any]]:
    """Calls in a stable order (the two servers' calls run in parallel)."""
    return sorted(sent, key=lambda call: json.dumps(call, sort_keys=True))


RUNS = [("Hidden v1", "false"), ("Hidden v2", "false"), ("Hidden v2", "true")]
"""(serverName, plainName) of each `up`: a create, a rename, the name no longer secret."""


def test_secret_inputs_reach_truto_in_plain_text_and_stay_secret_in_state(
    project_cli: str, emulator: Emulator, tmp_path: Path
) -> None:
    """Secret inputs reach Truto in plain text and stay secret in the state (the kit sends the
    same: `tests/engine/test_simulation.py`); the state records the program's line as the
    server's source position."""
    program_folder(tmp_path / PROJECT, PROGRAM_VENV, PROGRAM, name=PROJECT)
    engine = ProjectFolder(tmp_path / PROJECT, project_cli, tmp_path / "pulumi")
    to_emulator(engine, emulator)

    def engine_secrets() -> dict[str, set[str]]:
        servers = engine.servers()
        return {
            name: engine_secret_paths(server["outputs"]) - {"token", "url"}
            for name, server in servers.items()
        }

    emulator.reset()
    engine_marks, engine_sent = [], []
    for server_name, plain_name in RUNS:
        engine.set_config(
            {f"{PROJECT}:plainName": plain_name},
            secret={f"{PROJECT}:serverName": server_name},
        )
        emulator.clear_journal()
        engine.pulumi("up", "--yes", "--skip-preview")
        engine_marks.append(engine_secrets())
        sent = [(e["method"], masked(e["body"])) for e in emulator.journal()]
        engine_sent.append(sent_sorted([call for call in sent if call[0] != "GET"]))
    declared_at = PROGRAM.splitlines().index("TrutoMcpServer(") + 1
    position = engine.servers()["hidden"]["sourcePosition"]
    assert position.endswith(f"/__main__.py#{declared_at}"), position
    engine.pulumi("refresh", "--yes", "--skip-preview")
    engine_marks.append(engine_secrets())
    engine.pulumi("destroy", "--yes", "--skip-preview")

    assert engine.servers() == {}
    assert engine_marks == [SECRET_PATHS] * 4  # after each up, and after the refresh
    hidden_config = {"methods": ["read"], "tags": ["a", "b"]}
    assert engine_sent == [
        sent_sorted(
            [
                ("POST", marked_post("Hidden v1", config=hidden_config)),
                ("PATCH", renamed("Hidden v1")),
                ("POST", marked_post("whole", config={"methods": ["read"]})),
                ("PATCH", renamed("whole")),
            ]
        ),
        [("PATCH", {"name": "Hidden v2"})],
        [],  # the same name, no longer secret: no change
    ]
