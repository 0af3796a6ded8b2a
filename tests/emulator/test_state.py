"""The in-memory store of MCP servers and its validation rules, without HTTP, on a fake clock."""

from __future__ import annotations

import re
import uuid
from typing import Any

import pytest

from truto_pulumi.emulator._base import BadRequestError, EmulatorError, JSONObject, NotFoundError
from truto_pulumi.emulator._readings import Readings
from truto_pulumi.emulator._state import EMULATOR_USER_ID, McpServer, Store, parse_limit

from ..kit import ACCOUNT, OTHER_ACCOUNT, FakeClock
from .helpers import at

STORED = {"methods": ["read"], "tags": ["crm"], "tool_exposure": "discovery"}


def new(store: Store, name: str = "x", account: str = ACCOUNT, **fields: Any) -> McpServer:
    return store.create(account, {"name": name, "config": {}, **fields})


def test_create_fills_server_fields_and_keeps_the_token_and_url_for_secret_views(
    store: Store,
) -> None:
    server, other = new(store, "docs", account=ACCOUNT.upper()), new(store, "b")

    assert uuid.UUID(server.id).version == 4
    assert server.to_json() == {
        "id": server.id,
        "integrated_account_id": ACCOUNT,
        "name": "docs",
        "config": {},
        "expires_at": None,
        "created_at": "2024-01-10T10:00:00.000Z",
        "updated_at": "2024-01-10T10:00:00.000Z",
        "created_by": EMULATOR_USER_ID,
    }
    assert store.get(ACCOUNT, server.id.upper()) == server  # ids in any case
    assert server.token != other.token
    assert re.fullmatch(r"[A-Za-z0-9_-]{32,}", server.token)
    secret = server.to_json(public_base_url="https://api.truto.one/")
    assert secret["url"] == f"https://api.truto.one/mcp/{secret['token']}"
    assert secret["token"] == server.token


@pytest.mark.parametrize(
    ("op", "body", "message"),
    [
        ("new", [], "request body must be a JSON object"),
        ("new", {"name": None}, "name must be a non-empty string"),
        ("new", {"name": "   "}, "name must be a non-empty string"),
        ("new", {"config": None}, "config is required"),
        ("new", {"config": ["read"]}, "config must be a JSON object"),
        ("new", {"config": {"methods": "read"}}, "config.methods must be an array"),
        ("new", {"config": {"methods": [""]}}, "config.methods must be an array"),
        ("new", {"config": {"methods": [1]}}, "config.methods must be an array"),
        ("new", {"config": {"tags": "crm"}}, "config.tags must be an array"),
        ("new", {"config": {"tool_exposure": "some"}}, "tool_exposure must be one of"),
        ("new", {"config": {"require_api_token_auth": "yes"}}, "must be a boolean"),
        ("new", {"config": {"scopes": ["a"]}}, "config.scopes is not a known config key"),
        ("new", {"methods": ["read"]}, "unknown field(s): methods"),
        ("new", {"expires_at": "2024-01-10T11:00:00"}, "with a time zone"),
        ("new", {"expires_at": 1704884400}, "expires_at must be an RFC 3339"),
        ("new", {"expires_at": "2024-02-30T10:00:00Z"}, "not a valid date-time"),
        ("new", {"expires_at": at(59.999)}, "at least 60 seconds in the future"),
        ("patch", {"name": None}, "name must be a non-empty string"),
        ("patch", {"config": {"tool_exposure": "none"}}, "tool_exposure must be one of"),
        ("patch", {"config": {"bogus": None}}, "config.bogus is not a known config key"),
        ("patch", {"config": {"tool_exposure": None}}, "config.tool_exposure must be"),
        ("patch", {"config": {"require_api_token_auth": None}}, "must be a boolean"),
        ("patch", {"config": "all"}, "config must be a JSON object"),
        ("patch", {"expires_at": at(30)}, "at least 60 seconds in the future"),
    ],
)
def test_create_and_patch_refuse_invalid_bodies_and_change_nothing(
    store: Store, op: str, body: Any, message: str
) -> None:
    server = store.create(ACCOUNT, {"name": "x", "config": STORED})
    sent = {"name": "x", "config": {}, **body} if op == "new" and isinstance(body, dict) else body
    creates = op == "new"

    with pytest.raises(BadRequestError, match=re.escape(message)):
        store.create(ACCOUNT, sent) if creates else store.update(ACCOUNT, server.id, sent)

    assert store.all_servers() == [server]


