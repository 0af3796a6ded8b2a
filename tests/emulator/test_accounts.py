"""Integrated accounts and installed integrations in the store, without HTTP, on a fake clock:
what `GET /integrated-account` (filters, pages), `GET /integrated-account/{id}` and
`GET /environment-integration/{id}` answer, and the hooks that shape them."""

from __future__ import annotations

import re
import uuid
from datetime import timedelta
from typing import Any

import pytest

from truto_pulumi.emulator._base import BadRequestError, EmulatorError, NotFoundError
from truto_pulumi.emulator._readings import Readings
from truto_pulumi.emulator._state import AccountFilter, Page, Store, parse_account_limit

from ..kit import ACCOUNT, OTHER_ACCOUNT, FakeClock
from .helpers import START, at


def page_of(store: Store, **query: str) -> Page[Any]:
    """The page `GET /integrated-account?<query>` answers (as the app reads its query)."""
    return store.list_accounts(
        AccountFilter.from_query(query),
        limit=parse_account_limit(query.get("limit")),
        cursor=query.get("next_cursor") or None,
    )


def listed(store: Store, **query: str) -> list[str]:
    return [account.id for account in page_of(store, **query).items]


def every_page(store: Store, **query: str) -> list[Page[Any]]:
    """Every page of the account list, following `next_cursor` until it is null."""
    pages = [page_of(store, **query)]
    while (cursor := pages[-1].next_cursor) is not None:
        pages.append(page_of(store, **{**query, "next_cursor": cursor}))
        assert len(pages) < 20, "the cursor does not end"
    return pages


def test_an_added_account_has_trutos_fields_with_defaults_or_those_given(store: Store) -> None:
    added = store.add_account({}).to_json()
    given = {"tenant_id": "acme", "status": "connecting", "is_sandbox": True, "region": "eu"}
    other = store.add_account({"id": ACCOUNT.upper(), "integration": "salesforce", **given})

    hubspot = store.get_environment_integration(store.default_install_id)
    token = added["context"]["oauth"]["token"]["access_token"]
    assert added == {
        "id": added["id"],
        "tenant_id": f"tenant-{added['id'][:8]}",
        "environment_integration_id": store.default_install_id,
        "status": "active",
        "is_sandbox": False,
        "features": {"super_query": False},
        "region": "wnam",
        "created_at": at(0),
        "updated_at": at(0),
        "integration": {"id": hubspot.integration.id, "name": "hubspot", "category": "crm"},
        "context": {"oauth": {"token": {"access_token": token, "token_type": "Bearer"}}},
    }
    assert uuid.UUID(added["id"]).version == 4
    assert len(token) > 20
    assert store.get_account(added["id"]).to_json() == added
    assert other.id == ACCOUNT
    assert {key: other.to_json()[key] for key in given} == given
    assert other.integration.name == "salesforce"
    assert other.environment_integration_id != store.default_install_id
    assert other.context != store.get_account(added["id"]).context


def test_accounts_of_an_integration_share_its_installed_integration_of_this_environment(
    store: Store,
) -> None:
    install_id = str(uuid.uuid4())
    first = store.add_account({"integration": "zendesk", "environment_integration_id": install_id})
    second = store.add_account({"integration": "zendesk"})

    assert first.environment_integration_id == second.environment_integration_id == install_id
    assert store.get_environment_integration(install_id).integration == first.integration
    assert first.integration.category == "ticketing"
    install = store.get_environment_integration(store.default_install_id)
    assert install.to_json() == {
        "id": store.default_install_id,
        "integration_id": install.integration.id,
        "environment_id": store.environment_id,
        "is_enabled": True,
        "show_in_catalog": True,
        "created_at": at(0),
        "updated_at": at(0),
        "integration": {"id": install.integration.id, "name": "hubspot", "category": "crm"},
    }
    elsewhere = Store()
    assert elsewhere.environment_id != store.environment_id
    assert elsewhere.default_install_id != store.default_install_id
    for unknown in (elsewhere.default_install_id, "hubspot"):
        with pytest.raises(NotFoundError, match="Environment integration"):
            store.get_environment_integration(unknown)


