"""The resource's shape is declared once (`_schema`): the typed surface matches it, and a new
property declared there reaches check, diff, the request bodies, refresh and the outputs."""

from __future__ import annotations

import ast
import inspect
import json
import shutil
import subprocess
import sys
from dataclasses import fields
from pathlib import Path

import pytest

import truto_pulumi
from truto_pulumi import McpServerConfigArgs, TrutoMcpServer, TrutoMcpServerArgs
from truto_pulumi._schema import (
    ACCOUNT_OUTPUTS,
    ALLOWED,
    CONFIG_KEYS,
    CREATE_ONLY_OUTPUTS,
    DERIVED_OUTPUTS,
    INPUT_KEYS,
    OUTPUT_KEYS,
    PATCHABLE_KEYS,
    PROPERTIES,
    REPLACE_KEYS,
    SECRET_OUTPUTS,
    SERVER_OUTPUTS,
)

from .kit import ACCOUNT

PACKAGE = Path(truto_pulumi.__file__).parent


def test_the_args_and_the_keyword_arguments_are_the_schemas_inputs() -> None:
    assert tuple(f.name for f in fields(TrutoMcpServerArgs)) == INPUT_KEYS
    keywords = [
        p.name
        for p in inspect.signature(TrutoMcpServer.__init__).parameters.values()
        if p.kind is inspect.Parameter.KEYWORD_ONLY
    ]
    assert tuple(keywords) == INPUT_KEYS


def test_the_config_args_are_the_schemas_config_keys() -> None:
    assert tuple(f.name for f in fields(McpServerConfigArgs)) == CONFIG_KEYS


def test_the_resource_declares_an_output_type_for_every_property() -> None:
    tree = ast.parse((PACKAGE / "_resource.py").read_text())
    resource = next(
        node
        for node in tree.body
        if isinstance(node, ast.ClassDef) and node.name == "TrutoMcpServer"
    )
    type_checking = next(node for node in resource.body if isinstance(node, ast.If))
    annotated = {
        node.target.id
        for node in type_checking.body
        if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name)
    }
    assert annotated == {p.name for p in PROPERTIES}


def test_the_derived_sets_partition_the_properties() -> None:
    assert set(INPUT_KEYS) | set(OUTPUT_KEYS) == {p.name for p in PROPERTIES}
    assert not set(INPUT_KEYS) & set(OUTPUT_KEYS)
    assert set(OUTPUT_KEYS) == {
        *CREATE_ONLY_OUTPUTS,
        *SERVER_OUTPUTS,
        *ACCOUNT_OUTPUTS,
        *DERIVED_OUTPUTS,
    }
    assert ACCOUNT_OUTPUTS == ("environment_integration_id",)
    assert REPLACE_KEYS == ("integrated_account_id",)
    assert PATCHABLE_KEYS == ("name", "config", "expires_at")
    assert SECRET_OUTPUTS == CREATE_ONLY_OUTPUTS == ("token", "url")
    assert DERIVED_OUTPUTS == ("token_known",)


def test_every_input_path_says_what_it_accepts() -> None:
    paths = {*INPUT_KEYS, *(f"config.{key}" for key in CONFIG_KEYS)}
    assert set(ALLOWED) == paths
    assert all(ALLOWED[path] for path in paths)


_NEW_INPUT = """    Property(
        "description",
        truto="description",
        input=True,
        shape="text",
        patchable=True,
        accepts="a non-empty string",
    ),
"""
"""The one schema entry a new optional, patchable input needs (with its typed argument)."""

_PROBE = r"""
import json, pulumi
from truto_pulumi._check import check_inputs
from truto_pulumi._diff import create_body, diff_inputs, patch_body
from truto_pulumi._inputs import canonical_live_inputs
from truto_pulumi.testing import run_program

ia = ACCOUNT
old = {"integrated_account_id": ia, "name": "docs", "description": "old"}
new = check_inputs({**old, "description": "new"}).inputs
bad = check_inputs({**old, "description": ""}).failures
server = {"id": "s", "integrated_account_id": ia, "name": "docs", "description": "live"}
run = run_program(PROGRAM)
print(json.dumps({
    "checked": new,
    "failure": [f.property for f in bad],
    "changes": list(diff_inputs(old, new).changes),
    "patch": patch_body(old, new),
    "create": create_body(new),
    "live": canonical_live_inputs(server),
    "registered": run.registrations[0].inputs.get("description"),
}))
"""


@pytest.mark.slow
def test_a_new_optional_input_is_one_schema_entry_and_its_typed_argument(tmp_path: Path) -> None:
    copy = tmp_path / "truto_pulumi"
    shutil.copytree(PACKAGE, copy, ignore=shutil.ignore_patterns("__pycache__", "emulator"))
    schema = copy / "_schema.py"
    text = schema.read_text()
    anchor = '    Property("token", truto="token"'
    schema.write_text(text.replace(anchor, _NEW_INPUT + anchor, 1))
    resource = copy / "_resource.py"
    text = resource.read_text()
    text = text.replace(
        "    adopt_id: pulumi.Input[str] | None = None\n",
        "    adopt_id: pulumi.Input[str] | None = None\n"
        "    description: pulumi.Input[str] | None = None\n",
        1,
    )
    text = text.replace(
        "        adopt_id: pulumi.Input[str] | None = None,\n",
        "        adopt_id: pulumi.Input[str] | None = None,\n"
        "        description: pulumi.Input[str] | None = None,\n",
        1,
    )
    resource.write_text(text)
    program = tmp_path / "program.py"
    program.write_text(
        "from truto_pulumi import TrutoMcpServer\n"
        f"TrutoMcpServer('r', integrated_account_id='{ACCOUNT}', description='hello')\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", f"PROGRAM = {str(program)!r}\nACCOUNT = {ACCOUNT!r}\n{_PROBE}"],
        cwd=tmp_path,
        env={"PYTHONPATH": str(tmp_path), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    assert seen["checked"]["description"] == "new"
    assert seen["failure"] == ["description"]
    assert seen["changes"] == ["description"]
    assert seen["patch"] == {"description": "new"}
    assert seen["create"] == {"name": "docs", "config": {}, "description": "new"}
    assert seen["live"]["description"] == "live"
    assert seen["registered"] == "hello"
