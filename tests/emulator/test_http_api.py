"""What the HTTP layer adds to the store: routes, statuses, Truto's error body, headers, auth,
the journal, injected faults and the `/_emulator/` hooks, driven through `Emulator`'s hooks
client. The emulator is served in this thread."""

from __future__ import annotations

import json
import re
import time
import uuid
from datetime import UTC, datetime, timedelta
from http import HTTPStatus
from typing import Any

import httpx
import pytest

from truto_pulumi.emulator import Readings, create_app
from truto_pulumi.emulator._base import JSONObject
from truto_pulumi.emulator._protocol import ConnectionDroppedError
from truto_pulumi.emulator._readings import CONFIG_DEFAULTS
from truto_pulumi.emulator._state import EMULATOR_USER_ID

from ..kit import ACCOUNT, OTHER_ACCOUNT
from .helpers import BASE_URL, CREATE, TOKEN, InProcessEmulator, assert_error, mcp_path, snapshot

ANY_ID = "15c06123-ce3e-4977-aea1-02a1c359b567"
"""A server id no test made: fixed, as test ids must be (parallel workers collect alike)."""
SECRETS = ("token", "url")
JOURNAL_KEYS = ["method", "path", "query", "body", "status", "ts", "fault"]


def soon(seconds: float) -> datetime:
    return datetime.now(UTC) + timedelta(seconds=seconds)


@pytest.mark.parametrize(
    ("settings", "base"),
    [({}, BASE_URL), ({"public_base_url": "https://api.truto.one/"}, "https://api.truto.one")],
)
def test_a_server_through_every_endpoint_shows_its_token_and_url_only_on_create_journaled(
    settings: dict[str, str], base: str
) -> None:
    emu = InProcessEmulator(**settings)
    api = emu.client(headers={"Authorization": f"bEARER {TOKEN}"})  # any case of the scheme
    created = api.post(mcp_path(ACCOUNT.upper()), json={**CREATE, "config": {"tags": ["crm"]}})
    assert (created.status_code, created.headers["content-type"]) == (201, "application/json")
    server = created.json()
    token, stamp = server["token"], server["created_at"]
    assert server == {
        "id": server["id"],
        "integrated_account_id": ACCOUNT,
        "name": "x",
        "config": {**CONFIG_DEFAULTS, "tags": ["crm"]},
        "expires_at": None,
        "created_at": stamp,
        "updated_at": stamp,
        "created_by": EMULATOR_USER_ID,
        "token": token,
        "url": f"{base}/mcp/{token}",
    }
    assert uuid.UUID(server["id"]).version == 4
    assert re.fullmatch(r"[A-Za-z0-9_-]{32,}", token)
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", stamp)
    item = mcp_path(ACCOUNT, server["id"])
    public = {k: v for k, v in server.items() if k not in SECRETS}
    assert api.get(mcp_path(ACCOUNT, server["id"].upper())).json() == public  # any case
    other = api.post(mcp_path(ACCOUNT), json=CREATE).json()
    assert other["token"] != token
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
    journal = emu.journal()  # every API request, hooks not
    assert " ".join(e["method"] for e in journal) == "POST GET POST GET GET PATCH DELETE GET GET"
    assert [e["status"] for e in journal] == [201, 200, 201, 200, 200, 200, 200, 404, 200]
    assert journal[4]["query"] == {"limit": "1", "next_cursor": first["next_cursor"]}
    assert journal[5]["body"] == {"name": "renamed"}
    assert all(list(e) == JOURNAL_KEYS for e in journal)
    assert sorted(journal, key=lambda entry: float(entry["ts"])) == journal
    dumped = json.dumps(journal).lower()
    assert not [s for s in (TOKEN, "authorization", token.lower()) if s in dumped]
    emu.clear_journal()
    assert emu.journal() == []


NO_AUTH = {"Authorization": ""}
"""Headers that send no `Authorization` at all."""
BEARER = {"www-authenticate": "Bearer"}


