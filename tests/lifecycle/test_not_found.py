"""Only a 404 that proves the server is gone means "gone": a wrong base URL, account or Truto
environment makes refresh and destroy fail, never drop a live server from the state."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

import pytest

from devkit import OperationError
from truto_pulumi.emulator import Emulator, run_emulator

from ..kit import ACCOUNT, OTHER_ACCOUNT, OwnHostStackFactory
from .helpers import NAME, desired

pytestmark = pytest.mark.slow  # starts the provider host and the emulator


@pytest.fixture(scope="module")
def emulator() -> Iterator[Emulator]:
    """The Truto environment that holds the stack's servers: one account only (this module's
    emulator, which `own_host_stack` points at)."""
    with run_emulator(accounts=[ACCOUNT]) as running:
        yield running


@pytest.fixture(scope="module")
def other_environment() -> Iterator[Emulator]:
    """Another Truto environment: its own token and accounts, none of the stack's."""
    with run_emulator(accounts=[OTHER_ACCOUNT]) as running:
        yield running


def misconfigured(
    case: str, emulator: Emulator, other_environment: Emulator
) -> tuple[dict[str, str], str | None]:
    """The provider settings of a misconfigured run, and the account its state names (in a
    state written before the provider recorded `environment_integration_id`: a state naming
    an account it was not created in can only come from such a release, or a hand edit)."""
    if case == "base_url_with_an_extra_path_segment":
        return {"api_token": emulator.api_token, "base_url": f"{emulator.url}/v1"}, None
    if case == "token_of_another_truto_environment":
        return {"api_token": other_environment.api_token, "base_url": other_environment.url}, None
    wrong_account = OTHER_ACCOUNT
    return {"api_token": emulator.api_token, "base_url": emulator.url}, wrong_account


CASES = [
    "base_url_with_an_extra_path_segment",
    "token_of_another_truto_environment",
    "account_unknown_to_the_environment",
]


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("operation", ["refresh", "destroy"])
def test_a_404_that_proves_nothing_fails_and_keeps_the_live_server_in_state(
    own_host_stack: OwnHostStackFactory,
    emulator: Emulator,
    other_environment: Emulator,
    case: str,
    operation: str,
) -> None:
    good = own_host_stack()
    good.up(desired())
    (live,) = emulator.servers()
    settings, account = misconfigured(case, emulator, other_environment)
    wrong = own_host_stack(**settings)
    wrong.resources = dict(good.resources)
    if account is not None:
        state = wrong.resources[NAME]
        outputs = {**state.outputs, "integrated_account_id": account}
        del outputs["environment_integration_id"]  # as a state of an older release lacks it
        wrong.resources[NAME] = dataclasses.replace(state, outputs=outputs)

    with pytest.raises(OperationError) as raised:
        getattr(wrong, operation)()

    message = str(raised.value)
    assert "so the 404 does not show that the server is gone" in message
    assert "truto:baseUrl" in message
    assert list(wrong.resources) == [NAME]  # still in the state
    assert [s["id"] for s in emulator.servers()] == [live["id"]]  # still in Truto


def test_a_server_deleted_outside_pulumi_is_proven_gone_by_its_account_list(
    own_host_stack: OwnHostStackFactory, emulator: Emulator
) -> None:
    stack = own_host_stack()
    stack.up(desired())
    emulator.delete_server(stack.resources[NAME].id)
    emulator.clear_journal()

    stack.refresh()

    assert stack.resources == {}
    assert [(e["method"], e["status"]) for e in emulator.journal()] == [("GET", 404), ("GET", 200)]
