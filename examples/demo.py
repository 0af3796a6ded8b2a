"""The whole lifecycle of `examples/basic` against the local Truto emulator, step by step.

    make demo            # or: .venv/bin/python examples/demo.py

Starts the emulator on loopback, then: preview, up, a change that goes out as one PATCH, an
edit made outside Pulumi that refresh reports, up to restore it, destroy. Prints each step's
plan and the HTTP calls the emulator received, then stops the emulator. It drives the real
engine, the `pulumi` CLI on PATH (`make pulumi` builds the pinned one), through the Automation
API and shows the CLI's own output.
"""

from __future__ import annotations

import json
import os
import runpy
import shutil
import sys
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path

from pulumi import automation as auto

from truto_pulumi.emulator import Emulator, run_emulator

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
    cli = shutil.which("pulumi")  # the Makefile puts the build of `make pulumi` on PATH
    if cli is None:
        print(
            "demo failed: no pulumi CLI on PATH: run `make pulumi` (builds the pinned CLI)"
            " or install Pulumi",
            file=sys.stderr,
        )
        return 1
    step = "start"
    try:
        with run_emulator() as emulator:
            print(f"Truto emulator listening on {emulator.url}")
            print(f"pulumi CLI found at {cli}: running the real CLI against the emulator")
            run_steps(emulator, CliDriver(cli, emulator))
            step = "stop"
        print("\nDemo finished: emulator stopped, nothing left running.")
        return 0
    except DemoError as error:
        print(f"\ndemo failed: {error}", file=sys.stderr)
    except Exception as error:  # a clear line instead of a traceback
        print(f"\ndemo failed at {step}: {type(error).__name__}: {error}", file=sys.stderr)
    return 1


def run_steps(emulator: Emulator, driver: CliDriver) -> None:
    """The lifecycle, step by step."""
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


class CliDriver:
    """The real engine: the `pulumi` CLI through the Automation API, with the program served
    inline from this process (so no Python language host is needed), a local file backend and
    passphrase secrets in a temporary folder."""

    def __init__(self, cli: str, emulator: Emulator) -> None:
        self._home = Path(tempfile.mkdtemp(prefix="truto-demo-"))
        state = self._home / "state"
        state.mkdir()
        venv = Path(sys.prefix)
        env = {
            "PULUMI_BACKEND_URL": state.as_uri(),
            "PULUMI_CONFIG_PASSPHRASE": "demo-passphrase",
            "PULUMI_SKIP_UPDATE_CHECK": "true",
            "PULUMI_AUTOMATION_API_SKIP_VERSION_CHECK": "true",
            "PULUMI_RUNTIME_VIRTUALENV": str(venv),  # the provider host runs in this venv
            "PATH": os.pathsep.join([str(venv / "bin"), os.environ.get("PATH", "")]),
            "TRUTO_API_TOKEN": "",
            "TRUTO_BASE_URL": "",
        }
        self._stack = auto.create_or_select_stack(
            stack_name="demo",
            project_name=PROJECT,
            program=self._program,
            opts=auto.LocalWorkspaceOptions(
                work_dir=str(self._home),
                pulumi_home=str(self._home / "home"),
                pulumi_command=auto.PulumiCommand(
                    root=str(Path(cli).parent.parent), skip_version_check=True
                ),
                env_vars=env,
                project_settings=auto.ProjectSettings(
                    name=PROJECT, runtime="python", backend=auto.ProjectBackend(state.as_uri())
                ),
                secrets_provider="passphrase",
            ),
        )
        self._stack.set_config("truto:apiToken", auto.ConfigValue(emulator.token, secret=True))
        self._stack.set_config("truto:baseUrl", auto.ConfigValue(emulator.url))
        self._stack.set_config("integratedAccountIds", auto.ConfigValue(json.dumps(ACCOUNTS)))

    @staticmethod
    def _program() -> None:
        runpy.run_path(str(PROGRAM / "__main__.py"), run_name="__main__")

    @staticmethod
    def _show(line: str) -> None:
        if line.strip():
            print(f"  {line.rstrip()}")

    def _configure(self, config: Mapping[str, str]) -> None:
        for key, value in config.items():
            self._stack.set_config(key, auto.ConfigValue(value))

    def preview(self, config: Mapping[str, str]) -> None:
        self._configure(config)
        self._stack.preview(diff=True, on_output=self._show)

    def up(self, config: Mapping[str, str]) -> None:
        self._configure(config)
        self._stack.up(on_output=self._show)

    def refresh(self) -> None:
        self._stack.refresh(on_output=self._show)

    def destroy(self) -> None:
        try:
            self._stack.destroy(on_output=self._show)
            self._stack.workspace.remove_stack("demo")
        finally:
            shutil.rmtree(self._home, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