@pytest.mark.parametrize(
    ("method", "path", "send", "answer"),
    [
        ("POST", mcp_path(ACCOUNT), {"headers": NO_AUTH}, (401, "Bearer <token>", BEARER)),
        *[("POST", mcp_path(ACCOUNT), {"headers": {"Authorization": wrong}}, (401, "", BEARER))
          for wrong in ("Bearer wrong", TOKEN, f"Basic {TOKEN}", "Bearer")],
        ("GET", "/integrated-account", {"headers": NO_AUTH}, (401, "", BEARER)),
        ("GET", mcp_path(ACCOUNT, "123"), {}, (404, "MCP server", {})),
        ("POST", mcp_path(ACCOUNT), {"content": b"{not json"}, (400, "not valid JSON", {})),
        ("POST", mcp_path(ACCOUNT), {"content": b""}, (400, "must be a JSON object", {})),
        ("PATCH", mcp_path(ACCOUNT, ANY_ID), {"content": b"[1"}, (400, "not valid JSON", {})),
        ("GET", mcp_path(ACCOUNT), {"params": {"limit": "0"}}, (400, "limit", {})),
        ("GET", f"/environment-integration/{ANY_ID}", {}, (404, "Environment integration", {})),
        ("GET", "/integrated-accounts", {}, (404, "Route GET", {})),
        ("GET", mcp_path(ACCOUNT) + "/", {}, (404, "Route GET", {})),
        ("PUT", mcp_path(ACCOUNT, ANY_ID), {}, (405, "", {"allow": "GET, PATCH, DELETE"})),
        ("DELETE", mcp_path(ACCOUNT), {}, (405, "", {"allow": "GET, POST"})),
        ("POST", "/integrated-account", {}, (405, "", {"allow": "GET"})),
    ],
)  # fmt: skip
def test_each_refusal_answers_its_status_in_trutos_error_body_and_acts_not(
    emu: InProcessEmulator, api: httpx.Client, method: str, path: str, send: JSONObject, answer: Any
) -> None:
    """`send` holds the request's `content` (else CREATE is sent), `params`, or `headers` that
    replace the bearer token; `answer` the status, a fragment of the message, and headers."""
    status, fragment, headers = answer
    body = {"content": send["content"]} if "content" in send else {"json": CREATE}
    request = api.build_request(method, path, params=send.get("params"), **body)
    request.headers.update({"Content-Type": "application/json", **send.get("headers", {})})
    if request.headers["authorization"] == "":
        del request.headers["authorization"]

    response = api.send(request)

    assert_error(response, status, HTTPStatus(status).phrase)
    assert fragment in response.json()["message"]
    assert {key: response.headers.get(key) for key in headers} == headers
    assert "allow" in headers or "allow" not in response.headers
    assert emu.servers() == []
    journaled = send["content"].decode() or None if "content" in send else CREATE
    query = send.get("params", {})
    journal = [(e["method"], e["path"], e["query"], e["body"], e["status"]) for e in emu.journal()]
    assert journal == [(method, path, query, journaled, status)]


def test_the_readings_hook_sets_every_reading_and_the_api_follows_them(
    emu: InProcessEmulator, api: httpx.Client
) -> None:
    rules = {"blocked_accounts": [ACCOUNT], "list_key": "results", "echo_defaults": False}

    assert emu.set_readings(**rules) == {**Readings().to_json(), **rules}

    assert_error(api.get(mcp_path(ACCOUNT)), 503, "Service Unavailable")  # its words: test_state
    assert_error(api.get(f"/integrated-account/{ACCOUNT}"), 503)
    assert api.post(mcp_path(OTHER_ACCOUNT), json=CREATE).json()["config"] == {}
    assert set(api.get(mcp_path(OTHER_ACCOUNT)).json()) == {"results", "next_cursor", "limit"}
    assert set(api.get("/integrated-account").json()) == {"results", "next_cursor", "limit"}
    assert emu.set_readings() == Readings().to_json()
    assert "result" in api.get(mcp_path(ACCOUNT)).json()


HTML, JSON_ECHO = "<html><body>Bad gateway</body></html>", '{"detail": "echo of https:\\/\\/x"}'


