"""Fixtures for the real-engine suite: a stack per test (the `cli` fixture is in tests/conftest)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from truto_pulumi.emulator import Emulator

from .driver import EngineStack

StackFactory = Callable[..., EngineStack]


@pytest.fixture
def make_stack(cli: str, emulator: Emulator, tmp_path: Path) -> StackFactory:
    """`make_stack()` gives a configured stack against the emulator; pass `api_token=None`,
    `base_url=...` or settings to change its config."""
    emulator.reset()
    made: list[EngineStack] = []

    def make(
        *,
        api_token: str | None = "",
        base_url: str | None = "",
        env: dict[str, str] | None = None,
        **settings: str,
    ) -> EngineStack:
        stack = EngineStack(tmp_path / f"stack{len(made)}", cli, env=dict(env or {}))
        stack.configure(
            emulator.token if api_token == "" else api_token,
            emulator.url if base_url == "" else base_url,
            **settings,
        )
        made.append(stack)
        return stack

    return make


@pytest.fixture
def stack(make_stack: StackFactory) -> EngineStack:
    return make_stack()
