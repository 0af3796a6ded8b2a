"""The lookups a program calls (`get_integrated_accounts`, `get_mcp_servers` and their `_output`
forms): in the test's own process, as in a program's, against the emulator. What they send to
Truto (every page, each filter), what they return (frozen records without credentials or MCP
tokens), where they read their settings, how they fail, and their pacing."""

from __future__ import annotations

import dataclasses
import functools
import os
import socket
from collections.abc import Iterator
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
    get_integrated_accounts_output,
    get_mcp_servers,
    get_mcp_servers_output,
)
from truto_pulumi._lookups import ACCOUNT_PAGE_SIZE
from truto_pulumi._mark import CreateMark
from truto_pulumi._ratelimit import RateLimiter
from truto_pulumi.emulator import Emulator
from truto_pulumi.testing import install_mocks

from .kit import ACCOUNT, ODD_TOKEN, OTHER_ACCOUNT, FakeClock, shows_token
from .lifecycle.helpers import collection_path

API_TOKEN_KEY = "truto:apiToken"
BASE_URL_KEY = "truto:baseUrl"
"""The settings as the README documents them: what a user types."""


def forget_clients() -> None:
    """Close and forget the clients the lookups keep per settings in this process."""
    for client in _lookups._clients.values():
        client.close()
    _lookups._clients.clear()


