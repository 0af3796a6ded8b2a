"""The resource's shape is declared once (`_schema`): the typed surface programs use matches it."""

from __future__ import annotations

import ast
import inspect
from dataclasses import fields
from pathlib import Path

import truto_pulumi
from truto_pulumi import McpServerConfigArgs, TrutoMcpServer, TrutoMcpServerArgs
from truto_pulumi._schema import CONFIG_KEYS, INPUT_KEYS, PROPERTIES


def test_the_args_and_the_keyword_arguments_are_the_schemas_inputs() -> None:
    assert tuple(f.name for f in fields(TrutoMcpServerArgs)) == INPUT_KEYS
    keywords = [
        p.name
        for p in inspect.signature(TrutoMcpServer.__init__).parameters.values()
        if p.kind is inspect.Parameter.KEYWORD_ONLY
    ]
    assert tuple(keywords) == INPUT_KEYS
    assert tuple(f.name for f in fields(McpServerConfigArgs)) == CONFIG_KEYS


def test_the_resource_declares_an_output_type_for_every_property() -> None:
    source = (Path(truto_pulumi.__file__).parent / "_resource.py").read_text()
    resource = next(
        node
        for node in ast.parse(source).body
        if isinstance(node, ast.ClassDef) and node.name == "TrutoMcpServer"
    )
    type_checking = next(node for node in resource.body if isinstance(node, ast.If))
    annotated = {
        node.target.id
        for node in type_checking.body
        if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name)
    }
    assert annotated == {p.name for p in PROPERTIES}
