"""The emulator served on loopback: what needs a real connection (answers dropped or lost), the
hooks client of `Emulator` and `RemoteEmulator`, and emulators side by side."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

import httpx
import pytest

from truto_pulumi.emulator import Emulator, RemoteEmulator, run_emulator

from ..kit import ACCOUNT, OTHER_ACCOUNT
from .helpers import mcp_path

pytestmark = pytest.mark.slow  # starts the emulator

CREATE = {"name": "x", "config": {}}


def test_drop_closes_the_connection_without_an_answer_and_without_acting(emu: Emulator) -> None:
    emu.inject(method="POST", drop=True)

    with emu.client(timeout=5.0) as api:
        with pytest.raises(httpx.RemoteProtocolError):
            api.post(mcp_path(ACCOUNT), json=CREATE)
        assert api.post(mcp_path(ACCOUNT), json=CREATE).status_code == 201

    assert len(emu.servers()) == 1
    assert [(e["status"], e["fault"]) for e in emu.journal()] == [
        (None, {"drop": True}),
        (201, None),
    ]


@pytest.mark.parametrize("status", [None, 500])
def test_a_lost_answer_comes_after_the_create_happened(emu: Emulator, status: int | None) -> None:
    answer: dict[str, Any] = {} if status is None else {"status": status}
    emu.inject(method="POST", lose_answer=True, **answer)

    with emu.client(timeout=5.0) as api:
        if status is None:
            with pytest.raises(httpx.RemoteProtocolError):
                api.post(mcp_path(ACCOUNT), json={**CREATE, "name": "ghost"})
        else:
            response = api.post(mcp_path(ACCOUNT), json={**CREATE, "name": "ghost"})
            assert (response.status_code, response.json()["error"]) == (
                500,
                "Internal Server Error",
            )
        listed = api.get(mcp_path(ACCOUNT)).json()["result"]

    [server] = emu.servers()
    assert (server["name"], server["integrated_account_id"]) == ("ghost", ACCOUNT)
    assert [s["id"] for s in listed] == [server["id"]]
    assert emu.journal()[0]["status"] == status


def test_the_hooks_client_drives_an_emulator_running_elsewhere(emu: Emulator) -> None:
    with RemoteEmulator(emu.url + "/", emu.api_token) as remote, remote.client() as api:
        created = api.post(mcp_path(ACCOUNT), json=CREATE).json()
        expiry = datetime.now(timezone.utc) + timedelta(hours=1)
        edited = remote.edit_server(created["id"], name="dash", expires_at=expiry)
        assert (edited["name"], edited["url"]) == ("dash", created["url"])
        remote.advance_clock(3600)
        assert remote.servers() == []
        rule = remote.inject(method="GET", status=503, times=2)
        assert remote.faults() == [rule]
        remote.clear_faults()
        remote.set_readings(list_key="results")
        assert remote.readings()["list_key"] == "results"
        assert api.get(mcp_path(ACCOUNT)).json()["results"] == []
        assert [(e["method"], e["status"]) for e in remote.journal()] == [
            ("POST", 201),
            ("GET", 200),
        ]
        remote.clear_journal()
        added = remote.add_account(integration="jira")
        remote.set_account_page_limit(1)
        remote.set_account_status(added["id"], "validation_error")
        remote.edit_account(added["id"], tenant_id="acme")
        assert [(a["status"], a["tenant_id"]) for a in remote.accounts()] == [
            ("validation_error", "acme")
        ]
        remote.uninstall_integration(added["environment_integration_id"])
        assert remote.remove_account(added["id"]) == []
        remote.set_latency(0.01)
        remote.set_rate_limit(1, 10)
        assert [api.get(mcp_path(ACCOUNT)).status_code for _ in range(2)] == [200, 429]
        remote.reset()
        assert api.get(mcp_path(ACCOUNT)).json() == {
            "result": [],
            "next_cursor": None,
            "limit": 100,
        }
        with pytest.raises(httpx.HTTPStatusError) as raised:
            remote.delete_server(created["id"])
        assert raised.value.response.status_code == 404
    with pytest.raises(RuntimeError, match="not running"):
        remote.journal()


def test_two_emulators_run_side_by_side_as_two_environments(emu: Emulator) -> None:
    with run_emulator(accounts=[OTHER_ACCOUNT]) as other, other.client() as api:
        assert other.port != emu.port
        assert httpx.get(f"{other.url}/_emulator/health").json() == {"ok": True}
        assert other.environment()["environment_id"] != emu.environment()["environment_id"]
        install = emu.environment()["default_environment_integration_id"]
        assert api.get(f"/environment-integration/{install}").status_code == 404
        assert api.get(mcp_path(ACCOUNT)).status_code == 404
    assert not other.running
