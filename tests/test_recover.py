"""What a killed run left, from the state's pending creates and the accounts' servers, and
`python -m truto_pulumi.recover` deleting it once confirmed."""

from __future__ import annotations

import io
import json
from types import SimpleNamespace
from typing import Any

import pytest

from truto_pulumi import McpServerInfo, recover
from truto_pulumi._mark import CreateMark
from truto_pulumi.recover import left_by_killed_run

from .kit import ACCOUNT, OTHER_ACCOUNT

TYPE = "pulumi-python:dynamic/truto:McpServer"


def pending(name: Any, account: str = ACCOUNT, kind: str = "creating") -> dict[str, Any]:
    inputs = {"integrated_account_id": account, "name": name}
    return {"type": kind, "resource": {"urn": f"urn::{name}", "type": TYPE, "inputs": inputs}}


SERVERS = {
    ACCOUNT: [
        {"id": "window", "name": "agent-1"},  # renamed after every process was gone
        {"id": "held", "name": "agent-1"},  # the state holds it
        {"id": "theirs", "name": "reports"},  # no pending create has that name
        {"id": "marked", "name": CreateMark.drawn(None).on("agent-1")},  # expires by itself
    ],
    OTHER_ACCOUNT: [{"id": "other-window", "name": "agent-2"}, {"id": "x", "name": "agent-1"}],
}


@pytest.mark.parametrize(
    ("operations", "found"),
    [
        pytest.param(
            [pending("agent-1"), pending("agent-2", OTHER_ACCOUNT)],
            [("window", ACCOUNT), ("other-window", OTHER_ACCOUNT)],  # in the accounts' order
            id="pending-creates",
        ),
        pytest.param([pending("agent-1", kind="updating")], [], id="no-pending-create"),
    ],
)
def test_the_candidates_are_unheld_unmarked_servers_of_a_pending_creates_account_and_name(
    operations: list[dict[str, Any]], found: list[tuple[str, str]]
) -> None:
    asked: list[str] = []

    def servers_of(account: str) -> list[dict[str, Any]]:
        asked.append(account)
        return SERVERS[account]

    deployment = {"resources": [{"type": TYPE, "id": "held"}], "pending_operations": operations}
    listed = left_by_killed_run(deployment, servers_of)
    assert [(s["id"], s["integrated_account_id"]) for s in listed] == found
    assert asked == [account for _, account in found]  # the accounts of pending creates only


def test_a_secret_name_asks_for_the_export_with_secrets() -> None:
    secret = {"4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270"}
    with pytest.raises(ValueError, match="--show-secrets"):
        left_by_killed_run({"pending_operations": [pending(secret)]}, lambda account: [])


@pytest.mark.parametrize(
    ("options", "answer", "done"),
    [([], "n", "kept"), ([], "y", "deleted"), (["--yes"], "", "deleted")],
)
def test_recover_deletes_each_server_left_once_confirmed_and_keeps_the_rest(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    options: list[str],
    answer: str,
    done: str,
) -> None:
    """Against Truto, a killed `pulumi up` included: tests/engine/test_killed_run.py."""
    deleted: list[tuple[str, str]] = []
    client = SimpleNamespace(delete_mcp_server=lambda *server: deleted.append(server))
    monkeypatch.setattr(recover, "configured", lambda command: (None, client))
    left = McpServerInfo("left", ACCOUNT, "agent-1", {}, None, "2026-01-01", None, None)
    monkeypatch.setattr(recover, "get_mcp_servers", lambda account: [left])
    exported = {"deployment": {"pending_operations": [pending("agent-1")]}}
    monkeypatch.setattr("sys.stdin", io.StringIO(json.dumps(exported)))
    monkeypatch.setattr("builtins.input", lambda prompt: answer)

    assert recover.main(options) == 0

    what = f"MCP server left ('agent-1', created 2026-01-01) of integrated account {ACCOUNT}"
    assert capsys.readouterr().out == f"{done} {what}\n"
    assert deleted == ([(ACCOUNT, "left")] if done == "deleted" else [])
