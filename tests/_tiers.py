"""The fast tier's guard: a test not marked `slow` may start no process and no server.

`ProcessGuard` swaps every door to a child process or a listening socket for a stand-in that
records the attempt and raises `ProcessStarted` (a `BaseException`, so a broad `except Exception`
in the code under test does not swallow it) before anything starts; the swap is undone on exit.
`guard_phase` is the body of the conftest's `pytest_runtest_setup`/`call`/`teardown` wrappers:
for a test not marked `slow` it runs the phase under a guard and fails the test if the guard
recorded anything, even when the code under test caught the exception.

Outgoing connections (`socket.connect`) are allowed; threads are not processes.
"""

from __future__ import annotations

import _posixsubprocess
import asyncio.base_events
import multiprocessing.process
import os
import socket
import subprocess
from collections.abc import Callable, Generator
from types import TracebackType
from typing import Any

import pytest

try:
    import grpc
    import grpc.aio
except ImportError:  # pragma: no cover - grpc comes with pulumi
    grpc = None


class ProcessStarted(BaseException):
    """Raised by a guarded door: the test tried to start a process or a server."""


_OS_DOORS = (
    "fork",
    "forkpty",
    "posix_spawn",
    "posix_spawnp",
    "system",
    "execv",
    "execve",
    "execvp",
    "execvpe",
    "execl",
    "execle",
    "execlp",
    "execlpe",
    "spawnv",
    "spawnve",
    "spawnvp",
    "spawnvpe",
    "spawnl",
    "spawnle",
    "spawnlp",
    "spawnlpe",
)


def _doors() -> list[tuple[Any, str, str, bool]]:
    """Each guarded door: (owner, attribute, what the message calls it, is a coroutine)."""
    doors: list[tuple[Any, str, str, bool]] = [
        (subprocess.Popen, "__init__", "subprocess.Popen", False),
        (_posixsubprocess, "fork_exec", "_posixsubprocess.fork_exec", False),
        (multiprocessing.process.BaseProcess, "start", "multiprocessing Process.start", False),
        (socket.socket, "bind", "socket.bind", False),
        (socket.socket, "listen", "socket.listen", False),
    ]
    doors += [(os, name, f"os.{name}", False) for name in _OS_DOORS if hasattr(os, name)]
    loop = asyncio.base_events.BaseEventLoop
    doors += [
        (loop, "subprocess_exec", "asyncio subprocess_exec", True),
        (loop, "subprocess_shell", "asyncio subprocess_shell", True),
    ]
    if grpc is not None:
        doors += [
            (grpc, "server", "grpc.server", False),
            (grpc.aio, "server", "grpc.aio.server", False),
        ]
    return doors


DOORS = _doors()
"""Every door the guard closes, made once: the guard's cost is a few dozen attribute swaps."""

GUARDED = [label for _, _, label, _ in DOORS]
"""What the guard covers, by name (for its test and its failure messages)."""


class ProcessGuard:
    """`with ProcessGuard() as guard:` closes every door in `DOORS` until the block ends;
    `guard.violations` lists, in order, what the block tried to call."""

    def __init__(self) -> None:
        self.violations: list[str] = []
        self._saved: list[tuple[Any, str, object, bool]] = []

    def _stand_in(self, label: str, coroutine: bool) -> Callable[..., Any]:
        def refuse(*args: object, **kwargs: object) -> Any:
            self.violations.append(label)
            raise ProcessStarted(f"{label}: starting a process or a server in the fast tier")

        if not coroutine:
            return refuse

        async def refuse_async(*args: object, **kwargs: object) -> Any:
            return refuse(*args, **kwargs)

        return refuse_async

    def __enter__(self) -> ProcessGuard:
        for owner, name, label, coroutine in DOORS:
            own = name in vars(owner)
            self._saved.append((owner, name, vars(owner).get(name), own))
            setattr(owner, name, self._stand_in(label, coroutine))
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        while self._saved:
            owner, name, original, own = self._saved.pop()
            if own:
                setattr(owner, name, original)
            else:
                delattr(owner, name)


def violation_message(nodeid: str, violations: list[str]) -> str:
    called = ", ".join(dict.fromkeys(violations))
    return (
        f"{nodeid} starts a process/server but is not marked slow: add "
        f"`pytestmark = pytest.mark.slow` or `@pytest.mark.slow` (it called {called})"
    )


def guard_phase(item: pytest.Item) -> Generator[None, object, object]:
    """A new-style hook wrapper's body (`return (yield from guard_phase(item))`): a test not
    marked `slow` runs the phase under a `ProcessGuard` and fails if the guard caught anything."""
    if item.get_closest_marker("slow") is not None:
        return (yield)
    guard = ProcessGuard()
    try:
        with guard:
            return (yield)
    finally:
        if guard.violations:
            pytest.fail(violation_message(item.nodeid, guard.violations), pytrace=False)
