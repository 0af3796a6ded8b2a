"""The fast tier's guard (tests/_tiers.py): a test not marked `slow` that starts a process or a
server, in its setup, call or teardown, fails; the attempt is refused before anything starts.

These tests run in the fast tier themselves, under the conftest's guard: nothing here starts a
process or a server for real (the inner guard refuses first)."""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import socket
import subprocess
from collections.abc import Callable

import grpc
import pytest

from ._tiers import DOORS, ProcessStarted, process_guard

pytest_plugins = ["pytester"]


def _create_subprocess() -> None:
    async def start() -> None:
        await asyncio.create_subprocess_exec("true")

    asyncio.run(start())


def _listen() -> None:
    with socket.socket() as listening:
        listening.listen()


ATTEMPTS: dict[str, tuple[Callable[[], object], str]] = {
    "subprocess.run": (lambda: subprocess.run(["true"], check=True), "subprocess.Popen"),
    "os.system": (lambda: os.system("true"), "os.system"),
    "os.posix_spawn": (lambda: os.posix_spawn("/bin/true", ["true"], {}), "os.posix_spawn"),
    "os.fork": (lambda: os.fork(), "os.fork"),
    "os.spawnv": (lambda: os.spawnv(os.P_WAIT, "/bin/true", ["true"]), "os.spawnv"),
    "multiprocessing": (
        lambda: multiprocessing.Process(target=print).start(),
        "multiprocessing Process.start",
    ),
    "asyncio": (_create_subprocess, "asyncio subprocess_exec"),
    "listen": (_listen, "socket.listen"),
    "socket.create_server": (lambda: socket.create_server(("127.0.0.1", 0)), "socket.bind"),
    "grpc.server": (lambda: grpc.server(None), "grpc.server"),
}


@pytest.mark.parametrize("attempt", ATTEMPTS)
def test_the_guard_refuses_a_process_or_a_server_before_it_starts_and_puts_the_door_back(
    attempt: str,
) -> None:
    call, door = ATTEMPTS[attempt]
    before = [vars(owner).get(name) for owner, name, _ in DOORS]
    with process_guard() as tried, pytest.raises(ProcessStarted, match="in the fast tier"):
        call()
    assert tried == [door]
    assert not issubclass(ProcessStarted, Exception)  # no `except Exception` swallows it
    assert [vars(owner).get(name) for owner, name, _ in DOORS] == before


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
            except BaseException:  # caught, yet the attempt fails the test
                pass

        def test_uses_a_server_fixture(server):
            pass

        @pytest.fixture
        def spawns_on_teardown():
            yield
            subprocess.run(["true"], check=True)

        def test_spawns_on_teardown(spawns_on_teardown):
            pass

        def test_computes_and_connects_out():
            with socket.socket() as client:
                client.settimeout(0.1)
                client.connect_ex(("127.0.0.1", 9))  # refused or not: a client is allowed
            assert 1 + 1 == 2
        """
    )
    result = pytester.runpytest(
        "-p", "no:cacheprovider", "-p", "no:hypothesispytest", "-m", "not slow"
    )
    # test_spawns_on_teardown counts twice: its call passes, its teardown errs
    result.assert_outcomes(passed=2, failed=2, errors=2)
    for line in [
        "*::test_spawns starts a process/server but is not marked slow: add `pytestmark ="
        " pytest.mark.slow` or `@pytest.mark.slow` (it called subprocess.Popen)",
        "*::test_hides_its_server starts a process/server*socket.bind)",
        "*::test_uses_a_server_fixture starts a*socket.bind)",
        "*::test_spawns_on_teardown starts a*subprocess.Popen)",
    ]:
        result.stdout.fnmatch_lines([line])