@pytest.mark.parametrize(
    ("action", "answer"),
    [
        ({"status": 500}, (500, None, None, False)),
        ({"status": 409}, (409, None, None, False)),
        ({"status": 429, "retry_after": 1}, (429, None, "1", False)),
        ({"status": 429, "retry_after": 0.5}, (429, None, "1", False)),
        ({"status": 502, "body": HTML}, (502, HTML, None, False)),
        ({"status": 502, "body": JSON_ECHO}, (502, JSON_ECHO, None, False)),
        ({"lose_answer": True, "status": 500}, (500, None, None, True)),
        ({"lose_answer": True}, (None, None, None, True)),
        ({"drop": True}, (None, None, None, False)),
    ],
)
def test_an_injected_fault_spoils_the_next_matching_request_once_acting_or_not(
    emu: InProcessEmulator, api: httpx.Client, action: JSONObject, answer: Any
) -> None:
    """A lost or dropped answer closes the connection: here, served with no uvicorn, the app
    starts an answer it never finishes (`test_cli` has uvicorn hang up). `answer`: the status,
    the raw body if not Truto's error body, `Retry-After`, and whether the create happened."""
    status, body, retry_after, acted = answer
    emu.inject(method="get", times=5, status=503)
    emu.clear_faults()
    rule = emu.inject(method="post", path="/mcp$", **action)
    assert emu.faults() == [rule]

    if status is None:
        with pytest.raises(ConnectionDroppedError):
            api.post(mcp_path(ACCOUNT), json=CREATE)
    else:
        response = api.post(mcp_path(ACCOUNT), json=CREATE)
        if body is None:
            assert_error(response, status)
            assert response.json()["message"] == "Injected fault"
        else:
            assert (response.status_code, response.text) == (status, body)
            plain = "text/plain; charset=utf-8"
            assert response.headers["content-type"] == (
                plain if body == HTML else "application/json"
            )
        assert response.headers.get("retry-after") == retry_after

    assert len(emu.servers()) == int(acted)
    assert api.post(mcp_path(ACCOUNT), json=CREATE).status_code == 201
    assert emu.faults() == []
    assert [(e["status"], e["fault"]) for e in emu.journal()] == [
        (status, rule["action"]),
        (201, None),
    ]


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
    api = emu.client()
    statuses = [api.get(mcp_path(ACCOUNT)).status_code for _ in range(2)]
    limited = api.get(f"/integrated-account/{ACCOUNT}")
    assert statuses == [200, 200]
    assert_error(limited, 429, "Too Many Requests")
    assert limited.headers["retry-after"] == "10"
    emu.set_rate_limit(None)
    assert api.get("/_emulator/rate-limit").json() == {"requests": None, "per_seconds": None}
    assert api.get("/integrated-account").status_code == 200


def test_out_of_band_hooks_show_edit_expire_and_delete_servers_of_every_account(
    emu: InProcessEmulator, api: httpx.Client
) -> None:
    mine = api.post(mcp_path(ACCOUNT), json={**CREATE, "name": "a"}).json()
    theirs = api.post(mcp_path(OTHER_ACCOUNT), json={"name": "b", "config": {"tags": ["crm"]}})
    theirs = theirs.json()
    shown = sorted(emu.servers(), key=lambda s: str(s["name"]))
    assert shown == [{**mine, "config": {}}, {**theirs, "config": {"tags": ["crm"]}}]

    edited = emu.edit_server(theirs["id"], config={"methods": ["read"]})  # replaced whole
    emu.edit_server(mine["id"], expires_at=soon(-1).isoformat())  # past: gone at once

    assert (edited["token"], edited["config"]) == (theirs["token"], {"methods": ["read"]})
    assert_error(api.get(mcp_path(ACCOUNT, mine["id"])), 404)
    emu.delete_server(theirs["id"])
    assert_error(api.get(mcp_path(OTHER_ACCOUNT, theirs["id"])), 404)
    assert emu.servers() == []
    assert [e["method"] for e in emu.journal()] == ["POST"] * 2 + ["GET"] * 2
    with pytest.raises(httpx.HTTPStatusError):  # the hooks client raises what a hook refuses
        emu.delete_server(theirs["id"])


