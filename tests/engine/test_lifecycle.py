"""What only the real engine records about a server: the program's line as its source position
(`TrutoMcpServer` registers itself so that Pulumi takes the program's frame, not the library's)."""

from __future__ import annotations

from pathlib import Path

import pytest

from devkit.driver import EngineStack
from truto_pulumi import TrutoMcpServer

from ..kit import ACCOUNT

pytestmark = pytest.mark.engine


def test_state_records_the_programs_line_as_each_servers_source_position(
    engine_stack: EngineStack,
) -> None:
    def program() -> None:
        TrutoMcpServer("reader", integrated_account_id=ACCOUNT, name="reader")

    declared_at = program.__code__.co_firstlineno + 1
    engine_stack.program = program
    engine_stack.up({})
    position = engine_stack.servers()["reader"]["sourcePosition"]
    assert position.endswith(f"/tests/engine/{Path(__file__).name}#{declared_at}"), position
