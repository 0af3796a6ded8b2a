"""The lookups a program calls (`get_integrated_accounts`, `get_mcp_servers` and their `_output`
forms): in the test's own process, as in a program's. What they ask of Truto (each filter, every
page), what they return (frozen records without credentials or MCP tokens), where they read
their settings, how they fail, and their pacing."""

from __future__ import annotations

import dataclasses
import functools
import os
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
from truto_pulumi._mark import CreateMark
from truto_pulumi._ratelimit import RateLimiter
from truto_pulumi.emulator import Emulator
from truto_pulumi.testing import install_mocks

from .kit import ACCOUNT, ODD_TOKEN, OTHER_ACCOUNT, FakeClock, shows_token
from .lifecycle.helpers import collection_path, made_in_dashboard

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
    """The module's emulator, reset, as the program's stack config (its token and URL)."""
    emulator.reset()
    pulumi.runtime.set_all_config({API_TOKEN_KEY: emulator.api_token, BASE_URL_KEY: emulator.url})
    return emulator


# --- arguments and settings: checked before any request --------------------------------------

INSTANT = "2999-01-01T00:00:00.000Z"


QUERIES = {  # get_integrated_accounts' arguments: Truto's query parameters for them
    "every-account": ({}, {}),
    "integration": ({"integration": "hubspot"}, {"integration.name": "hubspot"}),
    "tenant": ({"tenant_id": "acme"}, {"tenant_id": "acme"}),
    **{  # both spellings after a failed setup: Truto's documentation's and its MCP API's
        status: ({"status": status}, {"status": status})
        for status in ("active", "needs_reauth", "post_install_error", "post_connect_user_input")
    },
    "sandbox": ({"is_sandbox": True}, {"is_sandbox": "true"}),
    "not-sandbox": ({"is_sandbox": False}, {"is_sandbox": "false"}),
    "super-query": ({"super_query": True}, {"features.super_query": "true"}),
    "created-at": ({"created_at": INSTANT}, {"created_at": INSTANT}),
    "super-query-off-and-a-passed-filter": (
        {"super_query": False, "filters": {"updated_at[lt]": INSTANT}},
        {"features.super_query": "false", "updated_at[lt]": INSTANT},
    ),
}


@pytest.mark.parametrize(("arguments", "query"), QUERIES.values(), ids=QUERIES)
def test_each_account_filter_becomes_trutos_query_parameter(
    arguments: dict[str, Any], query: dict[str, str]
) -> None:
    """That it reaches Truto: tests/examples/test_accounts.py; Truto's filtering: tests/emulator."""
    assert _lookups._account_query(**arguments) == query


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
REFUSED = {
    **{key: ({}, arguments, said, None) for key, (arguments, said) in BAD_ARGUMENTS.items()},
    "no-token": (
        {BASE_URL_KEY: "http://127.0.0.1:9"},
        {"integrated_account_id": ACCOUNT},
        "no Truto API token: set it with `pulumi config set --secret truto:apiToken <token>` "
        "or the environment variable TRUTO_API_TOKEN",
        API_TOKEN_KEY,
    ),
    "misspelt-setting": (  # every problem a setting can have: tests/test_settings.py
        {API_TOKEN_KEY: ODD_TOKEN, "truto:baseURL": "http://x.invalid"},
        {"integrated_account_id": ACCOUNT},
        "unknown setting truto:baseURL: did you mean truto:baseUrl?",
        "truto:baseURL",
    ),
}
"""(stack config, the lookup's arguments, what its error says, the setting it names)"""


@pytest.mark.parametrize(("config", "arguments", "said", "setting"), REFUSED.values(), ids=REFUSED)
def test_a_bad_argument_or_setting_fails_naming_it_before_any_request(
    config: dict[str, str], arguments: dict[str, Any], said: str, setting: str | None
) -> None:
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


def test_a_record_keeps_the_documented_fields_of_their_type_and_nothing_else() -> None:
    """Of Truto's loosely typed answer: a field of another type is None, an account's `context`
    (its credentials), a server's token and url and what is undocumented are dropped. Reading
    every page, under either list key: tests/test_client.py."""
    item = {
        "id": 7, "tenant_id": "acme", "environment_integration_id": None, "status": "active",
        "is_sandbox": "yes", "region": 3, "created_at": INSTANT, "integration": {"name": "jira"},
        "context": {"oauth": {"token": {"access_token": ODD_TOKEN}}}, "undocumented": "x",
    }  # fmt: skip
    account = _lookups._record(IntegratedAccount, item)
    assert account == IntegratedAccount(
        "7", "acme", None, "active", None, None, INSTANT, None, "jira"
    )
    server = {"id": "s", "name": "n", "config": ["a"], "created_by": "u", "token": ODD_TOKEN}
    assert _lookups._record(McpServerInfo, server, integrated_account_id=ACCOUNT) == McpServerInfo(
        "s", ACCOUNT, "n", None, None, None, None, "u"
    )
    with pytest.raises(dataclasses.FrozenInstanceError):
        account.status = "needs_reauth"  # type: ignore[misc]