@pytest.mark.parametrize(
    ("body", "config", "expires_at"),
    [
        ({}, {}, None),  # this Truto does not require `config`
        ({"config": None}, {}, None),
        ({"config": {"methods": ["read", "write"]}}, {"methods": ["read", "write"]}, None),
        ({"config": {"tool_exposure": "discovery"}}, {"tool_exposure": "discovery"}, None),
        ({"config": {"tags": ["crm"], "methods": None}}, {"tags": ["crm"]}, None),
        ({"config": {"require_api_token_auth": False}}, {"require_api_token_auth": False}, None),
        ({"expires_at": at(60)}, {}, "2024-01-10T10:01:00.000Z"),
        ({"expires_at": "2024-01-10T12:30:00.123456+02:00"}, {}, "2024-01-10T10:30:00.123Z"),
        ({"expires_at": "2024-01-10t10:30:00z"}, {}, "2024-01-10T10:30:00.000Z"),
        ({"expires_at": "2024-01-10T10:30:00.5Z"}, {}, "2024-01-10T10:30:00.500Z"),
        ({"expires_at": "2024-01-10T10:30:00.123999999Z"}, {}, "2024-01-10T10:30:00.123Z"),
        ({"expires_at": "2024-01-10 05:30:00-05:00"}, {}, "2024-01-10T10:30:00.000Z"),
        ({"expires_at": None}, {}, None),
    ],
)
def test_create_accepts_valid_bodies_and_normalizes_them(
    store: Store, body: JSONObject, config: JSONObject, expires_at: str | None
) -> None:
    store.readings = Readings(config_required=False)
    created = store.create(ACCOUNT, {"name": "x", **body}).to_json()

    assert (created["config"], created["expires_at"]) == (config, expires_at)


MERGED = "merge-null-refused"  # the default reading


@pytest.mark.parametrize(
    ("reading", "patch", "expected"),
    [
        (MERGED, {"tags": ["hr"]}, {**STORED, "tags": ["hr"]}),
        (MERGED, {"methods": None}, {"tags": ["crm"], "tool_exposure": "discovery"}),
        (MERGED, {"methods": None, "tags": None}, {"tool_exposure": "discovery"}),
        (MERGED, {}, STORED),
        (MERGED, {"require_api_token_auth": True}, {**STORED, "require_api_token_auth": True}),
        (
            MERGED,
            {"methods": ["write"], "tool_exposure": "all"},
            {"methods": ["write"], "tags": ["crm"], "tool_exposure": "all"},
        ),
        (MERGED, None, {}),
        ("merge", {"tool_exposure": None}, {"methods": ["read"], "tags": ["crm"]}),
        ("replace", {"tags": ["hr"], "methods": None}, {"tags": ["hr"]}),
    ],
)
def test_a_patched_config_is_merged_one_level_deep_null_removing_a_key_or_replaced(
    store: Store, reading: str, patch: Any, expected: JSONObject
) -> None:
    store.readings = Readings(config_patch=reading)
    server = store.create(ACCOUNT, {"name": "x", "config": STORED})

    assert store.update(ACCOUNT, server.id, {"config": patch}).config == expected
    assert store.get(ACCOUNT, server.id).config == expected


def test_patch_changes_only_sent_fields_bumps_updated_at_and_null_clears_the_expiry(
    store: Store, clock: FakeClock
) -> None:
    store.readings = Readings(config_patch="replace")  # even then, config not sent is kept
    server = store.create(ACCOUNT, {"name": "x", "config": STORED, "expires_at": at(600)})
    clock.advance(5)

    renamed = store.update(ACCOUNT, server.id, {"name": "renamed"}).to_json()
    cleared = store.update(ACCOUNT, server.id, {"expires_at": None})

    assert (renamed["name"], renamed["config"], renamed["expires_at"]) == (
        "renamed",
        STORED,
        at(600),
    )
    assert (renamed["created_at"], renamed["updated_at"]) == (at(0), at(5))
    assert (cleared.name, cleared.expires_at) == ("renamed", None)


HIDDEN_BUT_KEPT = ("from_another_account", "id_not_a_uuid", "account_not_a_uuid", "no_hyphens")


