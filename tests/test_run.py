"""`truto_pulumi._run`: the state one provider process shares across the operations of a run
(`RunState`: ids held, adoptions, marks, accounts swept, replacements)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from types import SimpleNamespace
from typing import TypeVar

import pytest

from truto_pulumi._run import RunState
from truto_pulumi._settings import ProviderSettings

URN = "urn:pulumi:dev::proj::pulumi-python:dynamic/truto:McpServer::legacy"
OTHER_URN = "urn:pulumi:dev::proj::pulumi-python:dynamic/truto:McpServer::other"
SETTINGS = ProviderSettings(api_token=None)
T = TypeVar("T")


def all_at_once(ask: Callable[[], T], threads: int = 8) -> list[T]:
    """`ask()` on `threads` threads released together; their answers."""
    start = threading.Barrier(threads)

    def one(_: int) -> T:
        start.wait()
        return ask()

    with ThreadPoolExecutor(threads) as pool:
        return list(pool.map(one, range(threads)))


# --- ids held and adoptions ------------------------------------------------------------------


def test_a_server_is_adopted_once_per_run_by_its_first_claimant_until_released() -> None:
    """Of claims at once, exactly one wins; a server a resource holds (as of the asking) is not
    adopted at all."""
    run = RunState(SETTINGS)
    assert run.adopted_by("s1") is None
    answers = all_at_once(lambda: run.reserve_adoption("s1", "resource a", URN))
    assert (
        sorted(answers, key=str)
        == [None] + ["it was already adopted in this run by resource a"] * 7
    )
    assert run.reserve_adoption("s1", "resource b") is not None
    assert run.adopted_by("s1") == "resource a"
    run.release("s1")  # deleted, gone, or its adoption failed
    assert (run.adopted_by("s1"), run.readopted("s1", URN)) == (None, False)
    assert run.reserve_adoption("s1", "resource b", OTHER_URN) is None
    assert run.adopted_by("s1") == "resource b"
    run.hold("s2")
    run.hold("")  # an empty id is never held
    held = run.held()
    assert run.reserve_adoption("s2", "resource a") == "a resource of this stack already manages it"
    assert (run.adopted_by("s2"), run.reserve_adoption("", "resource a")) == (None, None)
    run.release("s2")
    assert (held, "s2" in run.held()) == (frozenset({"s1", "s2"}), False)  # adopted ones too
    assert run.reserve_adoption("s2", "resource a") is None


@pytest.mark.parametrize(
    ("adopting_urn", "asking_urn", "readopted"),
    [
        pytest.param(URN, URN, True, id="its_own_replacement"),
        pytest.param(URN, OTHER_URN, False, id="another_resource"),
        pytest.param(URN, None, False, id="asked_without_urn"),
        pytest.param(None, URN, False, id="adopted_without_urn"),
        pytest.param(None, None, False, id="no_urn_at_all"),
    ],
)
def test_a_server_is_readopted_only_by_the_resource_whose_urn_adopted_it(
    adopting_urn: str | None, asking_urn: str | None, readopted: bool
) -> None:
    run = RunState(SETTINGS)
    run.reserve_adoption("s1", "resource a", adopting_urn)
    assert run.readopted("s1", asking_urn) is readopted
    assert run.readopted("s2", asking_urn) is False


# --- replacements ----------------------------------------------------------------------------


def test_a_create_replaces_a_urn_whose_state_this_run_saw() -> None:
    run = RunState(SETTINGS)
    run.note_state(None)
    assert run.replaces(URN) is False
    run.note_state(URN)
    assert (run.replaces(URN), run.replaces(OTHER_URN), run.replaces(None)) == (True, False, False)


def test_the_first_create_under_each_account_is_told_so_once_per_process_even_at_once() -> None:
    run = RunState(SETTINGS)
    accounts = ["acc-1", "acc-1", "acc-2", "acc-1", "acc-2"]
    assert [run.first_create_under(a) for a in accounts] == [True, False, True, False, False]
    assert RunState(SETTINGS).first_create_under("acc-1") is True  # another process
    assert all_at_once(lambda: run.first_create_under("acc-3")).count(True) == 1


# --- listings of accounts --------------------------------------------------------------------


def test_the_runs_listings_are_one_for_the_process_and_open_the_client_at_the_first_listing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    opened: list[ProviderSettings] = []

    def client_for(settings: ProviderSettings) -> SimpleNamespace:
        opened.append(settings)
        return SimpleNamespace(list_mcp_servers=lambda account, deadline: [{"id": account}])

    monkeypatch.setattr("truto_pulumi._client.client_for", client_for)
    run = RunState(SETTINGS)
    assert opened == []  # no listing yet: preview never opens the client
    assert [run.listings.fresh(account) for account in ("acc-1", "acc-2")] == [
        [{"id": "acc-1"}],
        [{"id": "acc-2"}],
    ]
    assert opened == [SETTINGS]


def test_an_account_read_at_once_by_many_creates_is_read_once_and_shared() -> None:
    run = RunState(SETTINGS)
    reads: list[str] = []

    def read() -> dict[str, object]:
        reads.append("a")
        time.sleep(0.05)  # the others arrive while the first read is under way
        return {"environment_integration_id": "e"}

    answers = all_at_once(lambda: run.integrated_account("a", read))

    assert reads == ["a"]
    assert answers == [{"environment_integration_id": "e"}] * 8
    assert run.integrated_account("b", dict) == {}
