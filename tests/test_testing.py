"""`truto_pulumi.testing`: a program run under Pulumi's mocks (`run_program`), what it shows of
the run (`ProgramRun`, `Registration`) and how the mocks answer (computed outputs, secrets,
preview). The example programs' own tests are in `tests/examples/`."""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import pytest
from pulumi.runtime import rpc

from devkit import MCP_SERVER_TYPE
from truto_pulumi.testing import run_program

from .kit import ACCOUNT


def program(folder: Path, code: str, name: str = "program.py") -> Path:
    """Write a program (or one module of it) into `folder`."""
    path = folder / name
    path.write_text(textwrap.dedent(code))
    return path


def test_run_program_runs_a_folder_by_its_main_for_the_run_only_under_its_project_and_stack(
    tmp_path: Path,
) -> None:
    """As the Pulumi CLI runs a project folder: its `__main__.py`, with the folder on `sys.path`
    for the run only (a program importing its own module and reading structured config:
    tests/examples/test_fleet.py); `pulumi.Config()` reads the config given, the project's."""
    program(
        tmp_path,
        """
        import pulumi
        from truto_pulumi import TrutoMcpServer

        account, named = pulumi.Config().require("account"), pulumi.get_project()
        TrutoMcpServer("s", integrated_account_id=account, name=f"{named}/{pulumi.get_stack()}")
        """,
        name="__main__.py",
    )
    run = run_program(tmp_path, project="shop", stack="prod", config={"shop:account": ACCOUNT})
    assert run.desired(MCP_SERVER_TYPE) == {
        "s": {"integrated_account_id": ACCOUNT, "name": "shop/prod"}
    }
    assert str(tmp_path) not in sys.path


@pytest.mark.parametrize("preview", [True, False], ids=["preview", "up"])
def test_computed_outputs_join_the_inputs_secret_outputs_come_back_secret_the_rest_unknown(
    tmp_path: Path, preview: bool
) -> None:
    """What the mocks do not answer is unknown in a preview, as the engine has it. An internal
    input (`__`-prefixed, as pulumi.dynamic's `__provider`) is shown in neither."""
    path = program(
        tmp_path,
        """
        import pulumi

        thing = pulumi.CustomResource(
            "test:index:Thing",
            "lamp",
            {"colour": "blue", "size": "s", "serial": None, "weight": None, "__hidden": "x"},
            opts=pulumi.ResourceOptions(additional_secret_outputs=["colour", "serial"]),
        )
        outputs = (thing.colour, thing.size, thing.serial)
        seen = pulumi.Output.all(
            thing.weight.is_known(),
            *outputs,
            *(pulumi.Output.is_secret(output) for output in outputs),
        )  # what the program sees, registered as an input of another resource
        pulumi.CustomResource("test:index:Seen", "seen", {"seen": pulumi.Output.unsecret(seen)})
        """,
    )

    run = run_program(path, preview=preview, outputs=lambda args: {"serial": f"{args.name}-42"})

    thing, seen = run.registrations
    assert seen.inputs == {"seen": [not preview, "blue", "s", "lamp-42", True, False, True]}
    assert (thing.type_token, thing.name, thing.inputs, thing.provider) == (
        "test:index:Thing",
        "lamp",
        {"colour": "blue", "size": "s"},
        None,
    )
    assert thing.secret_outputs == ("colour", "serial")


def test_a_secret_inside_an_input_object_is_registered_where_the_program_put_it(
    tmp_path: Path,
) -> None:
    path = program(
        tmp_path,
        f"""
        import pulumi
        from truto_pulumi import McpServerConfigArgs, TrutoMcpServer

        TrutoMcpServer(
            "reader",
            integrated_account_id="{ACCOUNT}",
            config=McpServerConfigArgs(methods=["read"], tags=pulumi.Output.secret(["b", "a"])),
        )
        """,
    )

    (server,) = run_program(path).registrations

    config = server.inputs["config"]
    assert not rpc.is_rpc_secret(config)
    assert config["methods"] == ["read"]
    assert rpc.unwrap_rpc_secret(config["tags"]) == ["b", "a"]
    assert rpc.is_rpc_secret(config["tags"])
    assert not rpc.is_rpc_secret(server.inputs["name"])