@pytest.fixture(autouse=True)
def fresh_lookups(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """No `TRUTO_*` or `PULUMI_CONFIG*` environment, an empty stack config and no client of an
    earlier test; the stack config as it was afterwards."""
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
    """The module's emulator, reset; reset again at the end (page limit, rate limit, faults and
    accounts back to the start)."""
    emulator.reset()
    yield emulator
    emulator.set_rate_limit(None)
    emulator.reset()


def configure(emulator: Emulator, **settings: str) -> None:
    """The program's stack config: the emulator's token and URL, then `settings` (by key)."""
    pulumi.runtime.set_all_config(
        {API_TOKEN_KEY: emulator.api_token, BASE_URL_KEY: emulator.url, **settings}
    )


def listings(emulator: Emulator, path: str = "/integrated-account") -> list[dict[str, Any]]:
    """The journal's GETs of one list (the account list unless told)."""
    return [e for e in emulator.journal() if e["method"] == "GET" and e["path"] == path]


def made(emulator: Emulator, account: str, *names: str) -> list[dict[str, Any]]:
    """Servers made outside Pulumi (as in Truto's dashboard), with their tokens."""
    with emulator.client() as http:
        answers = [
            http.post(collection_path(account), json={"name": name, "config": {"tags": ["a"]}})
            for name in names
        ]
    return [answer.raise_for_status().json() for answer in answers]


# --- arguments and settings checked before any request (no emulator) -------------------------


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
        pytest.param(
            {API_TOKEN_KEY: ODD_TOKEN, BASE_URL_KEY: "ftp://truto.invalid"},
            ["get_mcp_servers: truto:baseUrl must be the http(s) URL of Truto's API"],
            BASE_URL_KEY,
            id="not_a_url",
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


# --- every page, each filter ------------------------------------------------------------------


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
    assert first["context"]["oauth"]["token"]["access_token"] not in repr(account)


ACCOUNTS = [
    {"integration": "hubspot", "tenant_id": "acme", "status": "active", "is_sandbox": False},
    {"integration": "hubspot", "tenant_id": "globex", "status": "needs_reauth", "is_sandbox": True},
    {
        "integration": "salesforce",
        "tenant_id": "acme",
        "status": "post_install_error",
        "is_sandbox": False,
    },
    {
        "integration": "jira",
        "tenant_id": "initech",
        "status": "post_connect_user_input",
        "is_sandbox": True,
    },
]
"""Both spellings of the status after a connection's setup failed: Truto's documentation says
`post_install_error`, its MCP API notes `post_connect_user_input`."""
INSTANT = "2999-01-01T00:00:00.000Z"


@pytest.mark.slow
@pytest.mark.parametrize(
    ("arguments", "query", "kept"),
    [
        pytest.param({"integration": "hubspot"}, {"integration.name": "hubspot"}, [0, 1], id="i"),
        pytest.param({"tenant_id": "acme"}, {"tenant_id": "acme"}, [0, 2], id="tenant"),
        pytest.param({"status": "active"}, {"status": "active"}, [0], id="status"),
        *[
            pytest.param({"status": status}, {"status": status}, [index], id=status)
            for index, status in ((2, "post_install_error"), (3, "post_connect_user_input"))
        ],
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
        truto.add_account(**fields, super_query=index in (1, 2))
        for index, fields in enumerate(ACCOUNTS)
    ]
    truto.clear_journal()
    configure(truto)

    accounts = get_integrated_accounts(**arguments)

    wanted = {added[index]["id"] for index in kept}
    assert [a.id for a in accounts] == [a["id"] for a in truto.accounts() if a["id"] in wanted]
    (listing,) = listings(truto)
    assert listing["query"] == {**query, "limit": str(ACCOUNT_PAGE_SIZE)}
    for account in accounts:  # each record agrees with the filter it passed
        fields = ACCOUNTS[[a["id"] for a in added].index(account.id)]
        seen = (account.integration_name, account.tenant_id, account.status, account.is_sandbox)
        assert seen == tuple(fields.values())


@pytest.mark.slow
def test_get_mcp_servers_lists_every_server_over_pages_without_tokens_or_those_in_flight(
    truto: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With the settings from the environment (no stack config); which wins when both are set:
    tests/test_settings.py (`resolve_settings`)."""
    (in_flight,) = made(truto, ACCOUNT, CreateMark.drawn(None).on("agent"))
    servers = made(truto, ACCOUNT, *(f"server {n:03d}" for n in range(105)))  # over 1 page
    made(truto, OTHER_ACCOUNT, "elsewhere")
    truto.clear_journal()
    monkeypatch.setenv("TRUTO_API_TOKEN", truto.api_token)
    monkeypatch.setenv("TRUTO_BASE_URL", truto.url)

    listed = get_mcp_servers(ACCOUNT)

    assert len(listings(truto, collection_path(ACCOUNT))) == 2
    fields = [field.name for field in dataclasses.fields(McpServerInfo)]
    assert sorted(listed, key=lambda s: s.id) == [  # as Truto has them; no token, no url
        McpServerInfo(**{field: server[field] for field in fields})
        for server in sorted(servers, key=lambda s: s["id"])
    ]
    shown = repr(listed)
    assert not [s for s in servers if s["token"] in shown or s["url"] in shown]
    every = get_mcp_servers(ACCOUNT, include_in_flight=True)  # unless asked for
    assert sorted(s.id for s in every) == sorted(s["id"] for s in [in_flight, *servers])


# --- the `_output` forms ----------------------------------------------------------------------


@pytest.mark.slow
@pulumi.runtime.test
def test_the_output_forms_stay_unknown_while_an_input_is_and_else_resolve_to_the_records(
    truto: Emulator,
) -> pulumi.Output[None]:
    install_mocks(preview=True)
    configure(truto)
    for fields in ACCOUNTS:
        truto.add_account(**fields)
    made(truto, ACCOUNT, "one", "two")
    # An output the preview does not know yet (the mocks do not answer it).
    thing = pulumi.CustomResource("test:index:Thing", "lamp", {"account": None})
    unknown = thing.account  # type: ignore[attr-defined]
    outputs = [
        get_integrated_accounts_output(integration="hubspot", tenant_id=unknown),
        get_mcp_servers_output(unknown),
        get_integrated_accounts_output(integration=pulumi.Output.from_input("hubspot")),
        get_mcp_servers_output(pulumi.Output.from_input(ACCOUNT)),
    ]

    def check(values: list[Any]) -> None:
        accounts, servers = get_integrated_accounts(integration="hubspot"), get_mcp_servers(ACCOUNT)
        assert values == [False, False, True, True, accounts, servers]
        assert (len(accounts), len(servers)) == (2, 2)

    known = [output.is_known() for output in outputs]
    return pulumi.Output.all(*known, *outputs[2:]).apply(check)


# --- failures ---------------------------------------------------------------------------------


def closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


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
        ("unreachable", ["could not read Truto at {url}", f"{BASE_URL_KEY}, or run"], BASE_URL_KEY),
        ("removed_account", ["Truto answered 404", NOT_AN_ACCOUNT], BASE_URL_KEY),
    ],
)
def test_a_failed_lookup_names_itself_the_cause_and_the_setting_never_the_token(
    truto: Emulator, case: str, said: list[str], setting: str
) -> None:
    config = {API_TOKEN_KEY: truto.api_token, BASE_URL_KEY: truto.url}
    if case == "wrong_token":
        config[API_TOKEN_KEY] = ODD_TOKEN
    elif case == "base_url_with_a_wrong_path":
        config[BASE_URL_KEY] = f"{truto.url}/v1"
    elif case == "unreachable":
        config = {API_TOKEN_KEY: ODD_TOKEN, BASE_URL_KEY: f"http://127.0.0.1:{closed_port()}"}
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
        collection_path(ACCOUNT),
    ]
    assert len(_lookups._clients) == 1  # one client, so one limiter, for both lookups
