"""`python -m truto_pulumi.emulator` as a real subprocess, and argument handling."""

from __future__ import annotations

import json
import os
import re
import selectors
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from truto_pulumi.emulator import Emulator, Readings, RemoteEmulator, create_app
from truto_pulumi.emulator.__main__ import build_parser, main, readings_of
from truto_pulumi.emulator._ratelimit import parse_rate_limit

from ..kit import ACCOUNT
from .helpers import EVERY_READING_CHANGED, mcp_path

pytestmark = pytest.mark.slow  # starts processes

REPO_ROOT = Path(__file__).resolve().parents[2]
READY = re.compile(r"Truto emulator listening on (http://127\.0\.0\.1:(\d+))\n")


def read_line(process: subprocess.Popen[str], timeout: float) -> str:
    assert process.stdout is not None
    with selectors.DefaultSelector() as selector:
        selector.register(process.stdout, selectors.EVENT_READ)
        if not selector.select(timeout):
            raise AssertionError(f"no output within {timeout} s")
    return process.stdout.readline()


@pytest.mark.parametrize(
    ("stop_signal", "token_from_env"),
    [(signal.SIGTERM, False), (signal.SIGINT, True)],
)
def test_cli_prints_one_ready_line_serves_and_exits_0_on_signal(
    stop_signal: signal.Signals, token_from_env: bool
) -> None:
    env = {k: v for k, v in os.environ.items() if k != "TRUTO_API_TOKEN"}
    args = [sys.executable, "-m", "truto_pulumi.emulator", "--port", "0"]
    if token_from_env:
        env["TRUTO_API_TOKEN"] = "T"
    else:
        args += ["--api-token", "T"]
    process = subprocess.Popen(
        args, cwd=REPO_ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        match = READY.fullmatch(read_line(process, timeout=15.0))
        assert match is not None
        url = match[1]

        authorized = httpx.get(f"{url}{mcp_path(ACCOUNT)}", headers={"Authorization": "Bearer T"})
        anonymous = httpx.get(f"{url}{mcp_path(ACCOUNT)}")
        assert authorized.status_code == 200
        assert authorized.json() == {"result": [], "next_cursor": None, "limit": 100}
        assert anonymous.status_code == 401
        with RemoteEmulator(url, "T") as remote:  # its hooks, from another process
            assert [(e["method"], e["status"]) for e in remote.journal()] == [
                ("GET", 200),
                ("GET", 401),
            ]

        process.send_signal(stop_signal)
        stdout, stderr = process.communicate(timeout=15.0)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()

    assert process.returncode == 0, stderr
    assert stdout == ""  # the ready line was the only line
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{url}/_emulator/health", timeout=1.0)


def test_cli_without_a_token_exits_with_usage_error(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("TRUTO_API_TOKEN", raising=False)

    with pytest.raises(SystemExit) as raised:
        main(["--port", "0"])

    assert raised.value.code == 2
    assert "--api-token is required" in capsys.readouterr().err


def test_cli_flags_set_every_reading(tmp_path: Path) -> None:
    changed = EVERY_READING_CHANGED
    tools = tmp_path / "tools.json"
    tools.write_text(json.dumps(changed.to_json()["account_tools"]))
    argv = ["--config-optional", "--no-echo-defaults", "--config-patch", changed.config_patch]
    argv += ["--list-key", changed.list_key, "--plan-limit", str(changed.plan_limit)]
    argv += ["--plan-limit-status", str(changed.plan_limit_status), "--blocked-account", ACCOUNT]
    argv += ["--account-tools", str(tools)]

    readings = readings_of(build_parser().parse_args(["--api-token", "T", *argv]))

    assert readings == changed
    assert readings_of(build_parser().parse_args(["--api-token", "T"])) == Readings()


@pytest.mark.parametrize(
    "argv",
    [
        ["--rate-limit", "500"],
        ["--rate-limit", "0/10"],
        ["--latency", "-1"],
        ["--blocked-account", "not-a-uuid"],
        ["--config-patch", "overwrite"],
        ["--account-tools", "/nonexistent/tools.json"],
    ],
)
def test_cli_rejects_malformed_settings(
    argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as raised:
        main(["--api-token", "T", *argv])

    assert raised.value.code == 2
    assert "error" in capsys.readouterr().err


def test_cli_fails_cleanly_when_the_port_is_taken() -> None:
    started = time.monotonic()
    with subprocess.Popen(
        [sys.executable, "-m", "truto_pulumi.emulator", "--port", "0", "--api-token", "T"],
        cwd=REPO_ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    ) as first:
        try:
            match = READY.fullmatch(read_line(first, timeout=15.0))
            assert match is not None
            second = subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "truto_pulumi.emulator",
                    "--port",
                    match[2],
                    "--api-token",
                    "T",
                ],
                cwd=REPO_ROOT,
                capture_output=True,
                text=True,
                timeout=15.0,
            )
        finally:
            first.terminate()
            first.communicate(timeout=15.0)

    assert second.returncode != 0
    assert "did not start" in second.stderr
    assert second.stdout == ""
    assert time.monotonic() - started < 15.0


@pytest.mark.parametrize(
    ("text", "parsed"), [("500/10", (500, 10.0)), ("3/0.5", (3, 0.5)), ("1/1", (1, 1.0))]
)
def test_parse_rate_limit_reads_requests_per_seconds(text: str, parsed: tuple[int, float]) -> None:
    assert parse_rate_limit(text) == parsed


@pytest.mark.parametrize("text", ["500", "500/", "/10", "a/b", "0/10", "5/0", "5/-1"])
def test_parse_rate_limit_rejects_other_shapes(text: str) -> None:
    with pytest.raises(ValueError, match="REQUESTS/SECONDS"):
        parse_rate_limit(text)


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


def test_the_account_page_limit_flag_parses_and_defaults_to_100(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert build_parser().parse_args(["--account-page-limit", "50"]).account_page_limit == 50
    assert build_parser().parse_args([]).account_page_limit == 100
    for bad in ("0", "-1", "many"):
        with pytest.raises(SystemExit) as raised:
            build_parser().parse_args(["--account-page-limit", bad])
        assert raised.value.code == 2
    assert "page limit" in capsys.readouterr().err
