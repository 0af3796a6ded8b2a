"""The store of MCP servers and its validation rules under each reading, without HTTP, on a fake
clock."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest

from truto_pulumi.emulator._base import EmulatorError, JSONObject, NotFoundError
from truto_pulumi.emulator._readings import Readings
from truto_pulumi.emulator._state import McpServer, Store

from ..kit import ACCOUNT, OTHER_ACCOUNT, FakeClock
from .helpers import at

READ_CRM, DISCOVERY = {"methods": ["read"], "tags": ["crm"]}, {"tool_exposure": "discovery"}
STORED = {**READ_CRM, **DISCOVERY}
TOOLS = [
    {"resource": "contacts", "method": "list", "tags": ["crm"]},
    {"resource": "contacts", "method": "create", "tags": ["crm"]},
    {"resource": "tickets", "method": "get", "tags": ["support"]},
]
# Readings, as the readings hook takes them ({} is the default, the strictest).
OPTIONAL, REPLACE = {"config_required": False}, {"config_patch": "replace"}
MERGE, NEWER = {"config_patch": "merge"}, {"newer_keys": ["level"], "config_patch": "merge"}
TOOLED, BLOCKED = {"account_tools": {ACCOUNT: TOOLS}}, {"blocked_accounts": [ACCOUNT]}
NO_TOOL = (400, "No tools match the given methods and tags")
AS_SENT = None
"""Taken, `config` as sent."""


def expiry(sent: str, stored: str) -> tuple[JSONObject, JSONObject, JSONObject]:
    """A row of the create table: `expires_at` sent, and stored (a time on START's day)."""
    return {}, {"expires_at": sent}, {"expires_at": f"2024-01-10T{stored}Z"}


def outcome(store: Store, act: Callable[[], McpServer], expected: Any, sent: JSONObject) -> None:
    """`act` is refused with `expected` (status, message), changing no server; or answers the
    fields of `expected` (AS_SENT: the `config` sent) and stores what it answers."""
    before = store.all_servers()
    if isinstance(expected, tuple):
        with pytest.raises(EmulatorError, match=re.escape(expected[1])) as refused:
            act()
        assert refused.value.status == expected[0]
        assert store.all_servers() == before
        return
    answer = act().to_json()
    expected = {"config": sent["config"]} if expected is AS_SENT else expected
    assert {key: answer[key] for key in expected} == expected
    assert answer in [server.to_json() for server in store.all_servers()]


@pytest.mark.parametrize(
    ("reading", "body", "expected"),
    [
        ({}, [], (400, "request body must be a JSON object")),
        ({}, {"name": None}, (400, "name must be a non-empty string")),
        ({}, {"name": "   "}, (400, "name must be a non-empty string")),
        ({}, {"methods": ["read"]}, (400, "unknown field(s): methods")),
        ({}, {"config": None}, (400, "config is required")),
        (OPTIONAL, {"config": None}, {"config": {}}),
        ({}, {"config": ["read"]}, (400, "config must be a JSON object")),
        ({}, {"config": {"methods": "read"}}, (400, "config.methods must be an array")),
        ({}, {"config": {"methods": [""]}}, (400, "config.methods must be an array")),
        ({}, {"config": {"tags": [1]}}, (400, "config.tags must be an array")),
        ({}, {"config": {"tool_exposure": "some"}}, (400, "tool_exposure must be one of")),
        ({}, {"config": {"require_api_token_auth": "y"}}, (400, "must be a boolean")),
        ({}, {"config": {"level": 2}}, (400, "config.level is not a known config key")),
        (NEWER, {"config": {"level": {"x": 2}}}, AS_SENT),
        ({}, {"config": {"tags": ["a"], "methods": None}}, {"config": {"tags": ["a"]}}),
        ({}, {"config": {"methods": ["read", "write"], "tool_exposure": "discovery"}}, AS_SENT),
        ({}, {"config": {"require_api_token_auth": False}}, AS_SENT),
        (TOOLED, {"config": {"methods": ["write"], "tags": ["support"]}}, NO_TOOL),
        (TOOLED, {"config": {"tags": ["hr"]}}, NO_TOOL),
        (TOOLED, {"config": {"methods": ["delete"]}}, NO_TOOL),
        (TOOLED, {"config": {"methods": ["read"]}}, AS_SENT),  # a group of methods
        (TOOLED, {"config": {"methods": ["create"], "tags": ["x", "crm"]}}, AS_SENT),
        ({"plan_limit": 1}, {}, (403, "Your plan allows 1 MCP servers")),
        ({"plan_limit": 1, "plan_limit_status": 402}, {}, (402, "Your plan allows 1")),
        (BLOCKED, {}, (503, f"{ACCOUNT} is blocked. Contact support")),
        expiry(at(60), "10:01:00.000"),  # the shortest lead: a minute
        expiry("2024-01-10T12:30:00.123456+02:00", "10:30:00.123"),
        expiry("2024-01-10t10:30:00z", "10:30:00.000"),
        expiry("2024-01-10T10:30:00.5Z", "10:30:00.500"),
        expiry("2024-01-10T10:30:00.123999999Z", "10:30:00.123"),
        expiry("2024-01-10 05:30:00-05:00", "10:30:00.000"),
        ({}, {"expires_at": None}, {"expires_at": None}),
        ({}, {"expires_at": at(59.999)}, (400, "at least 60 seconds in the future")),
        ({}, {"expires_at": "2024-01-10T11:00:00"}, (400, "with a time zone")),
        ({}, {"expires_at": 1704884400}, (400, "expires_at must be an RFC 3339")),
        ({}, {"expires_at": "2024-02-30T10:00:00Z"}, (400, "not a valid date-time")),
    ],
)
def test_a_create_is_taken_normalized_or_refused_changing_nothing(
    store: Store, reading: JSONObject, body: Any, expected: Any
) -> None:
    """One server exists already; then the readings are `reading`."""
    store.create(OTHER_ACCOUNT, {"name": "x", "config": {}})
    store.readings = Readings.from_json(reading)
    sent = {"name": "x", "config": {}, **body} if isinstance(body, dict) else body

    outcome(store, lambda: store.create(ACCOUNT, sent), expected, sent)


@pytest.mark.parametrize(
    ("reading", "body", "expected"),
    [
        ({}, {"name": "y"}, {"name": "y", "config": STORED, "updated_at": at(5)}),
        (REPLACE, {"expires_at": None}, {"expires_at": None, "config": STORED}),
        ({}, {"config": {"tags": ["hr"]}}, {"config": {**STORED, "tags": ["hr"]}}),
        ({}, {"config": {}}, {"config": STORED}),
        ({}, {"config": None}, {"config": {}}),
        ({}, {"config": {"methods": None, "tags": None}}, {"config": DISCOVERY}),
        ({}, {"config": {"methods": ["write"]}}, {"config": {**STORED, "methods": ["write"]}}),
        ({}, {"config": {"tool_exposure": None}}, (400, "config.tool_exposure must be")),
        ({}, {"config": {"require_api_token_auth": None}}, (400, "must be a boolean")),
        ({}, {"config": {"bogus": None}}, (400, "config.bogus is not a known config key")),
        ({}, {"config": "all"}, (400, "config must be a JSON object")),
        ({}, {"name": None}, (400, "name must be a non-empty string")),
        ({}, {"expires_at": at(64.999)}, (400, "at least 60 seconds in the future")),
        (MERGE, {"config": {"tool_exposure": None}}, {"config": READ_CRM}),
        (REPLACE, {"config": {"tags": ["hr"], "methods": None}}, {"config": {"tags": ["hr"]}}),
        (NEWER, {"config": {"tags": ["hr"]}}, {"config": {**STORED, "tags": ["hr"], "level": 2}}),
        (NEWER, {"config": {"level": None}}, {"config": STORED}),
        (TOOLED, {"config": {"tags": ["hr"]}}, NO_TOOL),
        (TOOLED, {"name": "y"}, {"name": "y"}),  # a PATCH without config checks none
        (BLOCKED, {"name": "y"}, (503, "is blocked")),
    ],
)
def test_a_patch_changes_what_it_sends_under_each_reading_or_is_refused_changing_nothing(
    store: Store, clock: FakeClock, reading: JSONObject, body: Any, expected: Any
) -> None:
    """The server has the STORED config (and the newer key `level`, set in the dashboard, under
    NEWER) and an expiry; 5 s later the readings are `reading`, and it is PATCHed."""
    server = store.create(ACCOUNT, {"name": "x", "config": {}, "expires_at": at(600)})
    store.readings = Readings.from_json(reading)
    extra = {"level": 2} if reading == NEWER else {}
    server = store.edit(server.id, {"config": {**STORED, **extra}})  # `updated_at` at 0 s
    clock.advance(5)

    outcome(store, lambda: store.update(ACCOUNT, server.id, body), expected, body)


HIDDEN = {  # how a client names a server it cannot see, though it is there: (account, id)
    "from_another_account": (OTHER_ACCOUNT, None),
    "id_not_a_uuid": (ACCOUNT, "42"),
    "account_not_a_uuid": ("not-a-uuid", None),
    "no_hyphens": (ACCOUNT.replace("-", ""), None),
}


@pytest.mark.parametrize(
    "how", [*HIDDEN, "blocked", "deleted", "removed", "expired", "clock_moved", "account_gone"]
)
def test_a_server_a_client_cannot_reach_is_refused_to_get_update_and_delete(
    store: Store, clock: FakeClock, how: str
) -> None:
    server = store.create(ACCOUNT, {"name": "x", "config": {}, "expires_at": at(120)})
    account, server_id = HIDDEN.get(how, (ACCOUNT, None))
    server_id = server_id or server.id
    if how == "blocked":
        store.readings = Readings(blocked_accounts=frozenset({ACCOUNT}))
    elif how == "deleted":
        assert store.delete(ACCOUNT, server.id) == server.id
    elif how == "removed":  # out of band
        store.remove(server.id)
    elif how == "expired":
        clock.advance(119.999)
        assert store.get(ACCOUNT, server.id).id == server.id
        clock.advance(0.001)
    elif how == "clock_moved":  # the emulated Truto's own clock, moved by a hook
        store.advance_clock(120)
    elif how == "account_gone":
        assert store.remove_account(ACCOUNT) == [server.id]

    for attempt in (
        lambda: store.get(account, server_id),
        lambda: store.update(account, server_id, {"name": "stolen"}),
        lambda: store.delete(account, server_id),
    ):
        with pytest.raises(EmulatorError) as refused:
            attempt()
        assert refused.value.status == (503 if how == "blocked" else 404)
    kept = how in (*HIDDEN, "blocked")
    assert store.all_servers() == ([server] if kept else [])
    if not kept:
        with pytest.raises(NotFoundError):
            store.remove(server.id)
        with pytest.raises(NotFoundError):
            store.edit(server.id, {"name": "y"})


@pytest.mark.parametrize(
    ("query", "applied"),
    [({}, 100), ({"limit": ""}, 100), ({"limit": "1"}, 1), ({"limit": "1000"}, 1000)]
    + [({"limit": bad}, "limit") for bad in ("0", "1001", "ten", "1.5")]
    + [({"next_cursor": bad}, "next_cursor") for bad in ("garbage!", "bm90LWpzb24", "WzEsMl0")],
)
def test_a_list_takes_a_limit_of_1_to_1000_default_100_and_only_cursors_it_issued(
    store: Store, query: dict[str, str], applied: int | str
) -> None:
    if isinstance(applied, str):
        with pytest.raises(EmulatorError, match=applied):
            store.list_servers(ACCOUNT, query)
    else:
        assert store.list_servers(ACCOUNT, query).limit == applied
