"""The emulator served on loopback: what needs a real connection (answers dropped or lost),
`RemoteEmulator` reaching it from elsewhere, and emulators side by side."""

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


def test_drop_closes_the_connection_without_an_answer_and_without_acting(served: Emulator) -> None:
    served.inject(method="POST", drop=True)

    with served.client(timeout=5.0) as api:
        with pytest.raises(httpx.RemoteProtocolError):
            api.post(mcp_path(ACCOUNT), json=CREATE)
        assert api.post(mcp_path(ACCOUNT), json=CREATE).status_code == 201

    assert len(served.servers()) == 1
    assert [(e["status"], e["fault"]) for e in served.journal()] == [
        (None, {"drop": True}),
        (201, None),
    ]


@pytest.mark.parametrize("status", [None, 500])
def test_a_lost_answer_comes_after_the_create_happened(
    served: Emulator, status: int | None
) -> None:
    answer: dict[str, Any] = {} if status is None else {"status": status}
    served.inject(method="POST", lose_answer=True, **answer)

    with served.client(timeout=5.0) as api:
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

    [server] = served.servers()
    assert (server["name"], server["integrated_account_id"]) == ("ghost", ACCOUNT)
    assert [s["id"] for s in listed] == [server["id"]]
    assert served.journal()[0]["status"] == status


def test_a_remote_emulator_reaches_a_running_emulators_api_and_hooks(served: Emulator) -> None:
    with RemoteEmulator(served.url + "/", served.api_token) as remote, remote.client() as api:
        created = api.post(mcp_path(ACCOUNT), json=CREATE).json()
        assert created["url"] == f"{served.url}/mcp/{created['token']}"
        remote.edit_server(created["id"], expires_at=datetime.now(timezone.utc) + timedelta(0, 90))
        remote.advance_clock(90)
        assert [(e["method"], e["status"]) for e in remote.journal()] == [("POST", 201)]
        assert remote.servers() == served.servers() == []
    with pytest.raises(RuntimeError, match="not running"):
        remote.journal()


def test_two_emulators_run_side_by_side_as_two_environments(served: Emulator) -> None:
    with run_emulator(accounts=[OTHER_ACCOUNT]) as other, other.client() as api:
        assert other.port != served.port
        assert httpx.get(f"{other.url}/_emulator/health").json() == {"ok": True}
        assert other.environment()["environment_id"] != served.environment()["environment_id"]
        install = served.environment()["default_environment_integration_id"]
        assert api.get(f"/environment-integration/{install}").status_code == 404
        assert api.get(mcp_path(ACCOUNT)).status_code == 404
    assert not other.running
