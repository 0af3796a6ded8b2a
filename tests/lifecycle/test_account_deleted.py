"""An integrated account deleted in Truto takes its MCP servers with it; the provider drops them
only when Truto proves it: the account answers 404 while the installed integration it belonged
to (`environment_integration_id`, recorded at create, read once per account and run) answers.
Without that proof, refresh and destroy fail and keep the state. How callers share the 404 of a
listing: `tests/test_listings.py`."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

import pytest

from devkit import OperationError, SimulatedStack
from truto_pulumi.emulator import Emulator, run_emulator

from ..kit import ACCOUNT, OTHER_ACCOUNT, OwnHostStackFactory
from .helpers import NAME, account_read, collection_path, desired, item_path

pytestmark = pytest.mark.slow  # starts the provider host and the emulator

NO_PROOF = "so the 404 does not show that the server is gone"
"""What the failure of a 404 without proof says (with the `pulumi state delete` advice)."""


@pytest.fixture(scope="module")
def emulator() -> Iterator[Emulator]:
    """The Truto environment of the stack: only `ACCOUNT` and `OTHER_ACCOUNT`, plus the
    accounts a test adds."""
    with run_emulator(accounts=[ACCOUNT, OTHER_ACCOUNT]) as running:
        yield running


@pytest.fixture(scope="module")
def other_environment() -> Iterator[Emulator]:
    """Another Truto environment (its own token, installed integrations and accounts), where
    the stack's account does not exist."""
    with run_emulator(accounts=[OTHER_ACCOUNT]) as running:
        yield running


def default_integration(emulator: Emulator) -> str:
    """The installed integration of the accounts the emulator makes by id."""
    integration: str = emulator.environment()["default_environment_integration_id"]
    return integration


def calls(emulator: Emulator) -> list[tuple[str, str, int]]:
    """(method, path, status) of every API request the emulator received, in order."""
    return [(entry["method"], entry["path"], entry["status"]) for entry in emulator.journal()]


def account_reads(emulator: Emulator) -> list[str]:
    """The accounts read (`GET /integrated-account/{id}`), in order."""
    return [
        path.rsplit("/", 1)[1]
        for method, path, _ in calls(emulator)
        if method == "GET" and path.count("/") == 2 and path.startswith("/integrated-account/")
    ]


def warning_of(stack: SimulatedStack) -> str:
    """The host's stderr, where the provider's warnings go outside the real engine, with its
    line breaks folded (complete once the host has stopped)."""
    stack.host.stop()
    return " ".join(stack.host.stderr.split())


# --- the proof ------------------------------------------------------------------------------


@pytest.mark.parametrize("operation", ["refresh", "destroy"])
def test_refresh_or_destroy_drops_only_the_servers_of_a_deleted_account_with_a_warning(
    own_host_stack: OwnHostStackFactory, emulator: Emulator, operation: str
) -> None:
    stack = own_host_stack()
    stack.up({NAME: desired()[NAME], "kept": desired(integrated_account_id=OTHER_ACCOUNT)[NAME]})
    server_id, kept = stack.resources[NAME].id, stack.resources["kept"]
    assert emulator.remove_account(ACCOUNT) == [server_id]
    emulator.clear_journal()

    if operation == "refresh":
        stack.refresh()
        assert list(stack.resources) == ["kept"]
    else:
        stack.destroy()
        assert stack.resources == {}

    # The proof: the read or the DELETE of the server (404), its account's list (404), the
    # account (404), and the installed integration it belonged to (200). Nothing written.
    about_kept = f"/integrated-account/{OTHER_ACCOUNT}/"
    assert [c for c in calls(emulator) if not c[1].startswith(about_kept)] == [
        ("GET" if operation == "refresh" else "DELETE", item_path(server_id), 404),
        ("GET", collection_path(), 404),
        (*account_read()[:2], 404),
        ("GET", f"/environment-integration/{default_integration(emulator)}", 200),
    ]
    assert [s["id"] for s in emulator.servers()] == ([kept.id] if operation == "refresh" else [])
    assert (
        f"integrated account {ACCOUNT} no longer exists in Truto, while the installed "
        f"integration {default_integration(emulator)} it belonged to still answers: the "
        f"account was deleted, and MCP server {server_id} with it"
    ) in warning_of(stack)


# --- no proof: fail and keep the state ------------------------------------------------------