def test_reset_forgets_servers_journal_faults_accounts_and_runtime_settings() -> None:
    readings = Readings(config_patch="replace", list_key="results")
    fixed = {"accounts": [ACCOUNT, OTHER_ACCOUNT], "account_page_limit": 7}
    emu = InProcessEmulator(readings=readings, **fixed)
    api = emu.client()
    initial = snapshot(emu)
    install = emu.environment()["default_environment_integration_id"]
    api.post(mcp_path(ACCOUNT), json=CREATE)
    emu.inject(status=500, times=3)
    emu.set_latency(5.0)
    emu.set_rate_limit(1, 10)
    emu.set_readings(config_patch="merge")
    emu.add_account()
    emu.set_account_status(ACCOUNT, "needs_reauth")
    emu.remove_account(OTHER_ACCOUNT)
    emu.uninstall_integration(install)
    emu.set_account_page_limit(1)
    emu.advance_clock(60)
    assert snapshot(emu) != initial

    emu.reset()

    assert snapshot(emu) == initial
    assert emu.journal() == []
    assert api.get(f"/environment-integration/{install}").status_code == 200
    assert [api.get(mcp_path(ACCOUNT)).status_code for _ in range(2)] == [200, 200]
    expiring = {**CREATE, "expires_at": soon(90).isoformat()}  # refused if the clock ran on
    assert api.post(mcp_path(OTHER_ACCOUNT), json=expiring).status_code == 201


def test_the_account_hooks_shape_what_the_account_endpoints_answer(
    emu: InProcessEmulator, api: httpx.Client
) -> None:
    account = emu.add_account(tenant_id="acme", integration="salesforce")
    path, servers = f"/integrated-account/{account['id']}", mcp_path(account["id"])
    install_path = f"/environment-integration/{account['environment_integration_id']}"
    server = api.post(servers, json=CREATE).json()
    kept = api.post(mcp_path(OTHER_ACCOUNT), json=CREATE).json()

    listed = api.get("/integrated-account").json()
    assert listed == {"result": [account], "next_cursor": None, "limit": 100}
    assert api.get(path).json() == account == emu.accounts()[0]
    emu.set_account_page_limit(1)
    assert api.get("/_emulator/account-page-limit").json() == {"limit": 1}
    assert api.get("/integrated-account", params={"limit": 5}).json()["limit"] == 1
    edited = emu.set_account_status(account["id"], "needs_reauth")
    assert (edited["status"], api.get(path).json()) == ("needs_reauth", edited)
    install = api.get(install_path).json()
    assert install["environment_id"] == emu.environment()["environment_id"]
    emu.uninstall_integration(install["id"])
    assert_error(api.get(install_path), 404)
    assert api.get(path).json() == edited  # its accounts stay
    assert emu.add_account(integration="salesforce")["environment_integration_id"] != install["id"]
    assert emu.remove_account(account["id"]) == [server["id"]]
    for gone in (path, servers, mcp_path(account["id"], server["id"])):
        assert_error(api.get(gone), 404)  # though every UUID is an account here
    assert [s["id"] for s in emu.servers()] == [kept["id"]]
    assert account["id"] not in [a["id"] for a in emu.accounts()]
    assert emu.add_account(id=account["id"])["id"] == account["id"]  # back, without servers
    assert api.get(servers).json()["result"] == []


PLAN = {"action": {"status": 500}}