@pytest.mark.parametrize(
    "how",
    [*HIDDEN_BUT_KEPT, "deleted", "removed_out_of_band", "expired", "clock_moved", "account_gone"],
)
def test_a_server_a_client_cannot_see_is_not_found_to_get_update_and_delete(
    store: Store, clock: FakeClock, how: str
) -> None:
    server = new(store, expires_at=at(120))
    if how == "deleted":
        assert store.delete(ACCOUNT, server.id) == server.id
    elif how == "removed_out_of_band":
        store.remove(server.id)
    elif how == "expired":
        clock.advance(119.999)
        assert store.get(ACCOUNT, server.id).id == server.id
        clock.advance(0.001)
    elif how == "clock_moved":  # the emulated Truto's own clock, moved by a hook
        store.advance_clock(120)
    elif how == "account_gone":
        assert store.remove_account(ACCOUNT) == [server.id]
    account = {
        "from_another_account": OTHER_ACCOUNT,
        "account_not_a_uuid": "not-a-uuid",
        "no_hyphens": ACCOUNT.replace("-", ""),
    }.get(how, ACCOUNT)
    server_id = "42" if how == "id_not_a_uuid" else server.id

    for attempt in (
        lambda: store.get(account, server_id),
        lambda: store.update(account, server_id, {"name": "stolen"}),
        lambda: store.delete(account, server_id),
    ):
        with pytest.raises(NotFoundError):
            attempt()
    kept = how in HIDDEN_BUT_KEPT
    assert store.all_servers() == ([server] if kept else [])
    if not kept:
        with pytest.raises(NotFoundError):
            store.remove(server.id)
        with pytest.raises(NotFoundError):
            store.edit(server.id, {"name": "y"})


def test_list_pages_in_created_at_then_id_order_until_next_cursor_is_null(
    store: Store, clock: FakeClock
) -> None:
    same_moment = [new(store, f"s{i}") for i in range(3)]
    clock.advance(1)
    later = [new(store, f"t{i}") for i in range(2)]
    new(store, "elsewhere", account=OTHER_ACCOUNT)

    pages = [store.list_servers(ACCOUNT, limit=2)]
    while pages[-1].next_cursor is not None:
        pages.append(store.list_servers(ACCOUNT, limit=2, cursor=pages[-1].next_cursor))

    expected = sorted(s.id for s in same_moment) + sorted(s.id for s in later)
    assert [s.id for page in pages for s in page.items] == expected
    assert [(len(page.items), page.limit) for page in pages] == [(2, 2), (2, 2), (1, 2)]


def test_a_cursor_stays_valid_when_the_last_seen_server_is_deleted(store: Store) -> None:
    servers = sorted((new(store, f"s{i}") for i in range(4)), key=lambda s: s.id)
    first = store.list_servers(ACCOUNT, limit=2)
    store.delete(ACCOUNT, servers[1].id)

    rest = store.list_servers(ACCOUNT, limit=2, cursor=first.next_cursor)

    assert [s.id for s in rest.items] == [servers[2].id, servers[3].id]
    assert rest.next_cursor is None  # exactly one full page: no next one


@pytest.mark.parametrize(
    ("limit", "cursor", "applied"),
    [(None, None, 100), ("", None, 100), ("1", None, 1), ("1000", None, 1000)]
    + [(bad, None, None) for bad in ("0", "1001", "ten", "1.5")]
    + [(None, bad, None) for bad in ("garbage!", "bm90LWpzb24", "WzEsMl0")],  # not issued
)
def test_a_list_takes_a_limit_of_1_to_1000_default_100_and_only_cursors_it_issued(
    store: Store, limit: str | None, cursor: str | None, applied: int | None
) -> None:
    if applied is None:
        with pytest.raises(BadRequestError, match="limit" if cursor is None else "next_cursor"):
            store.list_servers(ACCOUNT, limit=parse_limit(limit), cursor=cursor)
    else:
        assert store.list_servers(ACCOUNT, limit=parse_limit(limit)).limit == applied


def test_out_of_band_edit_replaces_config_whole_and_accepts_a_past_expiry(
    store: Store, clock: FakeClock
) -> None:
    server = store.create(ACCOUNT, {"name": "x", "config": STORED})
    clock.advance(2)

    edited = store.edit(server.id, {"name": "dash", "config": {"tags": ["hr"]}})

    assert (edited.name, edited.config, edited.token) == ("dash", {"tags": ["hr"]}, server.token)
    assert edited.to_json()["updated_at"] == at(2)
    store.edit(server.id, {"expires_at": at(-1)})
    assert store.all_servers() == []


# ------------------------------------------------------------------ readings


