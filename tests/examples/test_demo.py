"""The demo (`make demo` runs `examples/demo.py`) without the real CLI: one clear line when the
CLI or its language host is missing or a command fails, and the checks that end a step.

Its run through the real CLI is `tests/engine/test_demo.py`.
"""

from __future__ import annotations

import os
import re
import runpy
import stat
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from .conftest import EXAMPLES

DEMO = EXAMPLES / "demo.py"


def load_demo() -> dict[str, Any]:
    """The demo's module globals, without running it."""
    return runpy.run_path(str(DEMO), run_name="demo")


def executable(path: Path, script: str) -> Path:
    """A shell script at `path` that may be run."""
    path.write_text(f"#!/bin/sh\n{script}\n")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return path


def emulator_of(*servers: str) -> Any:
    """A stand-in for the emulator the checks read: servers with these ids."""
    return SimpleNamespace(servers=lambda: [{"id": server} for server in servers])


def patch(server_id: str, body: dict[str, Any]) -> dict[str, Any]:
    """A journal entry of a PATCH to one server."""
    return {"method": "PATCH", "path": f"/integrated-account/ia/mcp/{server_id}", "body": body}


@pytest.mark.parametrize("cli", [False, True], ids=["no_cli", "cli_without_language_host"])
def test_without_a_pulumi_cli_or_its_language_host_the_demo_says_how_to_get_it_and_stops(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    cli: bool,
) -> None:
    """Refused before anything starts: nothing on stdout, one line on stderr."""
    pulumi = executable(tmp_path / "pulumi", "exit 0") if cli else None
    monkeypatch.setenv("PATH", str(tmp_path))
    assert load_demo()["main"]() == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.strip() == (
        f"demo failed: no pulumi-language-python beside {pulumi} or on PATH: the CLI cannot run"
        " a Python project folder; `make pulumi` installs it beside the pinned CLI"
        if cli
        else "demo failed: no pulumi CLI on PATH: run `make pulumi` (builds the pinned CLI)"
        " or install Pulumi"
    )


@pytest.mark.slow
def test_a_failing_command_ends_the_demo_with_one_line_and_cleans_up(tmp_path: Path) -> None:
    executable(tmp_path / "pulumi", 'echo "error: the CLI says no to $*" >&2; exit 3')
    executable(tmp_path / "pulumi-language-python", "exit 0")
    done = subprocess.run(
        [sys.executable, str(DEMO)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        stdin=subprocess.DEVNULL,
        env={**os.environ, "PATH": os.pathsep.join([str(tmp_path), "/usr/bin", "/bin"])},
    )
    assert done.returncode == 1
    assert done.stderr.strip() == "demo failed: `pulumi install` exited with code 3"
    assert "\n$ pulumi install\nerror: the CLI says no to install\n" in done.stdout
    assert "== 2." not in done.stdout
    copied = re.search(r"^Copied .* to (\S+) ", done.stdout, re.MULTILINE)
    assert copied is not None, done.stdout
    assert not Path(copied.group(1)).parent.exists()


EXPIRY = {"expires_at": load_demo()["NEXT_EXPIRY"]}
SENT = "PATCH /integrated-account/ia/mcp/"
"""The start of each PATCH as the failing check names it."""
ONE_EACH = "expect_one_patch_each"
GET = {"method": "GET", "path": "/x", "body": None}
NOT_ONE_EACH = r".* for 2 server\(s\); expected exactly one PATCH per server$"


@pytest.mark.parametrize(
    ("check", "servers", "journal", "error"),
    [
        pytest.param(ONE_EACH, ["a", "b"], [GET, patch("b", EXPIRY), patch("a", EXPIRY)], None,
                     id="one_patch_per_server_passes"),
        pytest.param(ONE_EACH, ["a", "b"], [patch("a", EXPIRY)],
                     rf"^changing expiresAt sent {SENT}a{NOT_ONE_EACH}", id="a_server_not_patched"),
        pytest.param(ONE_EACH, ["a"], [patch("a", {**EXPIRY, "name": "x"})],
                     r'carried \{"expires_at": .*"name": "x"\}',
                     id="a_patch_carrying_more_than_the_expiry"),
        pytest.param("expect_none_left", ["a"], [],
                     r"^destroy left 1 server\(s\) in the emulator$",
                     id="servers_left_after_destroy"),
    ],
)  # fmt: skip
def test_the_check_ending_a_step_passes_what_it_expects_and_else_says_what_was_sent(
    check: str, servers: list[str], journal: list[dict[str, Any]], error: str | None
) -> None:
    demo = load_demo()
    checked = demo[check](emulator_of(*servers))
    if error is None:
        checked(journal)
    else:
        with pytest.raises(demo["DemoError"], match=error):
            checked(journal)


def test_the_demo_runs_the_cli_without_the_developers_truto_settings(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """`make demo` in a shell holding TRUTO_* settings: the stack config the demo sets counts."""
    demo = load_demo()
    monkeypatch.setenv("TRUTO_API_TOKEN", "not-the-emulators")
    monkeypatch.setenv("TRUTO_BASE_URL", "http://127.0.0.1:9")
    env = demo["user_env"](
        demo["Tools"]("/opt/pulumi/bin/pulumi", "/opt/lang/pulumi-language-python")
    )
    assert not [key for key in env if key.startswith("TRUTO_")]
    assert env["PATH"].split(os.pathsep)[:2] == ["/opt/pulumi/bin", "/opt/lang"]
