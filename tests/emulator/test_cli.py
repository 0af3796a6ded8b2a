"""`python -m truto_pulumi.emulator` (and `truto-emulator`): its arguments, and the command as
real processes serving real connections."""

from __future__ import annotations

import json
import os
import re
import selectors
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest

from truto_pulumi.emulator import Emulator, Readings, RemoteEmulator, create_app
from truto_pulumi.emulator.__main__ import _settings

from ..kit import ACCOUNT
from .helpers import CREATE, mcp_path

READY = re.compile(r"Truto emulator listening on (http://127\.0\.0\.1:(\d+))\n")
T = ["--api-token", "T"]
MODULE = [sys.executable, "-m", "truto_pulumi.emulator"]
TOOLS = [{"method": "list", "tags": ["crm"]}]
HANG_UPS: list[dict[str, Any]] = [{"drop": True}, {"lose_answer": True}]


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (T, {"readings": Readings(), "account_page_limit": 100, "port": 8787, "accounts": None}),
        (["--token", "T"], {"api_token": "T", "rate_limit": None, "latency": 0.0}),  # older
        ([*T, "--config-optional"], {"config_required": False}),
        ([*T, "--no-echo-defaults"], {"echo_defaults": False}),
        ([*T, "--config-patch", "replace"], {"config_patch": "replace"}),
        ([*T, "--list-key", "results"], {"list_key": "results"}),
        ([*T, "--plan-limit", "3"], {"plan_limit": 3}),
        ([*T, "--plan-limit-status", "402"], {"plan_limit_status": 402}),
        ([*T, "--blocked-account", ACCOUNT], {"blocked_accounts": [ACCOUNT]}),
        ([*T, "--account-tools", "TOOLS"], {"account_tools": {ACCOUNT: TOOLS}}),
        ([*T, "--account", ACCOUNT], {"accounts": [ACCOUNT]}),
        ([*T, "--account-page-limit", "50"], {"account_page_limit": 50}),
        ([*T, "--rate-limit", "3/0.5"], {"rate_limit": (3, 0.5)}),
        ([*T, "--latency", "0.5"], {"latency": 0.5}),
        (["--port", "0"], "--api-token is required"),
        *[([*T, "--rate-limit", n], "REQUESTS/SECONDS") for n in ("5", "a/b", "0/1", "5/-1")],
        ([*T, "--latency", "-1"], "latency must be"),
        *[([*T, "--account-page-limit", n], "page limit must be") for n in ("0", "many")],
        ([*T, "--blocked-account", "not-a-uuid"], "blocked_accounts must be"),
        ([*T, "--config-patch", "overwrite"], "invalid choice"),
        ([*T, "--account-tools", "/nonexistent/tools.json"], "cannot read tools"),
    ],
)
def test_the_command_line_sets_every_setting_and_reading_or_is_a_usage_error(
    argv: list[str],
    expected: dict[str, Any] | str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("TRUTO_API_TOKEN", raising=False)
    tools = tmp_path / "tools.json"
    tools.write_text(json.dumps({ACCOUNT: TOOLS}))
    argv = [str(tools) if arg == "TOOLS" else arg for arg in argv]

    if isinstance(expected, str):
        with pytest.raises(SystemExit) as raised:
            _settings(argv)
        assert raised.value.code == 2
        assert expected in capsys.readouterr().err
    else:
        args, readings = _settings(argv)  # a reading as the readings hook shows it
        shown = {**vars(args), **readings.to_json(), "readings": readings}
        assert {key: shown[key] for key in expected} == expected


def test_the_older_token_keyword_still_works_and_says_it_is_deprecated() -> None:
    with pytest.warns(DeprecationWarning, match="api_token"):
        emulator = Emulator(token="T")
    assert emulator.api_token == "T"
    with pytest.warns(DeprecationWarning, match="api_token"):
        assert emulator.token == "T"
    with pytest.warns(DeprecationWarning, match="api_token"):
        create_app(token="T")
    with pytest.raises(TypeError, match="not both"):
        Emulator(api_token="T", token="U")


def start(argv: list[str], env: dict[str, str]) -> subprocess.Popen[str]:
    pipe = subprocess.PIPE
    return subprocess.Popen(argv, env=env, stdout=pipe, stderr=pipe, text=True)


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
def test_the_command_serves_real_connections_side_by_side_and_exits_0_on_a_signal() -> None:
    env = {k: v for k, v in os.environ.items() if k != "TRUTO_API_TOKEN"}
    by_flag = start([*MODULE, "--port", "0", "--api-token", "T"], env)
    script = str(Path(sys.executable).parent / "truto-emulator")  # the console script
    by_env = start([script, "--port", "0"], {**env, "TRUTO_API_TOKEN": "T"})
    processes = [by_flag, by_env]
    try:
        urls = [ready_url(process) for process in processes]
        remotes = [RemoteEmulator(f"{url}/", "T") for url in urls]
        for url, remote in zip(urls, remotes, strict=True):
            api = remote.client(timeout=5.0)
            listed = api.get(mcp_path(ACCOUNT)).json()
            assert listed == {"result": [], "next_cursor": None, "limit": 100}
            assert httpx.get(f"{url}{mcp_path(ACCOUNT)}").status_code == 401
            for fault in HANG_UPS:  # uvicorn hangs up; the lost answer's create happened
                remote.inject(method="POST", **fault)
                with pytest.raises(httpx.RemoteProtocolError):
                    api.post(mcp_path(ACCOUNT), json=CREATE)
            assert [e["status"] for e in remote.journal()] == [200, 401, None, None]
            [server] = remote.servers()
            assert server["url"] == f"{url}/mcp/{server['token']}"
            api.close()
        first, second = (remote.environment() for remote in remotes)  # two environments
        assert first["environment_id"] != second["environment_id"]
        with remotes[1].client() as api:
            install = f"/environment-integration/{first['default_environment_integration_id']}"
            assert api.get(install).status_code == 404
        for remote in remotes:
            remote.close()
        with pytest.raises(RuntimeError, match="not running"):
            remotes[0].journal()
        taken = start([*MODULE, "--port", urls[0].rsplit(":", 1)[1], "--api-token", "T"], env)
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
