"""Injected faults, observed by a real httpx client over loopback."""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest

from truto_pulumi.emulator import Emulator

from .helpers import mcp_path

pytestmark = pytest.mark.slow  # starts the emulator


def test_injected_429_answers_retry_after_without_acting_and_is_consumed(
    emu: Emulator, api: httpx.Client, account: str
) -> None:
    emu.inject(method="POST", status=429, retry_after=1)

    limited = api.post(mcp_path(account), json={"config": {}, "name": "x"})

    assert limited.status_code == 429
    assert limited.headers["retry-after"] == "1"
    assert limited.json()["error"] == "Too Many Requests"
    assert emu.servers() == []
    assert api.post(mcp_path(account), json={"config": {}, "name": "x"}).status_code == 201
    assert emu.faults() == []
    journal = emu.journal()
    assert [(e["status"], e["fault"]) for e in journal] == [
        (429, {"status": 429, "retry_after": 1.0}),
        (201, None),
    ]


@pytest.mark.parametrize(
    ("status", "error"),
    [(500, "Internal Server Error"), (503, "Service Unavailable"), (409, "Conflict")],
)
def test_injected_status_answers_the_error_body_without_acting(
    emu: Emulator, api: httpx.Client, account: str, status: int, error: str
) -> None:
    server_id = api.post(mcp_path(account), json={"config": {}, "name": "x"}).json()["id"]
    emu.inject(method="DELETE", status=status)

    response = api.delete(mcp_path(account, server_id))

    assert response.status_code == status
    assert response.json() == {"statusCode": status, "error": error, "message": "Injected fault"}
    assert "retry-after" not in response.headers
    assert [s["id"] for s in emu.servers()] == [server_id]


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        ("<html><body>Bad gateway</body></html>", "text/plain; charset=utf-8"),
        ('{"detail": "echo of https:\\/\\/example.test\\/x"}', "application/json"),
    ],
)
def test_injected_status_with_body_answers_that_raw_text_without_acting(
    emu: Emulator, api: httpx.Client, account: str, body: str, content_type: str
) -> None:
    emu.inject(method="POST", status=502, body=body)

    response = api.post(mcp_path(account), json={"config": {}, "name": "x"})

    assert response.status_code == 502
    assert response.text == body
    assert response.headers["content-type"] == content_type
    assert emu.servers() == []
    assert emu.journal()[0]["fault"] == {"status": 502, "body": body}


def test_fault_applies_times_then_stops_and_filters_on_method_and_path_regex(
    emu: Emulator, api: httpx.Client, account: str
) -> None:
    server_id = api.post(mcp_path(account), json={"config": {}, "name": "x"}).json()["id"]
    emu.inject(method="get", path=r"/mcp/[0-9a-f-]+$", times=2, status=503)

    assert api.get(mcp_path(account)).status_code == 200  # path does not match
    assert api.patch(mcp_path(account, server_id), json={"name": "y"}).status_code == 200
    assert emu.faults()[0]["times"] == 2
    statuses = [api.get(mcp_path(account, server_id)).status_code for _ in range(3)]

    assert statuses == [503, 503, 200]
    assert emu.faults() == []


def test_faults_are_consumed_in_registration_order(
    emu: Emulator, api: httpx.Client, account: str
) -> None:
    emu.inject(status=500)
    emu.inject(status=503)

    statuses = [api.get(mcp_path(account)).status_code for _ in range(3)]

    assert statuses == [500, 503, 200]


def test_delay_adds_latency_then_acts_normally(
    emu: Emulator, api: httpx.Client, account: str
) -> None:
    emu.inject(method="POST", delay=0.3)

    started = time.monotonic()
    response = api.post(mcp_path(account), json={"config": {}, "name": "slow"})
    elapsed = time.monotonic() - started

    assert response.status_code == 201
    assert elapsed >= 0.3
    assert [s["name"] for s in emu.servers()] == ["slow"]


def test_delay_longer_than_the_client_timeout_makes_the_client_time_out(
    emu: Emulator, account: str
) -> None:
    emu.inject(method="GET", delay=0.5)

    with emu.client(timeout=0.1) as impatient, pytest.raises(httpx.ReadTimeout):
        impatient.get(mcp_path(account))


def test_drop_closes_the_connection_without_an_answer_and_without_acting(
    emu: Emulator, api: httpx.Client, account: str
) -> None:
    emu.inject(method="POST", drop=True)

    with pytest.raises(httpx.RemoteProtocolError):
        api.post(mcp_path(account), json={"config": {}, "name": "x"})

    assert emu.servers() == []
    [entry] = emu.journal()
    assert entry["status"] is None
    assert entry["fault"] == {"drop": True}
    assert api.post(mcp_path(account), json={"config": {}, "name": "x"}).status_code == 201


def test_lose_answer_performs_the_create_but_the_client_gets_no_answer(
    emu: Emulator, api: httpx.Client, account: str
) -> None:
    emu.inject(method="POST", lose_answer=True)

    with pytest.raises(httpx.RemoteProtocolError):
        api.post(mcp_path(account), json={"config": {}, "name": "ghost"})

    [server] = emu.servers()
    assert server["name"] == "ghost"
    assert server["integrated_account_id"] == account
    assert emu.journal()[0]["status"] is None
    listed = api.get(mcp_path(account)).json()["result"]
    assert [s["id"] for s in listed] == [server["id"]]


def test_lose_answer_with_status_acts_then_answers_that_status(
    emu: Emulator, api: httpx.Client, account: str
) -> None:
    server_id = api.post(mcp_path(account), json={"config": {}, "name": "x"}).json()["id"]
    emu.inject(method="DELETE", lose_answer=True, status=500)

    response = api.delete(mcp_path(account, server_id))

    assert response.status_code == 500
    assert response.json()["error"] == "Internal Server Error"
    assert emu.servers() == []
    assert emu.journal()[-1]["status"] == 500


@pytest.mark.parametrize(
    "action",
    [
        {},
        {"status": 200},
        {"status": "500"},
        {"drop": True, "status": 500},
        {"drop": True, "lose_answer": True},
        {"retry_after": 1},
        {"body": "no status"},
        {"status": 400, "body": {"not": "text"}},
        {"delay": -1},
        {"explode": True},
    ],
)
def test_invalid_fault_definitions_are_rejected_with_400(
    emu: Emulator, action: dict[str, Any]
) -> None:
    with pytest.raises(httpx.HTTPStatusError) as raised:
        emu.inject(**action)

    assert raised.value.response.status_code == 400
    assert raised.value.response.json()["statusCode"] == 400
    assert emu.faults() == []


def test_invalid_fault_regex_or_times_is_rejected_with_400(emu: Emulator) -> None:
    cases: list[dict[str, Any]] = [{"path": "(unclosed"}, {"times": 0}]
    for kwargs in cases:
        with pytest.raises(httpx.HTTPStatusError) as raised:
            emu.inject(status=500, **kwargs)
        assert raised.value.response.status_code == 400


def test_clear_faults_removes_pending_faults(
    emu: Emulator, api: httpx.Client, account: str
) -> None:
    rule = emu.inject(status=500, times=3)
    assert emu.faults() == [rule]

    emu.clear_faults()

    assert emu.faults() == []
    assert api.get(mcp_path(account)).status_code == 200
