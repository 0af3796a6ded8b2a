"""What the CLI prints, in a project folder: a misspelt `truto:` setting and bad inputs at
preview (the key or property path, in the user's terms, and no request), Truto's refusal without
the provider's frames, a provider warning on its resource, and a secret name never."""

from __future__ import annotations

import re
import time
from collections.abc import Callable

import pytest

from devkit.project import ProjectFolder
from truto_pulumi._create import PROVISIONAL_MARGIN
from truto_pulumi.emulator import Emulator

from ..kit import EXAMPLE_ACCOUNT
from .conftest import failed

pytestmark = pytest.mark.engine

ProgramProject = Callable[[str], ProjectFolder]
VALID_PROGRAM = f"""
from truto_pulumi import McpServerConfigArgs, TrutoMcpServer

TrutoMcpServer(
    "reader",
    integrated_account_id="{EXAMPLE_ACCOUNT}",
    name="Reader",
    config=McpServerConfigArgs(methods=["read"]),
)
"""
BAD_INPUTS_PROGRAM = f"""
from truto_pulumi import McpServerConfigArgs, TrutoMcpServer

TrutoMcpServer(
    "reader",
    integrated_account_id="{EXAMPLE_ACCOUNT}",
    name=5,
    config=McpServerConfigArgs(methods=["read", 3], require_api_token_auth="yes"),
)
"""


def edit_stack_config(project: ProjectFolder, old: str, new: str) -> None:
    """Edit `Pulumi.dev.yaml` by hand, as a user does (the encrypted token is kept)."""
    path = project.folder / "Pulumi.dev.yaml"
    text = path.read_text()
    assert old in text, text
    path.write_text(text.replace(old, new))


def test_what_the_cli_shows_of_settings_inputs_refusals_and_warnings(
    program_project: ProgramProject, emulator: Emulator
) -> None:
    project = program_project(VALID_PROGRAM)
    program = project.folder / "__main__.py"

    # A misspelt setting fails preview and up naming the nearest key; no token goes anywhere.
    edit_stack_config(project, "  truto:baseUrl:", "  truto:baseURL:")
    for command in (("preview",), ("up", "--yes")):
        assert "unknown setting truto:baseURL: did you mean truto:baseUrl?" in failed(
            project, *command
        )
    assert emulator.journal() == []
    edit_stack_config(project, "  truto:baseURL:", "  truto:baseUrl:")

    # Bad inputs fail preview and up at once: each property path and what the user wrote, in
    # the user's terms (each rule: tests/test_inputs.py).
    program.write_text(BAD_INPUTS_PROGRAM)
    for command in (("preview",), ("up", "--yes")):
        text = failed(project, *command)
        assert "property name value {5} has a problem: must be a string, got the number 5" in text
        assert "has a problem: config.methods: item 1 must be a string, got the number 3" in text
        assert "has a problem: config.require_api_token_auth: got the string 'yes'" in text
        assert "{<nil>}" not in text
        assert "float" not in text
    assert emulator.journal() == []
    program.write_text(VALID_PROGRAM)

    # Truto's refusal: its message, with no frame of the provider below its entry point unless
    # the debugging variable asks for every one.
    for tracebacks in ("", "1"):
        emulator.inject(method="POST", status=400, body='{"message": "tags match no tool"}')
        project.env["TRUTO_PULUMI_TRACEBACKS"] = tracebacks
        text = failed(project, "up", "--yes", "--skip-preview")
        assert "Truto answered 400 to POST" in text
        assert "tags match no tool" in text
        assert ("truto_pulumi/_create.py" in text) is bool(tracebacks)
    del project.env["TRUTO_PULUMI_TRACEBACKS"]

    # A provider warning is a warning on its resource, not text of the stack.
    emulator.inject(method="POST", status=500)  # Truto answered: settled, then sent again
    done = project.pulumi("up", "--yes", "--skip-preview")
    diagnostics = done.text.split("Diagnostics:", 1)[1]
    on_resource = diagnostics.split("pulumi-python:dynamic/truto:McpServer (reader):", 1)[1]
    assert on_resource.lstrip().startswith("warning: create [pulumi creating ")
    assert "got no usable answer" in on_resource
    assert "pulumi:pulumi:Stack (truto-program-dev):" not in diagnostics
    assert len(emulator.servers()) == 1


SECRET_NAME_PROGRAM = f"""
import pulumi
from truto_pulumi import TrutoMcpServer

TrutoMcpServer("hidden", integrated_account_id="{EXAMPLE_ACCOUNT}",
               name=pulumi.Output.secret("payroll-agent"))
"""


def test_a_create_that_may_still_land_names_its_mark_never_the_secret_name(
    program_project: ProgramProject, emulator: Emulator
) -> None:
    """The engine hands the provider a secret name as a plain value, so the provider's warnings
    and errors never show a name: the mark says which server to look for, and Truto deletes that
    server at its provisional expiry once it lands."""
    project = program_project(SECRET_NAME_PROGRAM)
    project.pulumi("config", "set", "truto:operationTimeoutSeconds", "1")
    emulator.inject(method="POST", drop=True, act_after=2.0)

    text = failed(project, "up", "--yes", "--skip-preview")

    assert "payroll-agent" not in text
    (mark,) = set(re.findall(r"'\[pulumi creating ([0-9a-f]{12}-[0-9a-f]{16})\]'", text))
    deadline = time.monotonic() + 30
    while not emulator.servers() and time.monotonic() < deadline:  # it lands 2 s after its POST
        time.sleep(0.05)
    (landed,) = emulator.servers()
    assert landed["name"] == f"payroll-agent [pulumi creating {mark}]"

    project.pulumi("up", "--yes", "--skip-preview")
    emulator.advance_clock(1 + PROVISIONAL_MARGIN)  # the landed one reaches its expiry

    (live,) = emulator.servers()
    assert live["name"] == "payroll-agent"
    assert live["id"] != landed["id"]
