"""Integrated accounts and installed integrations over real loopback HTTP: Truto's
`GET /integrated-account` (filters, pages), `GET /integrated-account/{id}`,
`GET /environment-integration/{id}`, and the `/_emulator/` hooks that shape them."""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from truto_pulumi.emulator import Emulator, RemoteEmulator, run_emulator

from ..kit import ACCOUNT, OTHER_ACCOUNT
from .helpers import mcp_path

pytestmark = pytest.mark.slow  # starts the emulator

ACCOUNTS = "/integrated-account"
TIMESTAMP = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z")
ACCOUNT_KEYS = {
    "id",
    "tenant_id",
    "environment_integration_id",
    "status",
    "is_sandbox",
    "features",
    "region",
    "created_at",
    "updated_at",
    "integration",
    "context",
}


def account_path(account_id: str) -> str:
    return f"{ACCOUNTS}/{account_id}"


def default_install(emu: Emulator) -> str:
    """The id of this emulator's installed integration of the accounts given by id only."""
    return str(emu.environment()["default_environment_integration_id"])


def install_path(install_id: str) -> str:
    return f"/environment-integration/{install_id}"


def assert_error(response: httpx.Response, status: int) -> None:
    assert response.status_code == status
    body = response.json()
    assert set(body) == {"statusCode", "error", "message"}
    assert body["statusCode"] == status
    assert body["message"]


def listed_ids(api: httpx.Client, **params: Any) -> list[str]:
    response = api.get(ACCOUNTS, params=params)
    assert response.status_code == 200, response.text
    return [account["id"] for account in response.json()["result"]]


def every_page(api: httpx.Client, **params: Any) -> list[dict[str, Any]]:
    """Every page of the account list, following `next_cursor` until it is null."""
    pages: list[dict[str, Any]] = []
    cursor: str | None = None
    while True:
        query = dict(params) if cursor is None else {**params, "next_cursor": cursor}
        response = api.get(ACCOUNTS, params=query)
        assert response.status_code == 200, response.text
        pages.append(response.json())
        cursor = pages[-1]["next_cursor"]
        if cursor is None:
            return pages
        assert len(pages) < 20, "the cursor does not end"


@pytest.fixture(scope="module")
def fixed() -> Iterator[Emulator]:
    """An emulator whose environment holds `ACCOUNT` and `OTHER_ACCOUNT` (and no other)."""
    with run_emulator(api_token="fixed", accounts=[ACCOUNT, OTHER_ACCOUNT]) as emulator:
        yield emulator


@pytest.fixture
def fixed_emu(fixed: Emulator) -> Emulator:
    fixed.reset()
    return fixed


# ------------------------------------------------------------------ the records


def test_an_added_account_has_trutos_fields_defaults_and_a_credential_in_context(
    emu: Emulator, api: httpx.Client
) -> None:
    added = emu.add_account()

    assert set(added) == ACCOUNT_KEYS
    assert uuid.UUID(added["id"]).version == 4
    assert added["tenant_id"] == f"tenant-{added['id'][:8]}"
    assert added["status"] == "active"
    assert added["is_sandbox"] is False
    assert added["region"] == "wnam"
    assert added["environment_integration_id"] == default_install(emu)
    assert added["integration"]["name"] == "hubspot"
    assert set(added["integration"]) == {"id", "name", "category"}
    assert TIMESTAMP.fullmatch(added["created_at"])
    assert added["updated_at"] == added["created_at"]
    token = added["context"]["oauth"]["token"]["access_token"]
    assert isinstance(token, str)
    assert len(token) > 20
    assert api.get(account_path(added["id"])).json() == added
    assert api.get(ACCOUNTS).json() == {"result": [added], "next_cursor": None, "limit": 100}
    assert emu.accounts() == [added]


def test_added_accounts_get_distinct_credentials_and_the_fields_they_were_given(
    emu: Emulator,
) -> None:
    first = emu.add_account(
        id=ACCOUNT.upper(),
        tenant_id="acme",
        integration="salesforce",
        status="connecting",
        is_sandbox=True,
        region="eu",
    )
    second = emu.add_account()

    assert first["id"] == ACCOUNT
    assert (first["tenant_id"], first["status"], first["is_sandbox"], first["region"]) == (
        "acme",
        "connecting",
        True,
        "eu",
    )
    assert first["integration"]["name"] == "salesforce"
    assert first["environment_integration_id"] != default_install(emu)
    assert first["context"] != second["context"]


