"""The lookups a program calls (`get_integrated_accounts`, `get_mcp_servers` and their `_output`
forms): in the test's own process, as in a program's, against the emulator. What they send to
Truto (every page, each filter), what they return (frozen records without credentials or MCP
tokens), where they read their settings, how they fail, and their pacing."""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import socket
import textwrap
import time
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
from truto_pulumi.emulator import Emulator, run_emulator
from truto_pulumi.testing import run_program

from .kit import ACCOUNT, ODD_TOKEN, OTHER_ACCOUNT, shows_token
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
    ],
)
def test_a_bad_filter_fails_before_any_request(arguments: dict[str, Any], named: str) -> None:
    # No token is configured: had the lookup gone on, it would have failed on that instead.
    with pytest.raises(TrutoLookupError) as raised:
        get_integrated_accounts(**arguments)
    assert str(raised.value).startswith("get_integrated_accounts: ")
    assert named in str(raised.value)
    assert _lookups._clients == {}  # no client made, so no request sent


@pytest.mark.parametrize("account", ["", "  ", None, 42])
def test_get_mcp_servers_of_no_account_fails_before_any_request(account: Any) -> None:
    with pytest.raises(TrutoLookupError, match="get_mcp_servers: integrated_account_id must be"):
        get_mcp_servers(account)
    assert _lookups._clients == {}


def test_without_a_token_the_lookup_names_the_setting() -> None:
    pulumi.runtime.set_all_config({BASE_URL_KEY: "http://127.0.0.1:9"})
    with pytest.raises(TrutoLookupError) as raised:
        get_integrated_accounts()
    message = str(raised.value)
    assert message.startswith("get_integrated_accounts: no Truto API token")
    assert API_TOKEN_KEY in message
    assert "TRUTO_API_TOKEN" in message
    assert raised.value.setting == API_TOKEN_KEY
    assert _lookups._clients == {}


def test_a_misspelt_setting_is_refused_naming_it_before_the_token_goes_anywhere() -> None:
    pulumi.runtime.set_all_config({API_TOKEN_KEY: ODD_TOKEN, "truto:baseURL": "http://x.invalid"})
    with pytest.raises(TrutoLookupError) as raised:
        get_mcp_servers(ACCOUNT)
    message = str(raised.value)
    assert message.startswith("get_mcp_servers: unknown setting truto:baseURL")
    assert "did you mean truto:baseUrl?" in message
    assert raised.value.setting == "truto:baseURL"
    assert shows_token(message) == []
    assert _lookups._clients == {}


def test_an_invalid_base_url_is_refused_naming_it() -> None:
    pulumi.runtime.set_all_config({API_TOKEN_KEY: ODD_TOKEN, BASE_URL_KEY: "ftp://truto"})
    with pytest.raises(TrutoLookupError) as raised:
        get_integrated_accounts()
    assert raised.value.setting == BASE_URL_KEY
    assert f"{BASE_URL_KEY} must be the http(s) URL of Truto's API" in str(raised.value)


def test_a_lookup_error_is_a_run_error() -> None:
    """So the Pulumi CLI shows the message alone, without a Python traceback."""
    with pytest.raises(pulumi.RunError):
        get_integrated_accounts(status="gone")


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


@pytest.mark.slow
@pytest.mark.parametrize("list_key", ["result", "results"])
def test_every_page_of_accounts_is_read(truto: Emulator, list_key: str) -> None:
    truto.set_readings(list_key=list_key)
    added = [truto.add_account(tenant_id=f"tenant-{n:03d}") for n in range(120)]
    truto.set_account_page_limit(50)
    truto.clear_journal()
    configure(truto)

    accounts = get_integrated_accounts()

    assert [a.id for a in accounts] == [a["id"] for a in truto.accounts()]  # Truto's order
    assert sorted(a.id for a in accounts) == sorted(a["id"] for a in added)
    assert len({a.id for a in accounts}) == 120
    pages = listings(truto)
    assert len(pages) == 3
    assert [entry["query"].get("limit") for entry in pages] == [str(ACCOUNT_PAGE_SIZE)] * 3
    assert ["next_cursor" in entry["query"] for entry in pages] == [False, True, True]
    assert {entry["method"] for entry in truto.journal()} == {"GET"}  # a lookup only reads


