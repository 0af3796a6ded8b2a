"""`make demo`: examples/basic run as a user runs it, by typing `pulumi` commands in its folder,
against the local Truto emulator.

    make demo            # or: .venv/bin/python examples/demo.py

Starts the emulator on loopback, copies what a clone holds and pip needs (pyproject.toml,
README.md, truto_pulumi/, examples/basic/) to a temporary folder, and runs the `pulumi` CLI on
PATH there: install, stack init, the README's `config set` lines, preview, up, preview (no
changes), a change of `expiresAt` (one PATCH per server), a rename made in the dashboard that
refresh reports and up restores, destroy, stack rm. Before each command it prints the command
line (the token as `<token>`), then streams the CLI's own output, then lists the HTTP calls the
emulator received. Every step checks its outcome; a failure ends the demo with one line and
exit code 1. The temporary folder is deleted and the emulator stopped in every case. Needs
`pulumi` and `pulumi-language-python` (`make pulumi` builds both).
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from truto_pulumi.emulator import Emulator, run_emulator

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = "basic"
CHECKOUT_FILES = ("pyproject.toml", "README.md", "truto_pulumi")
STACK = "demo"
PASSPHRASE = "demo-passphrase"
ACCOUNTS = ["8d0c1f52-6b1e-4c7e-9a43-0d6f2f0c1a11", "2f4e9b7a-3c5d-4e6f-8a9b-1c2d3e4f5a6b"]
FIRST_EXPIRY = "2031-01-01T00:00:00Z"
NEXT_EXPIRY = "2031-06-30T00:00:00Z"
DASHBOARD_NAME = "renamed in the dashboard"
COMMAND_TIMEOUT = 600.0
TRANSCRIPT_ENV = "DEMO_TRANSCRIPT"
"""Where `make demo` has the demo record its run (JSON), which the test of the demo reads."""
NO_CLI = "no pulumi CLI on PATH: run `make pulumi` (builds the pinned CLI) or install Pulumi"

Call = dict[str, Any]


class DemoError(Exception):
    """A step failed; the message says which and why, in one line."""


@dataclass(frozen=True)
class Tools:
    """The `pulumi` CLI and the Python language host it runs a project folder with."""

    cli: str
    host: str


@dataclass(frozen=True)
class Step:
    """One part of the demo: what it does, then how it checks the HTTP calls Truto received."""

    title: str
    act: Callable[[], None]
    check: Callable[[list[Call]], None] | None = None


def main() -> int:
    """Run the demo; 0 on success, 1 with a one-line reason on stderr on failure."""
    try:
        tools = find_tools()
        with run_emulator() as emulator, tempfile.TemporaryDirectory(prefix="truto-demo-") as tmp:
            print(f"Truto emulator listening on {emulator.url}")
            print(f"pulumi CLI: {tools.cli}; Python language host: {tools.host}")
            shell = Shell.open(Path(tmp), tools, emulator.api_token)
            run_steps(emulator, steps(emulator, shell))
    except DemoError as error:
        print(f"\ndemo failed: {error}", file=sys.stderr)
        return 1
    except Exception as error:
        print(f"\ndemo failed: {type(error).__name__}: {error}", file=sys.stderr)
        return 1
    print("\nDemo finished: stack removed, temporary folder deleted, emulator stopped.")
    return 0


def find_tools() -> Tools:
    """The `pulumi` on PATH and `pulumi-language-python` beside it (else on PATH): without the
    host the CLI cannot run a `runtime: python` folder."""
    cli = shutil.which("pulumi")
    if cli is None:
        raise DemoError(NO_CLI)
    beside = Path(cli).parent / "pulumi-language-python"
    host = str(beside) if os.access(beside, os.X_OK) else shutil.which("pulumi-language-python")
    if host is None:
        raise DemoError(
            f"no pulumi-language-python beside {cli} or on PATH: the CLI cannot run a Python"
            " project folder; `make pulumi` installs it beside the pinned CLI"
        )
    return Tools(cli, host)


def run_steps(emulator: Emulator, plan: Iterable[Step]) -> None:
    """Each step with a fresh journal: its commands, the HTTP calls it caused, its check."""
    for number, step in enumerate(plan, 1):
        print(f"\n== {number}. {step.title}", flush=True)
        emulator.clear_journal()
        step.act()
        calls = emulator.journal()
        print_http_calls(calls)
        if step.check is not None:
            step.check(calls)


def steps(emulator: Emulator, shell: Shell) -> list[Step]:
    """The lifecycle of examples/basic as examples/basic/README.md has a user type it."""
    return [
        Step("Install the program's dependencies into venv/", lambda: shell.pulumi("install")),
        Step("Create a stack", lambda: shell.pulumi("stack", "init", STACK)),
        Step("Configure it (the README's lines)", lambda: configure(shell, emulator)),
        Step("Preview", lambda: shell.pulumi("preview"), expect_no_writes("preview")),
        Step("Deploy", lambda: shell.pulumi("up", "--yes"), expect_created(emulator)),
        Step(
            "Preview again: nothing to change",
            lambda: shell.pulumi("preview", "--expect-no-changes"),
            expect_no_writes("preview after up"),
        ),
        Step(
            "Change expiresAt: one PATCH per server",
            lambda: change_expiry(shell),
            expect_one_patch_each(emulator),
        ),
        Step("A dashboard user renames a server", lambda: rename_in_dashboard(emulator)),
        Step(
            "Refresh: the state takes in the rename",
            lambda: shell.pulumi("refresh", "--yes"),
            expect_no_writes("refresh"),
        ),
        Step(
            "Up restores the declared name",
            lambda: shell.pulumi("up", "--yes"),
            expect_name_restored(emulator),
        ),
        Step("Destroy", lambda: shell.pulumi("destroy", "--yes"), expect_none_left(emulator)),
        Step("Remove the stack", lambda: shell.pulumi("stack", "rm", "--yes")),
    ]


def configure(shell: Shell, emulator: Emulator) -> None:
    """The `pulumi config set` lines of examples/basic/README.md, with the emulator's URL."""
    shell.pulumi("config", "set", "--secret", "truto:apiToken", emulator.api_token)
    shell.pulumi("config", "set", "truto:baseUrl", emulator.url)
    for index, account in enumerate(ACCOUNTS):
        shell.pulumi("config", "set", "--path", f"integratedAccountIds[{index}]", account)
    shell.pulumi("config", "set", "expiresAt", FIRST_EXPIRY)


