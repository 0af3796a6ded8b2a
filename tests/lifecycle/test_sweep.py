"""The sweeper removes acceptance-test leftovers, and only those: tested against the emulator,
as a function and as `python -m devkit.sweep`."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from devkit.sweep import ACCEPTANCE_PREFIX, SweepError, main, sweep
from truto_pulumi._client import TrutoClient
from truto_pulumi.emulator import Emulator

from ..kit import ACCOUNT, OTHER_ACCOUNT
from .helpers import collection_path

pytestmark = pytest.mark.slow  # starts the emulator and processes

ROOT = Path(__file__).resolve().parents[2]
LEFTOVERS = [f"{ACCEPTANCE_PREFIX}run1-a", f"{ACCEPTANCE_PREFIX}run2-b"]
KEPT = ["production reader", f"x-{ACCEPTANCE_PREFIX}not-a-prefix", "truto-pulumi-test"]


@pytest.fixture
def fresh(emulator: Emulator) -> Emulator:
    """The emulator with `LEFTOVERS` and `KEPT` in `ACCOUNT`, and a leftover-named server in
    `OTHER_ACCOUNT`, created through its HTTP API."""
    emulator.reset()
    with emulator.client() as api:
        for name in [*LEFTOVERS, *KEPT]:
            api.post(collection_path(), json={"config": {}, "name": name}).raise_for_status()
        api.post(
            collection_path(OTHER_ACCOUNT), json={"config": {}, "name": LEFTOVERS[0]}
        ).raise_for_status()
    emulator.clear_journal()
    return emulator


@pytest.fixture
def client(emulator: Emulator) -> Iterator[TrutoClient]:
    with TrutoClient(base_url=emulator.url, api_token=emulator.api_token) as opened:
        yield opened


def names_in(emulator: Emulator, account: str) -> list[str]:
    return sorted(s["name"] for s in emulator.servers() if s["integrated_account_id"] == account)


def sweep_env(emulator: Emulator, token: str | None) -> dict[str, str]:
    env = {**os.environ, "TRUTO_BASE_URL": emulator.url, "TRUTO_API_TOKEN": token or ""}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    return env


def run_module(
    emulator: Emulator, *args: str, token: str | None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "devkit.sweep", *args],
        env=sweep_env(emulator, token),
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


# --- sweep() --------------------------------------------------------------------------------


def test_sweep_deletes_only_the_prefixed_servers_of_the_account(
    fresh: Emulator, client: TrutoClient
) -> None:
    swept = sweep(client, ACCOUNT, ACCEPTANCE_PREFIX, False)

    assert sorted(server["name"] for server in swept) == LEFTOVERS
    assert all(set(server) == {"id", "name", "integrated_account_id"} for server in swept)
    assert names_in(fresh, ACCOUNT) == sorted(KEPT)
    assert names_in(fresh, OTHER_ACCOUNT) == [LEFTOVERS[0]]
    deleted = sorted(
        e["path"].rsplit("/", 1)[-1] for e in fresh.journal() if e["method"] == "DELETE"
    )
    assert deleted == sorted(server["id"] for server in swept)


def test_sweep_dry_run_lists_the_leftovers_and_deletes_nothing(
    fresh: Emulator, client: TrutoClient
) -> None:
    swept = sweep(client, ACCOUNT, ACCEPTANCE_PREFIX, True)

    assert sorted(server["name"] for server in swept) == LEFTOVERS
    assert names_in(fresh, ACCOUNT) == sorted([*LEFTOVERS, *KEPT])
    assert [e["method"] for e in fresh.journal()] == ["GET"]


def test_sweep_with_a_custom_prefix_deletes_only_what_matches_it(
    fresh: Emulator, client: TrutoClient
) -> None:
    swept = sweep(client, ACCOUNT, "production", False)

    assert [server["name"] for server in swept] == ["production reader"]
    assert "production reader" not in names_in(fresh, ACCOUNT)


@pytest.mark.parametrize("prefix", ["", "   "])
def test_sweep_refuses_an_empty_prefix(fresh: Emulator, client: TrutoClient, prefix: str) -> None:
    with pytest.raises(ValueError, match="prefix must not be empty"):
        sweep(client, ACCOUNT, prefix, False)
    assert fresh.journal() == []


def test_sweep_counts_a_server_deleted_meanwhile_as_swept(
    fresh: Emulator, client: TrutoClient
) -> None:
    fresh.inject(method="DELETE", status=404)

    swept = sweep(client, ACCOUNT, ACCEPTANCE_PREFIX, False)

    assert len(swept) == 2
    assert names_in(fresh, ACCOUNT) == sorted([LEFTOVERS[0], *KEPT])  # the 404'd one


def test_sweep_tries_every_server_and_reports_the_ones_it_could_not_delete(
    fresh: Emulator, client: TrutoClient
) -> None:
    fresh.inject(method="DELETE", status=403)

    with pytest.raises(SweepError) as raised:
        sweep(client, ACCOUNT, ACCEPTANCE_PREFIX, False)

    (failed_id,) = raised.value.errors
    assert [server["name"] for server in raised.value.deleted] == [LEFTOVERS[1]]
    assert failed_id in str(raised.value)
    assert names_in(fresh, ACCOUNT) == sorted([LEFTOVERS[0], *KEPT])


# --- the command line -----------------------------------------------------------------------


def test_module_deletes_the_leftovers_printing_ids_and_names_but_no_token(
    fresh: Emulator,
) -> None:
    tokens = [server["token"] for server in fresh.servers()]

    done = run_module(fresh, "--integrated-account-id", ACCOUNT, token=fresh.api_token)

    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert len(lines) == len(LEFTOVERS) + 1
    assert sorted(line.split()[2].strip("'") for line in lines[:-1]) == LEFTOVERS
    assert all(line.startswith("deleted ") for line in lines)
    assert lines[-1] == (
        f"deleted 2 MCP server(s) named {ACCEPTANCE_PREFIX}* of integrated account {ACCOUNT}"
    )
    assert not any(token in done.stdout + done.stderr for token in [*tokens, fresh.api_token])
    assert names_in(fresh, ACCOUNT) == sorted(KEPT)


def test_module_dry_run_says_what_it_would_delete(fresh: Emulator) -> None:
    done = run_module(
        fresh,
        "--integrated-account-id",
        ACCOUNT,
        "--prefix",
        "production",
        "--dry-run",
        token=fresh.api_token,
    )

    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[0].startswith("would delete ")
    assert "'production reader'" in done.stdout
    assert names_in(fresh, ACCOUNT) == sorted([*LEFTOVERS, *KEPT])


def test_module_without_a_token_exits_2_naming_the_variable(fresh: Emulator) -> None:
    done = run_module(fresh, "--integrated-account-id", ACCOUNT, token=None)

    assert done.returncode == 2
    assert "no Truto API token" in done.stderr
    assert "TRUTO_API_TOKEN" in done.stderr
    assert fresh.journal() == []


def test_main_exits_1_when_truto_refuses_a_deletion(fresh: Emulator) -> None:
    fresh.inject(method="DELETE", status=403)
    out, err = io.StringIO(), io.StringIO()
    environ = {"TRUTO_API_TOKEN": fresh.api_token, "TRUTO_BASE_URL": fresh.url}

    status = main(["--integrated-account-id", ACCOUNT], environ=environ, stdout=out, stderr=err)

    assert status == 1
    assert "could not delete" in err.getvalue()
    assert "Truto answered 403 to DELETE" in err.getvalue()
    assert out.getvalue().count("deleted ") == 2  # one server line, and the summary


def test_main_exits_2_on_an_empty_prefix(fresh: Emulator) -> None:
    err = io.StringIO()
    environ = {"TRUTO_API_TOKEN": fresh.api_token, "TRUTO_BASE_URL": fresh.url}

    status = main(
        ["--integrated-account-id", ACCOUNT, "--prefix", ""],
        environ=environ,
        stdout=io.StringIO(),
        stderr=err,
    )

    assert status == 2
    assert "--prefix must not be empty" in err.getvalue()
    assert fresh.journal() == []