def test_accounts_of_one_integration_share_its_installed_integration(
    emu: Emulator, api: httpx.Client
) -> None:
    install_id = str(uuid.uuid4())
    first = emu.add_account(integration="zendesk", environment_integration_id=install_id)
    second = emu.add_account(integration="zendesk")

    assert first["environment_integration_id"] == install_id
    assert second["environment_integration_id"] == install_id
    install = api.get(install_path(install_id)).json()
    assert install["integration"] == first["integration"]
    assert install["integration"]["category"] == "ticketing"


def test_environment_integration_answers_the_installed_integration_and_404_otherwise(
    emu: Emulator, api: httpx.Client
) -> None:
    response = api.get(install_path(default_install(emu)))

    assert response.status_code == 200
    install = response.json()
    assert set(install) == {
        "id",
        "integration_id",
        "environment_id",
        "is_enabled",
        "show_in_catalog",
        "created_at",
        "updated_at",
        "integration",
    }
    assert install["id"] == default_install(emu)
    assert install["integration"] == {
        "id": install["integration_id"],
        "name": "hubspot",
        "category": "crm",
    }
    assert install["is_enabled"] is True
    assert install["show_in_catalog"] is True
    assert uuid.UUID(install["environment_id"])
    assert TIMESTAMP.fullmatch(install["created_at"])
    assert_error(api.get(install_path(str(uuid.uuid4()))), 404)
    assert_error(api.get(install_path("hubspot")), 404)


# ------------------------------------------------------------------ which accounts exist


def test_an_open_emulator_lists_only_added_accounts_but_answers_for_any_uuid(
    emu: Emulator, api: httpx.Client, account: str
) -> None:
    assert api.post(mcp_path(account), json={"config": {}, "name": "x"}).status_code == 201
    implicit = api.get(account_path(account))

    assert implicit.status_code == 200
    assert implicit.json()["id"] == account
    assert implicit.json()["status"] == "active"
    assert api.get(account_path(account)).json() == implicit.json()  # made once, on first use
    assert listed_ids(api) == []
    assert emu.accounts() == []
    assert_error(api.get(account_path("not-a-uuid")), 404)


def test_fixed_accounts_are_listed_and_every_other_account_is_404(
    fixed_emu: Emulator,
) -> None:
    with fixed_emu.client() as api:
        assert sorted(listed_ids(api)) == sorted([ACCOUNT, OTHER_ACCOUNT])
        mine = api.get(account_path(ACCOUNT.upper()))
        assert mine.status_code == 200
        assert mine.json()["id"] == ACCOUNT
        assert mine.json()["integration"]["name"] == "hubspot"
        assert_error(api.get(account_path(str(uuid.uuid4()))), 404)

        added = fixed_emu.add_account()

        assert api.post(mcp_path(added["id"]), json={"config": {}, "name": "x"}).status_code == 201
        assert added["id"] in listed_ids(api)


# ------------------------------------------------------------------ filters


@pytest.fixture
def trio(emu: Emulator) -> dict[str, str]:
    """Three accounts `a`, `b`, `c` that the filters tell apart; name -> id."""
    a = emu.add_account(tenant_id="t1", integration="hubspot", status="active")
    b = emu.add_account(
        tenant_id="t1", integration="salesforce", status="needs_reauth", is_sandbox=True
    )
    c = emu.add_account(
        tenant_id="t2", integration="hubspot", status="connecting", is_sandbox=True, region="eu"
    )
    return {"a": a["id"], "b": b["id"], "c": c["id"]}


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({}, "abc"),
        ({"tenant_id": "t1"}, "ab"),
        ({"tenant_id": "t3"}, ""),
        ({"is_sandbox": "true"}, "bc"),
        ({"is_sandbox": "false"}, "a"),
        ({"is_sandbox": "TRUE"}, "bc"),
        ({"integration.name": "salesforce"}, "b"),
        ({"integration.name": "hubspot"}, "ac"),
        ({"status": "connecting"}, "c"),
        ({"status": "validation_error"}, ""),
        ({"tenant_id": "t1", "is_sandbox": "true"}, "b"),
        ({"integration.name": "hubspot", "status": "active"}, "a"),
        ({"integration.name": "hubspot", "is_sandbox": "true", "tenant_id": "t2"}, "c"),
        ({"tenant_id": "t2", "integration.name": "salesforce"}, ""),
        ({"region": "eu", "color": "blue"}, "abc"),  # unknown parameters are ignored
        ({"status": "", "tenant_id": ""}, "abc"),  # an empty value filters nothing
    ],
)
def test_filters_alone_and_combined_select_the_matching_accounts(
    api: httpx.Client, trio: dict[str, str], params: dict[str, str], expected: str
) -> None:
    ids = listed_ids(api, **params)

    assert sorted(ids) == sorted(trio[name] for name in expected)


