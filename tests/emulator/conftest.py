"""Fixtures: a store on a fake clock, an emulator served in this thread (`emu`, its API client
`api`), and one on loopback for the whole session (`served`, reset before each test using it)."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from truto_pulumi.emulator import Emulator
from truto_pulumi.emulator._state import Store

from ..kit import FakeClock
from .helpers import START, TOKEN, InProcessEmulator


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(epoch=START)


@pytest.fixture
def store(clock: FakeClock) -> Store:
    return Store(clock=clock.utc)


@pytest.fixture
def emu() -> Iterator[InProcessEmulator]:
    """A fresh emulator (default settings) served in this thread, with `Emulator`'s hooks."""
    emulator = InProcessEmulator()
    yield emulator
    emulator.close()


@pytest.fixture
def api(emu: InProcessEmulator) -> Iterator[httpx.Client]:
    """A client of `emu`'s API, bearer token set."""
    with emu.client() as client:
        yield client


@pytest.fixture(scope="session")
def _session_emulator() -> Iterator[Emulator]:
    with Emulator(api_token=TOKEN) as emulator:
        yield emulator


@pytest.fixture
def served(_session_emulator: Emulator) -> Emulator:
    """The emulator served on loopback, freshly reset (no servers, journal, faults)."""
    _session_emulator.reset()
    return _session_emulator
