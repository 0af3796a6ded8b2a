"""Fixtures of the dev kit's tests: a provider host per test module (`toy_host`), and per test a
fresh stack of toy objects (`toy_stack`) in a directory of its own (`toy_dir`)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from devkit import ProviderHost, SimulatedStack

from .toy_provider import TOY_TYPE, ToyProvider


@pytest.fixture(scope="module")
def toy_host() -> Iterator[ProviderHost]:
    """A running host shared by the tests of a module (a start costs about a second)."""
    with ProviderHost() as running:
        yield running


@pytest.fixture
def toy_dir(tmp_path: Path) -> Path:
    """The toy's directory for this test."""
    return tmp_path / "store"


@pytest.fixture
def toy_stack(
    toy_host: ProviderHost, toy_dir: Path, request: pytest.FixtureRequest
) -> SimulatedStack:
    """A stack of toy objects in `toy_dir`; the per-test tag gives it its own provider instance."""
    toy_host.reset_calls()
    provider = ToyProvider(tag=request.node.nodeid)
    return SimulatedStack(
        toy_host, provider, type_token=TOY_TYPE, stack_config={"toy:dir": str(toy_dir)}
    )
