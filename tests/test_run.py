"""`truto_pulumi._run`: the state one provider process shares across the operations of a run
(`RunState`: ids held, adoptions, marks, accounts swept, replacements) and how it reads the
`pulumi` command that replaces a resource (`cli_command_line`, `replace_targets`,
`urn_matches`)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TypeVar

import pytest

from truto_pulumi import _run
from truto_pulumi._run import RunState, cli_command_line, replace_targets, urn_matches
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
    run = RunState(SETTINGS)
    assert run.adopted_by("s1") is None
    assert run.reserve_adoption("s1", "resource a", URN) is None
    assert run.adopted_by("s1") == "resource a"
    assert run.reserve_adoption("s1", "resource b") == (
        "it was already adopted in this run by resource a"
    )
    assert run.adopted_by("s1") == "resource a"
    run.release("s1")  # deleted, gone, or its adoption failed
    assert (run.adopted_by("s1"), run.readopted("s1", URN)) == (None, False)
    assert run.reserve_adoption("s1", "resource b", OTHER_URN) is None
    assert run.adopted_by("s1") == "resource b"


def test_a_server_a_resource_holds_cannot_be_adopted_until_released() -> None:
    run = RunState(SETTINGS)
    run.hold("s1")
    run.hold("")  # an empty id is never held
    assert run.reserve_adoption("s1", "resource a") == "a resource of this stack already manages it"
    assert run.adopted_by("s1") is None
    assert run.reserve_adoption("", "resource a") is None
    run.release("s1")
    assert run.reserve_adoption("s1", "resource a") is None


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


def test_of_claims_on_one_server_at_once_exactly_one_adopts_it() -> None:
    run = RunState(SETTINGS)
    answers = all_at_once(lambda: run.reserve_adoption("s1", "a resource"))
    assert answers.count(None) == 1
    assert run.adopted_by("s1") == "a resource"


# --- replacements ----------------------------------------------------------------------------


@pytest.fixture
def no_replace_variables(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """No PULUMI_OPTION_* replace variable set; `monkeypatch` to set others."""
    for name in ("PULUMI_OPTION_REPLACE", "PULUMI_OPTION_TARGET_REPLACE"):
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def command(monkeypatch: pytest.MonkeyPatch, argv: list[str]) -> list[int]:
    """Make `argv` the `pulumi` command above this process; the pids it is asked for."""
    asked: list[int] = []

    def cli(pid: int) -> list[str]:
        asked.append(pid)
        return argv

    monkeypatch.setattr(_run, "cli_command_line", cli)
    return asked


def test_a_create_replaces_a_urn_whose_state_this_run_saw(
    no_replace_variables: pytest.MonkeyPatch,
) -> None:
    command(no_replace_variables, ["pulumi", "up", "--yes"])
    run = RunState(SETTINGS)
    run.note_state(None)
    assert run.replaces(URN) is False
    run.note_state(URN)
    assert (run.replaces(URN), run.replaces(OTHER_URN), run.replaces(None)) == (True, False, False)


def test_the_commands_replace_targets_are_read_once_per_run_from_the_hosts_parent(
    no_replace_variables: pytest.MonkeyPatch,
) -> None:
    """Which targets name which URN: `replace_targets` and `urn_matches` below."""
    asked = command(no_replace_variables, ["pulumi", "up", "--replace", URN])
    run = RunState(SETTINGS)
    assert (run.replaces(URN), run.replaces(OTHER_URN), run.replaces(None)) == (True, False, False)
    no_replace_variables.setenv("PULUMI_OPTION_REPLACE", OTHER_URN)
    assert run.replaces(OTHER_URN) is False
    assert asked == [os.getppid()]


# --- creates under way -----------------------------------------------------------------------


def test_the_ids_held_are_those_held_and_not_released_as_of_the_asking() -> None:
    run = RunState(SETTINGS)
    run.hold("a")
    run.hold("b")
    run.release("a")
    asked = run.held()
    run.hold("c")
    assert asked == frozenset({"b"})
    assert run.held() == frozenset({"b", "c"})


def test_the_first_create_under_each_account_is_told_so_once_per_process_even_at_once() -> None:
    run = RunState(SETTINGS)
    accounts = ["acc-1", "acc-1", "acc-2", "acc-1", "acc-2"]
    assert [run.first_create_under(a) for a in accounts] == [True, False, True, False, False]
    assert RunState(SETTINGS).first_create_under("acc-1") is True  # another process
    assert all_at_once(lambda: run.first_create_under("acc-3")).count(True) == 1


# --- listings of accounts --------------------------------------------------------------------


class _ListingClient:
    def __init__(self) -> None:
        self.listed: list[str] = []

    def list_mcp_servers(self, account_id: str, deadline: object) -> list[dict[str, str]]:
        self.listed.append(account_id)
        return [{"id": f"{account_id}/{len(self.listed)}"}]


def test_the_runs_listings_are_one_for_the_process_and_open_the_client_at_the_first_listing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    opened: list[_ListingClient] = []

    def client_for(settings: ProviderSettings) -> _ListingClient:
        opened.append(_ListingClient())
        return opened[-1]

    monkeypatch.setattr("truto_pulumi._client.client_for", client_for)
    run = RunState(SETTINGS)
    assert opened == []  # no listing yet: preview never opens the client

    assert run.listings.fresh("acc-1") == [{"id": "acc-1/1"}]
    assert run.listings.fresh("acc-1") == [{"id": "acc-1/2"}]
    assert [client.listed for client in opened] == [["acc-1", "acc-1"]]


# --- the `pulumi` command of this run --------------------------------------------------------


@pytest.mark.parametrize(
    ("argv", "environ", "expected"),
    [
        (["pulumi", "up", "--yes"], {}, ()),
        (["pulumi", "up", "--replace", "u1", "--replace=u2"], {}, ("u1", "u2")),
        (["pulumi", "up", "--target-replace", "u1", "--target", "u2"], {}, ("u1",)),
        (["pulumi", "up", "--replace"], {}, ()),
        (["pulumi", "up"], {"PULUMI_OPTION_REPLACE": "u1,u2"}, ("u1", "u2")),
        (["pulumi", "up"], {"PULUMI_OPTION_TARGET_REPLACE": "u1"}, ("u1",)),
    ],
)
def test_replace_targets_are_read_from_flags_and_their_variables(
    argv: list[str], environ: dict[str, str], expected: tuple[str, ...]
) -> None:
    assert replace_targets(argv, environ) == expected


@pytest.mark.parametrize(
    ("target", "matches"),
    [
        (URN, True),
        (URN + "2", False),
        ("urn:pulumi:dev::proj::*::legacy", False),  # `*` stays within one part
        ("urn:pulumi:dev::proj::**::legacy", True),
        ("urn:pulumi:dev::proj::pulumi-python*McpServer::leg*", False),
        ("urn:pulumi:dev::proj::pulumi-python:dynamic/truto:McpServer::leg*", True),
        ("**", True),
        ("urn:pulumi:dev::proj::**::legacy.x", False),
    ],
)
def test_replace_targets_match_urns_as_the_engine_does(target: str, matches: bool) -> None:
    assert urn_matches(target, URN) is matches


def fake_proc(root: Path, processes: dict[int, tuple[int | None, list[str]]]) -> Path:
    """A /proc holding `processes` (pid: parent pid, arguments) as Linux shows them; a parent
    None makes a stat without one."""
    for pid, (parent, argv) in processes.items():
        folder = root / str(pid)
        folder.mkdir(parents=True)
        (folder / "cmdline").write_bytes(b"".join(arg.encode() + b"\0" for arg in argv))
        odd = "" if parent is None else f" S {parent} {pid} {pid} 0 -1"
        (folder / "stat").write_text(f"{pid} (a (odd) name){odd}")
    return root


CLI = ["/usr/local/bin/pulumi", "up", "--replace", URN]
HOST = [sys.executable, "-m", "pulumi.dynamic"]


def chain(length: int, cli_at: int) -> dict[int, tuple[int | None, list[str]]]:
    """Processes 100 (the host), 99 (its parent), ...: `length` of them, the CLI the
    `cli_at`-th (1 is the host itself), the last one's parent 1."""
    return {
        100 - n: (1 if n == length - 1 else 99 - n, CLI if n + 1 == cli_at else ["sh", "x.sh"])
        for n in range(length)
    }


