"""Integrated accounts and installed integrations in the store, without HTTP, on a fake clock:
what `GET /integrated-account` (filters, pages), `GET /integrated-account/{id}` and
`GET /environment-integration/{id}` answer, and the hooks that shape them."""

from __future__ import annotations

import uuid

import pytest

from truto_pulumi.emulator._base import BadRequestError, NotFoundError
from truto_pulumi.emulator._state import Store

from ..kit import ACCOUNT, OTHER_ACCOUNT, FakeClock
from .helpers import at


def listed(store: Store, **query: str) -> list[str]:
    return [account.id for account in store.list_accounts(query).items]


def test_added_accounts_and_their_installed_integrations_have_trutos_fields(store: Store) -> None:
    added = store.add_account({}).to_json()
    given = {"tenant_id": "acme", "status": "connecting", "is_sandbox": True, "region": "eu"}
    install_id = str(uuid.uuid4())
    other = store.add_account(
        {"id": ACCOUNT.upper(), "integration": "zendesk", **given}
        | {"environment_integration_id": install_id}
    )
    same = store.add_account({"integration": "zendesk"})  # installed already: under that id

    install = store.get_environment_integration(store.default_install_id).to_json()
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
        "integration": install["integration"],
        "context": {"oauth": {"token": {"access_token": token, "token_type": "Bearer"}}},
    }
    assert install == {
        "id": store.default_install_id,
        "integration_id": install["integration"]["id"],
        "environment_id": store.environment_id,
        "is_enabled": True,
        "show_in_catalog": True,
        "created_at": at(0),
        "updated_at": at(0),
        "integration": {"id": install["integration_id"], "name": "hubspot", "category": "crm"},
    }
    assert (uuid.UUID(added["id"]).version, len(token) > 20) == (4, True)
    assert store.get_account(added["id"]).to_json() == added
    assert {key: other.to_json()[key] for key in given} == given
    assert (other.id, other.integration.category) == (ACCOUNT, "ticketing")
    assert same.environment_integration_id == other.environment_integration_id == install_id
    assert store.get_environment_integration(install_id).integration == same.integration
    assert other.context != same.context
    with pytest.raises(NotFoundError, match="Environment integration"):  # another environment's
        store.get_environment_integration(Store().default_install_id)


def test_an_open_store_answers_for_any_uuid_but_lists_only_accounts_added(store: Store) -> None:
    store.create(ACCOUNT, {"config": {}, "name": "x"})
    implicit = store.get_account(ACCOUNT)

    assert (implicit.id, implicit.status) == (ACCOUNT, "active")
    assert store.get_account(ACCOUNT) == implicit  # made once, on first use
    assert store.set_account_status(ACCOUNT, "needs_reauth").status == "needs_reauth"
    assert (listed(store), store.all_accounts()) == ([], [])  # even once changed
    with pytest.raises(NotFoundError, match="Integrated account"):
        store.get_account("not-a-uuid")


def test_a_fixed_store_lists_its_accounts_once_each_and_finds_no_other_not_added() -> None:
    store = Store(accounts=[ACCOUNT, ACCOUNT.upper(), OTHER_ACCOUNT])
    unknown = str(uuid.uuid4())

    assert sorted(listed(store)) == sorted([ACCOUNT, OTHER_ACCOUNT])
    assert store.get_account(ACCOUNT).environment_integration_id == store.default_install_id
    for attempt in (
        lambda: store.get_account(unknown),
        lambda: store.set_account_status(unknown, "active"),
        lambda: store.remove_account(unknown),
        lambda: store.list_servers(unknown, {}),
        lambda: store.create(unknown, {"config": {}, "name": "x"}),
    ):
        with pytest.raises(NotFoundError, match="Integrated account"):
            attempt()
    added = store.add_account({})
    assert store.create(added.id, {"config": {}, "name": "x"}).integrated_account_id == added.id
    assert added.id in listed(store)