def test_created_at_and_updated_at_filters_match_that_very_instant(
    emu: Emulator, api: httpx.Client
) -> None:
    first = emu.add_account()
    time.sleep(0.005)
    second = emu.add_account()
    time.sleep(0.005)
    edited = emu.set_account_status(second["id"], "needs_reauth")
    same_instant_other_spelling = first["created_at"][:-1] + "+00:00"

    assert listed_ids(api, created_at=first["created_at"]) == [first["id"]]
    assert listed_ids(api, created_at=same_instant_other_spelling) == [first["id"]]
    assert listed_ids(api, created_at=second["created_at"]) == [second["id"]]
    assert listed_ids(api, updated_at=edited["updated_at"]) == [second["id"]]
    assert listed_ids(api, updated_at=second["created_at"]) == []
    assert listed_ids(api, created_at="2001-01-01T00:00:00Z") == []


@pytest.mark.parametrize(
    "params",
    [
        {"is_sandbox": "maybe"},
        {"is_sandbox": "1"},
        {"status": "deleted"},
        {"status": "ACTIVE"},
        {"created_at": "yesterday"},
        {"updated_at": "2024-01-10"},
        {"created_at": "2024-01-10T10:00:00"},  # no time zone
        {"limit": "ten"},
        {"limit": "0"},
        {"limit": "-5"},
        {"next_cursor": "not-a-cursor"},
    ],
)
def test_malformed_query_values_answer_400_in_trutos_error_shape(
    emu: Emulator, api: httpx.Client, params: dict[str, str]
) -> None:
    emu.add_account()

    response = api.get(ACCOUNTS, params=params)

    assert_error(response, 400)
    assert response.json()["error"] == "Bad Request"


def test_a_status_change_shows_in_get_list_and_filters(emu: Emulator, api: httpx.Client) -> None:
    added = emu.add_account()
    time.sleep(0.005)

    changed = emu.set_account_status(added["id"], "needs_reauth")

    assert changed["status"] == "needs_reauth"
    assert changed["updated_at"] > added["updated_at"]
    assert changed["created_at"] == added["created_at"]
    assert api.get(account_path(added["id"])).json() == changed
    assert listed_ids(api, status="needs_reauth") == [added["id"]]
    assert listed_ids(api, status="active") == []
    edited = emu.edit_account(added["id"], tenant_id="acme", is_sandbox=True, region="apac")
    assert (edited["tenant_id"], edited["is_sandbox"], edited["region"]) == (
        "acme",
        True,
        "apac",
    )
    assert listed_ids(api, tenant_id="acme", is_sandbox="true") == [added["id"]]


# ------------------------------------------------------------------ pages


def test_120_accounts_by_pages_of_50_come_in_3_pages_each_exactly_once(
    emu: Emulator, api: httpx.Client
) -> None:
    emu.set_account_page_limit(50)
    added = [emu.add_account()["id"] for _ in range(120)]
    emu.clear_journal()

    pages = every_page(api)

    assert [len(page["result"]) for page in pages] == [50, 50, 20]
    assert [page["limit"] for page in pages] == [50, 50, 50]
    assert pages[-1]["next_cursor"] is None
    ids = [account["id"] for page in pages for account in page["result"]]
    assert sorted(ids) == sorted(added)
    assert len(set(ids)) == 120
    assert ids == [account["id"] for account in emu.accounts()]  # by (created_at, id)
    assert [(e["method"], e["path"], e["status"]) for e in emu.journal()] == [
        ("GET", ACCOUNTS, 200)
    ] * 3
    assert [e["query"] for e in emu.journal()][1:] == [
        {"next_cursor": page["next_cursor"]} for page in pages[:-1]
    ]


