"""What the HTTP layer adds to the store: routes, statuses, Truto's error body, headers, auth,
the journal, injected answers and the `/_emulator/` hooks. The app is served in this thread."""

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
from truto_pulumi.emulator._state import format_timestamp

from ..kit import ACCOUNT, OTHER_ACCOUNT
from .helpers import BASE_URL, TOKEN, assert_error, in_process, mcp_path

CREATE = {"name": "x", "config": {}}
PHRASES = {400: "Bad Request", 404: "Not Found", 405: "Method Not Allowed", 409: "Conflict"}
ANY_ID = str(uuid.uuid4())
SETTINGS = ("latency", "rate-limit", "readings", "faults", "accounts", "servers")


def snapshot(api: httpx.Client) -> dict[str, Any]:
    """What the hooks show of the emulator's settings and contents."""
    shown = {hook: api.get(f"/_emulator/{hook}").json() for hook in SETTINGS}
    return {**shown, "page limit": api.get("/_emulator/account-page-limit").json()}


def in_seconds(seconds: float) -> str:
    return format_timestamp(datetime.now(timezone.utc) + timedelta(seconds=seconds))


# ------------------------------------------------------------------ auth


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
    api: httpx.Client, method: str, path: str, authorization: str | None
) -> None:
    request = api.build_request(method, path, json=CREATE, params={"status": "active"})
    del request.headers["authorization"]
    if authorization is not None:
        request.headers["authorization"] = authorization

    response = api.send(request)

    assert_error(response, 401, "Unauthorized")
    assert response.headers["www-authenticate"] == "Bearer"
    assert api.get("/_emulator/servers").json() == []
    journal = api.get("/_emulator/journal").json()
    assert [(e["method"], e["path"], e["query"], e["status"]) for e in journal] == [
        (method, path, {"status": "active"}, 401)
    ]


# ------------------------------------------------------------------ the MCP endpoints


@pytest.mark.parametrize(
    ("settings", "base"),
    [({}, BASE_URL), ({"public_base_url": "https://api.truto.one/"}, "https://api.truto.one")],
)
def test_a_server_through_every_endpoint_shows_its_token_and_url_only_on_create(
    settings: dict[str, str], base: str
) -> None:
    with in_process(**settings) as api:
        any_case = {"Authorization": f"bEARER {TOKEN}"}  # the scheme is case-insensitive
        created = api.post(
            mcp_path(ACCOUNT), json={"name": "docs", "config": {"tags": ["crm"]}}, headers=any_case
        )
        assert created.status_code == 201
        assert created.headers["content-type"] == "application/json"
        server = created.json()
        item = mcp_path(ACCOUNT, server["id"])
        assert server["url"] == f"{base}/mcp/{server['token']}"
        assert server["config"] == {**CONFIG_DEFAULTS, "tags": ["crm"]}
        public = {k: v for k, v in server.items() if k not in ("token", "url")}
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
        assert {**patched.json(), "updated_at": None} == {
            **public,
            "name": "renamed",
            "updated_at": None,
        }
        shown = api.get("/_emulator/servers").json()  # as stored, with the secrets
        assert {**server, "name": "renamed", "config": {"tags": ["crm"]}, "updated_at": None} in [
            {**s, "updated_at": None} for s in shown
        ]
        deleted = api.delete(item)
        assert (deleted.status_code, deleted.json()) == (200, {"id": server["id"]})
        assert_error(api.get(item), 404, "Not Found")
        assert api.get(mcp_path(ACCOUNT)).json() == {
            "result": [{k: v for k, v in other.items() if k not in ("token", "url")}],
            "next_cursor": None,
            "limit": 100,
        }


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
    assert api.get("/_emulator/servers").json() == []


# ------------------------------------------------------------------ accounts


def test_account_endpoints_answer_what_the_account_hooks_made(api: httpx.Client) -> None:
    added = api.post("/_emulator/accounts", json={"tenant_id": "acme"})
    assert added.status_code == 201
    account = added.json()
    path = f"/integrated-account/{account['id']}"
    install_path = f"/environment-integration/{account['environment_integration_id']}"

    assert api.get("/integrated-account").json() == {
        "result": [account],
        "next_cursor": None,
        "limit": 100,
    }
    assert api.get("/integrated-account", params={"tenant_id": "other"}).json()["result"] == []
    assert api.post("/_emulator/account-page-limit", json={"limit": 1}).json() == {"limit": 1}
    assert api.get("/integrated-account", params={"limit": 5}).json()["limit"] == 1
    assert api.get(path).json() == account
    install = api.get(install_path).json()
    assert api.get("/_emulator/environment").json() == {
        "environment_id": install["environment_id"],
        "default_environment_integration_id": install["id"],
    }
    edited = api.patch(f"/_emulator/accounts/{account['id']}", json={"status": "needs_reauth"})
    assert api.get(path).json() == edited.json()
    assert api.get("/_emulator/accounts").json() == [edited.json()]
    assert api.delete(f"/_emulator/environment-integrations/{install['id']}").json() == {
        "id": install["id"]
    }
    assert_error(api.get(install_path), 404)
    server = api.post(mcp_path(account["id"]), json=CREATE).json()
    removed = api.delete(f"/_emulator/accounts/{account['id']}").json()
    assert removed == {"id": account["id"], "servers": [server["id"]]}
    assert_error(api.get(path), 404)