@pytest.mark.parametrize(
    ("processes", "found"),
    [
        pytest.param(
            {100: (90, HOST), 90: (80, ["sh", "run"]), 80: (1, CLI)}, CLI, id="grandparent"
        ),
        pytest.param(
            {100: (90, HOST), 90: (80, ["pulumi", "preview"]), 80: (1, CLI)},
            ["pulumi", "preview"],
            id="nearest_of_two",
        ),
        pytest.param(
            {100: (1, ["C:\\Pulumi\\bin\\pulumi.exe", "up"])},
            ["C:\\Pulumi\\bin\\pulumi.exe", "up"],
            id="windows_exe",
        ),
        pytest.param(
            {100: (90, HOST), 90: (0, ["pulumi-language-python", "x"])}, [], id="language_host_only"
        ),
        pytest.param(chain(8, cli_at=8), CLI, id="eighth_process"),
        pytest.param(chain(9, cli_at=9), [], id="ninth_process_is_too_far"),
        pytest.param({100: (None, CLI)}, [], id="stat_unreadable"),
    ],
)
def test_the_cli_command_line_is_the_nearest_pulumi_among_a_process_and_its_ancestors(
    tmp_path: Path, processes: dict[int, tuple[int | None, list[str]]], found: list[str]
) -> None:
    assert cli_command_line(100, proc=fake_proc(tmp_path, processes)) == found


@pytest.mark.slow
@pytest.mark.parametrize("source", ["proc", "ps"])
def test_the_cli_command_line_is_found_among_the_hosts_ancestors(
    tmp_path: Path, source: str
) -> None:
    """A host's parent is a shell script whose parent is the `pulumi` CLI (here a Python
    named `pulumi`); without /proc (macOS), `ps` tells."""
    cli = tmp_path / "pulumi"
    cli.symlink_to(sys.executable)
    proc = "/proc" if source == "proc" else str(tmp_path / "no-proc")
    host = (
        "import json, os, pathlib; from truto_pulumi._run import cli_command_line; "
        f"print(json.dumps(cli_command_line(os.getppid(), proc=pathlib.Path({proc!r}))))"
    )
    child = ["sh", "-c", '"$@"; exit $?', "sh", sys.executable, "-c", host]
    run_child = "import json, os, subprocess, sys; subprocess.run(json.loads(os.environ['CHILD']))"
    done = subprocess.run(
        [str(cli), "-c", run_child, "up", "--replace", URN, "--yes"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
        env={**os.environ, "CHILD": json.dumps(child)},
    )
    argv = json.loads(done.stdout)
    assert argv[0] == str(cli)
    assert replace_targets(argv, {}) == (URN,)
    assert cli_command_line(os.getpid()) == []  # no `pulumi` above the tests


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