def test_an_open_store_lists_only_added_accounts_but_answers_for_any_uuid(store: Store) -> None:
    store.create(ACCOUNT, {"config": {}, "name": "x"})
    implicit = store.get_account(ACCOUNT)

    assert (implicit.id, implicit.status) == (ACCOUNT, "active")
    assert store.get_account(ACCOUNT) == implicit  # made once, on first use
    assert (listed(store), store.all_accounts()) == ([], [])
    with pytest.raises(NotFoundError, match="Integrated account"):
        store.get_account("not-a-uuid")


def test_fixed_accounts_are_listed_once_each_and_every_other_account_is_not_found() -> None:
    store = Store(accounts=[ACCOUNT, ACCOUNT.upper(), OTHER_ACCOUNT])

    assert sorted(listed(store)) == sorted([ACCOUNT, OTHER_ACCOUNT])
    assert store.get_account(ACCOUNT).environment_integration_id == store.default_install_id
    unknown = str(uuid.uuid4())
    for attempt in (
        lambda: store.get_account(unknown),
        lambda: store.edit_account(unknown, {"status": "active"}),
        lambda: store.remove_account(unknown),
        lambda: store.list_servers(unknown),
        lambda: store.create(unknown, {"config": {}, "name": "x"}),
    ):
        with pytest.raises(NotFoundError, match="Integrated account"):
            attempt()
    added = store.add_account({})
    assert store.create(added.id, {"config": {}, "name": "x"}).integrated_account_id == added.id
    assert added.id in listed(store)
    with pytest.raises(ValueError, match="UUID"):
        Store(accounts=["acme"])


@pytest.fixture
def trio(store: Store) -> dict[str, str]:
    """Three accounts `a`, `b`, `c` that the filters tell apart; name -> id."""
    a = store.add_account({"tenant_id": "t1", "super_query": True})
    b = store.add_account({"tenant_id": "t1", "integration": "salesforce", "is_sandbox": True})
    c = store.add_account({"tenant_id": "t2", "status": "connecting", "is_sandbox": True})
    return {"a": a.id, "b": b.id, "c": c.id}


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({}, "abc"),
        ({"tenant_id": "t1"}, "ab"),
        ({"is_sandbox": "true"}, "bc"),
        ({"is_sandbox": "false"}, "a"),
        ({"is_sandbox": "TRUE"}, "bc"),
        ({"integration.name": "salesforce"}, "b"),
        ({"integration.name": "hubspot"}, "ac"),
        ({"status": "connecting"}, "c"),
        ({"features.super_query": "true"}, "a"),
        ({"tenant_id": "t1", "is_sandbox": "true"}, "b"),
        ({"integration.name": "hubspot", "status": "active"}, "a"),
        ({"integration.name": "hubspot", "is_sandbox": "true", "tenant_id": "t2"}, "c"),
        ({"tenant_id": "t2", "integration.name": "salesforce"}, ""),
        ({"region": "eu", "color": "blue"}, "abc"),  # unknown parameters are ignored
        ({"status": "", "tenant_id": ""}, "abc"),  # an empty value filters nothing
    ],
)
def test_filters_alone_and_combined_select_the_matching_accounts(
    store: Store, trio: dict[str, str], query: dict[str, str], expected: str
) -> None:
    assert sorted(listed(store, **query)) == sorted(trio[name] for name in expected)


def test_an_edit_shows_in_get_and_filters_which_match_an_instant_or_bound_it(
    store: Store, clock: FakeClock
) -> None:
    first = store.add_account({})
    clock.advance(1)
    second = store.add_account({})
    clock.advance(1)

    edited = store.edit_account(second.id, {"status": "needs_reauth", "tenant_id": "acme"})

    assert (edited.status, edited.tenant_id) == ("needs_reauth", "acme")
    assert (edited.created_at, edited.updated_at) == (
        START + timedelta(0, 1),
        START + timedelta(0, 2),
    )
    assert store.get_account(second.id) == edited
    assert listed(store, status="needs_reauth", tenant_id="acme") == [second.id]
    assert listed(store, created_at=at(0)) == listed(store, created_at=at(0)[:-1] + "+00:00")
    assert listed(store, created_at=at(0)) == [first.id]
    assert listed(store, updated_at=at(2)) == [second.id]
    assert listed(store, updated_at=at(1)) == listed(store, created_at=at(-1)) == []
    assert listed(store, **{"created_at[gt]": at(0)}) == [second.id]
    assert listed(store, **{"created_at[gte]": at(0), "updated_at[lt]": at(2)}) == [first.id]


