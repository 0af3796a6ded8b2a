"""Fixtures: one provider host per test module, and a fresh toy stack per test."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support import ProviderHost, SimulatedStack

from .toy_provider import ToyProvider

TOY_TYPE = "pulumi-python:dynamic/toy:Object"


@pytest.fixture(scope="module")
def host() -> Iterator[ProviderHost]:
    """A running host shared by the tests of a module (a start costs about a second)."""
    with ProviderHost() as running:
        yield running


@pytest.fixture
def store(tmp_path: Path) -> Path:
    """The toy's directory for this test."""
    return tmp_path / "store"


@pytest.fixture
def stack(host: ProviderHost, store: Path, request: pytest.FixtureRequest) -> SimulatedStack:
    """A stack of toy objects in `store`; the per-test tag gives it its own provider instance."""
    host.reset_calls()
    provider = ToyProvider(tag=request.node.nodeid)
    return SimulatedStack(host, provider, type_token=TOY_TYPE, config={"toy:dir": str(store)})
