"""What the provider gets from Pulumi's real provider host (`python -m pulumi.dynamic`), under
the lowest and the highest `pulumi` the package allows: the opt-in `truto:hostConcurrency`
widens the host (ARCHITECTURE.md says why; twelve creates sent at once against the emulator
0.4 s away; how many requests it held at once is read from its journal), never said to be lost
(`_host_bridge.reach_lost`); the hidden `__urn` input reaches the provider (hosts before
pulumi 3.235 drop it); an expected failure reaches the engine ending in its message."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from pulumi.dynamic.dynamic import serialize_provider

from devkit import HostCallError, ProviderHost
from devkit.pulumi_versions import installed_pulumi, pulumi_venv
from devkit.truto import NO_TRUTO_ENV
from truto_pulumi.emulator import Emulator
from truto_pulumi.provider import TrutoMcpServerProvider

from .kit import ACCOUNT, peak_in_flight

pytestmark = pytest.mark.slow  # builds virtualenvs, starts provider hosts and the emulator

REPO = Path(__file__).resolve().parents[1]
PROVIDER = serialize_provider(TrutoMcpServerProvider())
LATENCY = 0.4
CREATES = 12


@pytest.fixture(scope="module", params=["lowest", "highest"])
def pulumi_python(request: pytest.FixtureRequest) -> Path:
    """The Python of a virtualenv with the lowest or the highest pulumi the package allows."""
    return pulumi_venv(request.param)


LOST = "truto-pulumi cannot"
"""How `reach_lost` begins what it says."""


def urn(i: int) -> str:
    return f"urn:pulumi:dev::demo::pulumi-python:dynamic:Resource::s{i}"


@pytest.mark.parametrize(
    ("setting", "at_least", "at_most"),
    [
        pytest.param({"truto:hostConcurrency": "16"}, 8, CREATES,
                     id="sixteen_twice_the_hosts_own_four"),
        pytest.param({}, 1, 4, id="by_default_the_hosts_own_four"),
    ],
)  # fmt: skip
def test_the_host_serves_what_truto_host_concurrency_allows_in_each_allowed_pulumi(
    pulumi_python: Path, emulator: Emulator, setting: dict[str, str], at_least: int, at_most: int
) -> None:
    """`CREATES` creates sent to a fresh host of that pulumi at once, as the engine sends them;
    then one Truto refuses, which reaches the engine ending in its message."""
    emulator.reset()
    with ProviderHost(env=NO_TRUTO_ENV, extra_paths=[REPO], python=str(pulumi_python)) as host:
        host.configure(
            {"truto:apiToken": emulator.api_token, "truto:baseUrl": emulator.url, **setting}
        )

        def create(i: int) -> str:
            props = {"__provider": PROVIDER, "integrated_account_id": ACCOUNT, "name": f"s{i}"}
            checked = host.check(urn(i), {}, props).inputs
            assert checked.get("__urn") == urn(i), installed_pulumi(pulumi_python)  # passed on
            return host.create(urn(i), checked)[0]

        emulator.set_latency(LATENCY)
        try:
            with ThreadPoolExecutor(CREATES) as engine:
                made = list(engine.map(create, range(CREATES)))
        finally:
            emulator.set_latency(0)
        emulator.inject(method="POST", status=422, body='{"message": "no tool matches"}')
        with pytest.raises(HostCallError) as refused:
            create(CREATES)
    posts = [e for e in emulator.journal() if e["method"] == "POST"][:CREATES]
    assert at_least <= peak_in_flight(posts, LATENCY) <= at_most, installed_pulumi(pulumi_python)
    assert sorted(s["name"] for s in emulator.servers()) == sorted(f"s{i}" for i in range(CREATES))
    assert sorted(made) == sorted(s["id"] for s in emulator.servers())
    details = refused.value.details
    last = details.rstrip().splitlines()[-1]
    assert "no tool matches. Nothing was created." in last, installed_pulumi(pulumi_python)
    assert "truto_pulumi/_" not in details  # no frame below the provider's entry, and no cause
    assert LOST not in host.stderr
