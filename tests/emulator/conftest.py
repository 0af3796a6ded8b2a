"""Fixtures: a store on a fake clock, the emulator's app served in this thread (`api`), and one
real emulator on loopback for the whole session (`emu`, reset before each test that uses it)."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from truto_pulumi.emulator import Emulator
from truto_pulumi.emulator._state import Store

from ..kit import FakeClock
from .helpers import START, TOKEN, in_process


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(epoch=START)


@pytest.fixture
def store(clock: FakeClock) -> Store:
    return Store(clock=clock.utc)


@pytest.fixture
def api() -> Iterator[httpx.Client]:
    """A client of a fresh emulator app (default settings), bearer token set."""
    with in_process() as client:
        yield client


@pytest.fixture(scope="session")
def _session_emulator() -> Iterator[Emulator]:
    with Emulator(api_token=TOKEN) as emulator:
        yield emulator


@pytest.fixture
def emu(_session_emulator: Emulator) -> Emulator:
    """The running emulator, freshly reset (no servers, journal, faults; default settings)."""
    _session_emulator.reset()
    return _session_emulator
