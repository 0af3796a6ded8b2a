"""The `/_emulator/` test hooks: journal, out-of-band edits, reset, latency, rate limit."""

from __future__ import annotations

import json
import time

import httpx
import pytest

from truto_pulumi.emulator import Emulator, run_emulator
from truto_pulumi.emulator._readings import CONFIG_DEFAULTS as DEFAULTS
from truto_pulumi.emulator._readings import Readings

from ..kit import ACCOUNT, OTHER_ACCOUNT
from .helpers import mcp_path

pytestmark = pytest.mark.slow  # starts the emulator


def test_journal_records_every_api_request_with_status_but_never_headers(
    emu: Emulator, api: httpx.Client, account: str
) -> None:
    created = api.post(mcp_path(account), json={"config": {}, "name": "x"}).json()
    api.get(mcp_path(account), params={"limit": "5"})
    httpx.get(f"{emu.url}{mcp_path(account)}")  # no token: 401, journaled too

    journal = emu.journal()

    assert [(e["method"], e["path"], e["status"]) for e in journal] == [
        ("POST", mcp_path(account), 201),
        ("GET", mcp_path(account), 200),
        ("GET", mcp_path(account), 401),
    ]
    assert journal[0]["body"] == {"config": {}, "name": "x"}
    assert journal[0]["query"] == {}
    assert journal[1]["query"] == {"limit": "5"}
    assert journal[1]["body"] is None
    assert all(
        set(e) == {"method", "path", "query", "body", "status", "ts", "fault"} for e in journal
    )
    assert journal[0]["ts"] <= journal[1]["ts"] <= journal[2]["ts"]
    dumped = json.dumps(journal).lower()
    assert emu.api_token.lower() not in dumped
    assert "authorization" not in dumped
    assert created["token"].lower() not in dumped


def test_journal_keeps_a_malformed_body_as_text(
    emu: Emulator, api: httpx.Client, account: str
) -> None:
    api.post(mcp_path(account), content=b"{oops")

    [entry] = emu.journal()

    assert entry["body"] == "{oops"
    assert entry["status"] == 400


def test_hook_calls_are_not_journaled_and_clear_journal_empties_it(
    emu: Emulator, api: httpx.Client, account: str
) -> None:
    api.get(mcp_path(account))
    emu.servers()
    emu.faults()
    assert len(emu.journal()) == 1

    emu.clear_journal()

    assert emu.journal() == []


def test_out_of_band_edit_is_seen_by_the_api_and_bumps_updated_at(
    emu: Emulator, api: httpx.Client, account: str
) -> None:
    server = api.post(
        mcp_path(account), json={"name": "x", "config": {"methods": ["read"], "tags": ["crm"]}}
    ).json()
    time.sleep(0.002)

    edited = emu.edit_server(server["id"], name="dashboard", config={"tags": ["hr"]})

    assert edited["token"] == server["token"]
    fetched = api.get(mcp_path(account, server["id"])).json()
    assert fetched["name"] == "dashboard"
    assert fetched["config"] == {**DEFAULTS, "tags": ["hr"]}
    assert fetched["updated_at"] > server["updated_at"]
    assert emu.journal()[-1]["method"] == "GET"  # the edit itself is not journaled


def test_out_of_band_delete_makes_the_server_404(
    emu: Emulator, api: httpx.Client, account: str
) -> None:
    server_id = api.post(mcp_path(account), json={"config": {}, "name": "x"}).json()["id"]

    emu.delete_server(server_id)

    assert api.get(mcp_path(account, server_id)).status_code == 404
    with pytest.raises(httpx.HTTPStatusError) as raised:
        emu.delete_server(server_id)
    assert raised.value.response.status_code == 404


def test_servers_hook_lists_live_servers_of_every_account_with_secrets(
    emu: Emulator, api: httpx.Client, account: str
) -> None:
    other = OTHER_ACCOUNT
    mine = api.post(mcp_path(account), json={"config": {}, "name": "a"}).json()
    theirs = api.post(mcp_path(other), json={"config": {}, "name": "b"}).json()

    servers = {s["id"]: s for s in emu.servers()}

    as_stored = [{**s, "config": {}} for s in (mine, theirs)]  # the API echoes the defaults
    assert servers == {s["id"]: s for s in as_stored}


