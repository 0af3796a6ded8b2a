"""The lookups a program calls (`get_integrated_accounts`, `get_mcp_servers` and their `_output`
forms): in the test's own process, as in a program's, against the emulator. What they send to
Truto (every page, each filter), what they return (frozen records without credentials or MCP
tokens), where they read their settings, how they fail, and their pacing."""

from __future__ import annotations

import dataclasses
import functools
import json
import os
import socket
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pulumi
import pytest
from pulumi.runtime import config as runtime_config

from truto_pulumi import (
    IntegratedAccount,
    McpServerInfo,
    TrutoLookupError,
    _lookups,
    get_integrated_accounts,
    get_mcp_servers,
)
from truto_pulumi._lookups import ACCOUNT_PAGE_SIZE
from truto_pulumi._mark import CreateMark
from truto_pulumi._ratelimit import RateLimiter
from truto_pulumi.emulator import Emulator, run_emulator
from truto_pulumi.testing import run_program

from .kit import ACCOUNT, ODD_TOKEN, OTHER_ACCOUNT, FakeClock, shows_token
from .lifecycle.helpers import made_in_dashboard

API_TOKEN_KEY = "truto:apiToken"
BASE_URL_KEY = "truto:baseUrl"
"""The settings as the README documents them: what a user types."""

ACCOUNT_FIELDS = (
    "id",
    "tenant_id",
    "environment_integration_id",
    "status",
    "is_sandbox",
    "region",
    "created_at",
    "updated_at",
    "integration_name",
)
SERVER_FIELDS = (
    "id",
    "integrated_account_id",
    "name",
    "config",
    "expires_at",
    "created_at",
    "updated_at",
    "created_by",
)


def forget_clients() -> None:
    """Close and forget the clients the lookups keep per settings in this process."""
    for client in _lookups._clients.values():
        client.close()
    _lookups._clients.clear()


