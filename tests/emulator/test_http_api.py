"""What the HTTP layer adds to the store: routes, statuses, Truto's error body, headers, auth,
the journal, injected answers and the `/_emulator/` hooks, driven through `Emulator`'s hooks
client. The emulator is served in this thread."""

from __future__ import annotations

import json
import time
import uuid
from datetime import datetime, timedelta, timezone
from typing import Any

import httpx
import pytest

from truto_pulumi.emulator import Readings
from truto_pulumi.emulator._readings import CONFIG_DEFAULTS

from ..kit import ACCOUNT, OTHER_ACCOUNT
from .helpers import BASE_URL, TOKEN, InProcessEmulator, assert_error, mcp_path

CREATE = {"name": "x", "config": {}}
PHRASES = {400: "Bad Request", 404: "Not Found", 405: "Method Not Allowed", 409: "Conflict"}
ANY_ID = str(uuid.uuid4())
SECRETS = ("token", "url")


def snapshot(emu: InProcessEmulator, api: httpx.Client) -> list[Any]:
    """What the hooks show of the emulator's contents and settings."""
    settings = [api.get(f"/_emulator/{hook}").json() for hook in ("latency", "rate-limit")]
    page_limit = api.get("/_emulator/account-page-limit").json()
    return [emu.servers(), emu.faults(), emu.accounts(), emu.readings(), page_limit, *settings]


def soon(seconds: float) -> datetime:
    return datetime.now(timezone.utc) + timedelta(seconds=seconds)


@pytest.mark.parametrize(
    ("method", "path", "authorization"),
    [
        ("POST", mcp_path(ACCOUNT), None),
        ("POST", mcp_path(ACCOUNT), "Bearer wrong-token"),
        ("POST", mcp_path(ACCOUNT), TOKEN),
        ("POST", mcp_path(ACCOUNT), f"Basic {TOKEN}"),
        ("POST", mcp_path(ACCOUNT), "Bearer"),
        ("GET", "/integrated-account", None),
    ],
)
def test_api_calls_without_the_right_bearer_token_get_401_are_journaled_and_change_nothing(
    emu: InProcessEmulator, api: httpx.Client, method: str, path: str, authorization: str | None
) -> None:
    request = api.build_request(method, path, json=CREATE, params={"status": "active"})
    del request.headers["authorization"]
    if authorization is not None:
        request.headers["authorization"] = authorization

    response = api.send(request)

    assert_error(response, 401, "Unauthorized")
    assert response.headers["www-authenticate"] == "Bearer"
    assert emu.servers() == []
    assert [(e["method"], e["path"], e["query"], e["status"]) for e in emu.journal()] == [
        (method, path, {"status": "active"}, 401)
    ]


@pytest.mark.parametrize(
    ("settings", "base"),
    [({}, BASE_URL), ({"public_base_url": "https://api.truto.one/"}, "https://api.truto.one")],
)
def test_a_server_through_every_endpoint_shows_its_token_and_url_only_on_create(
    settings: dict[str, str], base: str
) -> None:
    emu = InProcessEmulator(**settings)
    with emu.client() as api:
        any_case = {"Authorization": f"bEARER {TOKEN}"}  # the scheme is case-insensitive
        created = api.post(
            mcp_path(ACCOUNT), json={**CREATE, "config": {"tags": ["crm"]}}, headers=any_case
        )
        assert created.status_code == 201
        assert created.headers["content-type"] == "application/json"
        server = created.json()
        item = mcp_path(ACCOUNT, server["id"])
        assert server["url"] == f"{base}/mcp/{server['token']}"
        assert server["config"] == {**CONFIG_DEFAULTS, "tags": ["crm"]}
        public = {k: v for k, v in server.items() if k not in SECRETS}
        assert api.get(item).json() == public
        other = api.post(mcp_path(ACCOUNT), json=CREATE).json()
        first = api.get(mcp_path(ACCOUNT), params={"limit": 1}).json()
        cursor = {"limit": 1, "next_cursor": first["next_cursor"]}
        rest = api.get(mcp_path(ACCOUNT), params=cursor).json()
        assert (first["limit"], rest["next_cursor"]) == (1, None)
        assert public in first["result"] + rest["result"]
        assert {s["id"] for s in first["result"] + rest["result"]} == {server["id"], other["id"]}
        patched = api.patch(item, json={"name": "renamed"})
        assert patched.status_code == 200
        assert {**patched.json(), "updated_at": 0} == {**public, "name": "renamed", "updated_at": 0}
        stored = {**server, "name": "renamed", "config": {"tags": ["crm"]}, "updated_at": 0}
        assert stored in [{**s, "updated_at": 0} for s in emu.servers()]  # with the secrets
        deleted = api.delete(item)
        assert (deleted.status_code, deleted.json()) == (200, {"id": server["id"]})
        assert_error(api.get(item), 404, "Not Found")
        listed = api.get(mcp_path(ACCOUNT)).json()
        without_secrets = {k: v for k, v in other.items() if k not in SECRETS}
        assert listed == {"result": [without_secrets], "next_cursor": None, "limit": 100}
    emu.close()


