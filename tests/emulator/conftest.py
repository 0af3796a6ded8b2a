"""Fixtures: a store on a fake clock, and an emulator served in this thread (`emu`, its API
client `api`)."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from truto_pulumi.emulator._state import Store

from ..kit import FakeClock
from .helpers import START, InProcessEmulator


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
    emulator._close_hooks()


@pytest.fixture
def api(emu: InProcessEmulator) -> Iterator[httpx.Client]:
    """A client of `emu`'s API, bearer token set."""
    with emu.client() as client:
        yield client
