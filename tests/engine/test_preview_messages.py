"""What `pulumi preview` prints for a misspelt `truto:` setting and for bad inputs, through the
real CLI in a project folder: the key or property path, in the user's terms, and no request."""

from __future__ import annotations

import re
import time
from collections.abc import Callable

import pytest

from devkit.project import ProjectFolder
from truto_pulumi._create import PROVISIONAL_MARGIN
from truto_pulumi.emulator import Emulator

from ..kit import EXAMPLE_ACCOUNT

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


@pytest.mark.parametrize(
    ("written", "meant", "edit"),
    [
        pytest.param(
            "truto:baseURL",
            "truto:baseUrl",
            ("  truto:baseUrl:", "  truto:baseURL:"),
            id="base_url",
        ),
    ],
)
def test_a_misspelt_setting_fails_preview_and_up_naming_the_nearest_key_without_a_request(
    program_project: ProgramProject,
    emulator: Emulator,
    written: str,
    meant: str,
    edit: tuple[str, str],
) -> None:
    project = program_project(VALID_PROGRAM)
    edit_stack_config(project, *edit)

    preview = project.pulumi("preview", check=False)
    assert preview.returncode != 0, preview.text
    assert f"unknown setting {written}: did you mean {meant}?" in preview.text
    assert emulator.journal() == []  # with `truto:baseURL`, no token went anywhere

    up = project.pulumi("up", "--yes", check=False)
    assert up.returncode != 0, up.text
    assert f"unknown setting {written}: did you mean {meant}?" in up.text
    assert emulator.journal() == []
    assert emulator.servers() == []


def test_bad_inputs_fail_preview_naming_each_property_path_and_what_the_user_wrote(
    program_project: ProgramProject, emulator: Emulator
) -> None:
    project = program_project(BAD_INPUTS_PROGRAM)

    preview = project.pulumi("preview", check=False)

    assert preview.returncode != 0, preview.text
    text = preview.text
    assert "property name value {5} has a problem: must be a string, got the number 5" in text
    assert "has a problem: config.methods: item 1 must be a string, got the number 3" in text
    assert "has a problem: config.require_api_token_auth: got the string 'yes'" in text
    assert "{<nil>}" not in text
    assert "float" not in text
    assert emulator.journal() == []


def test_an_expected_failure_shows_its_message_without_a_python_traceback(
    program_project: ProgramProject, emulator: Emulator
) -> None:
    project = program_project(VALID_PROGRAM)
    emulator.inject(method="POST", status=400, body='{"message": "tags match no tool"}')

    refused = project.pulumi("up", "--yes", check=False)

    assert refused.returncode != 0
    assert "Truto answered 400 to POST" in refused.text
    assert "tags match no tool" in refused.text
    assert "Traceback (most recent call last)" not in refused.text
    assert "File " not in refused.text


def test_tracebacks_come_back_with_the_debugging_variable(
    program_project: ProgramProject, emulator: Emulator
) -> None:
    project = program_project(VALID_PROGRAM)
    project.env["TRUTO_PULUMI_TRACEBACKS"] = "1"
    emulator.inject(method="POST", status=400, body='{"message": "tags match no tool"}')

    refused = project.pulumi("up", "--yes", check=False)

    assert refused.returncode != 0
    assert "Traceback (most recent call last)" in refused.text
    assert "Truto answered 400 to POST" in refused.text


def test_a_provider_warning_is_a_warning_on_its_resource_not_stack_text(
    program_project: ProgramProject, emulator: Emulator
) -> None:
    project = program_project(VALID_PROGRAM)
    emulator.inject(method="POST", status=500)  # Truto answered: settled, then sent again

    done = project.pulumi("up", "--yes")

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
    project.pulumi("config", "set", "truto:operationTimeoutSeconds", "2")
    emulator.inject(method="POST", drop=True, act_after=3.0)

    failed = project.pulumi("up", "--yes", check=False)

    assert failed.returncode != 0
    assert "payroll-agent" not in failed.text
    (mark,) = set(re.findall(r"'\[pulumi creating ([0-9a-f]{12}-[0-9a-f]{16})\]'", failed.text))
    time.sleep(3.5)
    (landed,) = emulator.servers()
    assert landed["name"] == f"payroll-agent [pulumi creating {mark}]"

    project.pulumi("up", "--yes")
    emulator.advance_clock(2 + PROVISIONAL_MARGIN)  # the landed one reaches its expiry

    (live,) = emulator.servers()
    assert live["name"] == "payroll-agent"
    assert live["id"] != landed["id"]
