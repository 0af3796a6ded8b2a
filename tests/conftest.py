"""Fixtures shared by the suite: per module one emulator and one provider host; per test a
fresh stack of TrutoMcpServer resources on them.

The host caches one configured provider per distinct `__provider` pickle, and every
`TrutoMcpServerProvider` pickles the same: the first stack to use a host configures it for
good. So every stack on the shared host carries the same config (the emulator's token and
URL); a test needing other provider settings (no token, short timeouts) gets a host of its own
from `own_host_stack`.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Generator, Iterator, Mapping
from typing import Any

import pytest

from devkit import NO_TRUTO_ENV, ProviderHost, SimulatedStack, mcp_server_stack
from devkit.project import language_host_beside, pulumi_cli
from truto_pulumi.emulator import Emulator, run_emulator

from ._tiers import guard_phase
from .kit import OwnHostStackFactory


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """`engine` and `live` tests are `slow` too: `pytest -m "not slow"` runs neither."""
    for item in items:
        if any(item.iter_markers("engine")) or any(item.iter_markers("live")):
            item.add_marker(pytest.mark.slow)


# The fast tier by structure: a test not marked `slow` fails if its setup (where the first test
# to request a module- or session-scoped fixture starts it), call or teardown starts a process
# or a server (tests/_tiers.py lists the doors it closes). So `-m "not slow"` starts none.
@pytest.hookimpl(wrapper=True)
def pytest_runtest_setup(item: pytest.Item) -> Generator[None, object, object]:
    return (yield from guard_phase(item))


pytest_runtest_call = pytest_runtest_teardown = pytest_runtest_setup


def _needed(found: str | None, reason: str) -> str:
    """`found`; without it, fail under CI (`.ci/run` runs `make pulumi`), else skip, saying how
    to get it."""
    if found is None:
        if os.environ.get("CI"):
            pytest.fail(f"CI must run the real engine: {reason}")
        pytest.skip(reason)
    return found


@pytest.fixture(scope="session")
def cli() -> str:
    """The `pulumi` CLI for real-engine tests."""
    where = "no pulumi CLI on PATH or in .cache/pulumi/bin"
    return _needed(pulumi_cli(), f"{where}: run `make pulumi` (about 6.5 min the first time)")


@pytest.fixture(scope="session")
def project_cli(cli: str) -> str:
    """The CLI for project-folder tests: with the Python language host beside it."""
    beside = language_host_beside(cli)
    _needed(
        None if beside is None else str(beside),
        f"no pulumi-language-python beside {cli}: a project folder cannot run; `make pulumi`"
        " installs it from ../shared/tools/pulumi-language-python",
    )
    return cli


@pytest.fixture(autouse=True)
def _machine_of_its_own(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each test runs with a temporary folder of its own: what its processes leave there (the
    engine's logs that secrets tests scan) is not an earlier test's."""
    monkeypatch.setenv("TMPDIR", str(tmp_path_factory.mktemp("tmp")))
    monkeypatch.setattr(tempfile, "tempdir", None)


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
    return mcp_server_stack(host, api_token=emulator.api_token, base_url=emulator.url)


@pytest.fixture
def own_host_stack(emulator: Emulator) -> Iterator[OwnHostStackFactory]:
    """`own_host_stack(...)`: like `stack`, an empty stack against the emulator (reset once, when
    the test starts), but each call on a provider host of its own, for provider settings other
    than the shared host's. `api_token` and `base_url` default to the emulator's; `settings`
    adds stack config (`{"truto:operationTimeoutSeconds": 1}`) and wins over both; `env` adds to
    the host's environment (`NO_TRUTO_ENV`); other keywords (`stack`, `new_host_each_run`) go to
    `mcp_server_stack`. The hosts are stopped when the test ends."""
    emulator.reset()
    hosts: list[ProviderHost] = []

    def make(
        *,
        api_token: str | None = None,
        base_url: str | None = None,
        settings: Mapping[str, Any] | None = None,
        env: Mapping[str, str] | None = None,
        **options: Any,
    ) -> SimulatedStack:
        host = ProviderHost(env={**NO_TRUTO_ENV, **(env or {})})
        hosts.append(host.start())
        return mcp_server_stack(
            host,
            api_token=emulator.api_token if api_token is None else api_token,
            base_url=emulator.url if base_url is None else base_url,
            settings=settings,
            **options,
        )

    yield make
    for host in hosts:
        host.stop()