def test_a_newer_truto_keeps_its_option_set_in_the_dashboard_and_null_removes_any_key(
    store: Store,
) -> None:
    with pytest.raises(BadRequestError, match=r"config\.some_new_option is not a known"):
        store.create(ACCOUNT, {"name": "x", "config": {"some_new_option": True}})
    store.readings = Readings(newer_keys=frozenset({"some_new_option"}), config_patch="merge")
    server = store.create(ACCOUNT, {"name": "x", "config": STORED})
    store.edit(server.id, {"config": {**STORED, "some_new_option": {"level": 2}}})

    kept = store.update(ACCOUNT, server.id, {"config": {"methods": ["write"]}})
    removed = store.update(
        ACCOUNT, server.id, {"config": {"some_new_option": None, "tool_exposure": None}}
    )

    assert kept.config == {**STORED, "methods": ["write"], "some_new_option": {"level": 2}}
    assert removed.config == {"methods": ["write"], "tags": ["crm"]}


def test_a_blocked_account_answers_503_to_every_mcp_call(store: Store) -> None:
    server = new(store)
    store.readings = Readings(blocked_accounts=frozenset({ACCOUNT}))
    for attempt in (
        lambda: new(store, "y"),
        lambda: store.list_servers(ACCOUNT),
        lambda: store.get(ACCOUNT, server.id),
        lambda: store.update(ACCOUNT, server.id, {"name": "z"}),
        lambda: store.delete(ACCOUNT, server.id),
    ):
        with pytest.raises(EmulatorError, match=f"{ACCOUNT} is blocked. Contact support") as info:
            attempt()
        assert info.value.status == 503
    assert new(store, "y", account=OTHER_ACCOUNT).name == "y"


TOOLS = (
    {"resource": "contacts", "method": "list", "tags": ["crm"]},
    {"resource": "contacts", "method": "create", "tags": ["crm"]},
    {"resource": "tickets", "method": "get", "tags": ["support"]},
)


@pytest.mark.parametrize(
    ("config", "matches"),
    [
        pytest.param({}, True, id="no_filter"),
        pytest.param({"methods": ["read"]}, True, id="group_read"),
        pytest.param({"methods": ["write"], "tags": ["support"]}, False, id="and_of_both"),
        pytest.param({"methods": ["create"], "tags": ["crm", "x"]}, True, id="any_tag"),
        pytest.param({"tags": ["hr"]}, False, id="unknown_tag"),
        pytest.param({"methods": ["delete"]}, False, id="no_such_method"),
    ],
)
def test_a_config_that_matches_no_tool_is_refused_on_create_and_on_a_patch_of_config(
    store: Store, config: JSONObject, matches: bool
) -> None:
    store.readings = Readings(account_tools={ACCOUNT: TOOLS})
    server = new(store)
    for attempt in (
        lambda: store.create(ACCOUNT, {"name": "y", "config": config}),
        lambda: store.update(ACCOUNT, server.id, {"config": config}),
    ):
        if matches:
            assert attempt()
        else:
            with pytest.raises(BadRequestError, match="No tools match the given methods and tags"):
                attempt()
    store.edit(server.id, {"config": {"tags": ["hr"]}})  # a PATCH without config checks none
    assert store.update(ACCOUNT, server.id, {"name": "z"}).name == "z"


@pytest.mark.parametrize("status", [402, 403])
def test_a_create_beyond_the_plan_limit_is_refused_with_its_status(
    store: Store, status: int
) -> None:
    store.readings = Readings(plan_limit=1, plan_limit_status=status)
    new(store)
    with pytest.raises(EmulatorError, match="Your plan allows 1 MCP servers") as info:
        new(store, "y", account=OTHER_ACCOUNT)
    assert info.value.status == status


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"config_patch": "overwrite"}, "config_patch must be one of merge-null-refused, merge"),
        ({"newer_keys": "some_new_option"}, "newer_keys must be an array"),
        ({"newer_keys": ["tags"]}, "must not name a known config key"),
        ({"merge": True}, "unknown reading(s): merge"),
        ({"echo_defaults": "yes"}, "echo_defaults must be true or false"),
        ({"list_key": "items"}, "list_key must be one of result, results"),
        ({"plan_limit": -1}, "plan_limit must be an integer >= 0"),
        ({"plan_limit_status": 500}, "plan_limit_status must be one of 400"),
        ({"blocked_accounts": ["x"]}, "blocked_accounts must be integrated account UUIDs"),
        ({"account_tools": {ACCOUNT: [{"verb": "list"}]}}, "a tool is"),
        ([], "readings must be a JSON object"),
    ],
)
def test_readings_reject_what_they_cannot_mean(body: Any, message: str) -> None:
    with pytest.raises(BadRequestError, match=re.escape(message)):
        Readings.from_json(body)