@pytest.mark.parametrize(
    ("method", "path", "send", "status", "fragment", "allow"),
    [
        ("POST", mcp_path("acme"), {"json": CREATE}, 404, "Integrated account", None),
        ("GET", mcp_path(ACCOUNT, "123"), {}, 404, "MCP server", None),
        ("POST", mcp_path(ACCOUNT), {"content": b"{not json"}, 400, "not valid JSON", None),
        ("POST", mcp_path(ACCOUNT), {"content": b""}, 400, "must be a JSON object", None),
        ("GET", mcp_path(ACCOUNT), {"params": {"limit": "0"}}, 400, "limit", None),
        ("GET", mcp_path(ACCOUNT), {"params": {"next_cursor": "x"}}, 400, "next_cursor", None),
        ("GET", "/integrated-account", {"params": {"status": "gone"}}, 400, "status", None),
        ("GET", "/integrated-account", {"params": {"limit": "0"}}, 400, "limit", None),
        ("GET", "/integrated-account/not-a-uuid", {}, 404, "Integrated account", None),
        ("GET", f"/environment-integration/{ANY_ID}", {}, 404, "Environment integration", None),
        ("GET", "/integrated-accounts", {}, 404, "Route GET", None),
        ("GET", mcp_path(ACCOUNT) + "/", {}, 404, "Route GET", None),
        ("PUT", mcp_path(ACCOUNT, ANY_ID), {"json": {}}, 405, "", "GET, PATCH, DELETE"),
        ("DELETE", mcp_path(ACCOUNT), {}, 405, "", "GET, POST"),
        ("POST", "/integrated-account", {"json": {}}, 405, "", "GET"),
        ("DELETE", f"/integrated-account/{ACCOUNT}", {}, 405, "", "GET"),
        ("PATCH", f"/environment-integration/{ANY_ID}", {"json": {}}, 405, "", "GET"),
    ],
)
def test_each_refusal_answers_its_status_in_trutos_error_body_and_acts_not(
    emu: InProcessEmulator,
    api: httpx.Client,
    method: str,
    path: str,
    send: dict[str, Any],
    status: int,
    fragment: str,
    allow: str | None,
) -> None:
    headers = {"Content-Type": "application/json"} if "content" in send else {}

    response = api.request(method, path, headers=headers, **send)

    assert_error(response, status, PHRASES[status])
    assert fragment in response.json()["message"]
    assert response.headers.get("allow") == allow
    assert emu.servers() == []


def test_account_endpoints_answer_what_the_account_hooks_made(
    emu: InProcessEmulator, api: httpx.Client
) -> None:
    account = emu.add_account(tenant_id="acme")
    path = f"/integrated-account/{account['id']}"
    install_path = f"/environment-integration/{account['environment_integration_id']}"

    listed = api.get("/integrated-account").json()
    assert listed == {"result": [account], "next_cursor": None, "limit": 100}
    assert api.get("/integrated-account", params={"tenant_id": "other"}).json()["result"] == []
    emu.set_account_page_limit(1)
    assert api.get("/integrated-account", params={"limit": 5}).json()["limit"] == 1
    assert api.get(path).json() == account
    install = api.get(install_path).json()
    assert emu.environment() == {
        "environment_id": install["environment_id"],
        "default_environment_integration_id": install["id"],
    }
    emu.set_account_status(account["id"], "needs_reauth")
    edited = emu.edit_account(account["id"], region="eu")
    assert (edited["status"], edited["region"]) == ("needs_reauth", "eu")
    assert api.get(path).json() == edited
    assert emu.accounts() == [edited]
    emu.uninstall_integration(install["id"])
    assert_error(api.get(install_path), 404)
    server = api.post(mcp_path(account["id"]), json=CREATE).json()
    assert emu.remove_account(account["id"]) == [server["id"]]
    assert_error(api.get(path), 404)


