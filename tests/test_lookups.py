"""The lookups a program calls (`get_integrated_accounts`, `get_mcp_servers` and their `_output`
forms): in the test's own process, as in a program's, against the emulator. What they send to
Truto (every page, each filter), what they return (frozen records without credentials or MCP
tokens), where they read their settings, how they fail, and their pacing."""

from __future__ import annotations

import dataclasses
import functools
import os
from collections.abc import Iterator
from typing import Any
from unittest.mock import ANY

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


@pytest.fixture(autouse=True)
def fresh_lookups(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """No `TRUTO_*` or `PULUMI_CONFIG*` environment, an empty stack config and no client of an
    earlier test (those of the test closed after it); the stack config as it was afterwards."""
    for name in list(os.environ):
        if name.startswith(("TRUTO_", "PULUMI_CONFIG")):
            monkeypatch.delenv(name)
    monkeypatch.setattr(_lookups, "_clients", {})
    saved = runtime_config.CONFIG.get()
    pulumi.runtime.set_all_config({})
    yield
    for client in _lookups._clients.values():
        client.close()
    runtime_config.CONFIG.set(saved)


@pytest.fixture
def truto(emulator: Emulator) -> Emulator:
    """The module's emulator, reset: page limit, readings and accounts as at the start."""
    emulator.reset()
    return emulator


ACCOUNT_KEYS = [
    f.name for f in dataclasses.fields(IntegratedAccount) if f.name != "integration_name"
]


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


BAD_ARGUMENTS = {
    "unknown-status": ({"status": "enabled"}, "status must be one of active"),
    "status-case": ({"status": "Active"}, "status must be one of active"),
    "sandbox-int": ({"is_sandbox": 1}, "is_sandbox must be True or False"),
    "super-query-str": ({"super_query": "yes"}, "super_query must be True or False"),
    "tenant-empty": ({"tenant_id": ""}, "tenant_id must be a non-empty string"),
    "integration-int": ({"integration": 7}, "integration must be a non-empty string"),
    "blank-instant": ({"created_at": " "}, "created_at must be a non-empty string"),
    "filter-blank-key": ({"filters": {"": "x"}}, "a key of filters must be"),
    "filter-int": ({"filters": {"created_at[gt]": 5}}, "filters['created_at[gt]']"),
    "filter-repeats": ({"status": "active", "filters": {"status": "x"}}, "repeats 'status'"),
    "filter-limit": ({"filters": {"limit": "5"}}, "filters repeats 'limit'"),
    **{
        f"servers-of-{account!r}": ({"integrated_account_id": account}, "must be a non-empty")
        for account in ("", "  ", None, 42)
    },
}
BAD_SETTINGS = {
    "no-token": (
        {BASE_URL_KEY: "http://127.0.0.1:9"},
        "no Truto API token: set it with `pulumi config set --secret truto:apiToken <token>` "
        "or the environment variable TRUTO_API_TOKEN",
        API_TOKEN_KEY,
    ),
    "misspelt-setting": (
        {API_TOKEN_KEY: ODD_TOKEN, "truto:baseURL": "http://x.invalid"},
        "unknown setting truto:baseURL: did you mean truto:baseUrl?",
        "truto:baseURL",
    ),
    "not-a-url": (
        {API_TOKEN_KEY: ODD_TOKEN, BASE_URL_KEY: "ftp://truto.invalid"},
        "truto:baseUrl must be the http(s) URL of Truto's API",
        BASE_URL_KEY,
    ),
}
REFUSED = {
    **{key: ({}, arguments, said, None) for key, (arguments, said) in BAD_ARGUMENTS.items()},
    **{
        key: (config, {"integrated_account_id": ACCOUNT}, said, setting)
        for key, (config, said, setting) in BAD_SETTINGS.items()
    },
}
"""(stack config, the lookup's arguments, what its error says, the setting it names)"""


@pytest.mark.parametrize(("config", "arguments", "said", "setting"), REFUSED.values(), ids=REFUSED)
def test_a_bad_argument_or_setting_fails_naming_it_before_any_request(
    config: dict[str, str], arguments: dict[str, Any], said: str, setting: str | None
) -> None:
    """As the lookup says it; every problem a setting can have: tests/test_settings.py."""
    pulumi.runtime.set_all_config(config)  # no token, unless given: the lookup stops before
    lookup = get_mcp_servers if "integrated_account_id" in arguments else get_integrated_accounts
    with pytest.raises(TrutoLookupError) as raised:
        lookup(**arguments)
    message = str(raised.value)
    assert message.startswith(f"{lookup.__name__}: ")
    assert said in message
    assert raised.value.setting == setting
    assert shows_token(message) == []
    assert _lookups._clients == {}  # no client made, so no request sent


# --- every page, each filter ------------------------------------------------------------------


ACCOUNTS: list[dict[str, Any]] = [
    dict(zip(("integration", "tenant_id", "status", "is_sandbox", "region"), fields, strict=True))
    for fields in [
        ("hubspot", "acme", "active", False, "eu"),
        ("hubspot", "globex", "needs_reauth", True, "wnam"),
        ("salesforce", "acme", "post_install_error", False, "apac"),
        ("jira", "initech", "post_connect_user_input", True, "enam"),
    ]
]
"""Both spellings of the status after a connection's setup failed: Truto's documentation says
`post_install_error`, its MCP API notes `post_connect_user_input`."""
INSTANT = "2999-01-01T00:00:00.000Z"


@pytest.mark.slow
@pytest.mark.parametrize(
    ("arguments", "query", "kept"),
    [
        pytest.param({}, {}, [0, 1, 2, 3], id="every-account"),
        pytest.param({"integration": "hubspot"}, {"integration.name": "hubspot"}, [0, 1], id="i"),
        pytest.param({"tenant_id": "acme"}, {"tenant_id": "acme"}, [0, 2], id="tenant"),
        *[
            pytest.param({"status": status}, {"status": status}, [index], id=status)
            for index, status in enumerate(account["status"] for account in ACCOUNTS)
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
def test_each_filter_reaches_truto_and_every_page_is_read_into_frozen_records(
    truto: Emulator, arguments: dict[str, Any], query: dict[str, str], kept: list[int]
) -> None:
    """Truto's pages of one account each, under its other list key (`results`); the default
    one, `result`: the servers' test below."""
    truto.set_readings(list_key="results")
    added = [
        truto.add_account(**fields, super_query=n in (1, 2)) for n, fields in enumerate(ACCOUNTS)
    ]
    truto.set_account_page_limit(1)
    truto.clear_journal()
    configure(truto)

    accounts = get_integrated_accounts(**arguments)

    assert accounts == [  # Truto's order and fields; never an account's `context`
        IntegratedAccount(
            **{key: account[key] for key in ACCOUNT_KEYS},
            integration_name=account["integration"]["name"],
        )
        for account in truto.accounts()
        if account["id"] in {added[index]["id"] for index in kept}
    ]
    pages = listings(truto)
    assert [entry["query"] for entry in pages] == [
        {**query, "limit": str(ACCOUNT_PAGE_SIZE), **({"next_cursor": ANY} if n else {})}
        for n in range(max(len(kept), 1))
    ]
    assert {entry["method"] for entry in truto.journal()} == {"GET"}  # a lookup only reads
    for account, index in zip(accounts, kept, strict=True):
        assert added[index]["context"]["oauth"]["token"]["access_token"] not in repr(account)
        with pytest.raises(dataclasses.FrozenInstanceError):
            account.status = "active"  # type: ignore[misc]


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
        config = {API_TOKEN_KEY: ODD_TOKEN, BASE_URL_KEY: "http://127.0.0.1:9"}  # no listener
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
