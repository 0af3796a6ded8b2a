"""`python -m truto_pulumi.discover` prints Python that runs, whatever the servers are named."""

from __future__ import annotations

import ast
import keyword
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from truto_pulumi.discover import render_program
from truto_pulumi.testing import run_program

ACCOUNT = "4f5a1c2e-0000-4000-8000-000000000001"

TRICKY_NAMES = [
    "class",
    "None",
    "import",
    "match",
    "type",
    "1st server",
    "!!!",
    "Ünïcode 服务",
    "服务",
    "",
    "x",
    "x",
    "X",
    "x-2",
    "a-b",
    "a_b",
    'it\'s "quoted" \\ back\nslash',
    "print",
    "TrutoMcpServer",
    "ACCOUNT_ID",
    "McpServerConfigArgs",
    "long " * 40,
]


def servers_named(names: list[str]) -> list[dict[str, Any]]:
    return [
        {"id": f"00000000-0000-4000-8000-{index:012d}", "name": name}
        for index, name in enumerate(names)
    ]


def assigned_variables(code: str) -> list[str]:
    tree = ast.parse(code)
    return [
        target.id
        for node in tree.body
        if isinstance(node, ast.Assign)
        for target in node.targets
        if isinstance(target, ast.Name)
    ]


def resource_names(code: str) -> list[str]:
    tree = ast.parse(code)
    return [
        str(node.value.args[0].value)
        for node in tree.body
        if isinstance(node, ast.Assign)
        and isinstance(node.value, ast.Call)
        and node.value.args
        and isinstance(node.value.args[0], ast.Constant)
    ]


@pytest.mark.parametrize("name", sorted(set(TRICKY_NAMES)))
def test_tricky_name_renders_code_that_compiles(name: str) -> None:
    code = render_program(ACCOUNT, servers_named([name]))
    compile(code, "discovered.py", "exec")
    (variable,) = [v for v in assigned_variables(code) if v != "ACCOUNT_ID"]
    assert variable.isidentifier()
    assert not keyword.iskeyword(variable)
    assert not keyword.issoftkeyword(variable)
    assert variable not in {"TrutoMcpServer", "McpServerConfigArgs", "print", "type"}
    (resource_name,) = resource_names(code)
    assert resource_name.isascii()
    assert resource_name


def test_duplicate_and_colliding_names_get_distinct_variables_and_resource_names() -> None:
    code = render_program(ACCOUNT, servers_named(TRICKY_NAMES))
    variables = assigned_variables(code)
    names = resource_names(code)
    assert len(set(variables)) == len(variables) == len(TRICKY_NAMES) + 1
    assert len(set(names)) == len(names) == len(TRICKY_NAMES)
    assert names[10:14] == ["x", "x-2", "x-3", "x-2-2"]


def test_rendering_is_deterministic() -> None:
    servers = servers_named(TRICKY_NAMES)
    assert render_program(ACCOUNT, servers) == render_program(ACCOUNT, servers)


def test_rendered_program_registers_every_server_with_its_own_name_and_adopt_id(
    tmp_path: Path,
) -> None:
    servers = servers_named([name for name in TRICKY_NAMES if name])
    program = tmp_path / "__main__.py"
    program.write_text(render_program(ACCOUNT, servers))
    run = run_program(program)
    registered = sorted((r.inputs["adopt_id"], r.inputs["name"]) for r in run.registrations)
    assert registered == sorted((s["id"], s["name"]) for s in servers)
    assert len({r.name for r in run.registrations}) == len(servers)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.text(max_size=30), max_size=8).map(lambda names: names + names[:2]))
def test_any_names_render_code_with_unique_variables_and_resource_names(names: list[str]) -> None:
    code = render_program(ACCOUNT, servers_named(names))
    compile(code, "discovered.py", "exec")
    variables = assigned_variables(code)
    assert len(set(variables)) == len(variables)
    assert all(not keyword.iskeyword(v) and not keyword.issoftkeyword(v) for v in variables)
    assert len(set(resource_names(code))) == len(names)