def change_expiry(shell: Shell) -> None:
    """A new `expiresAt` for every server, then `up`."""
    shell.pulumi("config", "set", "expiresAt", NEXT_EXPIRY)
    shell.pulumi("up", "--yes")


def rename_in_dashboard(emulator: Emulator) -> None:
    """Rename the first server behind Pulumi's back, as a Truto dashboard user would."""
    server = sorted(emulator.servers(), key=lambda s: str(s["integrated_account_id"]))[0]
    edited = emulator.edit_server(server["id"], name=DASHBOARD_NAME)
    if edited["name"] != DASHBOARD_NAME:
        raise DemoError(f"the emulator did not rename server {server['id']}")
    print(f"(in the Truto dashboard) renamed server {server['id']} to {DASHBOARD_NAME!r}")


def writes(calls: list[Call]) -> list[Call]:
    """The calls that change something in Truto."""
    return [call for call in calls if call["method"] != "GET"]


def expect_no_writes(what: str) -> Callable[[list[Call]], None]:
    """A check that the step changed nothing in Truto."""

    def check(calls: list[Call]) -> None:
        if writes(calls):
            raise DemoError(f"{what} changed Truto: {describe(writes(calls))}")

    return check


def expect_created(emulator: Emulator) -> Callable[[list[Call]], None]:
    """A check that `up` created one server per account, with one POST each."""

    def check(calls: list[Call]) -> None:
        posts = [call for call in writes(calls) if call["method"] == "POST"]
        accounts = sorted(str(s["integrated_account_id"]) for s in emulator.servers())
        if len(posts) != len(ACCOUNTS) or accounts != sorted(ACCOUNTS):
            raise DemoError(
                f"up sent {len(posts)} POST(s) and left servers for {accounts}; expected one"
                f" per account {sorted(ACCOUNTS)}"
            )

    return check


