"""The project's engine simulation (`devkit.SimulatedStack`) answers to the real engine:
one scripted scenario through both, compared step by step (operation per resource, HTTP calls).

Differences found when this ran first, and fixed in the simulation: it reused one provider
process across runs (the engine starts one per run, and the provider's memory of adoptions ends
with it: `new_host_each_run`), and it handed the provider secret inputs still wrapped (the
engine unwraps them: the dynamic host does not accept secrets).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

import pytest

from devkit import NO_TRUTO_ENV, ProviderHost, SimulatedStack, mcp_server_stack
from devkit.project import ProjectFolder
from truto_pulumi.emulator import Emulator

from ..kit import ACCOUNT, OTHER_ACCOUNT
from ..lifecycle.helpers import masked

pytestmark = pytest.mark.engine

A = {"integrated_account_id": ACCOUNT, "name": "a", "config": {"methods": ["read"]}}
B = {"integrated_account_id": ACCOUNT, "name": "b"}
C = {"integrated_account_id": OTHER_ACCOUNT, "name": "c"}
A2 = {**A, "name": "a v2", "config": {"methods": ["read"], "tags": ["x"]}}
B2 = {**B, "expires_at": "2031-01-01T00:00:00Z"}
A3 = {**A2, "integrated_account_id": OTHER_ACCOUNT}
SCRIPT: list[tuple[str, dict[str, dict[str, Any]] | None]] = [
    ("create", {"a": A, "b": B, "c": C}),
    ("no-op", {"a": A, "b": B, "c": C}),
    ("update: a rename, a config, an expiry", {"a": A2, "b": B2, "c": C}),
    ("replace a, drop b", {"a": A3, "c": C}),
    ("refresh after a dashboard rename of a and a dashboard delete of c", None),
    ("destroy", None),
]
"""(step, desired servers); None for refresh and destroy."""

PROGRAM = """
import json
import pulumi
from truto_pulumi import TrutoMcpServer

with open("desired.json") as desired:
    for name, inputs in json.load(desired).items():
        TrutoMcpServer(name, **{**inputs, "name": pulumi.Output.secret(inputs["name"])})
"""
"""The engine's program: the servers `desired.json` in its folder declares, their names secret
(the kit hands the provider plain values, as the engine does)."""

UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def http_calls(emulator: Emulator) -> list[str]:
    """The calls Truto received with their bodies, ids and create marks masked, in a stable
    order (the engine runs them in parallel)."""
    calls = [(e["method"], e["path"], masked(e["body"]), e["status"]) for e in emulator.journal()]
    return sorted(UUID.sub("<id>", json.dumps(call, sort_keys=True)) for call in calls)


def engine_ops(event_log: str) -> dict[str, str]:
    """Operation per TrutoMcpServer from the engine's step events (`--event-log`)."""
    ops: dict[str, set[str]] = {}
    for line in event_log.splitlines():
        pre = json.loads(line).get("resourcePreEvent")
        if pre is None or not pre["metadata"]["type"].endswith("truto:McpServer"):
            continue
        ops.setdefault(pre["metadata"]["urn"].rsplit("::", 1)[1], set()).add(pre["metadata"]["op"])
    return {name: "replace" if "replace" in seen else min(seen) for name, seen in ops.items()}


def edit_in_dashboard(emulator: Emulator) -> None:
    """Rename a, delete c: the refresh keeps a under its new name and drops c from the state."""
    named = {s["name"]: s["id"] for s in emulator.servers()}
    emulator.edit_server(named["a v2"], name="renamed in the dashboard")
    emulator.delete_server(named["c"])


Runner = Callable[[str, dict[str, dict[str, Any]] | None], dict[str, str]]
"""Runs a step (`up`, `refresh`, `destroy`): the op per resource of an up, else the name of each
server in the state after it."""


def in_engine(project: ProjectFolder) -> Runner:
    """The script's steps run by the real engine, in a project folder."""

    def run(command: str, desired: dict[str, dict[str, Any]] | None) -> dict[str, str]:
        if desired is None:
            project.pulumi(command, "--yes", "--skip-preview")
            servers = project.servers("--show-secrets")  # a secret as {"plaintext": its JSON}
            return {n: json.loads(s["outputs"]["name"]["plaintext"]) for n, s in servers.items()}
        (project.folder / "desired.json").write_text(json.dumps(desired))
        log = project.root / "events.json"
        # The engine's events, as the Automation API has them (`--event-log` is a debug flag).
        up = ("up", "--yes", "--skip-preview", "--event-log", str(log))
        project.pulumi(*up, env={"PULUMI_DEBUG_COMMANDS": "true"})
        return engine_ops(log.read_text())

    return run


def in_simulation(stack: SimulatedStack) -> Runner:
    """The script's steps run by the project's simulation."""

    def run(command: str, desired: dict[str, dict[str, Any]] | None) -> dict[str, str]:
        if desired is None:
            getattr(stack, command)()
            return {name: state.outputs["name"] for name, state in stack.resources.items()}
        return dict(stack.up(desired).ops)

    return run


def run_script(run: Runner, emulator: Emulator) -> list[tuple[str, Any, list[str]]]:
    """(step, what the runner reports, HTTP calls) for every step of `SCRIPT`."""
    record: list[tuple[str, Any, list[str]]] = []
    for step, desired in SCRIPT:
        if step.startswith("refresh"):
            edit_in_dashboard(emulator)
        emulator.clear_journal()
        command = "up" if desired is not None else step.split()[0]
        record.append((step, run(command, desired), http_calls(emulator)))
    return record


def test_the_simulation_matches_the_engine_step_by_step(
    program_project: Callable[[str], ProjectFolder], emulator: Emulator
) -> None:
    engine = run_script(in_engine(program_project(PROGRAM)), emulator)
    emulator.reset()
    with ProviderHost(env=NO_TRUTO_ENV) as host:
        simulated = mcp_server_stack(
            host, api_token=emulator.api_token, base_url=emulator.url, new_host_each_run=True
        )
        simulation = run_script(in_simulation(simulated), emulator)
    for (step, engine_ops_, engine_http), (_, sim_ops, sim_http) in zip(
        engine, simulation, strict=True
    ):
        assert (step, sim_ops) == (step, engine_ops_)
        assert (step, sim_http) == (step, engine_http)