FOUR_ACCOUNTS = [
    {"integration": "hubspot", "tenant_id": "acme", "status": "active", "is_sandbox": False},
    {"integration": "hubspot", "tenant_id": "globex", "status": "needs_reauth", "is_sandbox": True},
    {"integration": "salesforce", "tenant_id": "acme", "status": "connecting", "is_sandbox": False},
    {"integration": "jira", "tenant_id": "initech", "status": "active", "is_sandbox": True},
]
SUPER_QUERY = (1, 2)
"""The accounts among them with Truto's `features.super_query`."""
"""The accounts the filter test adds."""


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
@pytest.mark.parametrize("field", ["created_at", "updated_at"])
def test_the_instant_filters_reach_truto(truto: Emulator, field: str) -> None:
    for fields in FOUR_ACCOUNTS:
        truto.add_account(**fields)
    time.sleep(0.01)  # a later millisecond than any account so far
    edited = truto.edit_account(truto.accounts()[2]["id"], status="active")
    instant = edited[field]
    truto.clear_journal()
    configure(truto)

    accounts = get_integrated_accounts(**{field: instant})

    expected = [a["id"] for a in truto.accounts() if a[field] == instant]
    assert [a.id for a in accounts] == expected
    assert edited["id"] in expected
    (listing,) = listings(truto)
    assert listing["query"][field] == instant

    before = get_integrated_accounts(filters={f"{field}[lt]": instant})
    since = get_integrated_accounts(filters={f"{field}[gte]": instant})

    assert [a.id for a in before] == [a["id"] for a in truto.accounts() if a[field] < instant]
    assert [a.id for a in since] == [a["id"] for a in truto.accounts() if a[field] >= instant]
    assert len(before) + len(since) == len(FOUR_ACCOUNTS)
    assert edited["id"] in {a.id for a in since}


# --- the records ------------------------------------------------------------------------------


def access_token(account: dict[str, Any]) -> str:
    """The credential Truto keeps in an account's `context` (the emulator's is fake)."""
    token: str = account["context"]["oauth"]["token"]["access_token"]
    return token


@pytest.mark.slow
def test_account_records_are_frozen_with_the_documented_fields_and_no_credentials(
    truto: Emulator,
) -> None:
    added = truto.add_account(integration="salesforce", tenant_id="acme", region="eu")
    secret = access_token(added)
    configure(truto)

    (account,) = get_integrated_accounts()

    assert isinstance(account, IntegratedAccount)
    assert tuple(f.name for f in dataclasses.fields(account)) == ACCOUNT_FIELDS
    assert dataclasses.asdict(account) == {
        "id": added["id"],
        "tenant_id": "acme",
        "environment_integration_id": added["environment_integration_id"],
        "status": "active",
        "is_sandbox": False,
        "region": "eu",
        "created_at": added["created_at"],
        "updated_at": added["updated_at"],
        "integration_name": "salesforce",
    }
    with pytest.raises(dataclasses.FrozenInstanceError):
        account.status = "needs_reauth"  # type: ignore[misc]
    assert not hasattr(account, "context")
    assert secret not in repr(account)
    assert secret not in json.dumps(dataclasses.asdict(account))


@pytest.mark.slow
@pytest.mark.parametrize("list_key", ["result", "results"])
def test_get_mcp_servers_lists_every_server_over_pages_without_tokens(
    truto: Emulator, list_key: str
) -> None:
    truto.set_readings(list_key=list_key)
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


# --- settings ---------------------------------------------------------------------------------


@pytest.mark.slow
def test_servers_in_flight_are_left_out_unless_asked_for(truto: Emulator) -> None:
    kept = made_in_dashboard(truto, ACCOUNT, name="agent")
    in_flight = made_in_dashboard(truto, ACCOUNT, name=CreateMark.drawn(None).on("agent"))
    configure(truto)

    assert [s.id for s in get_mcp_servers(ACCOUNT)] == [kept["id"]]
    every = get_mcp_servers(ACCOUNT, include_in_flight=True)
    assert sorted(s.id for s in every) == sorted([kept["id"], in_flight["id"]])