@pytest.mark.parametrize(
    ("call", "body", "status", "fragment"),
    [
        ("POST latency", {"seconds": -1}, 400, "seconds"),
        ("POST rate-limit", {"requests": 0, "per_seconds": 10}, 400, "requests"),
        ("POST rate-limit", {"requests": 5, "per_seconds": 0}, 400, "per_seconds"),
        ("POST rate-limit", [5, 10], 400, "JSON object"),
        ("POST clock", {"advance": -1}, 400, "only moves on"),
        *[("POST account-page-limit", body, 400, "limit") for body in ({}, {"limit": True})],
        ("POST readings", {"config_patch": "overwrite"}, 400, "config_patch must be one of"),
        ("POST readings", {"newer_keys": "level"}, 400, "newer_keys must be an array"),
        ("POST readings", {"newer_keys": ["tags"]}, 400, "must not name a known config key"),
        ("POST readings", {"merge": True}, 400, "unknown reading(s): merge"),
        ("POST readings", {"echo_defaults": "yes"}, 400, "echo_defaults must be true or false"),
        ("POST readings", {"list_key": "items"}, 400, "list_key must be one of result, results"),
        ("POST readings", {"plan_limit": -1}, 400, "plan_limit must be an integer >= 0"),
        ("POST readings", {"plan_limit_status": 500}, 400, "plan_limit_status must be one of"),
        ("POST readings", {"blocked_accounts": ["x"]}, 400, "must be integrated account UUIDs"),
        ("POST readings", {"account_tools": {ACCOUNT: [{"verb": "x"}]}}, 400, "a tool is"),
        ("POST readings", [], 400, "readings must be a JSON object"),
        ("POST faults", {"action": {}}, 400, "at least one of"),
        ("POST faults", {"action": {"status": 200}}, 400, "between 400 and 599"),
        ("POST faults", {"action": {"drop": True, "status": 500}}, 400, "cannot be combined"),
        ("POST faults", {"action": {"retry_after": 1}}, 400, "retry_after needs action.status"),
        ("POST faults", {"action": {"status": 400, "body": {}}}, 400, "must be a string"),
        ("POST faults", {"action": {"delay": -1}}, 400, "delay must be a number >= 0"),
        ("POST faults", {"action": {"lose_answer": True, "act_after": 1}}, 400, "act_after"),
        ("POST faults", {"action": {"explode": True}}, 400, "unknown action key(s): explode"),
        ("POST faults", {**PLAN, "path": "(unclosed"}, 400, "not a valid regular expression"),
        ("POST faults", {**PLAN, "times": 0}, 400, "times must be an integer >= 1"),
        ("POST faults", {**PLAN, "method": ""}, 400, "method must be"),
        ("POST faults", {**PLAN, "when": "now"}, 400, "unknown fault key(s): when"),
        ("POST accounts", {"status": "gone"}, 400, "status must be one of"),
        ("POST accounts", {"region": "mars"}, 400, "region must be one of"),
        ("POST accounts", {"is_sandbox": "yes"}, 400, "is_sandbox must be a boolean"),
        ("POST accounts", {"id": "42"}, 400, "id must be a UUID"),
        ("POST accounts", {"integration": ""}, 400, "integration must be a non-empty string"),
        ("POST accounts", {"colour": "blue"}, 400, "unknown field(s): colour"),
        ("POST accounts", [], 400, "request body must be a JSON object"),
        ("POST accounts", {"integration": "jira", "environment_integration_id": ""}, 400, "not"),
        ("POST accounts", {"id": ACCOUNT.upper()}, 409, "already exists"),
        ("POST accounts", {"environment_integration_id": ANY_ID}, 409, "already installed"),
        (f"PATCH accounts/{ACCOUNT}", {"status": "gone"}, 400, "status must be one of"),
        (f"PATCH accounts/{ACCOUNT}", {"region": "eu"}, 400, 'body must be {"status"'),
        ("DELETE accounts/not-a-uuid", None, 404, "Integrated account"),
        (f"PATCH servers/{ANY_ID}", {"name": "y"}, 404, "MCP server"),
        (f"DELETE environment-integrations/{ANY_ID}", None, 404, "Environment integration"),
        ("GET nothing-here", None, 404, "Not Found"),
    ],
)
def test_a_hook_refuses_what_it_cannot_do_in_trutos_error_body_and_changes_nothing(
    emu: InProcessEmulator, api: httpx.Client, call: str, body: Any, status: int, fragment: str
) -> None:
    """An account ACCOUNT exists (of the default installed integration, whose id an empty
    `environment_integration_id` stands for)."""
    install = emu.add_account(id=ACCOUNT)["environment_integration_id"]
    before = snapshot(emu)
    if isinstance(body, dict) and body.get("environment_integration_id") == "":
        body = {**body, "environment_integration_id": install}

    method, hook = call.split(" ")
    response = api.request(method, f"/_emulator/{hook}", json=body)

    assert_error(response, status, HTTPStatus(status).phrase)
    assert fragment in response.json()["message"]
    assert snapshot(emu) == before
    assert emu.journal() == []


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"api_token": ""}, "api_token"),
        ({"latency": -1}, "latency"),
        ({"accounts": ["acme"]}, "UUID"),
        *[({"account_page_limit": bad}, "account_page_limit") for bad in (0, True, None)],
    ],
)
def test_an_emulator_refuses_settings_it_cannot_serve(settings: JSONObject, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        create_app(**{"api_token": TOKEN, **settings})