def test_the_readings_hook_sets_every_reading_and_the_api_follows_them(
    emu: InProcessEmulator, api: httpx.Client
) -> None:
    rules = {"blocked_accounts": [ACCOUNT], "list_key": "results", "echo_defaults": False}

    answered = emu.set_readings(**rules)

    assert answered == emu.readings() == {**Readings().to_json(), **rules}
    blocked = api.get(mcp_path(ACCOUNT))
    assert_error(blocked, 503, "Service Unavailable")
    assert blocked.json()["message"] == f"Integrated account {ACCOUNT} is blocked. Contact support."
    assert_error(api.get(f"/integrated-account/{ACCOUNT}"), 503)
    assert api.post(mcp_path(OTHER_ACCOUNT), json=CREATE).json()["config"] == {}
    assert set(api.get(mcp_path(OTHER_ACCOUNT)).json()) == {"results", "next_cursor", "limit"}
    assert set(api.get("/integrated-account").json()) == {"results", "next_cursor", "limit"}
    emu.set_readings()
    assert "result" in api.get(mcp_path(ACCOUNT)).json()


def test_the_journal_records_every_api_request_with_its_status_but_never_a_header_or_token(
    emu: InProcessEmulator, api: httpx.Client
) -> None:
    created = api.post(mcp_path(ACCOUNT), json=CREATE).json()
    api.get(mcp_path(ACCOUNT), params={"limit": "5"})
    api.post(mcp_path(ACCOUNT), content=b"{oops")
    emu.servers()  # a hook: not journaled

    journal = emu.journal()

    assert [(e["method"], e["path"], e["query"], e["body"], e["status"]) for e in journal] == [
        ("POST", mcp_path(ACCOUNT), {}, CREATE, 201),
        ("GET", mcp_path(ACCOUNT), {"limit": "5"}, None, 200),
        ("POST", mcp_path(ACCOUNT), {}, "{oops", 400),
    ]
    keys = {"method", "path", "query", "body", "status", "ts", "fault"}
    assert all(set(entry) == keys for entry in journal)
    assert journal[0]["ts"] <= journal[1]["ts"] <= journal[2]["ts"]
    dumped = json.dumps(journal).lower()
    for secret in (TOKEN, "authorization", created["token"].lower()):
        assert secret not in dumped
    emu.clear_journal()
    assert emu.journal() == []


@pytest.mark.parametrize(
    ("action", "error", "retry_after"),
    [
        ({"status": 500}, "Internal Server Error", None),
        ({"status": 503}, "Service Unavailable", None),
        ({"status": 409}, "Conflict", None),
        ({"status": 429, "retry_after": 1}, "Too Many Requests", "1"),
        ({"status": 429, "retry_after": 0.5}, "Too Many Requests", "1"),
    ],
)
def test_an_injected_status_answers_trutos_error_body_without_acting_once(
    emu: InProcessEmulator,
    api: httpx.Client,
    action: dict[str, Any],
    error: str,
    retry_after: str | None,
) -> None:
    rule = emu.inject(method="post", path="/mcp$", **action)
    assert emu.faults() == [rule]

    response = api.post(mcp_path(ACCOUNT), json=CREATE)

    assert_error(response, action["status"], error)
    assert response.json()["message"] == "Injected fault"
    assert response.headers.get("retry-after") == retry_after
    assert emu.servers() == []
    assert api.post(mcp_path(ACCOUNT), json=CREATE).status_code == 201
    assert emu.faults() == []
    assert [(e["status"], e["fault"]) for e in emu.journal()] == [
        (action["status"], rule["action"]),
        (201, None),
    ]


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        ("<html><body>Bad gateway</body></html>", "text/plain; charset=utf-8"),
        ('{"detail": "echo of https:\\/\\/example.test\\/x"}', "application/json"),
    ],
)
def test_an_injected_status_with_a_body_answers_that_raw_text_without_acting(
    emu: InProcessEmulator, api: httpx.Client, body: str, content_type: str
) -> None:
    emu.inject(status=502, body=body, times=2)
    emu.clear_faults()
    emu.inject(status=502, body=body)

    response = api.post(mcp_path(ACCOUNT), json=CREATE)

    assert (response.status_code, response.text) == (502, body)
    assert response.headers["content-type"] == content_type
    assert emu.servers() == []


def test_an_injected_delay_and_the_latency_setting_hold_api_answers_but_not_hooks(
    emu: InProcessEmulator, api: httpx.Client
) -> None:
    emu.inject(method="POST", delay=0.05)
    started = time.monotonic()
    assert api.post(mcp_path(ACCOUNT), json=CREATE).status_code == 201
    assert time.monotonic() - started >= 0.05
    emu.set_latency(0.05)
    started = time.monotonic()
    assert api.get(mcp_path(ACCOUNT)).status_code == 200
    assert time.monotonic() - started >= 0.05

    emu.set_latency(60)
    started = time.monotonic()
    assert api.get("/_emulator/latency").json() == {"seconds": 60.0}
    assert time.monotonic() - started < 30  # a hook never waits the minute