def expect_one_patch_each(emulator: Emulator) -> Callable[[list[Call]], None]:
    """A check that the new expiry went out as exactly one PATCH per server, and nothing else."""

    def check(calls: list[Call]) -> None:
        servers = emulator.servers()
        patched = sorted(call["path"].rsplit("/", 1)[-1] for call in writes(calls))
        expected = sorted(str(server["id"]) for server in servers)
        methods = {call["method"] for call in writes(calls)}
        if patched != expected or methods != {"PATCH"}:
            raise DemoError(
                f"changing expiresAt sent {describe(writes(calls))} for {len(servers)}"
                " server(s); expected exactly one PATCH per server"
            )
        other = [c["body"] for c in writes(calls) if c["body"] != {"expires_at": NEXT_EXPIRY}]
        if other:
            raise DemoError(f"a PATCH carried {json.dumps(other[0])}, not only the new expiry")

    return check


def expect_name_restored(emulator: Emulator) -> Callable[[list[Call]], None]:
    """A check that `up` sent one PATCH putting the declared name back on the renamed server."""

    def check(calls: list[Call]) -> None:
        renamed = [s for s in emulator.servers() if s["name"] == DASHBOARD_NAME]
        bodies = [call["body"] for call in writes(calls)]
        if renamed or len(bodies) != 1 or set(bodies[0]) != {"name"}:
            raise DemoError(
                f"up after refresh sent {describe(writes(calls))} and left {len(renamed)}"
                " server(s) with the dashboard's name; expected one PATCH of the name"
            )

    return check


def expect_none_left(emulator: Emulator) -> Callable[[list[Call]], None]:
    """A check that destroy deleted every server."""

    def check(calls: list[Call]) -> None:
        left = emulator.servers()
        if left:
            raise DemoError(f"destroy left {len(left)} server(s) in the emulator")

    return check


def describe(calls: list[Call]) -> str:
    """`PATCH /path, DELETE /path` (or `no call`), for a one-line reason."""
    return ", ".join(f"{call['method']} {call['path']}" for call in calls) or "no call"


def print_http_calls(calls: list[Call]) -> None:
    """The HTTP calls Truto (the emulator) received in a step, one a line."""
    if not calls:
        print("-- HTTP calls Truto received: none")
        return
    print("-- HTTP calls Truto received:")
    for call in calls:
        body = f" {json.dumps(call['body'], sort_keys=True)}" if call.get("body") else ""
        print(f"   {call['method']} {call['path']} -> {call['status']}{body}")


