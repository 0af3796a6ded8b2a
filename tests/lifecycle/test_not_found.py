"""Only a 404 that proves the server is gone means "gone": a wrong base URL, account or Truto
environment makes refresh and destroy fail, never drop a live server from the state."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator

import pytest

from tests.support import (
    NO_TRUTO_ENV,
    OperationError,
    ProviderHost,
    SimulatedStack,
    mcp_server_stack,
)
from truto_pulumi.emulator import Emulator, run_emulator

from .helpers import ACCOUNT, NAME, OTHER_ACCOUNT, desired

StackFactory = Callable[..., SimulatedStack]


@pytest.fixture(scope="module")
def truto() -> Iterator[Emulator]:
    """The Truto environment that holds the stack's servers: one account only."""
    with run_emulator(accounts=[ACCOUNT]) as running:
        yield running


@pytest.fixture(scope="module")
def other_environment() -> Iterator[Emulator]:
    """Another Truto environment: its own token and accounts, none of the stack's."""
    with run_emulator(accounts=[OTHER_ACCOUNT]) as running:
        yield running


@pytest.fixture
def make_stack(truto: Emulator) -> Iterator[StackFactory]:
    """Stacks on hosts of their own (a host is configured once, by its first stack)."""
    truto.reset()
    hosts: list[ProviderHost] = []

    def make(*, api_token: str, base_url: str) -> SimulatedStack:
        host = ProviderHost(env=NO_TRUTO_ENV).start()
        hosts.append(host)
        return mcp_server_stack(host, api_token=api_token, base_url=base_url)

    yield make
    for host in hosts:
        host.stop()


def misconfigured(
    case: str, truto: Emulator, other_environment: Emulator
) -> tuple[dict[str, str], str | None]:
    """The provider settings of a misconfigured run, and the account its state names."""
    if case == "base_url_with_an_extra_path_segment":
        return {"api_token": truto.token, "base_url": f"{truto.url}/v1"}, None
    if case == "token_of_another_truto_environment":
        return {"api_token": other_environment.token, "base_url": other_environment.url}, None
    return {"api_token": truto.token, "base_url": truto.url}, OTHER_ACCOUNT  # wrong account


CASES = [
    "base_url_with_an_extra_path_segment",
    "token_of_another_truto_environment",
    "account_unknown_to_the_environment",
]


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("operation", ["refresh", "destroy"])
def test_a_404_that_proves_nothing_fails_and_keeps_the_live_server_in_state(
    make_stack: StackFactory,
    truto: Emulator,
    other_environment: Emulator,
    case: str,
    operation: str,
) -> None:
    good = make_stack(api_token=truto.token, base_url=truto.url)
    good.up(desired())
    (live,) = truto.servers()
    settings, account = misconfigured(case, truto, other_environment)
    wrong = make_stack(**settings)
    wrong.resources = dict(good.resources)
    if account is not None:
        state = wrong.resources[NAME]
        outputs = {**state.outputs, "integrated_account_id": account}
        wrong.resources[NAME] = dataclasses.replace(state, outputs=outputs)

    with pytest.raises(OperationError) as raised:
        getattr(wrong, operation)()

    message = str(raised.value)
    assert "so the 404 does not show that the server is gone" in message
    assert "truto:baseUrl" in message
    assert list(wrong.resources) == [NAME]  # still in the state
    assert [s["id"] for s in truto.servers()] == [live["id"]]  # still in Truto


def test_a_server_deleted_outside_pulumi_is_proven_gone_by_its_account_list(
    make_stack: StackFactory, truto: Emulator
) -> None:
    stack = make_stack(api_token=truto.token, base_url=truto.url)
    stack.up(desired())
    truto.delete_server(stack.resources[NAME].id)
    truto.clear_journal()

    stack.refresh()

    assert stack.resources == {}
    assert [(e["method"], e["status"]) for e in truto.journal()] == [("GET", 404), ("GET", 200)]