def test_a_limit_above_the_page_limit_is_clipped_and_the_applied_limit_reported(
    emu: Emulator, api: httpx.Client
) -> None:
    for _ in range(4):
        emu.add_account()

    assert api.get(ACCOUNTS, params={"limit": 5000}).json()["limit"] == 100
    emu.set_account_page_limit(3)
    clipped = api.get(ACCOUNTS, params={"limit": 5000}).json()
    assert (len(clipped["result"]), clipped["limit"]) == (3, 3)
    assert clipped["next_cursor"] is not None
    smaller = api.get(ACCOUNTS, params={"limit": 2}).json()
    assert (len(smaller["result"]), smaller["limit"]) == (2, 2)
    assert httpx.get(f"{emu.url}/_emulator/account-page-limit").json() == {"limit": 3}


def test_pages_stay_stable_when_accounts_are_added_between_them(
    emu: Emulator, api: httpx.Client
) -> None:
    before = [emu.add_account()["id"] for _ in range(5)]
    first = api.get(ACCOUNTS, params={"limit": 2}).json()
    later = [emu.add_account()["id"] for _ in range(2)]

    rest = every_page(api, limit=2, next_cursor=first["next_cursor"])

    ids = [a["id"] for a in first["result"]] + [a["id"] for p in rest for a in p["result"]]
    assert sorted(ids) == sorted(before + later)
    assert len(set(ids)) == 7


def test_a_cursor_of_another_list_answers_400(
    emu: Emulator, api: httpx.Client, account: str
) -> None:
    for _ in range(2):
        api.post(mcp_path(account), json={"config": {}, "name": "x"})
        emu.add_account()
    server_cursor = api.get(mcp_path(account), params={"limit": 1}).json()["next_cursor"]
    account_cursor = api.get(ACCOUNTS, params={"limit": 1}).json()["next_cursor"]
    assert server_cursor
    assert account_cursor

    assert_error(api.get(ACCOUNTS, params={"next_cursor": server_cursor}), 400)
    assert_error(api.get(mcp_path(account), params={"next_cursor": account_cursor}), 400)
    assert api.get(ACCOUNTS, params={"next_cursor": account_cursor}).status_code == 200


# ------------------------------------------------------------------ removal, uninstall


def test_removing_an_account_removes_its_servers_and_the_account_then_answers_404(
    emu: Emulator, api: httpx.Client
) -> None:
    added = emu.add_account(integration="salesforce")
    ia = added["id"]
    servers = [
        api.post(mcp_path(ia), json={"config": {}, "name": n}).json()["id"] for n in ("a", "b")
    ]
    kept = api.post(mcp_path(OTHER_ACCOUNT), json={"config": {}, "name": "other"}).json()["id"]

    removed = emu.remove_account(ia)

    assert removed == servers
    assert_error(api.get(mcp_path(ia)), 404)
    assert_error(api.post(mcp_path(ia), json={"config": {}, "name": "x"}), 404)
    for server_id in servers:
        assert_error(api.get(mcp_path(ia, server_id)), 404)
        assert_error(api.patch(mcp_path(ia, server_id), json={"name": "y"}), 404)
        assert_error(api.delete(mcp_path(ia, server_id)), 404)
    assert_error(api.get(account_path(ia)), 404)
    assert listed_ids(api) == []
    assert api.get(install_path(added["environment_integration_id"])).status_code == 200
    assert [s["id"] for s in emu.servers()] == [kept]
    with pytest.raises(httpx.HTTPStatusError) as raised:
        emu.remove_account(ia)
    assert raised.value.response.status_code == 404


