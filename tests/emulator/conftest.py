"""Shared fixtures: one emulator for the whole session, reset before every test that uses it."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import httpx
import pytest

from truto_pulumi.emulator import Emulator


@pytest.fixture(scope="session")
def _session_emulator() -> Iterator[Emulator]:
    with Emulator(api_token="test-token") as emulator:
        yield emulator


@pytest.fixture
def emu(_session_emulator: Emulator) -> Emulator:
    """The running emulator, freshly reset (no servers, journal, faults; default settings)."""
    _session_emulator.reset()
    return _session_emulator


@pytest.fixture
def api(emu: Emulator) -> Iterator[httpx.Client]:
    """An httpx client for the emulator's API with the right bearer token."""
    with emu.client(timeout=5.0) as client:
        yield client


@pytest.fixture
def account() -> str:
    return str(uuid.uuid4())