def test_reset_forgets_servers_journal_faults_and_runtime_settings(
    emu: Emulator, api: httpx.Client, account: str
) -> None:
    api.post(mcp_path(account), json={"config": {}, "name": "x"})
    emu.inject(status=500)
    emu.set_latency(5.0)
    emu.set_rate_limit(1, 10)
    emu.set_readings(config_patch="replace", echo_defaults=False)

    emu.reset()

    assert emu.servers() == []
    assert emu.journal() == []
    assert emu.faults() == []
    assert httpx.get(f"{emu.url}/_emulator/latency").json() == {"seconds": 0.0}
    assert httpx.get(f"{emu.url}/_emulator/rate-limit").json()["requests"] is None
    assert emu.readings() == Readings().to_json()
    assert [api.get(mcp_path(account)).status_code for _ in range(2)] == [200, 200]


def test_latency_is_added_to_api_answers_but_not_to_hooks(
    emu: Emulator, api: httpx.Client, account: str
) -> None:
    emu.set_latency(0.25)

    started = time.monotonic()
    assert api.get(mcp_path(account)).status_code == 200
    api_elapsed = time.monotonic() - started
    started = time.monotonic()
    emu.servers()
    hook_elapsed = time.monotonic() - started

    assert api_elapsed >= 0.25
    assert hook_elapsed < 0.25


def test_rate_limit_answers_429_with_retry_after_once_exceeded(
    emu: Emulator, api: httpx.Client, account: str
) -> None:
    emu.set_rate_limit(3, 10)

    responses = [api.get(mcp_path(account)) for _ in range(4)]

    assert [r.status_code for r in responses] == [200, 200, 200, 429]
    assert responses[3].headers["retry-after"] == "10"
    assert responses[3].json()["error"] == "Too Many Requests"
    emu.set_rate_limit(None)
    assert api.get(mcp_path(account)).status_code == 200


def test_rate_limit_given_to_the_constructor_is_enforced_per_window() -> None:
    account = ACCOUNT
    with run_emulator(rate_limit=(2, 0.3)) as emu, emu.client() as api:
        first = [api.get(mcp_path(account)).status_code for _ in range(3)]
        time.sleep(0.35)
        after_window = api.get(mcp_path(account))

    assert first == [200, 200, 429]
    assert after_window.status_code == 200


def test_readings_hook_makes_patch_replace_config_and_accept_a_newer_option(
    emu: Emulator, api: httpx.Client, account: str
) -> None:
    rules = {"config_patch": "replace", "newer_keys": ["some_new_option"], "echo_defaults": False}
    answered = httpx.post(f"{emu.url}/_emulator/readings", json=rules).json()
    assert answered == {**Readings().to_json(), **rules}
    server = api.post(mcp_path(account), json={"name": "x", "config": {"tags": ["hr"]}}).json()
    emu.edit_server(server["id"], config={"tags": ["hr"], "some_new_option": "strict"})

    patched = api.patch(f"{mcp_path(account)}/{server['id']}", json={"config": {"tags": ["crm"]}})

    assert patched.json()["config"] == {"tags": ["crm"]}
    assert emu.readings() == answered


def test_readings_hook_blocks_an_account_and_names_both_list_keys(
    emu: Emulator, api: httpx.Client, account: str
) -> None:
    emu.set_readings(blocked_accounts=[account], list_key="results")

    blocked = api.get(mcp_path(account))
    listed = api.get(mcp_path(OTHER_ACCOUNT)).json()

    assert blocked.status_code == 503
    assert blocked.json()["message"] == f"Integrated account {account} is blocked. Contact support."
    assert api.get(f"/integrated-account/{account}").status_code == 503
    assert set(listed) == {"results", "next_cursor", "limit"}
    assert set(api.get("/integrated-account").json()) == {"results", "next_cursor", "limit"}


@pytest.mark.parametrize(
    ("hook", "body"),
    [
        ("latency", {"seconds": -1}),
        ("latency", {"seconds": "fast"}),
        ("rate-limit", {"requests": 0, "per_seconds": 10}),
        ("rate-limit", {"requests": 5, "per_seconds": 0}),
        ("rate-limit", [5, 10]),
        ("readings", {"config_patch": "overwrite"}),
    ],
)
def test_setting_hooks_reject_invalid_values_with_400(
    emu: Emulator, hook: str, body: object
) -> None:
    response = httpx.post(f"{emu.url}/_emulator/{hook}", json=body)

    assert response.status_code == 400
    assert response.json()["statusCode"] == 400


def test_unknown_hook_is_404_with_the_error_body_and_not_journaled(emu: Emulator) -> None:
    response = httpx.get(f"{emu.url}/_emulator/nothing-here")

    assert response.status_code == 404
    assert response.json()["error"] == "Not Found"
    assert emu.journal() == []