def test_a_removed_account_is_gone_even_where_every_uuid_is_an_account(
    emu: Emulator, api: httpx.Client, account: str
) -> None:
    server_id = api.post(mcp_path(account), json={"config": {}, "name": "x"}).json()["id"]

    assert emu.remove_account(account) == [server_id]

    assert_error(api.get(mcp_path(account)), 404)
    assert_error(api.get(account_path(account)), 404)
    assert emu.add_account(id=account)["id"] == account  # added again: exists, no servers
    assert api.get(mcp_path(account)).json()["result"] == []


def test_uninstalling_an_integration_makes_it_404_while_its_accounts_stay(
    emu: Emulator, api: httpx.Client
) -> None:
    added = emu.add_account()
    install_id = added["environment_integration_id"]

    emu.uninstall_integration(install_id)

    assert_error(api.get(install_path(install_id)), 404)
    assert api.get(account_path(added["id"])).json() == added
    assert api.post(mcp_path(added["id"]), json={"config": {}, "name": "x"}).status_code == 201
    with pytest.raises(httpx.HTTPStatusError) as raised:
        emu.uninstall_integration(install_id)
    assert raised.value.response.status_code == 404
    reinstalled = emu.add_account()  # hubspot again: installed anew, under another id
    assert reinstalled["environment_integration_id"] != install_id
    assert api.get(install_path(reinstalled["environment_integration_id"])).status_code == 200


# ------------------------------------------------------------------ reset


def test_reset_restores_the_constructors_accounts_installs_and_page_limit() -> None:
    with run_emulator(accounts=[ACCOUNT, OTHER_ACCOUNT], account_page_limit=7) as emu:
        initial = emu.accounts()
        emu.add_account(integration="jira")
        emu.set_account_status(ACCOUNT, "needs_reauth")
        emu.remove_account(OTHER_ACCOUNT)
        emu.uninstall_integration(default_install(emu))
        emu.set_account_page_limit(1)

        emu.reset()

        assert emu.accounts() == initial
        with emu.client() as api:
            assert api.get(ACCOUNTS).json()["limit"] == 7
            assert api.get(install_path(default_install(emu))).status_code == 200
            assert api.get(mcp_path(OTHER_ACCOUNT)).status_code == 200


def test_reset_of_an_open_emulator_forgets_added_and_removed_accounts(
    emu: Emulator, api: httpx.Client, account: str
) -> None:
    emu.add_account()
    emu.remove_account(account)

    emu.reset()

    assert listed_ids(api) == []
    assert api.get(mcp_path(account)).status_code == 200


# ------------------------------------------------------------------ like the MCP endpoints


@pytest.mark.parametrize(
    "path",
    [ACCOUNTS, account_path(ACCOUNT), "installed integration"],
)
def test_account_endpoints_need_the_bearer_token_and_are_journaled(
    emu: Emulator, path: str
) -> None:
    if path == "installed integration":
        path = install_path(default_install(emu))
    response = httpx.get(f"{emu.url}{path}", params={"status": "active"})

    assert_error(response, 401)
    assert [(e["method"], e["path"], e["query"], e["status"]) for e in emu.journal()] == [
        ("GET", path, {"status": "active"}, 401)
    ]


def test_rate_limit_latency_and_faults_apply_to_account_endpoints(
    emu: Emulator, api: httpx.Client
) -> None:
    emu.set_rate_limit(2, 10)
    statuses = [api.get(ACCOUNTS).status_code for _ in range(2)]
    limited = api.get(account_path(ACCOUNT))
    assert statuses == [200, 200]
    assert_error(limited, 429)
    assert limited.headers["retry-after"] == "10"
    emu.set_rate_limit(None)

    emu.set_latency(0.2)
    started = time.monotonic()
    assert api.get(install_path(default_install(emu))).status_code == 200
    assert time.monotonic() - started >= 0.2
    emu.set_latency(0)

    emu.inject(path=r"^/integrated-account$", status=503)
    assert_error(api.get(ACCOUNTS), 503)
    assert api.get(ACCOUNTS).status_code == 200


def test_account_endpoints_answer_405_to_other_methods(emu: Emulator, api: httpx.Client) -> None:
    for response, allow in [
        (api.post(ACCOUNTS, json={}), "GET"),
        (api.delete(account_path(ACCOUNT)), "GET"),
        (api.patch(install_path(default_install(emu)), json={}), "GET"),
    ]:
        assert_error(response, 405)
        assert response.headers["allow"] == allow