@pytest.mark.slow
def test_settings_from_the_stack_config_win_over_the_environment(
    truto: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TRUTO_API_TOKEN", "not-the-token")
    monkeypatch.setenv("TRUTO_BASE_URL", "http://127.0.0.1:9")
    truto.add_account()
    configure(truto)

    assert len(get_integrated_accounts()) == 1


@pytest.mark.slow
def test_settings_from_the_environment_without_stack_config(
    truto: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TRUTO_API_TOKEN", truto.api_token)
    monkeypatch.setenv("TRUTO_BASE_URL", truto.url)
    server = made_in_dashboard(truto, ACCOUNT, name="from env")

    assert [s.id for s in get_mcp_servers(ACCOUNT)] == [server["id"]]


# --- failures ---------------------------------------------------------------------------------


def lookup_error(call: Any, *args: Any) -> TrutoLookupError:
    with pytest.raises(TrutoLookupError) as raised:
        call(*args)
    return raised.value


@pytest.mark.slow
def test_a_wrong_token_names_the_lookup_and_the_token_setting_never_the_token(
    truto: Emulator,
) -> None:
    pulumi.runtime.set_all_config({API_TOKEN_KEY: ODD_TOKEN, BASE_URL_KEY: truto.url})

    error = lookup_error(get_integrated_accounts)

    message = str(error)
    assert message.startswith("get_integrated_accounts: Truto refused the API token")
    assert API_TOKEN_KEY in message
    assert error.setting == API_TOKEN_KEY
    assert shows_token(message) == []
    assert shows_token(repr(error.__cause__)) == []
    assert [e["status"] for e in truto.journal()] == [401]  # no retry of a refusal


@pytest.mark.slow
def test_a_base_url_with_a_wrong_path_names_the_base_url_and_the_404(truto: Emulator) -> None:
    configure(truto, **{BASE_URL_KEY: f"{truto.url}/v1"})

    error = lookup_error(get_integrated_accounts)

    message = str(error)
    assert message.startswith("get_integrated_accounts: Truto answered 404")
    assert f"{BASE_URL_KEY} ({truto.url}/v1) does not point at Truto's API" in message
    assert error.setting == BASE_URL_KEY


@pytest.mark.slow
def test_an_unreachable_base_url_names_the_base_url() -> None:
    url = f"http://127.0.0.1:{closed_port()}"
    pulumi.runtime.set_all_config(
        {API_TOKEN_KEY: ODD_TOKEN, BASE_URL_KEY: url, "truto:operationTimeoutSeconds": "1"}
    )

    error = lookup_error(get_mcp_servers, ACCOUNT)

    message = str(error)
    assert message.startswith(f"get_mcp_servers: could not read Truto at {url}")
    assert BASE_URL_KEY in message
    assert error.setting == BASE_URL_KEY
    assert shows_token(message) == []


@pytest.mark.slow
def test_truto_unavailable_until_the_operation_timeout_names_the_base_url(
    truto: Emulator,
) -> None:
    truto.inject(method="GET", status=503, times=1000)
    configure(truto, **{"truto:operationTimeoutSeconds": "1"})
    started = time.monotonic()

    error = lookup_error(get_integrated_accounts)

    assert time.monotonic() - started < 5
    message = str(error)
    assert message.startswith(f"get_integrated_accounts: could not read Truto at {truto.url}")
    assert "503" in message
    assert f"check {BASE_URL_KEY}, or run again if Truto was unavailable" in message
    assert error.setting == BASE_URL_KEY
    assert len(truto.journal()) > 1  # retried within the timeout
    truto.clear_faults()


@pytest.mark.slow
def test_servers_of_an_account_of_another_environment_name_the_account(
    truto: Emulator, other_environment: Emulator
) -> None:
    made_in_dashboard(truto, ACCOUNT, name="in the first environment")
    configure(other_environment)

    error = lookup_error(get_mcp_servers, ACCOUNT)

    message = str(error)
    assert message.startswith("get_mcp_servers: Truto answered 404")
    assert f"integrated account {ACCOUNT} does not exist for this API token" in message
    assert error.setting == BASE_URL_KEY


@pytest.mark.slow
def test_servers_of_a_removed_account_name_the_account(truto: Emulator) -> None:
    made_in_dashboard(truto, ACCOUNT, name="gone with its account")
    truto.remove_account(ACCOUNT)
    configure(truto)

    error = lookup_error(get_mcp_servers, ACCOUNT)

    assert f"integrated account {ACCOUNT} does not exist for this API token" in str(error)
    assert "404" in str(error)


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
def test_lookups_of_one_process_share_the_pacing_and_stay_under_truto_s_limit(
    truto: Emulator,
) -> None:
    """The limiter allows `rate` x 10 requests in any 10 s (Truto's window): at 0.2 per second,
    2. The emulator enforces the same, so a request sent too early would meet a 429."""
    truto.add_account()
    truto.add_account()
    truto.set_account_page_limit(1)  # two pages
    truto.set_rate_limit(2, per_seconds=10)
    truto.clear_journal()
    configure(truto, **{"truto:maxRequestsPerSecond": "0.2"})
    started = time.monotonic()

    assert len(get_integrated_accounts()) == 2  # two requests: within the budget
    listed = time.monotonic() - started
    assert get_mcp_servers(ACCOUNT) == []  # a third: it waits for the window
    waited = time.monotonic() - started

    assert listed < 5
    assert waited >= 9.5
    journal = truto.journal()
    assert [(e["path"], e["status"]) for e in journal] == [
        ("/integrated-account", 200),
        ("/integrated-account", 200),
        (f"/integrated-account/{ACCOUNT}/mcp", 200),  # never a 429
    ]
    assert journal[2]["ts"] - journal[0]["ts"] >= 9.5
    assert len(_lookups._clients) == 1  # one client, so one limiter, for both lookups


# --- logging ----------------------------------------------------------------------------------


@pytest.mark.slow
def test_debug_logs_of_the_lookups_show_no_token(
    truto: Emulator, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="truto_pulumi")
    added = truto.add_account()
    server = made_in_dashboard(truto, ACCOUNT, name="logged")
    truto.inject(method="GET", status=503)  # a retry, logged too
    configure(truto)
    get_integrated_accounts()
    get_mcp_servers(ACCOUNT)
    forget_clients()
    pulumi.runtime.set_all_config({API_TOKEN_KEY: ODD_TOKEN, BASE_URL_KEY: truto.url})
    lookup_error(get_mcp_servers, ACCOUNT)  # refused: 401

    text = caplog.text
    assert any(r.name.startswith("truto_pulumi") for r in caplog.records)
    assert any(r.levelno == logging.DEBUG for r in caplog.records)
    assert truto.api_token not in text
    assert shows_token(text) == []
    assert server["token"] not in text
    assert access_token(added) not in text