# --- against Truto (the emulator) ---------------------------------------------------------------


@pytest.mark.slow
def test_get_mcp_servers_lists_every_server_over_pages_without_tokens_or_those_in_flight(
    truto: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With the settings from the environment (no stack config); which wins when both are set:
    tests/test_settings.py (`resolve_settings`)."""
    pulumi.runtime.set_all_config({})
    in_flight = made_in_dashboard(truto, ACCOUNT, name=CreateMark.drawn(None).on("agent"))
    with truto.client() as http:  # over one page, with their tokens
        posts = [{"name": f"server {n:03d}", "config": {"tags": ["a"]}} for n in range(105)]
        servers = [http.post(collection_path(ACCOUNT), json=post).json() for post in posts]
    made_in_dashboard(truto, OTHER_ACCOUNT, name="elsewhere")
    truto.clear_journal()
    monkeypatch.setenv("TRUTO_API_TOKEN", truto.api_token)
    monkeypatch.setenv("TRUTO_BASE_URL", truto.url)

    listed = get_mcp_servers(ACCOUNT)

    assert [(e["method"], e["path"]) for e in truto.journal()] == [
        ("GET", collection_path(ACCOUNT))
    ] * 2
    fields = [field.name for field in dataclasses.fields(McpServerInfo)]
    assert sorted(listed, key=lambda s: s.id) == [  # as Truto has them; no token, no url
        McpServerInfo(**{field: server[field] for field in fields})
        for server in sorted(servers, key=lambda s: s["id"])
    ]
    shown = repr(listed)
    assert not [s for s in servers if s["token"] in shown or s["url"] in shown]
    every = get_mcp_servers(ACCOUNT, include_in_flight=True)  # unless asked for
    assert sorted(s.id for s in every) == sorted(s["id"] for s in [in_flight, *servers])


@pytest.mark.slow
@pulumi.runtime.test
def test_the_output_forms_stay_unknown_while_an_input_is_and_else_resolve_to_the_records(
    truto: Emulator,
) -> pulumi.Output[None]:
    install_mocks(preview=True)  # the stack config stays
    for integration in ("hubspot", "hubspot", "jira"):
        truto.add_account(integration=integration)
    made_in_dashboard(truto, ACCOUNT, name="one")
    made_in_dashboard(truto, ACCOUNT, name="two")
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


NOT_AN_ACCOUNT = f"integrated account {ACCOUNT} does not exist for this API token"


FAILED = {  # case: (stack config over the emulator's ({url}: its URL), what it says, the setting)
    "wrong_token": ({API_TOKEN_KEY: ODD_TOKEN}, ["Truto refused the API token", API_TOKEN_KEY],
                    API_TOKEN_KEY),
    "base_url_with_a_wrong_path": ({BASE_URL_KEY: "{url}/v1"}, ["Truto answered 404",
                                   f"{BASE_URL_KEY} ({{url}}) does not point at Truto's API"],
                                   BASE_URL_KEY),
    "unreachable": ({API_TOKEN_KEY: ODD_TOKEN, BASE_URL_KEY: "http://127.0.0.1:9"},  # no one
                    ["could not read Truto at {url}", f"{BASE_URL_KEY}, or run"], BASE_URL_KEY),
    "removed_account": ({}, ["Truto answered 404", NOT_AN_ACCOUNT], BASE_URL_KEY),
}  # fmt: skip


@pytest.mark.slow
@pytest.mark.parametrize(("case", "given", "said", "setting"), [(k, *v) for k, v in FAILED.items()])
def test_a_failed_lookup_names_itself_the_cause_and_the_setting_never_the_token(
    truto: Emulator, case: str, given: dict[str, str], said: list[str], setting: str
) -> None:
    config = {API_TOKEN_KEY: truto.api_token, BASE_URL_KEY: truto.url}
    config |= {key: value.replace("{url}", truto.url) for key, value in given.items()}
    if case == "removed_account":
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
    config = {API_TOKEN_KEY: truto.api_token, BASE_URL_KEY: truto.url}
    pulumi.runtime.set_all_config({**config, "truto:maxRequestsPerSecond": "0.2"})

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
