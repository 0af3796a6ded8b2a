"""The emulated API over real loopback HTTP."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import httpx
import pytest

from truto_pulumi.emulator import Emulator, run_emulator
from truto_pulumi.emulator._readings import CONFIG_DEFAULTS

from ..kit import ACCOUNT
from .helpers import in_seconds, mcp_path

pytestmark = pytest.mark.slow  # starts the emulator

SECRET_FIELDS = {"token", "url"}


def assert_error(response: httpx.Response, status: int, error: str) -> None:
    assert response.status_code == status
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert body["statusCode"] == status
    assert body["error"] == error
    assert isinstance(body["message"], str)
    assert body["message"]
    assert set(body) == {"statusCode", "error", "message"}


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer wrong-token"},
        {"Authorization": "test-token"},
        {"Authorization": "Basic test-token"},
        {"Authorization": "Bearer"},
    ],
)
def test_api_calls_without_the_right_bearer_token_get_401_and_change_nothing(
    emu: Emulator, account: str, headers: dict[str, str]
) -> None:
    with httpx.Client(base_url=emu.url, headers=headers) as anonymous:
        response = anonymous.post(mcp_path(account), json={"config": {}, "name": "x"})

    assert_error(response, 401, "Unauthorized")
    assert emu.servers() == []


def test_bearer_scheme_is_case_insensitive(emu: Emulator, account: str) -> None:
    headers = {"Authorization": f"bearer {emu.api_token}"}

    response = httpx.get(f"{emu.url}{mcp_path(account)}", headers=headers)

    assert response.status_code == 200


def test_create_answers_201_with_token_and_url_that_no_other_call_returns(
    emu: Emulator, api: httpx.Client, account: str
) -> None:
    created = api.post(mcp_path(account), json={"name": "docs", "config": {"tags": ["crm"]}})

    assert created.status_code == 201
    assert created.headers["content-type"] == "application/json"
    server = created.json()
    assert server["url"] == f"{emu.url}/mcp/{server['token']}"
    assert server["integrated_account_id"] == account
    assert server["config"] == {**CONFIG_DEFAULTS, "tags": ["crm"]}
    assert server["created_at"].endswith("Z")

    fetched = api.get(mcp_path(account, server["id"])).json()
    listed = api.get(mcp_path(account)).json()["result"]
    patched = api.patch(mcp_path(account, server["id"]), json={"name": "renamed"}).json()

    public = {k: v for k, v in server.items() if k not in SECRET_FIELDS}
    assert fetched == public
    assert listed == [public]
    assert SECRET_FIELDS.isdisjoint(patched)
    assert patched["name"] == "renamed"


def test_server_is_not_found_from_another_account(api: httpx.Client, account: str) -> None:
    server = api.post(mcp_path(account), json={"config": {}, "name": "x"}).json()
    other = str(uuid.uuid4())

    assert_error(api.get(mcp_path(other, server["id"])), 404, "Not Found")
    assert_error(api.patch(mcp_path(other, server["id"]), json={"name": "y"}), 404, "Not Found")
    assert_error(api.delete(mcp_path(other, server["id"])), 404, "Not Found")
    assert api.get(mcp_path(other)).json()["result"] == []
    assert api.get(mcp_path(account, server["id"])).json()["name"] == "x"


def test_delete_answers_the_id_and_the_server_is_not_found_afterwards(
    api: httpx.Client, account: str
) -> None:
    server_id = api.post(mcp_path(account), json={"config": {}, "name": "x"}).json()["id"]

    deleted = api.delete(mcp_path(account, server_id))

    assert deleted.status_code == 200
    assert deleted.json() == {"id": server_id}
    assert_error(api.get(mcp_path(account, server_id)), 404, "Not Found")
    assert_error(api.delete(mcp_path(account, server_id)), 404, "Not Found")
    assert api.get(mcp_path(account)).json()["result"] == []


def test_non_uuid_account_or_server_id_is_404(api: httpx.Client, account: str) -> None:
    assert_error(api.post(mcp_path("acme"), json={"config": {}, "name": "x"}), 404, "Not Found")
    assert_error(api.get(mcp_path(account, "123")), 404, "Not Found")


def test_list_paginates_with_limit_and_next_cursor(api: httpx.Client, account: str) -> None:
    created = [
        api.post(mcp_path(account), json={"config": {}, "name": f"s{i}"}).json() for i in range(5)
    ]
    expected = [s["id"] for s in sorted(created, key=lambda s: (s["created_at"], s["id"]))]

    seen: list[str] = []
    params: dict[str, str | int] = {"limit": 2}
    while True:
        page = api.get(mcp_path(account), params=params).json()
        assert page["limit"] == 2
        seen += [s["id"] for s in page["result"]]
        if page["next_cursor"] is None:
            break
        params = {"limit": 2, "next_cursor": page["next_cursor"]}

    assert seen == expected
    default = api.get(mcp_path(account)).json()
    assert default["limit"] == 100
    assert default["next_cursor"] is None


@pytest.mark.parametrize("params", [{"limit": "0"}, {"limit": "1001"}, {"next_cursor": "nope"}])
def test_list_rejects_bad_limit_or_cursor_with_400(
    api: httpx.Client, account: str, params: dict[str, str]
) -> None:
    assert_error(api.get(mcp_path(account), params=params), 400, "Bad Request")


def test_patch_merges_config_and_bumps_updated_at(api: httpx.Client, account: str) -> None:
    config = {"methods": ["read"], "tags": ["crm"], "tool_exposure": "discovery"}
    server = api.post(mcp_path(account), json={"name": "x", "config": config}).json()

    patched = api.patch(
        mcp_path(account, server["id"]), json={"config": {"tags": ["hr"], "methods": None}}
    )

    assert patched.status_code == 200
    assert patched.json()["config"] == {
        **CONFIG_DEFAULTS,
        "tags": ["hr"],
        "tool_exposure": "discovery",
    }
    assert patched.json()["updated_at"] >= server["updated_at"]
    assert patched.json()["created_at"] == server["created_at"]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"{not json", "not valid JSON"),
        (b"", "must be a JSON object"),
        (b'["name"]', "must be a JSON object"),
        (b'{"name": "x", "config": {"tool_exposure": "some"}}', "tool_exposure"),
    ],
)
def test_malformed_or_invalid_bodies_get_400(
    emu: Emulator, api: httpx.Client, account: str, content: bytes, message: str
) -> None:
    response = api.post(
        mcp_path(account), content=content, headers={"Content-Type": "application/json"}
    )

    assert_error(response, 400, "Bad Request")
    assert message in response.json()["message"]
    assert emu.servers() == []


def test_expires_at_less_than_60_seconds_ahead_is_400(api: httpx.Client, account: str) -> None:
    response = api.post(
        mcp_path(account), json={"config": {}, "name": "x", "expires_at": in_seconds(30)}
    )

    assert_error(response, 400, "Bad Request")
    assert "60 seconds" in response.json()["message"]


def test_expired_server_behaves_as_deleted(emu: Emulator, api: httpx.Client, account: str) -> None:
    server = api.post(
        mcp_path(account), json={"config": {}, "name": "x", "expires_at": in_seconds(90)}
    ).json()
    assert api.get(mcp_path(account, server["id"])).status_code == 200

    emu.edit_server(server["id"], expires_at=in_seconds(-1))

    assert_error(api.get(mcp_path(account, server["id"])), 404, "Not Found")
    assert api.get(mcp_path(account)).json()["result"] == []
    assert emu.servers() == []


def test_unknown_route_is_404_and_wrong_method_is_405(api: httpx.Client, account: str) -> None:
    assert_error(api.get("/integrated-accounts"), 404, "Not Found")
    assert_error(api.get(mcp_path(account) + "/"), 404, "Not Found")
    not_allowed = api.put(mcp_path(account, str(uuid.uuid4())), json={})
    assert_error(not_allowed, 405, "Method Not Allowed")
    assert not_allowed.headers["allow"] == "GET, PATCH, DELETE"
    assert_error(api.delete(mcp_path(account)), 405, "Method Not Allowed")


# ------------------------------------------------------------------ constructor settings


@pytest.fixture(scope="module")
def configured() -> Iterator[Emulator]:
    with run_emulator(
        api_token="configured", accounts=[ACCOUNT], public_base_url="https://api.truto.one/"
    ) as emulator:
        yield emulator


def test_fixed_accounts_make_every_other_account_404(configured: Emulator) -> None:
    with configured.client() as api:
        assert api.post(mcp_path(ACCOUNT), json={"config": {}, "name": "x"}).status_code == 201
        assert_error(
            api.post(mcp_path(str(uuid.uuid4())), json={"config": {}, "name": "x"}),
            404,
            "Not Found",
        )


def test_public_base_url_is_the_base_of_the_returned_mcp_url(configured: Emulator) -> None:
    with configured.client() as api:
        server = api.post(mcp_path(ACCOUNT), json={"config": {}, "name": "x"}).json()

    assert server["url"] == f"https://api.truto.one/mcp/{server['token']}"
    assert configured.servers()[-1]["url"] == server["url"]


def test_two_emulators_run_side_by_side_on_different_ports(
    emu: Emulator, configured: Emulator
) -> None:
    assert emu.port != configured.port
    assert httpx.get(f"{emu.url}/_emulator/health").json() == {"ok": True}
    assert httpx.get(f"{configured.url}/_emulator/health").json() == {"ok": True}
