"""The fast tier's guard: a test not marked `slow` may start no process and no server.

`guard_phase` runs a phase (setup, call, teardown) of such a test with every door to a child
process or a listening socket (`DOORS`) swapped for a stand-in that records the attempt and
raises `ProcessStarted` before anything starts: a `BaseException`, so an `except Exception` in
the code under test neither catches it nor hides the attempt, which fails the test. Outgoing
connections and threads pass.
"""

from __future__ import annotations

import _posixsubprocess
import asyncio.base_events
import multiprocessing.process
import os
import socket
import subprocess
from collections.abc import Generator, Iterator
from contextlib import contextmanager
from typing import Any

import grpc
import grpc.aio
import pytest


class ProcessStarted(BaseException):
    """Raised by a guarded door: the test tried to start a process or a server."""


_OS_DOORS = ["fork", "forkpty", "posix_spawn", "posix_spawnp", "system"]
_OS_DOORS += [f"exec{tail}" for tail in ("v", "ve", "vp", "vpe", "l", "le", "lp", "lpe")]
_OS_DOORS += [f"spawn{tail}" for tail in ("v", "ve", "vp", "vpe", "l", "le", "lp", "lpe")]
_LOOP = asyncio.base_events.BaseEventLoop

DOORS: list[tuple[Any, str, str]] = [
    (subprocess.Popen, "__init__", "subprocess.Popen"),
    (_posixsubprocess, "fork_exec", "_posixsubprocess.fork_exec"),
    (multiprocessing.process.BaseProcess, "start", "multiprocessing Process.start"),
    (socket.socket, "bind", "socket.bind"),
    (socket.socket, "listen", "socket.listen"),
    (_LOOP, "subprocess_exec", "asyncio subprocess_exec"),
    (_LOOP, "subprocess_shell", "asyncio subprocess_shell"),
    (grpc, "server", "grpc.server"),
    (grpc.aio, "server", "grpc.aio.server"),
    *[(os, name, f"os.{name}") for name in _OS_DOORS if hasattr(os, name)],
]
"""(owner, attribute, name in messages) of every door the guard closes."""


@contextmanager
def process_guard() -> Iterator[list[str]]:
    """Every door in `DOORS` closed for the block, put back after; yields what was tried."""
    tried: list[str] = []
    saved = [(owner, name, vars(owner).get(name), name in vars(owner)) for owner, name, _ in DOORS]

    def stand_in(label: str) -> Any:
        def refuse(*args: object, **kwargs: object) -> Any:
            tried.append(label)
            raise ProcessStarted(f"{label}: starting a process or a server in the fast tier")

        return refuse

    for owner, name, label in DOORS:
        setattr(owner, name, stand_in(label))
    try:
        yield tried
    finally:
        for owner, name, original, own in reversed(saved):
            if own:
                setattr(owner, name, original)
            else:
                delattr(owner, name)


def guard_phase(item: pytest.Item) -> Generator[None, object, object]:
    """A new-style hook wrapper's body (`return (yield from guard_phase(item))`): a test not
    marked `slow` runs the phase under `process_guard` and fails if it tried any door."""
    if item.get_closest_marker("slow") is not None:
        return (yield)
    with process_guard() as tried:
        try:
            return (yield)
        finally:
            if tried:
                pytest.fail(
                    f"{item.nodeid} starts a process/server but is not marked slow: add "
                    "`pytestmark = pytest.mark.slow` or `@pytest.mark.slow` (it called "
                    f"{', '.join(dict.fromkeys(tried))})",
                    pytrace=False,
                )