def test_the_readings_hook_sets_every_reading_and_the_api_follows_them(api: httpx.Client) -> None:
    rules = {"blocked_accounts": [ACCOUNT], "list_key": "results", "echo_defaults": False}

    answered = api.post("/_emulator/readings", json=rules).json()

    assert answered == api.get("/_emulator/readings").json() == {**Readings().to_json(), **rules}
    blocked = api.get(mcp_path(ACCOUNT))
    assert_error(blocked, 503, "Service Unavailable")
    assert blocked.json()["message"] == f"Integrated account {ACCOUNT} is blocked. Contact support."
    assert_error(api.get(f"/integrated-account/{ACCOUNT}"), 503)
    assert api.post(mcp_path(OTHER_ACCOUNT), json=CREATE).json()["config"] == {}
    assert set(api.get(mcp_path(OTHER_ACCOUNT)).json()) == {"results", "next_cursor", "limit"}
    assert set(api.get("/integrated-account").json()) == {"results", "next_cursor", "limit"}
    api.post("/_emulator/readings", json={})
    assert "result" in api.get(mcp_path(ACCOUNT)).json()


# ------------------------------------------------------------------ journal


def test_the_journal_records_every_api_request_with_its_status_but_never_a_header_or_token(
    api: httpx.Client,
) -> None:
    created = api.post(mcp_path(ACCOUNT), json=CREATE).json()
    api.get(mcp_path(ACCOUNT), params={"limit": "5"})
    api.post(mcp_path(ACCOUNT), content=b"{oops")
    api.get("/_emulator/servers")  # a hook: not journaled

    journal = api.get("/_emulator/journal").json()

    assert [(e["method"], e["path"], e["query"], e["body"], e["status"]) for e in journal] == [
        ("POST", mcp_path(ACCOUNT), {}, CREATE, 201),
        ("GET", mcp_path(ACCOUNT), {"limit": "5"}, None, 200),
        ("POST", mcp_path(ACCOUNT), {}, "{oops", 400),
    ]
    assert all(
        set(e) == {"method", "path", "query", "body", "status", "ts", "fault"} for e in journal
    )
    assert journal[0]["ts"] <= journal[1]["ts"] <= journal[2]["ts"]
    dumped = json.dumps(journal).lower()
    for secret in (TOKEN, "authorization", created["token"].lower()):
        assert secret not in dumped
    api.delete("/_emulator/journal")
    assert api.get("/_emulator/journal").json() == []


# ------------------------------------------------------------------ injected faults


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
    api: httpx.Client, action: dict[str, Any], error: str, retry_after: str | None
) -> None:
    rule = {"method": "post", "path": "/mcp$", "action": action}
    assert api.post("/_emulator/faults", json=rule).status_code == 201

    response = api.post(mcp_path(ACCOUNT), json=CREATE)

    assert_error(response, action["status"], error)
    assert response.json()["message"] == "Injected fault"
    assert response.headers.get("retry-after") == retry_after
    assert api.get("/_emulator/servers").json() == []
    assert api.post(mcp_path(ACCOUNT), json=CREATE).status_code == 201
    assert api.get("/_emulator/faults").json() == []
    journal = api.get("/_emulator/journal").json()
    fault = {**action, **({"retry_after": float(action["retry_after"])} if retry_after else {})}
    assert [(e["status"], e["fault"]) for e in journal] == [(action["status"], fault), (201, None)]


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        ("<html><body>Bad gateway</body></html>", "text/plain; charset=utf-8"),
        ('{"detail": "echo of https:\\/\\/example.test\\/x"}', "application/json"),
    ],
)
def test_an_injected_status_with_a_body_answers_that_raw_text_without_acting(
    api: httpx.Client, body: str, content_type: str
) -> None:
    api.post("/_emulator/faults", json={"action": {"status": 502, "body": body}})

    response = api.post(mcp_path(ACCOUNT), json=CREATE)

    assert (response.status_code, response.text) == (502, body)
    assert response.headers["content-type"] == content_type
    assert api.get("/_emulator/servers").json() == []