@pytest.mark.parametrize(
    "query",
    [
        {"is_sandbox": "maybe"},
        {"status": "deleted"},
        {"status": "ACTIVE"},
        {"updated_at": "2024-01-10"},
        {"created_at": "2024-01-10T10:00:00"},  # no time zone
        {"created_at[gt]": "soon"},
        {"limit": "ten"},
        {"limit": "0"},
        {"next_cursor": "not-a-cursor"},
    ],
)
def test_malformed_query_values_are_bad_requests(store: Store, query: dict[str, str]) -> None:
    store.add_account({})
    with pytest.raises(BadRequestError):
        page_of(store, **query)


def test_120_accounts_by_pages_of_50_come_in_3_pages_each_exactly_once(store: Store) -> None:
    added = [store.add_account({}).id for _ in range(120)]
    assert page_of(store, limit="5000").limit == 100
    store.set_account_page_limit(50)

    pages = every_page(store, limit="5000")  # clipped to the page limit

    assert [(len(page.items), page.limit) for page in pages] == [(50, 50), (50, 50), (20, 50)]
    ids = [account.id for page in pages for account in page.items]
    assert ids == sorted(added) == [account.id for account in store.all_accounts()]
    assert (len(page_of(store, limit="2").items), store.account_page_limit) == (2, 50)


def test_pages_come_by_created_at_then_id_stay_stable_and_take_only_their_own_cursors(
    store: Store, clock: FakeClock
) -> None:
    late = store.add_account({"id": ACCOUNT})
    clock.advance(-1)  # an account created earlier comes first, whatever its id
    early = store.add_account({"id": OTHER_ACCOUNT})
    clock.advance(2)
    before = [early.id, late.id] + [store.add_account({}).id for _ in range(3)]
    first = page_of(store, limit="2")
    clock.advance(1)
    later = [store.add_account({}).id for _ in range(2)]

    rest = every_page(store, limit="2", next_cursor=str(first.next_cursor))

    ids = [a.id for a in first.items] + [a.id for page in rest for a in page.items]
    assert ids[:2] == [early.id, late.id]
    assert sorted(ids) == sorted(before + later)
    assert len(set(ids)) == 7
    for name in ("a", "b"):
        store.create(ACCOUNT, {"config": {}, "name": name})
    with pytest.raises(BadRequestError, match="next_cursor"):  # a cursor of the other list
        store.list_servers(ACCOUNT, cursor=first.next_cursor)
    with pytest.raises(BadRequestError, match="next_cursor"):
        page_of(store, next_cursor=str(store.list_servers(ACCOUNT, limit=1).next_cursor))


def test_a_removed_account_takes_its_servers_and_is_not_found_until_added_again(
    store: Store,
) -> None:
    added = store.add_account({"integration": "salesforce"})
    servers = [store.create(added.id, {"config": {}, "name": n}).id for n in ("a", "b")]
    kept = store.create(OTHER_ACCOUNT, {"config": {}, "name": "other"}).id

    assert store.remove_account(added.id) == sorted(servers)

    for attempt in (
        lambda: store.list_servers(added.id),
        lambda: store.create(added.id, {"config": {}, "name": "x"}),
        lambda: store.get_account(added.id),  # though every UUID is an account here
        lambda: store.remove_account(added.id),
    ):
        with pytest.raises(NotFoundError, match="Integrated account"):
            attempt()
    assert listed(store) == []
    assert store.get_environment_integration(added.environment_integration_id)
    assert [s.id for s in store.all_servers()] == [kept]
    assert store.add_account({"id": added.id}).id == added.id
    assert store.list_servers(added.id).items == []


