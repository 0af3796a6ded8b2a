"""Shared fixtures for the example programs: the emulator and one provider host."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from truto_pulumi.emulator import Emulator, run_emulator
from truto_pulumi.testing import ProviderHost

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
PROJECT = "truto-mcp"


def stack_config(**values: object) -> dict[str, str]:
    """Stack config as the CLI passes it: `<project>:key`, structured values as JSON text."""
    return {
        f"{PROJECT}:{key}": value if isinstance(value, str) else json.dumps(value)
        for key, value in values.items()
    }


@pytest.fixture(scope="package")
def emulator() -> Iterator[Emulator]:
    with run_emulator() as running:
        yield running


@pytest.fixture(scope="package")
def host() -> Iterator[ProviderHost]:
    with ProviderHost(env={"TRUTO_API_TOKEN": "", "TRUTO_BASE_URL": ""}) as started:
        yield started
