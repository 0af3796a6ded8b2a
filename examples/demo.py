"""The whole lifecycle of `examples/basic` against the local Truto emulator, step by step.

    make demo            # or: .venv/bin/python examples/demo.py

Starts the emulator on loopback, then: preview, up, a change that goes out as one PATCH, an
edit made outside Pulumi that refresh reports, up to restore it, destroy. Prints each step's
plan and the HTTP calls the emulator received, then stops the emulator. With the `pulumi` CLI
on PATH it drives the real CLI (local file backend in a temporary folder); without it, it runs
the same program through `truto_pulumi.testing` (the real provider host, no engine).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from truto_pulumi.emulator import Emulator, run_emulator
from truto_pulumi.provider import TrutoMcpServerProvider
from truto_pulumi.testing import MCP_SERVER_TYPE, NO_TRUTO_ENV, ProviderHost, Stack, run_program

ROOT = Path(__file__).resolve().parent.parent
PROGRAM = ROOT / "examples" / "basic"
PROJECT = "truto-mcp"
ACCOUNTS = ["8d0c1f52-6b1e-4c7e-9a43-0d6f2f0c1a11", "2f4e9b7a-3c5d-4e6f-8a9b-1c2d3e4f5a6b"]
FIRST_EXPIRY = "2031-01-01T00:00:00Z"
NEXT_EXPIRY = "2031-06-30T00:00:00Z"


class DemoError(Exception):
    """A step failed; the message says which and why."""


def main() -> int:
    """Run the demo; 0 on success, 1 with a one-line reason on failure."""
    cli = shutil.which("pulumi")
    step = "start"
    try:
        with run_emulator() as emulator:
            print(f"Truto emulator listening on {emulator.url}")
            if cli:
                print(f"pulumi CLI found at {cli}: running the real CLI against the emulator")
                run_steps(emulator, CliDriver(cli, emulator))
            else:
                print("pulumi CLI not on PATH: running the program through the provider host")
                with HarnessDriver(emulator) as driver:
                    run_steps(emulator, driver)
            step = "stop"
        print("\nDemo finished: emulator stopped, nothing left running.")
        return 0
    except DemoError as error:
        print(f"\ndemo failed: {error}", file=sys.stderr)
    except Exception as error:  # a clear line instead of a traceback
        print(f"\ndemo failed at {step}: {type(error).__name__}: {error}", file=sys.stderr)
    return 1


def run_steps(emulator: Emulator, driver: Driver) -> None:
    """The lifecycle, the same whichever driver runs it."""
    steps: list[tuple[str, Callable[[], None]]] = [
        ("preview", lambda: driver.preview({"expiresAt": FIRST_EXPIRY})),
        ("up", lambda: driver.up({"expiresAt": FIRST_EXPIRY})),
        (
            "preview after up (expect no changes)",
            lambda: driver.preview({"expiresAt": FIRST_EXPIRY}),
        ),
        (
            "change the expiry: up sends one PATCH each",
            lambda: driver.up({"expiresAt": NEXT_EXPIRY}),
        ),
        ("edit a server outside Pulumi", lambda: edit_out_of_band(emulator)),
        ("refresh (reports the drift)", driver.refresh),
        ("up (restores the declared name)", lambda: driver.up({"expiresAt": NEXT_EXPIRY})),
        ("destroy", driver.destroy),
    ]
    for title, action in steps:
        print(f"\n== {title}")
        emulator.clear_journal()
        try:
            action()
        except DemoError:
            raise
        except Exception as error:
            raise DemoError(f"{title}: {type(error).__name__}: {error}") from error
        print_http_calls(emulator)
    left = emulator.servers()
    if left:
        raise DemoError(f"destroy left {len(left)} server(s) in the emulator")


def edit_out_of_band(emulator: Emulator) -> None:
    server = emulator.servers()[0]
    emulator.edit_server(server["id"], name="renamed in the dashboard")
    print(f"  renamed {server['id']} to 'renamed in the dashboard' (as a dashboard user would)")


def print_http_calls(emulator: Emulator) -> None:
    calls = emulator.journal()
    if not calls:
        print("  HTTP calls: none")
        return
    print("  HTTP calls:")
    for call in calls:
        body = f" {json.dumps(call['body'], sort_keys=True)}" if call.get("body") else ""
        print(f"    {call['method']} {call['path']} -> {call['status']}{body}")


class Driver:
    """One way of running Pulumi commands on the example."""

    def preview(self, config: Mapping[str, str]) -> None:
        raise DemoError("not available")

    def up(self, config: Mapping[str, str]) -> None:
        raise DemoError("not available")

    def refresh(self) -> None:
        raise DemoError("not available")

    def destroy(self) -> None:
        raise DemoError("not available")


class HarnessDriver(Driver):
    """The program under mocks, its resources through the real provider host (`Stack`)."""

    def __init__(self, emulator: Emulator) -> None:
        self._host = ProviderHost(env=NO_TRUTO_ENV)
        self._config = {"truto:apiToken": emulator.token, "truto:baseUrl": emulator.url}
        self._stack: Stack | None = None

    def __enter__(self) -> HarnessDriver:
        self._host.start()
        self._stack = Stack(
            self._host, TrutoMcpServerProvider(), type_token=MCP_SERVER_TYPE, config=self._config
        )
        return self

    def __exit__(self, *exc: object) -> None:
        self._host.stop()

    @property
    def stack(self) -> Stack:
        assert self._stack is not None, "use HarnessDriver as a context manager"
        return self._stack

    def _desired(self, config: Mapping[str, str]) -> dict[str, dict[str, Any]]:
        stack_config = {
            f"{PROJECT}:integratedAccountIds": json.dumps(ACCOUNTS),
            **{f"{PROJECT}:{key}": value for key, value in config.items()},
        }
        return run_program(PROGRAM, project=PROJECT, config=stack_config).desired()

    def preview(self, config: Mapping[str, str]) -> None:
        plan = self.stack.preview(self._desired(config))
        for name, failures in plan.failures.items():
            for failure in failures:
                print(f"  {name}: {failure.property}: {failure.reason}")
        if plan.failures:
            raise DemoError("preview failed at check")
        for name, step in sorted(plan.steps.items()):
            print(f"  {step.op:>7}  {name}")

    def up(self, config: Mapping[str, str]) -> None:
        result = self.stack.up(self._desired(config))
        for name, op in sorted(result.ops.items()):
            print(f"  {op:>7}  {name}")

    def refresh(self) -> None:
        for name, outcome in sorted(self.stack.refresh().items()):
            state = "deleted" if outcome.deleted else "drift" if outcome.drift else "in sync"
            print(f"  {state:>7}  {name}")

    def destroy(self) -> None:
        names = sorted(self.stack.resources)
        self.stack.destroy()
        for name in names:
            print(f"  {'delete':>7}  {name}")


class CliDriver(Driver):
    """The real `pulumi` CLI with a local file backend in a temporary folder."""

    def __init__(self, cli: str, emulator: Emulator) -> None:
        self._cli = cli
        self._emulator = emulator
        self._home = Path(tempfile.mkdtemp(prefix="truto-demo-"))
        self._env = {
            **os.environ,
            "PULUMI_BACKEND_URL": f"file://{self._home / 'state'}",
            "PULUMI_HOME": str(self._home / "home"),
            "PULUMI_CONFIG_PASSPHRASE": "demo-passphrase",
            "PULUMI_SKIP_UPDATE_CHECK": "true",
            "TRUTO_API_TOKEN": "",
            "TRUTO_BASE_URL": "",
        }
        (self._home / "state").mkdir()
        self._stack_ready = False

    def _run(self, *args: str, show: bool = True) -> str:
        done = subprocess.run(
            [self._cli, *args, "--non-interactive"],
            cwd=ROOT,
            env=self._env,
            capture_output=True,
            text=True,
            check=False,
        )
        if show:
            for line in done.stdout.splitlines():
                print(f"  {line}")
        if done.returncode != 0:
            reason = (done.stderr.strip() or done.stdout.strip()).splitlines()[-1:] or ["?"]
            raise DemoError(f"`pulumi {' '.join(args)}` failed: {reason[0]}")
        return done.stdout

    def _configure(self, config: Mapping[str, str]) -> None:
        if not self._stack_ready:
            self._run("stack", "init", "demo", "--secrets-provider", "passphrase", show=False)
            self._run(
                "config", "set", "--secret", "truto:apiToken", self._emulator.token, show=False
            )
            self._run("config", "set", "truto:baseUrl", self._emulator.url, show=False)
            for index, account in enumerate(ACCOUNTS):
                self._run(
                    "config", "set", "--path", f"integratedAccountIds[{index}]", account, show=False
                )
            self._stack_ready = True
        for key, value in config.items():
            self._run("config", "set", key, value, show=False)

    def preview(self, config: Mapping[str, str]) -> None:
        self._configure(config)
        self._run("preview", "--diff")

    def up(self, config: Mapping[str, str]) -> None:
        self._configure(config)
        self._run("up", "--yes", "--skip-preview")

    def refresh(self) -> None:
        self._run("refresh", "--yes", "--skip-preview")

    def destroy(self) -> None:
        try:
            self._run("destroy", "--yes", "--skip-preview")
            self._run("stack", "rm", "--yes", "demo", show=False)
        finally:
            shutil.rmtree(self._home, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
