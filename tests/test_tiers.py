"""The fast tier's guard (tests/_tiers.py): inside it a process or a server is refused before it
starts and the attempt is recorded; a test not marked `slow` that tries one fails.

These tests run in the fast tier themselves, under the conftest's guard: nothing here may start
a process or a server for real, and nothing does (the inner guard refuses first)."""

from __future__ import annotations

import asyncio
import contextlib
import multiprocessing
import os
import socket
import subprocess
from collections.abc import Callable
from typing import cast

import grpc
import pytest

from ._tiers import DOORS, GUARDED, ProcessGuard, ProcessStarted, guard_phase

pytest_plugins = ["pytester"]


def _create_subprocess() -> None:
    async def start() -> None:
        await asyncio.create_subprocess_exec("true")

    asyncio.run(start())


def _bind() -> None:
    with socket.socket() as listening:
        listening.bind(("127.0.0.1", 0))


def _listen() -> None:
    with socket.socket() as listening:
        listening.listen()


ATTEMPTS: dict[str, tuple[Callable[[], object], str]] = {
    "subprocess.run": (lambda: subprocess.run(["true"], check=True), "subprocess.Popen"),
    "check_output": (lambda: subprocess.check_output(["true"]), "subprocess.Popen"),
    "os.system": (lambda: os.system("true"), "os.system"),
    "os.posix_spawn": (lambda: os.posix_spawn("/bin/true", ["true"], {}), "os.posix_spawn"),
    "os.fork": (lambda: os.fork(), "os.fork"),
    "os.spawnv": (lambda: os.spawnv(os.P_WAIT, "/bin/true", ["true"]), "os.spawnv"),
    "multiprocessing": (
        lambda: multiprocessing.Process(target=print).start(),
        "multiprocessing Process.start",
    ),
    "asyncio": (_create_subprocess, "asyncio subprocess_exec"),
    "bind": (_bind, "socket.bind"),
    "listen": (_listen, "socket.listen"),
    "socket.create_server": (lambda: socket.create_server(("127.0.0.1", 0)), "socket.bind"),
    "grpc.server": (lambda: grpc.server(None), "grpc.server"),
}


@pytest.mark.parametrize("attempt", ATTEMPTS)
def test_the_guard_refuses_a_process_or_a_server_before_it_starts(attempt: str) -> None:
    call, door = ATTEMPTS[attempt]
    with ProcessGuard() as guard, pytest.raises(ProcessStarted, match="in the fast tier"):
        call()
    assert guard.violations == [door]


def test_a_broad_except_in_the_code_under_test_neither_catches_nor_hides_the_attempt() -> None:
    def careless() -> None:
        try:
            subprocess.run(["true"], check=True)
        except Exception:
            pytest.fail("`except Exception` caught the guard's refusal")

    with ProcessGuard() as guard:
        with pytest.raises(ProcessStarted):
            careless()
        with contextlib.suppress(BaseException):
            _bind()
    assert guard.violations == ["subprocess.Popen", "socket.bind"]


def test_plain_work_and_outgoing_sockets_pass_the_guard_which_puts_every_door_back() -> None:
    before = [vars(owner).get(name) for owner, name, _, _ in DOORS]
    with ProcessGuard() as guard:
        assert sum(range(10)) == 45
        with socket.socket() as client:
            client.settimeout(0.1)
            client.connect_ex(("127.0.0.1", 9))  # refused or not: a client is allowed
    assert guard.violations == []
    assert [vars(owner).get(name) for owner, name, _, _ in DOORS] == before
    assert {"subprocess.Popen", "os.fork", "socket.bind", "grpc.server"} <= set(GUARDED)


class _Item:
    def __init__(self, *markers: str) -> None:
        self.nodeid = "tests/test_x.py::test_x"
        self._markers = markers

    def get_closest_marker(self, name: str) -> object:
        return name if name in self._markers else None


def _run_phase(item: _Item, phase: Callable[[], object]) -> list[object]:
    """Drive `guard_phase` as pluggy drives a wrapper; returns each door's value during it."""
    wrapper = guard_phase(cast(pytest.Item, item))
    next(wrapper)
    during = [vars(owner).get(name) for owner, name, _, _ in DOORS]
    phase()
    with pytest.raises(StopIteration):
        wrapper.send(None)
    return during


def _hidden_spawn() -> None:
    with contextlib.suppress(BaseException):
        subprocess.run(["true"], check=True)


def test_a_phase_of_an_unmarked_test_is_guarded_and_fails_on_an_attempt_even_a_caught_one() -> None:
    before = [vars(owner).get(name) for owner, name, _, _ in DOORS]
    assert _run_phase(_Item(), lambda: None) != before
    with pytest.raises(pytest.fail.Exception, match="not marked slow") as failed:
        _run_phase(_Item(), _hidden_spawn)
    assert str(failed.value) == (
        "tests/test_x.py::test_x starts a process/server but is not marked slow: add "
        "`pytestmark = pytest.mark.slow` or `@pytest.mark.slow` (it called subprocess.Popen)"
    )
    assert [vars(owner).get(name) for owner, name, _, _ in DOORS] == before


def test_a_phase_of_a_slow_test_is_not_guarded() -> None:
    before = [vars(owner).get(name) for owner, name, _, _ in DOORS]
    assert _run_phase(_Item("slow"), lambda: None) == before


def test_the_conftest_fails_an_unmarked_test_that_starts_one_in_setup_call_or_teardown(
    pytester: pytest.Pytester,
) -> None:
    pytester.makeconftest(
        "from tests.conftest import (pytest_collection_modifyitems, pytest_runtest_call,"
        " pytest_runtest_setup, pytest_runtest_teardown)\n"
    )
    pytester.makepyfile(
        """
        import socket, subprocess
        import pytest

        @pytest.fixture(scope="module")
        def server():
            with socket.socket() as listening:
                listening.bind(("127.0.0.1", 0))
                yield listening

        def test_spawns():
            subprocess.run(["true"], check=True)

        def test_hides_its_server():
            try:
                with socket.socket() as listening:
                    listening.bind(("127.0.0.1", 0))
            except BaseException:
                pass

        def test_uses_a_server_fixture(server):
            pass

        @pytest.fixture
        def spawns_on_teardown():
            yield
            subprocess.run(["true"], check=True)

        def test_spawns_on_teardown(spawns_on_teardown):
            pass

        def test_computes():
            assert 1 + 1 == 2
        """
    )
    result = pytester.runpytest(
        "-p", "no:cacheprovider", "-p", "no:hypothesispytest", "-m", "not slow"
    )
    # test_spawns_on_teardown counts twice: its call passes, its teardown errs
    result.assert_outcomes(passed=2, failed=2, errors=2)
    result.stdout.fnmatch_lines(
        [
            "*::test_spawns starts a process/server but is not marked slow: add `pytestmark ="
            " pytest.mark.slow` or `@pytest.mark.slow` (it called subprocess.Popen)"
        ]
    )
    result.stdout.fnmatch_lines(["*::test_hides_its_server starts a process/server*socket.bind)"])
    result.stdout.fnmatch_lines(["*::test_uses_a_server_fixture starts a*socket.bind)"])
    result.stdout.fnmatch_lines(["*::test_spawns_on_teardown starts a*subprocess.Popen)"])
