"""The resource's shape is declared once (`_schema`): the typed surface programs use matches it."""

from __future__ import annotations

import inspect
import re
from dataclasses import fields

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


def test_every_property_has_an_output_type_for_type_checkers_only() -> None:
    # Under `if TYPE_CHECKING:` in the class body: in its source, not its annotations (Pulumi
    # evaluates those at every registration; without any, each registers milliseconds faster).
    assert inspect.get_annotations(TrutoMcpServer) == {}
    declared = re.findall(r"^ {8}(\w+): pulumi\.Output\[", inspect.getsource(TrutoMcpServer), re.M)
    assert sorted(declared) == sorted(p.name for p in PROPERTIES)