def test_uninstalling_an_integration_makes_it_not_found_while_its_accounts_stay(
    store: Store,
) -> None:
    added = store.add_account({})
    install_id = added.environment_integration_id

    assert store.uninstall(install_id) == install_id

    with pytest.raises(NotFoundError):
        store.get_environment_integration(install_id)
    assert store.get_account(added.id) == added
    assert store.create(added.id, {"config": {}, "name": "x"}).integrated_account_id == added.id
    with pytest.raises(NotFoundError):
        store.uninstall(install_id)
    reinstalled = store.add_account({})  # hubspot again: installed anew, under another id
    assert reinstalled.environment_integration_id != install_id
    assert store.get_environment_integration(reinstalled.environment_integration_id)


@pytest.mark.parametrize("fixed", [[ACCOUNT, OTHER_ACCOUNT], None])
def test_reset_restores_the_constructors_store_without_servers(
    clock: FakeClock, fixed: list[str] | None
) -> None:
    readings = Readings(config_patch="replace", echo_defaults=False)
    store = Store(accounts=fixed, account_page_limit=7, readings=readings, clock=clock.utc)
    initial = store.all_accounts()
    store.create(ACCOUNT, {"config": {}, "name": "x"})
    store.add_account({"integration": "jira"})
    store.edit_account(ACCOUNT, {"status": "needs_reauth"})
    store.remove_account(OTHER_ACCOUNT)
    store.uninstall(store.default_install_id)
    store.set_account_page_limit(1)
    store.readings = Readings()
    store.advance_clock(3600)
    with pytest.raises(BadRequestError, match="only moves on"):
        store.advance_clock(-1)

    store.reset()

    assert (store.all_accounts(), store.all_servers(), store.readings) == (initial, [], readings)
    assert (store.account_page_limit, store.get_account(ACCOUNT).status) == (7, "active")
    assert store.get_environment_integration(store.default_install_id)
    assert store.list_servers(OTHER_ACCOUNT).items == []
    server = store.create(ACCOUNT, {"config": {}, "name": "x", "expires_at": at(120)})
    assert server.to_json()["expires_at"] == at(120)  # the clock is back too


@pytest.mark.parametrize(
    ("op", "fields", "message"),
    [
        ("add", {"status": "gone"}, "status must be one of"),
        ("add", {"region": "mars"}, "region must be one of"),
        ("add", {"is_sandbox": "yes"}, "is_sandbox must be a boolean"),
        ("add", {"id": "42"}, "id must be a UUID"),
        ("add", {"integration": ""}, "integration must be a non-empty string"),
        ("add", {"colour": "blue"}, "unknown field(s): colour"),
        ("add", [], "request body must be a JSON object"),
        ("add", {"environment_integration_id": "default", "integration": "jira"}, "not 'jira'"),
        ("edit", {"id": str(uuid.uuid4())}, "id cannot be changed"),
        ("edit", {"integration": "jira"}, "integration cannot be changed"),
        ("edit", {"status": "gone"}, "status must be one of"),
        ("edit", {"status": None}, "cannot be set to null"),
        ("edit", {"colour": "blue"}, "unknown field(s): colour"),
        ("conflict", {"id": ACCOUNT.upper()}, "already exists"),
        (
            "conflict",
            {"integration": "hubspot", "environment_integration_id": OTHER_ACCOUNT},
            "already installed",
        ),
    ],
)
def test_adding_or_editing_an_account_refuses_bad_fixed_unknown_and_taken_fields(
    store: Store, op: str, fields: Any, message: str
) -> None:
    existing = store.add_account({"id": ACCOUNT})
    if isinstance(fields, dict) and fields.get("environment_integration_id") == "default":
        fields = {**fields, "environment_integration_id": store.default_install_id}

    with pytest.raises(EmulatorError, match=re.escape(message)) as refused:
        store.edit_account(ACCOUNT, fields) if op == "edit" else store.add_account(fields)
    assert refused.value.status == (409 if op == "conflict" else 400)
    assert store.all_accounts() == [existing]


@pytest.mark.parametrize("limit", [0, -1, "5", True, None])
def test_the_account_page_limit_must_be_a_positive_integer(limit: Any) -> None:
    with pytest.raises(BadRequestError, match="page limit"):
        Store().set_account_page_limit(limit)
    with pytest.raises(ValueError, match="account_page_limit"):
        Store(account_page_limit=limit)