@pytest.fixture(autouse=True)
def fresh_lookups(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """No `TRUTO_*` or `PULUMI_CONFIG*` environment, an empty stack config and no client of an
    earlier test; the stack config as it was afterwards (`run_program` sets it too)."""
    for name in list(os.environ):
        if name.startswith(("TRUTO_", "PULUMI_CONFIG")):
            monkeypatch.delenv(name)
    saved = runtime_config.CONFIG.get()
    pulumi.runtime.set_all_config({})
    forget_clients()
    yield
    forget_clients()
    runtime_config.CONFIG.set(saved)


@pytest.fixture
def truto(emulator: Emulator) -> Iterator[Emulator]:
    """The module's emulator (every UUID an account), reset; reset again at the end (page
    limit, rate limit and accounts back to the start)."""
    emulator.reset()
    yield emulator
    emulator.set_rate_limit(None)
    emulator.reset()


@pytest.fixture(scope="module")
def other_environment() -> Iterator[Emulator]:
    """Another Truto environment, whose only account is `OTHER_ACCOUNT`."""
    with run_emulator(accounts=[OTHER_ACCOUNT]) as running:
        yield running


def configure(emulator: Emulator, **settings: str) -> None:
    """The program's stack config: the emulator's token and URL, then `settings` (by key)."""
    pulumi.runtime.set_all_config(
        {API_TOKEN_KEY: emulator.api_token, BASE_URL_KEY: emulator.url, **settings}
    )


def listings(emulator: Emulator, path: str = "/integrated-account") -> list[dict[str, Any]]:
    """The journal's GETs of one list (the account list unless told)."""
    return [e for e in emulator.journal() if e["method"] == "GET" and e["path"] == path]


def closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


# --- arguments checked before any request (no emulator) --------------------------------------


@pytest.mark.parametrize(
    ("arguments", "named"),
    [
        pytest.param({"status": "enabled"}, "status must be one of active", id="unknown-status"),
        pytest.param({"status": "Active"}, "status must be one of active", id="status-case"),
        pytest.param({"is_sandbox": "true"}, "is_sandbox must be True or False", id="sandbox-str"),
        pytest.param({"is_sandbox": 1}, "is_sandbox must be True or False", id="sandbox-int"),
        pytest.param({"tenant_id": ""}, "tenant_id must be a non-empty string", id="tenant-empty"),
        pytest.param({"integration": 7}, "integration must be a non-empty string", id="integ-int"),
        pytest.param({"created_at": " "}, "created_at must be a non-empty string", id="blank-at"),
        pytest.param({"super_query": "yes"}, "super_query must be True or False", id="sq-str"),
        pytest.param({"filters": {"": "x"}}, "a key of filters must be", id="filter-blank-key"),
        pytest.param({"filters": {"created_at[gt]": 5}}, "filters['created_at[gt]']", id="f-int"),
        pytest.param(
            {"status": "active", "filters": {"status": "active"}},
            "filters repeats 'status'",
            id="filter-repeats-a-named-one",
        ),
        pytest.param({"filters": {"limit": "5"}}, "filters repeats 'limit'", id="filter-limit"),
        *[
            pytest.param(
                {"integrated_account_id": account},
                "get_mcp_servers: integrated_account_id must be",
                id=f"servers-of-{account!r}",
            )
            for account in ("", "  ", None, 42)
        ],
    ],
)
def test_a_bad_argument_fails_before_any_request(arguments: dict[str, Any], named: str) -> None:
    # No token is configured: had the lookup gone on, it would have failed on that instead.
    lookup = get_mcp_servers if "integrated_account_id" in arguments else get_integrated_accounts
    with pytest.raises(TrutoLookupError) as raised:
        lookup(**arguments)
    assert str(raised.value).startswith(f"{lookup.__name__}: ")
    assert named in str(raised.value)
    assert _lookups._clients == {}  # no client made, so no request sent


@pytest.mark.parametrize(
    ("config", "said", "setting"),
    [
        pytest.param(
            {BASE_URL_KEY: "http://127.0.0.1:9"},
            ["get_mcp_servers: no Truto API token", API_TOKEN_KEY, "TRUTO_API_TOKEN"],
            API_TOKEN_KEY,
            id="no_token",
        ),
        pytest.param(
            {API_TOKEN_KEY: ODD_TOKEN, "truto:baseURL": "http://x.invalid"},
            ["get_mcp_servers: unknown setting truto:baseURL", "did you mean truto:baseUrl?"],
            "truto:baseURL",
            id="misspelt_setting",
        ),
    ],
)
def test_a_settings_problem_is_refused_naming_the_setting_before_any_request(
    config: dict[str, str], said: list[str], setting: str
) -> None:
    """As the lookup says it; every problem a setting can have: tests/test_settings.py."""
    pulumi.runtime.set_all_config(config)
    with pytest.raises(TrutoLookupError) as raised:
        get_mcp_servers(ACCOUNT)
    assert all(words in str(raised.value) for words in said), raised.value
    assert raised.value.setting == setting
    assert shows_token(str(raised.value)) == []
    assert _lookups._clients == {}


# --- the `_output` forms while an input is unknown (preview; no emulator) ---------------------

RECORDER = """\
import json
import pathlib


def record(values):
    pathlib.Path(__file__).with_name("seen.json").write_text(json.dumps(values))
"""


def program(folder: Path, code: str) -> Path:
    """A program file in `folder` with `record(values)`, which `seen` reads back."""
    path = folder / "program.py"
    path.write_text(RECORDER + textwrap.dedent(code))
    return path


def seen(folder: Path) -> Any:
    return json.loads((folder / "seen.json").read_text())


def test_the_output_forms_stay_unknown_while_an_input_is_unknown(tmp_path: Path) -> None:
    path = program(
        tmp_path,
        """
        import pulumi
        from truto_pulumi import get_integrated_accounts_output, get_mcp_servers_output

        # An output the preview does not know yet (the mocks do not answer it).
        thing = pulumi.CustomResource("test:index:Thing", "lamp", {"account": None})
        accounts = get_integrated_accounts_output(integration="hubspot", tenant_id=thing.account)
        servers = get_mcp_servers_output(thing.account)
        pulumi.Output.all(
            thing.account.is_known(), accounts.is_known(), servers.is_known()
        ).apply(record)
        """,
    )

    run_program(path, preview=True)  # no token configured: a lookup that ran would fail

    assert seen(tmp_path) == [False, False, False]
    assert _lookups._clients == {}


# --- every page, each filter ------------------------------------------------------------------


def access_token(account: dict[str, Any]) -> str:
    """The credential Truto keeps in an account's `context` (the emulator's is fake)."""
    token: str = account["context"]["oauth"]["token"]["access_token"]
    return token


@pytest.mark.slow
def test_every_page_of_accounts_is_read_into_frozen_records_without_credentials(
    truto: Emulator,
) -> None:
    truto.set_readings(list_key="results")  # Truto's other reading: the servers' test below
    first = truto.add_account(integration="salesforce", tenant_id="acme", region="eu")
    added = [first] + [truto.add_account(tenant_id=f"tenant-{n:03d}") for n in range(119)]
    truto.set_account_page_limit(50)
    truto.clear_journal()
    configure(truto)

    accounts = get_integrated_accounts()

    assert [a.id for a in accounts] == [a["id"] for a in truto.accounts()]  # Truto's order
    assert sorted(a.id for a in accounts) == sorted(a["id"] for a in added)
    pages = listings(truto)
    assert [entry["query"].get("limit") for entry in pages] == [str(ACCOUNT_PAGE_SIZE)] * 3
    assert ["next_cursor" in entry["query"] for entry in pages] == [False, True, True]
    assert {entry["method"] for entry in truto.journal()} == {"GET"}  # a lookup only reads
    (account,) = [a for a in accounts if a.id == first["id"]]
    assert isinstance(account, IntegratedAccount)
    assert tuple(f.name for f in dataclasses.fields(account)) == ACCOUNT_FIELDS
    assert dataclasses.asdict(account) == {
        "id": first["id"],
        "tenant_id": "acme",
        "environment_integration_id": first["environment_integration_id"],
        "status": "active",
        "is_sandbox": False,
        "region": "eu",
        "created_at": first["created_at"],
        "updated_at": first["updated_at"],
        "integration_name": "salesforce",
    }
    with pytest.raises(dataclasses.FrozenInstanceError):
        account.status = "needs_reauth"  # type: ignore[misc]
    assert not hasattr(account, "context")
    secret = access_token(first)
    assert secret not in repr(account)
    assert secret not in json.dumps(dataclasses.asdict(account))


FOUR_ACCOUNTS = [
    {"integration": "hubspot", "tenant_id": "acme", "status": "active", "is_sandbox": False},
    {"integration": "hubspot", "tenant_id": "globex", "status": "needs_reauth", "is_sandbox": True},
    {"integration": "salesforce", "tenant_id": "acme", "status": "connecting", "is_sandbox": False},
    {"integration": "jira", "tenant_id": "initech", "status": "active", "is_sandbox": True},
]
INSTANT = "2999-01-01T00:00:00.000Z"
SUPER_QUERY = (1, 2)
"""The accounts among them with Truto's `features.super_query`."""


@pytest.mark.slow
@pytest.mark.parametrize(
    ("arguments", "query", "kept"),
    [
        pytest.param({"integration": "hubspot"}, {"integration.name": "hubspot"}, [0, 1], id="i"),
        pytest.param({"tenant_id": "acme"}, {"tenant_id": "acme"}, [0, 2], id="tenant"),
        pytest.param({"status": "active"}, {"status": "active"}, [0, 3], id="status"),
        pytest.param({"is_sandbox": True}, {"is_sandbox": "true"}, [1, 3], id="sandbox"),
        pytest.param({"is_sandbox": False}, {"is_sandbox": "false"}, [0, 2], id="not-sandbox"),
        pytest.param(
            {"integration": "hubspot", "status": "needs_reauth"},
            {"integration.name": "hubspot", "status": "needs_reauth"},
            [1],
            id="integration-and-status",
        ),
        pytest.param({"integration": "zendesk"}, {"integration.name": "zendesk"}, [], id="none"),
        pytest.param({"super_query": True}, {"features.super_query": "true"}, [1, 2], id="sq"),
        pytest.param(
            {"super_query": False, "filters": {"tenant_id": "acme"}},
            {"features.super_query": "false", "tenant_id": "acme"},
            [0],
            id="super-query-off-and-a-passed-filter",
        ),
        # Instants: Truto compares them (tests/emulator holds the emulator to it).
        pytest.param({"created_at": INSTANT}, {"created_at": INSTANT}, [], id="created-at"),
        pytest.param(
            {"filters": {"updated_at[lt]": INSTANT}},
            {"updated_at[lt]": INSTANT},
            [0, 1, 2, 3],
            id="updated-before",
        ),
    ],
)
def test_each_filter_reaches_truto_and_narrows_the_accounts(
    truto: Emulator, arguments: dict[str, Any], query: dict[str, str], kept: list[int]
) -> None:
    added = [
        truto.add_account(**fields, super_query=index in SUPER_QUERY)
        for index, fields in enumerate(FOUR_ACCOUNTS)
    ]
    truto.clear_journal()
    configure(truto)

    accounts = get_integrated_accounts(**arguments)

    wanted = {added[index]["id"] for index in kept}
    assert [a.id for a in accounts] == [a["id"] for a in truto.accounts() if a["id"] in wanted]
    (listing,) = listings(truto)
    assert listing["query"] == {**query, "limit": str(ACCOUNT_PAGE_SIZE)}
    for account in accounts:  # each record agrees with the filter it passed
        assert {
            "integration": account.integration_name,
            "tenant_id": account.tenant_id,
            "status": account.status,
            "is_sandbox": account.is_sandbox,
        } == FOUR_ACCOUNTS[[a["id"] for a in added].index(account.id)]


@pytest.mark.slow
def test_get_mcp_servers_lists_every_server_over_pages_without_tokens_or_those_in_flight(
    truto: Emulator,
) -> None:
    in_flight = made_in_dashboard(truto, ACCOUNT, name=CreateMark.drawn(None).on("agent"))
    made = [
        made_in_dashboard(truto, ACCOUNT, name=f"server {n:03d}", config={"methods": ["read"]})
        for n in range(105)  # more than one page of Truto's default 100
    ]
    made_in_dashboard(truto, OTHER_ACCOUNT, name="elsewhere")
    truto.clear_journal()
    configure(truto)

    servers = get_mcp_servers(ACCOUNT)

    assert sorted(s.id for s in servers) == sorted(s["id"] for s in made)
    assert len(listings(truto, f"/integrated-account/{ACCOUNT}/mcp")) == 2
    assert all(isinstance(s, McpServerInfo) for s in servers)
    assert tuple(f.name for f in dataclasses.fields(McpServerInfo)) == SERVER_FIELDS
    by_id = {s["id"]: s for s in made}
    for server in servers:
        live = by_id[server.id]
        assert (server.integrated_account_id, server.name, server.config) == (
            ACCOUNT,
            live["name"],
            live["config"],  # as Truto lists it, its defaults echoed
        )
        assert (server.created_at, server.created_by) == (live["created_at"], live["created_by"])
    shown = repr(servers) + json.dumps([dataclasses.asdict(s) for s in servers])
    assert not any(s["token"] in shown or s["url"] in shown for s in made)
    values = {str(v) for s in servers for v in dataclasses.asdict(s).values()}
    assert not values & {s["token"] for s in made}
    every = get_mcp_servers(ACCOUNT, include_in_flight=True)  # unless asked for
    assert sorted(s.id for s in every) == sorted([in_flight["id"], *by_id])


# --- settings ---------------------------------------------------------------------------------


@pytest.mark.slow
def test_without_stack_config_the_settings_come_from_the_environment(
    truto: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Which wins when both are set: tests/test_settings.py (`resolve_settings`)."""
    server = made_in_dashboard(truto, ACCOUNT, name="found")
    monkeypatch.setenv("TRUTO_API_TOKEN", truto.api_token)
    monkeypatch.setenv("TRUTO_BASE_URL", truto.url)

    assert [s.id for s in get_mcp_servers(ACCOUNT)] == [server["id"]]


# --- failures ---------------------------------------------------------------------------------


def lookup_error(call: Any, *args: Any) -> TrutoLookupError:
    with pytest.raises(TrutoLookupError) as raised:
        call(*args)
    return raised.value


NOT_AN_ACCOUNT = f"integrated account {ACCOUNT} does not exist for this API token"


@pytest.mark.slow
@pytest.mark.parametrize(
    ("case", "said", "setting"),
    [
        ("wrong_token", ["Truto refused the API token", API_TOKEN_KEY], API_TOKEN_KEY),
        (
            "base_url_with_a_wrong_path",
            ["Truto answered 404", f"{BASE_URL_KEY} ({{url}}) does not point at Truto's API"],
            BASE_URL_KEY,
        ),
        ("unreachable", ["could not read Truto at {url}", BASE_URL_KEY], BASE_URL_KEY),
        (
            "unavailable_until_the_operation_timeout",
            ["could not read Truto at {url}", "503", f"check {BASE_URL_KEY}, or run again"],
            BASE_URL_KEY,
        ),
        ("account_of_another_environment", ["Truto answered 404", NOT_AN_ACCOUNT], BASE_URL_KEY),
        ("removed_account", ["404", NOT_AN_ACCOUNT], BASE_URL_KEY),
    ],
)
def test_a_failed_lookup_names_itself_the_cause_and_the_setting_never_the_token(
    truto: Emulator, other_environment: Emulator, case: str, said: list[str], setting: str
) -> None:
    made_in_dashboard(truto, ACCOUNT, name="in the first environment")
    config = {API_TOKEN_KEY: truto.api_token, BASE_URL_KEY: truto.url}
    if case == "wrong_token":
        config[API_TOKEN_KEY] = ODD_TOKEN
    elif case == "base_url_with_a_wrong_path":
        config[BASE_URL_KEY] = f"{truto.url}/v1"
    elif case == "unreachable":
        config = {API_TOKEN_KEY: ODD_TOKEN, BASE_URL_KEY: f"http://127.0.0.1:{closed_port()}"}
    elif case == "unavailable_until_the_operation_timeout":
        truto.inject(method="GET", status=503, times=1000)
    elif case == "account_of_another_environment":
        config = {API_TOKEN_KEY: other_environment.api_token, BASE_URL_KEY: other_environment.url}
    else:
        truto.remove_account(ACCOUNT)
    pulumi.runtime.set_all_config({**config, "truto:operationTimeoutSeconds": "1"})

    with pytest.raises(TrutoLookupError) as raised:
        get_mcp_servers(ACCOUNT)

    message = str(raised.value)
    assert message.startswith("get_mcp_servers: ")
    for words in said:
        assert words.format(url=config[BASE_URL_KEY]) in message
    assert raised.value.setting == setting
    assert shows_token(message, config[API_TOKEN_KEY]) == []
    assert shows_token(repr(raised.value.__cause__), config[API_TOKEN_KEY]) == []
    truto.clear_faults()


# --- the `_output` forms resolve to what the plain forms return -------------------------------


@pytest.mark.slow
def test_the_output_forms_resolve_to_the_same_records(truto: Emulator, tmp_path: Path) -> None:
    for fields in FOUR_ACCOUNTS:
        truto.add_account(**fields)
    made_in_dashboard(truto, ACCOUNT, name="one", config={"tags": ["a"]})
    made_in_dashboard(truto, ACCOUNT, name="two")
    path = program(
        tmp_path,
        f"""
        import dataclasses

        import pulumi
        from truto_pulumi import get_integrated_accounts_output, get_mcp_servers_output

        accounts = get_integrated_accounts_output(
            integration=pulumi.Output.from_input("hubspot"), status=None
        )
        servers = get_mcp_servers_output(pulumi.Output.from_input("{ACCOUNT}"))
        pulumi.Output.all(accounts, servers).apply(
            lambda found: record([[dataclasses.asdict(r) for r in rows] for rows in found])
        )
        """,
    )
    settings = {API_TOKEN_KEY: truto.api_token, BASE_URL_KEY: truto.url}

    run_program(path, config=settings)

    configure(truto)
    assert seen(tmp_path) == [
        [dataclasses.asdict(a) for a in get_integrated_accounts(integration="hubspot")],
        [dataclasses.asdict(s) for s in get_mcp_servers(ACCOUNT)],
    ]
    assert len(seen(tmp_path)[0]) == 2


# --- pacing -----------------------------------------------------------------------------------


@pytest.mark.slow
def test_lookups_of_one_process_share_one_pacing(
    truto: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The limiter allows `rate` x 10 requests in any 10 s (Truto's window): at 0.2 per second,
    2; the third request, of another lookup, waits for the window. On a fake clock: that the
    limiter keeps under Truto's limit is tests/test_ratelimit.py's."""
    clock = FakeClock()
    paced = functools.partial(RateLimiter, clock=clock, sleep=clock.sleep)
    monkeypatch.setattr("truto_pulumi._client.RateLimiter", paced)
    truto.add_account()
    truto.add_account()
    truto.set_account_page_limit(1)  # two pages
    truto.clear_journal()
    configure(truto, **{"truto:maxRequestsPerSecond": "0.2"})

    assert len(get_integrated_accounts()) == 2  # two requests: within the budget
    assert clock.waits == []
    assert get_mcp_servers(ACCOUNT) == []  # a third: it waits for the window

    (waited,) = clock.waits
    assert 10 <= waited < 11
    assert [e["path"] for e in truto.journal()] == [
        "/integrated-account",
        "/integrated-account",
        f"/integrated-account/{ACCOUNT}/mcp",
    ]
    assert len(_lookups._clients) == 1  # one client, so one limiter, for both lookups