# ------------------------------------------------------------------ the hooks


def test_a_remote_emulator_has_the_account_hooks_too(emu: Emulator) -> None:
    with RemoteEmulator(emu.url, emu.api_token) as remote, remote.client() as api:
        added = remote.add_account(integration="jira")
        remote.set_account_page_limit(1)
        remote.set_account_status(added["id"], "validation_error")

        assert api.get(ACCOUNTS).json()["limit"] == 1
        assert [a["status"] for a in remote.accounts()] == ["validation_error"]
        remote.uninstall_integration(added["environment_integration_id"])
        assert remote.remove_account(added["id"]) == []
        assert remote.accounts() == []


@pytest.mark.parametrize(
    "fields",
    [
        {"status": "gone"},
        {"region": "mars"},
        {"is_sandbox": "yes"},
        {"id": "42"},
        {"integration": ""},
        {"tenant_id": 7},
        {"environment_integration_id": "hubspot"},
        {"colour": "blue"},
        {"environment_integration_id": "installed hubspot", "integration": "jira"},
    ],
)
def test_adding_an_account_with_a_bad_field_is_400(emu: Emulator, fields: dict[str, Any]) -> None:
    if fields.get("environment_integration_id") == "installed hubspot":
        fields = {**fields, "environment_integration_id": default_install(emu)}
    response = httpx.post(f"{emu.url}/_emulator/accounts", json=fields)

    assert_error(response, 400)
    assert emu.accounts() == []


def test_adding_an_account_twice_or_installing_an_integration_twice_is_409(
    emu: Emulator,
) -> None:
    emu.add_account(id=ACCOUNT)

    again = httpx.post(f"{emu.url}/_emulator/accounts", json={"id": ACCOUNT})
    second_install = httpx.post(
        f"{emu.url}/_emulator/accounts",
        json={"integration": "hubspot", "environment_integration_id": str(uuid.uuid4())},
    )

    assert_error(again, 409)
    assert_error(second_install, 409)
    assert len(emu.accounts()) == 1


@pytest.mark.parametrize(
    "fields",
    [
        {"id": str(uuid.uuid4())},
        {"integration": "jira"},
        {"status": "gone"},
        {"status": None},
        {"colour": "blue"},
    ],
)
def test_editing_an_account_refuses_fixed_unknown_and_bad_fields(
    emu: Emulator, fields: dict[str, Any]
) -> None:
    added = emu.add_account()

    response = httpx.patch(f"{emu.url}/_emulator/accounts/{added['id']}", json=fields)

    assert_error(response, 400)
    assert emu.accounts() == [added]


def test_hooks_on_an_account_outside_a_fixed_environment_are_404(fixed_emu: Emulator) -> None:
    unknown = str(uuid.uuid4())
    for call in (
        lambda: fixed_emu.set_account_status(unknown, "active"),
        lambda: fixed_emu.remove_account(unknown),
        lambda: fixed_emu.uninstall_integration(unknown),
    ):
        with pytest.raises(httpx.HTTPStatusError) as raised:
            call()
        assert raised.value.response.status_code == 404


@pytest.mark.parametrize("body", [{"limit": 0}, {"limit": "5"}, {"limit": True}, {}, [5]])
def test_the_page_limit_hook_refuses_anything_but_a_positive_integer(
    emu: Emulator, body: object
) -> None:
    response = httpx.post(f"{emu.url}/_emulator/account-page-limit", json=body)

    assert_error(response, 400)
    assert httpx.get(f"{emu.url}/_emulator/account-page-limit").json() == {"limit": 100}


def test_the_environment_hook_names_this_emulators_environment_and_default_install(
    emu: Emulator, api: httpx.Client
) -> None:
    environment = emu.environment()
    install = api.get(install_path(environment["default_environment_integration_id"])).json()

    assert install["environment_id"] == environment["environment_id"]
    assert install["integration"]["name"] == "hubspot"
    with run_emulator() as other:
        assert other.environment()["environment_id"] != environment["environment_id"]
        assert_error(
            api.get(install_path(other.environment()["default_environment_integration_id"])),
            404,
        )