@pytest.fixture
def trio(store: Store, clock: FakeClock) -> dict[str, str]:
    """Accounts `a`, `b`, `c` that the filters tell apart, created at 0, 1 and 2 s; `c`'s
    status changed at 3 s. Name -> id."""
    a = store.add_account({"tenant_id": "t1", "super_query": True})
    clock.advance(1)
    b = store.add_account({"tenant_id": "t1", "integration": "salesforce", "is_sandbox": True})
    clock.advance(1)
    c = store.add_account({"tenant_id": "t2", "is_sandbox": True})
    clock.advance(1)
    store.set_account_status(c.id, "needs_reauth")
    return {"a": a.id, "b": b.id, "c": c.id}


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({}, "abc"),
        ({"tenant_id": "t1"}, "ab"),
        ({"is_sandbox": "true"}, "bc"),
        ({"is_sandbox": "FALSE"}, "a"),
        ({"integration.name": "salesforce"}, "b"),
        ({"status": "needs_reauth"}, "c"),
        ({"features.super_query": "true"}, "a"),
        ({"integration.name": "hubspot", "status": "active"}, "a"),
        ({"integration.name": "hubspot", "is_sandbox": "true", "tenant_id": "t2"}, "c"),
        ({"tenant_id": "t2", "integration.name": "salesforce"}, ""),
        ({"region": "eu", "color": "blue"}, "abc"),  # unknown parameters are ignored
        ({"status": "", "tenant_id": ""}, "abc"),  # an empty value filters nothing
        ({"created_at": at(1)}, "b"),  # that very instant
        ({"created_at": "2024-01-10T10:00:01+00:00"}, "b"),
        ({"updated_at": at(3)}, "c"),  # its status changed then
        ({"updated_at": at(2)}, ""),
        ({"created_at[gt]": at(0)}, "bc"),
        ({"created_at[gte]": at(1), "updated_at[lt]": at(3)}, "b"),
        ({"created_at[lte]": at(1)}, "ab"),
        *[({key: value}, None) for key, value in [
            ("is_sandbox", "maybe"), ("status", "deleted"), ("status", "ACTIVE"),
            ("updated_at", "2024-01-10"), ("created_at", "2024-01-10T10:00:00"),  # no time zone
            ("created_at[gt]", "soon"), ("limit", "0")]],
    ],
)  # fmt: skip
def test_filters_alone_and_combined_select_the_matching_accounts_or_are_bad_requests(
    store: Store, trio: dict[str, str], query: dict[str, str], expected: str | None
) -> None:
    if expected is None:
        with pytest.raises(BadRequestError):
            listed(store, **query)
    else:
        assert listed(store, **query) == [trio[name] for name in expected]


def test_both_lists_page_by_created_at_then_id_each_item_once_with_cursors_of_their_own(
    store: Store, clock: FakeClock
) -> None:
    late = store.add_account({"id": ACCOUNT})
    clock.advance(-1)  # an account created earlier comes first, whatever its id
    early = store.add_account({"id": OTHER_ACCOUNT})
    clock.advance(2)
    added = sorted(store.add_account({}).id for _ in range(118))
    assert store.list_accounts({"limit": "5000"}).limit == 100
    store.set_account_page_limit(50)

    pages = [store.list_accounts({"limit": "5000"})]  # clipped to the page limit
    clock.advance(1)
    later = sorted(store.add_account({}).id for _ in range(2))  # added while paging
    while (cursor := pages[-1].next_cursor) is not None:
        pages.append(store.list_accounts({"limit": "5000", "next_cursor": cursor}))

    assert [(len(page.items), page.limit) for page in pages] == [(50, 50), (50, 50), (22, 50)]
    ids = [account.id for page in pages for account in page.items]
    assert ids == [early.id, late.id, *added, *later] == [a.id for a in store.all_accounts()]
    assert len(listed(store, limit="2")) == 2
    servers = sorted(store.create(ACCOUNT, {"config": {}, "name": n}).id for n in "abcd")
    store.create(OTHER_ACCOUNT, {"config": {}, "name": "elsewhere"})
    first = store.list_servers(ACCOUNT, {"limit": "2"})
    store.delete(ACCOUNT, first.items[-1].id)  # the cursor outlives the last server seen
    rest = store.list_servers(ACCOUNT, {"limit": "2", "next_cursor": str(first.next_cursor)})
    assert [server.id for server in (*first.items, *rest.items)] == servers
    assert rest.next_cursor is None  # exactly one full page: no next one
    with pytest.raises(BadRequestError, match="next_cursor"):  # a cursor of the other list
        store.list_servers(ACCOUNT, {"next_cursor": str(pages[0].next_cursor)})
    with pytest.raises(BadRequestError, match="next_cursor"):
        listed(store, next_cursor=str(first.next_cursor))
