"""`python -m truto_pulumi.emulator`: its arguments, and the command as real processes."""

from __future__ import annotations

import json
import os
import re
import selectors
import signal
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import httpx
import pytest

from truto_pulumi.emulator import Emulator, Readings, RemoteEmulator, create_app
from truto_pulumi.emulator.__main__ import build_parser, main, readings_of

from ..kit import ACCOUNT
from .helpers import mcp_path

REPO_ROOT = Path(__file__).resolve().parents[2]
READY = re.compile(r"Truto emulator listening on (http://127\.0\.0\.1:(\d+))\n")
COMMAND = [sys.executable, "-m", "truto_pulumi.emulator", "--port"]
EVERY_READING_CHANGED = Readings(
    config_required=False,
    echo_defaults=False,
    config_patch="replace",
    list_key="results",
    plan_limit=3,
    plan_limit_status=402,
    blocked_accounts=frozenset({ACCOUNT}),
    account_tools={ACCOUNT: ({"method": "list", "tags": ["crm"]},)},
)
"""Each reading off its default."""


def start(argv: list[str], env: dict[str, str]) -> subprocess.Popen[str]:
    pipe = subprocess.PIPE
    return subprocess.Popen(argv, cwd=REPO_ROOT, env=env, stdout=pipe, stderr=pipe, text=True)


def ready_url(process: subprocess.Popen[str]) -> str:
    """The URL of the process's one ready line."""
    assert process.stdout is not None
    with selectors.DefaultSelector() as selector:
        selector.register(process.stdout, selectors.EVENT_READ)
        assert selector.select(15.0), "no ready line within 15 s"
    match = READY.fullmatch(process.stdout.readline())
    assert match is not None
    return match[1]


@pytest.mark.slow  # starts processes
def test_cli_serves_after_one_ready_line_refuses_a_taken_port_and_exits_0_on_a_signal() -> None:
    env = {k: v for k, v in os.environ.items() if k != "TRUTO_API_TOKEN"}
    by_flag = start([*COMMAND, "0", "--api-token", "T"], env)
    by_env = start([*COMMAND, "0"], {**env, "TRUTO_API_TOKEN": "T"})
    processes = [by_flag, by_env]
    try:
        urls = [ready_url(process) for process in processes]
        for url in urls:
            authorized = httpx.get(
                f"{url}{mcp_path(ACCOUNT)}", headers={"Authorization": "Bearer T"}
            )
            assert authorized.json() == {"result": [], "next_cursor": None, "limit": 100}
            assert httpx.get(f"{url}{mcp_path(ACCOUNT)}").status_code == 401
            with RemoteEmulator(url, "T") as remote:  # its hooks, from another process
                assert [e["status"] for e in remote.journal()] == [200, 401]
        port = urls[0].rsplit(":", 1)[1]
        taken = start([*COMMAND, port, "--api-token", "T"], env)
        processes.append(taken)
        taken_out, taken_err = taken.communicate(timeout=15.0)
        by_flag.send_signal(signal.SIGTERM)
        by_env.send_signal(signal.SIGINT)
        answers = [process.communicate(timeout=15.0) for process in (by_flag, by_env)]
    finally:
        for process in processes:
            if process.poll() is None:
                process.kill()
                process.communicate()

    assert (taken.returncode, taken_out) == (1, "")
    assert "did not start" in taken_err
    assert [by_flag.returncode, by_env.returncode] == [0, 0], answers
    assert [stdout for stdout, _ in answers] == ["", ""]  # the ready line was the only line
    for url in urls:
        with pytest.raises(httpx.ConnectError):
            httpx.get(f"{url}/_emulator/health", timeout=1.0)


def test_cli_flags_set_every_reading_and_the_account_page_limit(tmp_path: Path) -> None:
    changed = EVERY_READING_CHANGED
    tools = tmp_path / "tools.json"
    tools.write_text(json.dumps(changed.to_json()["account_tools"]))
    argv = ["--config-optional", "--no-echo-defaults", "--config-patch", changed.config_patch]
    argv += ["--list-key", changed.list_key, "--plan-limit", str(changed.plan_limit)]
    argv += ["--plan-limit-status", str(changed.plan_limit_status), "--blocked-account", ACCOUNT]
    argv += ["--account-tools", str(tools), "--account-page-limit", "50", "--rate-limit", "3/0.5"]

    args = build_parser().parse_args(["--api-token", "T", *argv])
    defaults = build_parser().parse_args(["--api-token", "T"])

    assert (readings_of(args), args.account_page_limit, args.rate_limit) == (changed, 50, (3, 0.5))
    newer = replace(changed, newer_keys=frozenset({"x"}))
    assert Readings.from_json(newer.to_json()) == newer  # as the readings hook takes them
    assert (readings_of(defaults), defaults.account_page_limit, defaults.rate_limit) == (
        Readings(),
        100,
        None,
    )


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--port", "0"], "--api-token is required"),
        *(
            (["--api-token", "T", "--rate-limit", bad], "REQUESTS/SECONDS")
            for bad in ("500", "a/b", "0/10", "5/-1")
        ),
        (["--api-token", "T", "--latency", "-1"], "latency must be"),
        (["--api-token", "T", "--account-page-limit", "0"], "page limit must be"),
        (["--api-token", "T", "--account-page-limit", "many"], "page limit must be"),
        (["--api-token", "T", "--blocked-account", "not-a-uuid"], "blocked_accounts must be"),
        (["--api-token", "T", "--config-patch", "overwrite"], "invalid choice"),
        (["--api-token", "T", "--account-tools", "/nonexistent/tools.json"], "cannot read tools"),
    ],
)
def test_cli_rejects_malformed_settings_with_a_usage_error(
    argv: list[str],
    message: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("TRUTO_API_TOKEN", raising=False)

    with pytest.raises(SystemExit) as raised:
        main(argv)

    assert raised.value.code == 2
    assert message in capsys.readouterr().err


def test_the_older_token_spellings_still_work_and_say_they_are_deprecated() -> None:
    assert build_parser().parse_args(["--token", "T"]).api_token == "T"
    with pytest.warns(DeprecationWarning, match="api_token"):
        emulator = Emulator(token="T")
    assert emulator.api_token == "T"
    with pytest.warns(DeprecationWarning, match="api_token"):
        assert emulator.token == "T"
    with pytest.warns(DeprecationWarning, match="api_token"):
        create_app(token="T")
    with pytest.raises(TypeError, match="not both"):
        Emulator(api_token="T", token="U")
