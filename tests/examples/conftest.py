"""Helpers for the example programs' tests (the emulator, host and stack fixtures come from
`tests/conftest.py`)."""

from __future__ import annotations

import json
from pathlib import Path

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
PROJECT = "truto-mcp"


def stack_config(**values: object) -> dict[str, str]:
    """Stack config as the CLI passes it: `<project>:key`, structured values as JSON text."""
    return {
        f"{PROJECT}:{key}": value if isinstance(value, str) else json.dumps(value)
        for key, value in values.items()
    }