@pytest.mark.parametrize(
    ("case", "operation"),
    [
        ("token_of_another_truto_environment", "refresh"),
        ("base_url_with_an_extra_path_segment", "destroy"),
        ("installed_integration_uninstalled_too", "refresh"),
        ("state_of_an_older_release", "destroy"),
    ],
)
def test_a_404_that_truto_cannot_prove_fails_and_keeps_the_state(
    own_host_stack: OwnHostStackFactory,
    emulator: Emulator,
    other_environment: Emulator,
    case: str,
    operation: str,
) -> None:
    """A wrong base URL or Truto environment answers 404 for a live server too: only the proof
    that its account was deleted drops it from the state."""
    good = own_host_stack()
    good.up(desired())  # its state records the installed integration
    assert good.resources[NAME].outputs["environment_integration_id"] == default_integration(
        emulator
    )
    emulator.remove_account(ACCOUNT)
    other_environment.clear_journal()
    emulator.clear_journal()
    settings = {"api_token": emulator.api_token, "base_url": emulator.url}
    if case == "token_of_another_truto_environment":
        settings = {"api_token": other_environment.api_token, "base_url": other_environment.url}
    elif case == "base_url_with_an_extra_path_segment":
        settings["base_url"] = f"{emulator.url}/v1"
    elif case == "installed_integration_uninstalled_too":
        emulator.uninstall_integration(default_integration(emulator))
    stack = own_host_stack(**settings)
    stack.resources = dict(good.resources)
    if case == "state_of_an_older_release":
        older_release_state(stack)
    before = dict(stack.resources)

    with pytest.raises(OperationError) as raised:
        getattr(stack, operation)()

    message = " ".join(str(raised.value).split())
    assert NO_PROOF in message
    assert "`pulumi state delete <urn>` drops them" in message
    assert "truto:baseUrl" in message  # the setting to check first
    assert stack.resources == before  # kept, as it was
    journal = emulator.journal() + other_environment.journal()
    assert {entry["method"] for entry in journal} <= {"GET", "DELETE"}
    assert all(entry["status"] == 404 for entry in journal if entry["method"] == "DELETE")
    if case == "state_of_an_older_release":  # nothing to prove it with: the account unasked
        assert f"integrated account {ACCOUNT} no longer exists" not in warning_of(stack)
        assert account_read()[1] not in [entry["path"] for entry in journal]


def older_release_state(stack: SimulatedStack, *names: str) -> None:
    """Drop `environment_integration_id` from the state of `names` (every resource if none), as
    an older release wrote it."""
    for name, state in stack.resources.items():
        if name in names or not names:
            outputs = {k: v for k, v in state.outputs.items() if k != "environment_integration_id"}
            stack.resources[name] = dataclasses.replace(state, outputs=outputs)


# --- what the create and the refresh record, reading each account once per run ---------------


def recorded_integrations(stack: SimulatedStack) -> dict[str, str]:
    return {
        name: state.outputs["environment_integration_id"] for name, state in stack.resources.items()
    }


def test_creates_and_refreshes_record_the_installed_integration_reading_each_account_once(
    own_host_stack: OwnHostStackFactory, emulator: Emulator
) -> None:
    """Once per account and run; a refresh fills in what an older release did not record,
    reading only the accounts of such states; what it recorded proves a deletion next time."""
    jira = emulator.add_account(integration="jira")
    stack = own_host_stack(new_host_each_run=True)
    servers = {
        "a": desired(name="a")[NAME],
        "b": desired(name="b")[NAME],
        "jira": desired(name="jira", integrated_account_id=jira["id"])[NAME],
        "recorded": desired(name="r", integrated_account_id=OTHER_ACCOUNT)[NAME],
    }
    emulator.set_latency(0.05)  # the creates under one account are under way at once
    try:
        stack.up(servers)
    finally:
        emulator.set_latency(0.0)

    assert jira["environment_integration_id"] != default_integration(emulator)
    recorded = recorded_integrations(stack)
    assert recorded == {
        **dict.fromkeys(["a", "b", "recorded"], default_integration(emulator)),
        "jira": jira["environment_integration_id"],
    }
    assert sorted(account_reads(emulator)) == sorted([ACCOUNT, OTHER_ACCOUNT, jira["id"]])
    emulator.clear_journal()
    stack.up({**servers, "d": desired(name="d")[NAME]})  # a new run reads its account again
    assert account_reads(emulator) == [ACCOUNT]

    older_release_state(stack, "a", "b", "jira")
    emulator.clear_journal()
    outcomes = stack.refresh()

    assert recorded_integrations(stack) == {**recorded, "d": recorded["a"]}
    assert outcomes["recorded"].drift is False
    assert sorted(account_reads(emulator)) == sorted([ACCOUNT, jira["id"]])
    assert {method for method, _, _ in calls(emulator)} == {"GET"}
    emulator.remove_account(ACCOUNT)
    stack.refresh()
    assert sorted(stack.resources) == ["jira", "recorded"]


def test_a_failed_account_read_leaves_the_integration_unset_and_the_create_succeeds(
    own_host_stack: OwnHostStackFactory, emulator: Emulator
) -> None:
    """Best effort: the account read answered 403 (a token that may not read accounts)."""
    emulator.inject(method="GET", path=r"^/integrated-account/[^/]+$", status=403)
    stack = own_host_stack()

    stack.up(desired())

    outputs = stack.resources[NAME].outputs
    assert "environment_integration_id" not in outputs
    assert outputs["token"] == emulator.servers()[0]["token"]
    assert account_reads(emulator) == [ACCOUNT]  # not read again in the run