@dataclass
class Shell:
    """The user's terminal: the example's folder in a checkout, and the environment the `pulumi`
    commands run in (a file backend, passphrase secrets and a PULUMI_HOME, all temporary)."""

    folder: Path
    env: dict[str, str]
    tools: Tools
    secret: str

    @classmethod
    def open(cls, tmp: Path, tools: Tools, secret: str) -> Shell:
        """Make the checkout under `tmp`, then print the `cd` and `export` a user would type."""
        folder = checkout(tmp / "truto-pulumi")
        settings = {
            "PULUMI_HOME": str(tmp / "pulumi-home"),
            "PULUMI_BACKEND_URL": (tmp / "backend").as_uri(),
            "PULUMI_CONFIG_PASSPHRASE": PASSPHRASE,
            "PULUMI_SKIP_UPDATE_CHECK": "true",
            "PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION": "true",
        }
        (tmp / "backend").mkdir()
        print(
            f"Copied {', '.join(CHECKOUT_FILES)}/ and examples/{EXAMPLE}/ to {tmp / 'truto-pulumi'}"
            " (a checkout: requirements.txt installs `../..`)"
        )
        print(f"\n$ cd {shlex.quote(str(folder))}")
        print("$ export " + " ".join(f"{k}={shlex.quote(v)}" for k, v in settings.items()))
        return cls(folder, {**user_env(tools), **settings}, tools, secret)

    def pulumi(self, *args: str) -> None:
        """`pulumi ARGS` in the folder: print the line as typed (the token as `<token>`), then
        stream the CLI's output; DemoError unless it exits 0."""
        line = " ".join("<token>" if a == self.secret else shlex.quote(a) for a in args)
        print(f"\n$ pulumi {line}", flush=True)
        code = self._stream([self.tools.cli, *args])
        if code != 0:
            raise DemoError(f"`pulumi {line}` exited with code {code}")

    def _stream(self, argv: list[str]) -> int:
        """Run `argv` with stdin closed, echo each line it prints as it comes (the token hidden),
        stop it after COMMAND_TIMEOUT seconds; its exit code (negative when killed)."""
        process = subprocess.Popen(
            argv,
            cwd=self.folder,
            env=self.env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            errors="replace",
        )
        timer = threading.Timer(COMMAND_TIMEOUT, process.kill)
        timer.start()
        try:
            assert process.stdout is not None
            for line in process.stdout:
                print(line.replace(self.secret, "<token>"), end="", flush=True)
            return process.wait()
        finally:
            timer.cancel()
            if process.poll() is None:
                process.kill()
                process.wait()


def user_env(tools: Tools) -> dict[str, str]:
    """This environment as the user's shell would have it: the CLI and its language host first
    on PATH, without this demo's virtualenv (the folder's own `venv/` runs the program) and
    without TRUTO_* variables (the stack config is what counts)."""
    own_bin = str(Path(sys.prefix) / "bin")
    kept = [d for d in os.environ.get("PATH", "").split(os.pathsep) if d and d != own_bin]
    path = dict.fromkeys([str(Path(tools.cli).parent), str(Path(tools.host).parent), *kept])
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("TRUTO_") and key not in ("VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME")
    }
    return {**env, "PATH": os.pathsep.join(path)}


def checkout(dest: Path, example: str = EXAMPLE) -> Path:
    """Copy what pip needs to install this package (`../..` of the example) and the example
    itself to `dest`, as a clone of the repository has them; returns the example's folder.
    The project-folder tests make their folders with it too (several examples in one `dest`)."""
    dest.mkdir(parents=True, exist_ok=True)
    for name in CHECKOUT_FILES:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(
                source,
                dest / name,
                ignore=shutil.ignore_patterns("__pycache__"),
                dirs_exist_ok=True,
            )
        else:
            shutil.copy2(source, dest / name)
    folder = dest / "examples" / example
    shutil.copytree(
        ROOT / "examples" / example,
        folder,
        ignore=shutil.ignore_patterns("__pycache__", "venv", "Pulumi.*.yaml"),
        dirs_exist_ok=True,
    )
    return folder


class _Tee(io.StringIO):
    """Keeps what is written to it, and writes it on to `stream` at once."""

    def __init__(self, stream: TextIO) -> None:
        super().__init__()
        self._stream = stream

    def write(self, text: str) -> int:
        self._stream.write(text)
        return super().write(text)

    def flush(self) -> None:
        self._stream.flush()


def recorded(transcript: Path) -> int:
    """`main()`, its output shown as it comes and, once it ends, written with its exit code and
    the CLI it found to `transcript`: CI runs `make demo` before the tests, which read it."""
    out, err = _Tee(sys.stdout), _Tee(sys.stderr)
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main()
    run = {"returncode": code, "stdout": out.getvalue(), "stderr": err.getvalue()}
    transcript.parent.mkdir(parents=True, exist_ok=True)
    transcript.write_text(json.dumps({**run, "cli": shutil.which("pulumi")}))
    return code


if __name__ == "__main__":
    transcript = os.environ.get(TRANSCRIPT_ENV)
    sys.exit(recorded(Path(transcript)) if transcript else main())
