"""The live-test kit never touches what is not its own: the sweeper deletes only servers named
with the acceptance prefix, of the account given, and live runs are opt-in and name what they
make with that prefix."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from devkit.sweep import ACCEPTANCE_PREFIX, acceptance_name, acceptance_settings, sweep
from truto_pulumi._client import TrutoClient
from truto_pulumi.emulator import Emulator

from ..kit import ACCOUNT, OTHER_ACCOUNT
from .helpers import made_in_dashboard

LEFTOVERS = [f"{ACCEPTANCE_PREFIX}run1-a", f"{ACCEPTANCE_PREFIX}run2-b"]
KEPT = ["production reader", f"x-{ACCEPTANCE_PREFIX}not-a-prefix", "truto-pulumi-test"]


@pytest.fixture
def client(emulator: Emulator) -> Iterator[TrutoClient]:
    """A client of the emulator holding `LEFTOVERS` and `KEPT` in `ACCOUNT`, and a leftover's
    name in `OTHER_ACCOUNT`."""
    emulator.reset()
    for name in [*LEFTOVERS, *KEPT]:
        made_in_dashboard(emulator, ACCOUNT, name=name)
    made_in_dashboard(emulator, OTHER_ACCOUNT, name=LEFTOVERS[0])
    with TrutoClient(base_url=emulator.url, api_token=emulator.api_token) as opened:
        yield opened


def names_in(emulator: Emulator, account: str) -> list[str]:
    return sorted(s["name"] for s in emulator.servers() if s["integrated_account_id"] == account)


@pytest.mark.slow
@pytest.mark.parametrize("dry_run", [False, True], ids=["sweep", "dry-run"])
def test_sweep_deletes_only_the_prefixed_servers_of_the_account(
    emulator: Emulator, client: TrutoClient, dry_run: bool
) -> None:
    emulator.clear_journal()

    swept = sweep(client, ACCOUNT, ACCEPTANCE_PREFIX, dry_run)

    assert sorted(name for _, name in swept) == LEFTOVERS
    assert names_in(emulator, ACCOUNT) == sorted([*KEPT, *(LEFTOVERS if dry_run else [])])
    assert names_in(emulator, OTHER_ACCOUNT) == [LEFTOVERS[0]]
    deleted = [e["path"].rsplit("/", 1)[-1] for e in emulator.journal() if e["method"] == "DELETE"]
    assert sorted(deleted) == ([] if dry_run else sorted(server_id for server_id, _ in swept))


@pytest.mark.parametrize("prefix", ["", "   "])
def test_sweep_refuses_an_empty_prefix_before_any_request(prefix: str) -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise AssertionError(f"sent {request.method} {request.url.path}")

    refusing = httpx.MockTransport(refuse)
    with (
        TrutoClient(base_url="https://truto.test", api_token="t", transport=refusing) as client,
        pytest.raises(ValueError, match="prefix must not be empty"),
    ):
        sweep(client, ACCOUNT, prefix)


def test_live_runs_are_opt_in_and_name_what_they_make_with_the_sweepers_prefix() -> None:
    complete = {"TRUTO_ACC": "1", "TRUTO_API_TOKEN": "secret-token"}
    complete["TRUTO_ACC_INTEGRATED_ACCOUNT_ID"] = ACCOUNT
    for switch in ("0", "", " 1 0"):
        assert acceptance_settings({**complete, "TRUTO_ACC": switch}) is None
    settings = acceptance_settings(complete)
    assert settings is not None
    assert "secret-token" not in repr(settings)
    assert acceptance_name("basic", "run1") == f"{ACCEPTANCE_PREFIX}run1-basic"
    assert acceptance_name("basic").startswith(ACCEPTANCE_PREFIX)
    assert acceptance_name("basic") != acceptance_name("basic")
