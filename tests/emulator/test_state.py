"""The in-memory store and its validation rules, without HTTP."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from truto_pulumi.emulator._base import (
    BadRequestError,
    ConflictError,
    EmulatorError,
    JSONObject,
    NotFoundError,
)
from truto_pulumi.emulator._readings import Readings, matches_a_tool
from truto_pulumi.emulator._state import (
    EMULATOR_USER_ID,
    AccountFilter,
    Store,
    format_timestamp,
    parse_limit,
    read_timestamp,
)

from ..kit import ACCOUNT, OTHER_ACCOUNT, FakeClock
from .helpers import EVERY_READING_CHANGED

START = datetime(2024, 1, 10, 10, 0, tzinfo=timezone.utc)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(epoch=START)


@pytest.fixture
def store(clock: FakeClock) -> Store:
    return Store(clock=clock.utc)


def at(seconds: float) -> str:
    """A timestamp `seconds` after START."""
    return format_timestamp(START + timedelta(seconds=seconds))


# ------------------------------------------------------------------ create


def test_create_fills_server_fields_and_stores_omitted_config_as_empty(store: Store) -> None:
    server = store.create(ACCOUNT, {"config": {}, "name": "docs"})
    body = server.to_json()

    assert uuid.UUID(body["id"]).version == 4
    assert body == {
        "id": server.id,
        "integrated_account_id": ACCOUNT,
        "name": "docs",
        "config": {},
        "expires_at": None,
        "created_at": "2024-01-10T10:00:00.000Z",
        "updated_at": "2024-01-10T10:00:00.000Z",
        "created_by": EMULATOR_USER_ID,
    }


def test_create_issues_a_distinct_url_safe_token_and_url_only_on_request(store: Store) -> None:
    first = store.create(ACCOUNT, {"config": {}, "name": "a"})
    second = store.create(ACCOUNT, {"config": {}, "name": "b"})

    assert first.token != second.token
    assert re.fullmatch(r"[A-Za-z0-9_-]{32,}", first.token)
    secret = first.to_json(public_base_url="https://api.truto.one/")
    assert secret["token"] == first.token
    assert secret["url"] == f"https://api.truto.one/mcp/{first.token}"
    assert "token" not in first.to_json()
    assert "url" not in first.to_json()


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ([], "request body must be a JSON object"),
        ({}, "name must be a non-empty string"),
        ({"name": ""}, "name must be a non-empty string"),
        ({"name": "   "}, "name must be a non-empty string"),
        ({"name": 7}, "name must be a non-empty string"),
        ({"name": "x", "config": ["read"]}, "config must be a JSON object"),
        ({"name": "x", "config": {"methods": "read"}}, "config.methods must be an array"),
        ({"name": "x", "config": {"methods": [""]}}, "config.methods must be an array"),
        ({"name": "x", "config": {"methods": [1]}}, "config.methods must be an array"),
        ({"name": "x", "config": {"tags": "crm"}}, "config.tags must be an array"),
        ({"name": "x", "config": {"tool_exposure": "some"}}, "tool_exposure must be one of"),
        ({"name": "x", "config": {"require_api_token_auth": "yes"}}, "must be a boolean"),
        ({"name": "x", "config": {"require_api_token_auth": 1}}, "must be a boolean"),
        ({"name": "x", "config": {"scopes": ["a"]}}, "config.scopes is not a known config key"),
        ({"name": "x", "methods": ["read"]}, "unknown field(s): methods"),
        ({"name": "x", "expires_at": "tomorrow"}, "expires_at must be an RFC 3339"),
        ({"name": "x", "expires_at": "2024-01-10T11:00:00"}, "with a time zone"),
        ({"name": "x", "expires_at": 1704884400}, "expires_at must be an RFC 3339"),
        ({"name": "x", "expires_at": "2024-02-30T10:00:00Z"}, "not a valid date-time"),
        ({"name": "x", "expires_at": at(59.999)}, "at least 60 seconds in the future"),
        ({"name": "x", "expires_at": at(-3600)}, "at least 60 seconds in the future"),
    ],
)
def test_create_rejects_invalid_bodies_with_bad_request(
    store: Store, body: Any, message: str
) -> None:
    store.readings = LOOSE
    with pytest.raises(BadRequestError, match=re.escape(message)):
        store.create(ACCOUNT, body)
    assert store.all_servers() == []


LOOSE = Readings(config_required=False, config_patch="merge")
"""A Truto that takes a create without `config` and `null` for any key of a PATCHed one."""


@pytest.mark.parametrize(
    ("body", "config", "expires_at"),
    [
        ({"name": "x", "config": None}, {}, None),
        (
            {"name": "x", "config": {"methods": ["read", "write"]}},
            {"methods": ["read", "write"]},
            None,
        ),
        (
            {"name": "x", "config": {"tool_exposure": "discovery"}},
            {"tool_exposure": "discovery"},
            None,
        ),
        ({"name": "x", "config": {"tags": ["crm"], "methods": None}}, {"tags": ["crm"]}, None),
        (
            {"name": "x", "config": {"require_api_token_auth": False}},
            {"require_api_token_auth": False},
            None,
        ),
        ({"name": "x", "expires_at": at(60)}, {}, "2024-01-10T10:01:00.000Z"),
        (
            {"name": "x", "expires_at": "2024-01-10T12:30:00.123456+02:00"},
            {},
            "2024-01-10T10:30:00.123Z",
        ),
        ({"name": "x", "expires_at": "2024-01-10t10:30:00z"}, {}, "2024-01-10T10:30:00.000Z"),
        ({"name": "x", "expires_at": None}, {}, None),
    ],
)
def test_create_accepts_valid_bodies_and_normalizes_them(
    store: Store, body: Any, config: dict[str, Any], expires_at: str | None
) -> None:
    store.readings = LOOSE
    created = store.create(ACCOUNT, body).to_json()

    assert created["config"] == config
    assert created["expires_at"] == expires_at


# ------------------------------------------------------------------ PATCH


STORED_CONFIG = {"methods": ["read"], "tags": ["crm"], "tool_exposure": "discovery"}


@pytest.mark.parametrize(
    ("patch", "expected"),
    [
        ({"tags": ["hr"]}, {"methods": ["read"], "tags": ["hr"], "tool_exposure": "discovery"}),
        ({"methods": None}, {"tags": ["crm"], "tool_exposure": "discovery"}),
        ({"methods": None, "tags": None, "tool_exposure": None}, {}),
        ({}, STORED_CONFIG),
        (
            {"require_api_token_auth": True},
            {**STORED_CONFIG, "require_api_token_auth": True},
        ),
        (
            {"methods": ["write"], "tags": None, "tool_exposure": "all"},
            {"methods": ["write"], "tool_exposure": "all"},
        ),
        (None, {}),
    ],
)
def test_patch_merges_config_one_level_deep_and_null_removes_a_key(
    store: Store, patch: Any, expected: dict[str, Any]
) -> None:
    store.readings = LOOSE
    server = store.create(ACCOUNT, {"name": "x", "config": STORED_CONFIG})

    updated = store.update(ACCOUNT, server.id, {"config": patch})

    assert updated.config == expected
    assert store.get(ACCOUNT, server.id).config == expected


def test_patch_without_config_keeps_config_and_changes_only_sent_fields(
    store: Store, clock: FakeClock
) -> None:
    server = store.create(ACCOUNT, {"name": "x", "config": STORED_CONFIG, "expires_at": at(600)})
    clock.advance(5)

    updated = store.update(ACCOUNT, server.id, {"name": "renamed"}).to_json()

    assert updated["name"] == "renamed"
    assert updated["config"] == STORED_CONFIG
    assert updated["expires_at"] == at(600)
    assert updated["created_at"] == at(0)
    assert updated["updated_at"] == at(5)


def test_patch_expires_at_null_clears_the_expiry(store: Store, clock: FakeClock) -> None:
    server = store.create(ACCOUNT, {"config": {}, "name": "x", "expires_at": at(120)})

    store.update(ACCOUNT, server.id, {"expires_at": None})
    clock.advance(3600)

    assert store.get(ACCOUNT, server.id).expires_at is None


@pytest.mark.parametrize(
    ("patch", "message"),
    [
        ({"name": ""}, "name must be a non-empty string"),
        ({"name": None}, "name must be a non-empty string"),
        ({"config": {"tool_exposure": "none"}}, "tool_exposure must be one of"),
        ({"config": {"tags": [""]}}, "config.tags must be an array"),
        ({"config": {"bogus": None}}, "config.bogus is not a known config key"),
        ({"config": "all"}, "config must be a JSON object"),
        ({"expires_at": at(30)}, "at least 60 seconds in the future"),
        ({"id": "other"}, "unknown field(s): id"),
        ("name", "request body must be a JSON object"),
    ],
)
def test_patch_validates_like_create_and_leaves_the_server_unchanged(
    store: Store, patch: Any, message: str
) -> None:
    server = store.create(ACCOUNT, {"name": "x", "config": STORED_CONFIG})

    with pytest.raises(BadRequestError, match=re.escape(message)):
        store.update(ACCOUNT, server.id, patch)

    assert store.get(ACCOUNT, server.id) == server


# ------------------------------------------------------------------ visibility


def test_get_update_delete_of_a_server_of_another_account_are_not_found(store: Store) -> None:
    server = store.create(ACCOUNT, {"config": {}, "name": "x"})

    with pytest.raises(NotFoundError):
        store.get(OTHER_ACCOUNT, server.id)
    with pytest.raises(NotFoundError):
        store.update(OTHER_ACCOUNT, server.id, {"name": "stolen"})
    with pytest.raises(NotFoundError):
        store.delete(OTHER_ACCOUNT, server.id)
    assert store.list_servers(OTHER_ACCOUNT).items == []
    assert store.get(ACCOUNT, server.id).name == "x"


def test_deleted_server_is_not_found_afterwards(store: Store) -> None:
    server = store.create(ACCOUNT, {"config": {}, "name": "x"})

    assert store.delete(ACCOUNT, server.id) == server.id

    for operation in (
        lambda: store.get(ACCOUNT, server.id),
        lambda: store.update(ACCOUNT, server.id, {"name": "y"}),
        lambda: store.delete(ACCOUNT, server.id),
    ):
        with pytest.raises(NotFoundError):
            operation()


@pytest.mark.parametrize("account", ["not-a-uuid", "", ACCOUNT.replace("-", "")])
def test_an_account_id_that_is_not_a_hyphenated_uuid_is_not_found(
    store: Store, account: str
) -> None:
    with pytest.raises(NotFoundError, match="Integrated account"):
        store.create(account, {"config": {}, "name": "x"})


def test_a_server_id_that_is_not_a_uuid_is_not_found(store: Store) -> None:
    with pytest.raises(NotFoundError, match="MCP server"):
        store.get(ACCOUNT, "42")


def test_account_ids_are_case_insensitive(store: Store) -> None:
    server = store.create(ACCOUNT.upper(), {"config": {}, "name": "x"})

    assert server.integrated_account_id == ACCOUNT
    assert store.get(ACCOUNT, server.id.upper()).id == server.id


def test_a_store_with_fixed_accounts_knows_no_other_account() -> None:
    store = Store(accounts=[ACCOUNT.upper()])

    assert store.create(ACCOUNT, {"config": {}, "name": "x"}).integrated_account_id == ACCOUNT
    with pytest.raises(NotFoundError, match="Integrated account"):
        store.create(OTHER_ACCOUNT, {"config": {}, "name": "x"})
    with pytest.raises(NotFoundError, match="Integrated account"):
        store.list_servers(OTHER_ACCOUNT)


def test_fixed_accounts_must_be_uuids() -> None:
    with pytest.raises(ValueError, match="UUID"):
        Store(accounts=["acme"])


# ------------------------------------------------------------------ expiry


def test_a_server_whose_expiry_passed_behaves_as_deleted(store: Store, clock: FakeClock) -> None:
    server = store.create(ACCOUNT, {"config": {}, "name": "x", "expires_at": at(60)})
    clock.advance(59.999)
    assert store.get(ACCOUNT, server.id).id == server.id

    clock.advance(0.001)

    with pytest.raises(NotFoundError):
        store.get(ACCOUNT, server.id)
    with pytest.raises(NotFoundError):
        store.update(ACCOUNT, server.id, {"expires_at": None})
    with pytest.raises(NotFoundError):
        store.delete(ACCOUNT, server.id)
    with pytest.raises(NotFoundError):
        store.edit(server.id, {"name": "y"})
    assert store.list_servers(ACCOUNT).items == []
    assert store.all_servers() == []


# ------------------------------------------------------------------ pagination


def test_list_pages_in_created_at_then_id_order_until_next_cursor_is_null(
    store: Store, clock: FakeClock
) -> None:
    same_moment = [store.create(ACCOUNT, {"config": {}, "name": f"s{i}"}) for i in range(3)]
    clock.advance(1)
    later = [store.create(ACCOUNT, {"config": {}, "name": f"t{i}"}) for i in range(2)]
    store.create(OTHER_ACCOUNT, {"config": {}, "name": "elsewhere"})
    expected = sorted(s.id for s in same_moment) + sorted(s.id for s in later)

    seen: list[str] = []
    cursor: str | None = None
    pages = 0
    while True:
        page = store.list_servers(ACCOUNT, limit=2, cursor=cursor)
        pages += 1
        assert page.limit == 2
        assert len(page.items) <= 2
        seen += [s.id for s in page.items]
        cursor = page.next_cursor
        if cursor is None:
            break

    assert seen == expected
    assert pages == 3


def test_list_cursor_stays_valid_when_the_last_seen_server_is_deleted(store: Store) -> None:
    servers = sorted(
        (store.create(ACCOUNT, {"config": {}, "name": f"s{i}"}) for i in range(4)),
        key=lambda s: s.id,
    )
    first = store.list_servers(ACCOUNT, limit=2)
    store.delete(ACCOUNT, servers[1].id)

    rest = store.list_servers(ACCOUNT, limit=2, cursor=first.next_cursor)

    assert [s.id for s in rest.items] == [servers[2].id, servers[3].id]
    assert rest.next_cursor is None


def test_list_of_exactly_one_full_page_has_no_next_cursor(store: Store) -> None:
    for i in range(2):
        store.create(ACCOUNT, {"config": {}, "name": f"s{i}"})

    page = store.list_servers(ACCOUNT, limit=2)

    assert len(page.items) == 2
    assert page.next_cursor is None


@pytest.mark.parametrize("cursor", ["garbage!", "bm90LWpzb24", "WzEsMl0"])
def test_list_rejects_a_cursor_it_did_not_issue(store: Store, cursor: str) -> None:
    with pytest.raises(BadRequestError, match="next_cursor"):
        store.list_servers(ACCOUNT, cursor=cursor)


@pytest.mark.parametrize(
    ("raw", "limit"), [(None, 100), ("", 100), ("1", 1), ("250", 250), ("1000", 1000)]
)
def test_parse_limit_defaults_to_100_and_accepts_1_to_1000(raw: str | None, limit: int) -> None:
    assert parse_limit(raw) == limit


@pytest.mark.parametrize("raw", ["0", "-1", "1001", "ten", "1.5"])
def test_parse_limit_rejects_values_outside_1_to_1000(raw: str) -> None:
    with pytest.raises(BadRequestError, match="limit"):
        parse_limit(raw)


# ------------------------------------------------------------------ out of band


def test_out_of_band_edit_replaces_config_whole_and_accepts_a_past_expiry(
    store: Store, clock: FakeClock
) -> None:
    server = store.create(ACCOUNT, {"name": "x", "config": STORED_CONFIG})
    clock.advance(2)

    edited = store.edit(server.id, {"name": "dash", "config": {"tags": ["hr"]}})

    assert edited.name == "dash"
    assert edited.config == {"tags": ["hr"]}
    assert edited.updated_at == START + timedelta(seconds=2)
    store.edit(server.id, {"expires_at": at(-1)})
    assert store.all_servers() == []


def test_out_of_band_remove_deletes_across_accounts_and_unknown_ids_are_not_found(
    store: Store,
) -> None:
    server = store.create(ACCOUNT, {"config": {}, "name": "x"})

    store.remove(server.id)

    with pytest.raises(NotFoundError):
        store.get(ACCOUNT, server.id)
    with pytest.raises(NotFoundError):
        store.remove(server.id)


def test_returned_records_are_copies_that_cannot_change_the_store(store: Store) -> None:
    server = store.create(ACCOUNT, {"name": "x", "config": {"tags": ["crm"]}})

    server.config["tags"].append("leak")

    assert store.get(ACCOUNT, server.id).config == {"tags": ["crm"]}


# ------------------------------------------------------------------ readings

NEWER = Readings(newer_keys=frozenset({"some_new_option"}), config_patch="merge")
"""A newer Truto: it knows a `config` option the provider does not."""


def test_a_newer_truto_keeps_its_option_set_in_the_dashboard_and_null_removes_it(
    store: Store,
) -> None:
    store.readings = NEWER
    server = store.create(ACCOUNT, {"name": "x", "config": {"methods": ["read"]}})
    store.edit(server.id, {"config": {"methods": ["read"], "some_new_option": {"level": 2}}})

    kept = store.update(ACCOUNT, server.id, {"config": {"methods": ["write"]}})
    removed = store.update(ACCOUNT, server.id, {"config": {"some_new_option": None}})

    assert kept.config == {"methods": ["write"], "some_new_option": {"level": 2}}
    assert removed.config == {"methods": ["write"]}


def test_a_truto_whose_patch_replaces_config_drops_every_key_not_sent(store: Store) -> None:
    store.readings = Readings(config_patch="replace", newer_keys=NEWER.newer_keys)
    server = store.create(ACCOUNT, {"name": "x", "config": {**STORED_CONFIG, "some_new_option": 1}})

    updated = store.update(ACCOUNT, server.id, {"config": {"tags": ["hr"], "methods": None}})
    renamed = store.update(ACCOUNT, server.id, {"name": "y"})

    assert updated.config == {"tags": ["hr"]}
    assert renamed.config == {"tags": ["hr"]}


@pytest.mark.parametrize("key", ["tool_exposure", "require_api_token_auth"])
def test_by_default_a_merging_patch_refuses_null_for_a_typed_key(store: Store, key: str) -> None:
    server = store.create(ACCOUNT, {"name": "x", "config": {"tool_exposure": "discovery"}})

    with pytest.raises(BadRequestError, match=f"config.{key} must be"):
        store.update(ACCOUNT, server.id, {"config": {key: None}})
    assert store.update(ACCOUNT, server.id, {"config": {"methods": None}}).config == {
        "tool_exposure": "discovery"
    }


def test_by_default_a_create_without_config_is_refused(store: Store) -> None:
    with pytest.raises(BadRequestError, match="config is required"):
        store.create(ACCOUNT, {"name": "x"})
    store.readings = Readings(config_required=False)
    assert store.create(ACCOUNT, {"name": "x"}).config == {}


def test_by_default_answers_echo_the_config_defaults() -> None:
    server = Store().create(ACCOUNT, {"name": "x", "config": {"tags": ["a"]}})
    echoed = {"tags": ["a"], "tool_exposure": "all", "require_api_token_auth": False}
    assert server.to_json(readings=Readings())["config"] == echoed
    assert server.to_json(readings=Readings(echo_defaults=False))["config"] == {"tags": ["a"]}
    assert server.to_json()["config"] == {"tags": ["a"]}  # the hooks' view: as stored


def test_by_default_truto_knows_no_newer_config_option(store: Store) -> None:
    server = store.create(ACCOUNT, {"name": "x", "config": {}})

    with pytest.raises(BadRequestError, match=r"config\.some_new_option is not a known"):
        store.edit(server.id, {"config": {"some_new_option": True}})


def test_a_blocked_account_answers_503_to_every_mcp_call(store: Store) -> None:
    server = store.create(ACCOUNT, {"name": "x", "config": {}})
    store.readings = Readings(blocked_accounts=frozenset({ACCOUNT}))
    calls: list[Callable[[], object]] = [
        lambda: store.create(ACCOUNT, {"name": "y", "config": {}}),
        lambda: store.list_servers(ACCOUNT),
        lambda: store.get(ACCOUNT, server.id),
        lambda: store.update(ACCOUNT, server.id, {"name": "z"}),
        lambda: store.delete(ACCOUNT, server.id),
    ]
    for attempt in calls:
        with pytest.raises(EmulatorError, match=f"{ACCOUNT} is blocked. Contact support") as info:
            attempt()
        assert info.value.status == 503
    assert store.create(OTHER_ACCOUNT, {"name": "y", "config": {}}).name == "y"


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
def test_a_config_matches_a_tool_by_method_and_tag(config: JSONObject, matches: bool) -> None:
    assert matches_a_tool(config, TOOLS) is matches


def test_a_config_that_matches_no_tool_is_refused_on_create_and_on_a_patch_of_config(
    store: Store,
) -> None:
    store.readings = Readings(account_tools={ACCOUNT: TOOLS})
    with pytest.raises(BadRequestError, match="No tools match the given methods and tags"):
        store.create(ACCOUNT, {"name": "x", "config": {"tags": ["hr"]}})
    server = store.create(ACCOUNT, {"name": "x", "config": {"tags": ["crm"]}})
    with pytest.raises(BadRequestError, match="No tools match"):
        store.update(ACCOUNT, server.id, {"config": {"tags": ["hr"]}})
    assert store.update(ACCOUNT, server.id, {"name": "y"}).name == "y"


@pytest.mark.parametrize("status", [402, 403])
def test_a_create_beyond_the_plan_limit_is_refused_with_its_status(
    store: Store, status: int
) -> None:
    store.readings = Readings(plan_limit=1, plan_limit_status=status)
    store.create(ACCOUNT, {"name": "x", "config": {}})
    with pytest.raises(EmulatorError, match="Your plan allows 1 MCP servers") as info:
        store.create(OTHER_ACCOUNT, {"name": "y", "config": {}})
    assert info.value.status == status


def test_reset_restores_the_readings_of_the_constructor() -> None:
    first = Readings(config_patch="replace", echo_defaults=False)
    store = Store(readings=first)
    store.readings = Readings()
    store.reset()
    assert store.readings == first


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


def test_readings_round_trip_through_json() -> None:
    readings = replace(EVERY_READING_CHANGED, newer_keys=frozenset({"x"}))
    assert Readings.from_json(readings.to_json()) == readings


# ------------------------------------------------------------------ timestamps


@pytest.mark.parametrize(
    ("text", "formatted"),
    [
        ("2024-01-10T10:00:00Z", "2024-01-10T10:00:00.000Z"),
        ("2024-01-10T10:00:00.5Z", "2024-01-10T10:00:00.500Z"),
        ("2024-01-10T10:00:00.123999Z", "2024-01-10T10:00:00.123Z"),
        ("2024-01-10T10:00:00.123456789Z", "2024-01-10T10:00:00.123Z"),
        ("2024-01-10T05:00:00-05:00", "2024-01-10T10:00:00.000Z"),
        ("2024-01-10 10:00:00+00:00", "2024-01-10T10:00:00.000Z"),
    ],
)
def test_timestamps_parse_rfc3339_and_format_as_utc_milliseconds_z(
    text: str, formatted: str
) -> None:
    assert format_timestamp(read_timestamp(text, "t")) == formatted


# ------------------------------------------------------------------ integrated accounts


def test_account_ids_given_to_the_store_become_active_hubspot_accounts_once_each() -> None:
    store = Store(accounts=[ACCOUNT, ACCOUNT.upper(), OTHER_ACCOUNT])

    accounts = store.all_accounts()

    assert sorted(a.id for a in accounts) == sorted([ACCOUNT, OTHER_ACCOUNT])
    mine = store.get_account(ACCOUNT)
    assert (mine.status, mine.region, mine.is_sandbox) == ("active", "wnam", False)
    assert mine.tenant_id == f"tenant-{ACCOUNT[:8]}"
    assert mine.integration.name == "hubspot"
    assert mine.environment_integration_id == store.default_install_id


def test_two_stores_are_two_environments_whose_installed_integrations_differ() -> None:
    first, second = Store(accounts=[ACCOUNT]), Store(accounts=[ACCOUNT])

    assert first.environment_id != second.environment_id
    assert first.default_install_id != second.default_install_id
    assert first.get_account(ACCOUNT).environment_integration_id == first.default_install_id


def test_the_account_page_limit_must_be_a_positive_integer() -> None:
    with pytest.raises(ValueError, match="account_page_limit"):
        Store(account_page_limit=0)
    with pytest.raises(BadRequestError):
        Store().set_account_page_limit(0)


def test_account_list_clips_limit_and_pages_by_created_at_then_id(
    store: Store, clock: FakeClock
) -> None:
    store.set_account_page_limit(2)
    late = store.add_account({"id": OTHER_ACCOUNT})
    clock.advance(-1)  # an account created earlier comes first, whatever its id
    early = store.add_account({"id": ACCOUNT})

    first = store.list_accounts(limit=50)
    second = store.list_accounts(limit=1, cursor=store.list_accounts(limit=1).next_cursor)

    assert [a.id for a in first.items] == [early.id, late.id]
    assert (first.limit, first.next_cursor) == (2, None)
    assert [a.id for a in second.items] == [late.id]
    assert second.next_cursor is None


def test_account_filter_reads_query_values_and_ignores_other_parameters() -> None:
    read = AccountFilter.from_query(
        {"is_sandbox": "False", "integration.name": "hubspot", "created_at": at(1), "x": "y"}
    )

    assert read == AccountFilter(
        is_sandbox=False, integration_name="hubspot", created_at=START + timedelta(seconds=1)
    )
    with pytest.raises(BadRequestError, match="status"):
        AccountFilter.from_query({"status": "gone"})


def test_removing_an_account_removes_only_its_servers_and_it_can_be_added_again(
    store: Store,
) -> None:
    mine = store.create(ACCOUNT, {"config": {}, "name": "x"})
    theirs = store.create(OTHER_ACCOUNT, {"config": {}, "name": "y"})

    assert store.remove_account(ACCOUNT) == [mine.id]

    assert [s.id for s in store.all_servers()] == [theirs.id]
    with pytest.raises(NotFoundError, match="Integrated account"):
        store.list_servers(ACCOUNT)
    store.add_account({"id": ACCOUNT})
    with pytest.raises(ConflictError):
        store.add_account({"id": ACCOUNT})
    assert store.list_servers(ACCOUNT).items == []


def test_a_clock_moved_on_past_an_expiry_deletes_the_server(store: Store) -> None:
    server = store.create(ACCOUNT, {"name": "x", "config": {}, "expires_at": at(120)})
    kept = store.create(ACCOUNT, {"name": "y", "config": {}})

    store.advance_clock(121)

    assert [s.id for s in store.all_servers()] == [kept.id]
    with pytest.raises(NotFoundError):
        store.get(ACCOUNT, server.id)
    with pytest.raises(BadRequestError, match="only moves on"):
        store.advance_clock(-1)