def test_an_injected_delay_and_the_latency_setting_hold_api_answers_but_not_hooks(
    api: httpx.Client,
) -> None:
    api.post("/_emulator/faults", json={"method": "POST", "action": {"delay": 0.05}})
    started = time.monotonic()
    assert api.post(mcp_path(ACCOUNT), json=CREATE).status_code == 201
    assert time.monotonic() - started >= 0.05
    api.post("/_emulator/latency", json={"seconds": 0.05})
    started = time.monotonic()
    assert api.get(mcp_path(ACCOUNT)).status_code == 200
    assert time.monotonic() - started >= 0.05

    api.post("/_emulator/latency", json={"seconds": 60})
    started = time.monotonic()
    assert api.get("/_emulator/latency").json() == {"seconds": 60.0}
    assert time.monotonic() - started < 30  # a hook never waits the minute


def test_the_rate_limit_answers_429_with_retry_after_on_every_endpoint() -> None:
    with in_process(rate_limit=(2, 10)) as api:
        statuses = [api.get(mcp_path(ACCOUNT)).status_code for _ in range(2)]
        limited = api.get(f"/integrated-account/{ACCOUNT}")
        assert statuses == [200, 200]
        assert_error(limited, 429, "Too Many Requests")
        assert limited.headers["retry-after"] == "10"
        api.post("/_emulator/rate-limit", json={"requests": None})
        assert api.get("/_emulator/rate-limit").json() == {"requests": None, "per_seconds": None}
        assert api.get("/integrated-account").status_code == 200
        api.post("/_emulator/rate-limit", json={"requests": 1, "per_seconds": 0.5})
        assert api.get(mcp_path(ACCOUNT)).status_code == 200
        assert api.get(mcp_path(ACCOUNT)).headers["retry-after"] == "1"


# ------------------------------------------------------------------ the hooks


def test_out_of_band_hooks_show_edit_expire_and_delete_servers_of_every_account(
    api: httpx.Client,
) -> None:
    mine = api.post(mcp_path(ACCOUNT), json={**CREATE, "name": "a", "expires_at": in_seconds(90)})
    theirs = api.post(mcp_path(OTHER_ACCOUNT), json={**CREATE, "name": "b"}).json()
    shown = sorted(api.get("/_emulator/servers").json(), key=lambda s: str(s["name"]))
    assert shown == [{**mine.json(), "config": {}}, {**theirs, "config": {}}]

    edited = api.patch(f"/_emulator/servers/{theirs['id']}", json={"config": {"tags": ["hr"]}})
    api.post("/_emulator/clock", json={"advance": 91})

    assert edited.json()["token"] == theirs["token"]
    assert api.get(mcp_path(OTHER_ACCOUNT, theirs["id"])).json()["config"]["tags"] == ["hr"]
    assert_error(api.get(mcp_path(ACCOUNT, mine.json()["id"])), 404)
    assert api.delete(f"/_emulator/servers/{theirs['id']}").json() == {"id": theirs["id"]}
    assert_error(api.get(mcp_path(OTHER_ACCOUNT, theirs["id"])), 404)
    assert api.get("/_emulator/servers").json() == []
    assert [e["method"] for e in api.get("/_emulator/journal").json()] == ["POST"] * 2 + ["GET"] * 3


def test_reset_forgets_servers_journal_faults_accounts_and_runtime_settings(
    api: httpx.Client,
) -> None:
    initial = snapshot(api)
    api.post(mcp_path(ACCOUNT), json={**CREATE, "expires_at": in_seconds(120)})
    api.post("/_emulator/faults", json={"action": {"status": 500}, "times": 3})
    api.post("/_emulator/latency", json={"seconds": 5.0})
    api.post("/_emulator/rate-limit", json={"requests": 1, "per_seconds": 10})
    api.post("/_emulator/readings", json={"config_patch": "replace"})
    api.post("/_emulator/accounts", json={})
    api.post("/_emulator/account-page-limit", json={"limit": 1})
    api.post("/_emulator/clock", json={"advance": 60})
    assert snapshot(api) != initial

    assert api.post("/_emulator/reset").json() == {"ok": True}

    assert snapshot(api) == initial
    assert api.get("/_emulator/journal").json() == []
    assert [api.get(mcp_path(ACCOUNT)).status_code for _ in range(2)] == [200, 200]
    assert api.post(mcp_path(ACCOUNT), json={**CREATE, "expires_at": in_seconds(90)}).is_success


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
        ("DELETE", f"servers/{ANY_ID}", None, 404),
        ("GET", "nothing-here", None, 404),
    ],
)
def test_a_hook_refuses_what_it_cannot_do_in_trutos_error_body_and_changes_nothing(
    api: httpx.Client, method: str, hook: str, body: object, status: int
) -> None:
    before = snapshot(api)

    response = api.request(method, f"/_emulator/{hook}", json=body)

    assert_error(response, status, PHRASES[status])
    assert snapshot(api) == before
    assert api.get("/_emulator/journal").json() == []
