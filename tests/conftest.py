"""Fixtures shared by the suite: per module one emulator and one provider host; per test a
fresh stack of TrutoMcpServer resources on them.

The host caches one configured provider per distinct `__provider` pickle, and every
`TrutoMcpServerProvider` pickles the same: the first stack to use a host configures it for
good. So every stack on the shared host carries the same config (the emulator's token and
URL); a test needing other provider settings (no token, short timeouts) gets a host of its own.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from tests.support import NO_TRUTO_ENV, ProviderHost, SimulatedStack, mcp_server_stack
from truto_pulumi.emulator import Emulator, run_emulator

from .engine.driver import pulumi_cli
from .engine.project import language_host_beside

_PROCESS_FIXTURES = frozenset(
    {
        "_session_emulator",
        "emulator",
        "host",
        "cli",
        "project_cli",
        "truto",
        "other_environment",
        "impatient_host",
        "tokenless_host",
        "live_host",
    }
)
"""Fixtures that start a server or a process: a test that needs one (directly or through
another fixture) is `slow`."""


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark `slow` every test that starts a process, so `pytest -m "not slow"` runs the pure
    tests (tables, mocks, MockTransport) in seconds."""
    for item in items:
        fixtures = set(getattr(item, "fixturenames", ()))
        markers = {mark.name for mark in item.iter_markers()}
        if fixtures & _PROCESS_FIXTURES or markers & {"engine", "live"}:
            item.add_marker(pytest.mark.slow)


@pytest.fixture(scope="session")
def cli() -> str:
    """The `pulumi` CLI for real-engine tests. CI must have it (`.ci/run` runs `make pulumi`);
    elsewhere a test needing it skips, saying how to get it."""
    found = pulumi_cli()
    if found is None:
        reason = (
            "no pulumi CLI on PATH or in .cache/pulumi/bin: run `make pulumi` "
            "(about 6.5 min the first time)"
        )
        if os.environ.get("CI"):
            pytest.fail(f"CI must run the real engine: {reason}")
        pytest.skip(reason)
    return found


@pytest.fixture(scope="session")
def project_cli(cli: str) -> str:
    """The CLI for project-folder tests: it must have the Python language host beside it (`make
    pulumi` installs it). CI fails without it; elsewhere the test skips, saying how to get it."""
    if language_host_beside(cli) is None:
        reason = (
            f"no pulumi-language-python beside {cli}: a project folder cannot run; `make pulumi`"
            " installs it from ../shared/tools/pulumi-language-python"
        )
        if os.environ.get("CI"):
            pytest.fail(f"CI must run project folders: {reason}")
        pytest.skip(reason)
    return cli


@pytest.fixture(scope="module")
def emulator() -> Iterator[Emulator]:
    with run_emulator() as running:
        yield running


@pytest.fixture(scope="module")
def host(emulator: Emulator) -> Iterator[ProviderHost]:
    with ProviderHost(env=NO_TRUTO_ENV) as started:
        yield started


@pytest.fixture
def stack(host: ProviderHost, emulator: Emulator) -> SimulatedStack:
    """An empty stack on the shared host; the emulator is reset (no servers, journal, faults)."""
    emulator.reset()
    host.reset_calls()
    return mcp_server_stack(host, api_token=emulator.token, base_url=emulator.url)