def test_the_rate_limit_answers_429_with_retry_after_on_every_endpoint() -> None:
    emu = InProcessEmulator(rate_limit=(2, 10))
    with emu.client() as api:
        statuses = [api.get(mcp_path(ACCOUNT)).status_code for _ in range(2)]
        limited = api.get(f"/integrated-account/{ACCOUNT}")
        assert statuses == [200, 200]
        assert_error(limited, 429, "Too Many Requests")
        assert limited.headers["retry-after"] == "10"
        emu.set_rate_limit(None)
        assert api.get("/_emulator/rate-limit").json() == {"requests": None, "per_seconds": None}
        assert api.get("/integrated-account").status_code == 200
        emu.set_rate_limit(1, 0.5)
        assert api.get(mcp_path(ACCOUNT)).status_code == 200
        assert api.get(mcp_path(ACCOUNT)).headers["retry-after"] == "1"
    emu.close()


def test_out_of_band_hooks_show_edit_expire_and_delete_servers_of_every_account(
    emu: InProcessEmulator, api: httpx.Client
) -> None:
    mine = api.post(mcp_path(ACCOUNT), json={**CREATE, "name": "a"}).json()
    theirs = api.post(mcp_path(OTHER_ACCOUNT), json={**CREATE, "name": "b"}).json()
    shown = sorted(emu.servers(), key=lambda s: str(s["name"]))
    assert shown == [{**mine, "config": {}}, {**theirs, "config": {}}]

    edited = emu.edit_server(theirs["id"], config={"tags": ["hr"]})
    emu.edit_server(mine["id"], expires_at=soon(90))
    emu.advance_clock(91)

    assert edited["token"] == theirs["token"]
    assert api.get(mcp_path(OTHER_ACCOUNT, theirs["id"])).json()["config"]["tags"] == ["hr"]
    assert_error(api.get(mcp_path(ACCOUNT, mine["id"])), 404)
    emu.delete_server(theirs["id"])
    assert_error(api.get(mcp_path(OTHER_ACCOUNT, theirs["id"])), 404)
    assert emu.servers() == []
    assert [e["method"] for e in emu.journal()] == ["POST"] * 2 + ["GET"] * 3


def test_reset_forgets_servers_journal_faults_accounts_and_runtime_settings(
    emu: InProcessEmulator, api: httpx.Client
) -> None:
    initial = snapshot(emu, api)
    api.post(mcp_path(ACCOUNT), json=CREATE)
    emu.inject(status=500, times=3)
    emu.set_latency(5.0)
    emu.set_rate_limit(1, 10)
    emu.set_readings(config_patch="replace")
    emu.add_account()
    emu.set_account_page_limit(1)
    emu.advance_clock(60)
    assert snapshot(emu, api) != initial

    emu.reset()

    assert snapshot(emu, api) == initial
    assert emu.journal() == []
    assert [api.get(mcp_path(ACCOUNT)).status_code for _ in range(2)] == [200, 200]
    expiring = {**CREATE, "expires_at": soon(90).isoformat()}  # refused if the clock ran on
    assert api.post(mcp_path(ACCOUNT), json=expiring).status_code == 201


@pytest.mark.parametrize(
    ("method", "hook", "body", "status"),
    [
        ("POST", "latency", {"seconds": -1}, 400),
        ("POST", "latency", {"seconds": "fast"}, 400),
        ("POST", "rate-limit", {"requests": 0, "per_seconds": 10}, 400),
        ("POST", "rate-limit", {"requests": 5, "per_seconds": 0}, 400),
        ("POST", "rate-limit", [5, 10], 400),
        ("POST", "readings", {"config_patch": "overwrite"}, 400),
        ("POST", "faults", {"action": {}}, 400),
        ("POST", "clock", {"advance": -1}, 400),
        ("POST", "clock", {"advance": "1"}, 400),
        ("POST", "account-page-limit", {}, 400),
        ("POST", "account-page-limit", [5], 400),
        ("POST", "accounts", {"integration": "hubspot", "environment_integration_id": ANY_ID}, 409),
        ("DELETE", "accounts/not-a-uuid", None, 404),
        ("PATCH", f"servers/{ANY_ID}", {"name": "y"}, 404),
        ("GET", "nothing-here", None, 404),
    ],
)
def test_a_hook_refuses_what_it_cannot_do_in_trutos_error_body_and_changes_nothing(
    emu: InProcessEmulator, api: httpx.Client, method: str, hook: str, body: object, status: int
) -> None:
    before = snapshot(emu, api)

    response = api.request(method, f"/_emulator/{hook}", json=body)

    assert_error(response, status, PHRASES[status])
    assert snapshot(emu, api) == before
    assert emu.journal() == []
    with pytest.raises(httpx.HTTPStatusError):  # the hooks client raises it
        emu.delete_server(ANY_ID)
