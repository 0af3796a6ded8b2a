"""`make demo` with the pinned CLI: every command a user types in examples/basic, the CLI's own
output, and the HTTP calls Truto received, step by step. The run `make demo` recorded is read
when it ran this CLI after the last change to what the demo runs (CI runs `make demo`, then the
tests: the demo runs once); otherwise the demo runs here."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from devkit.project import pipeline_path

from ..kit import EXAMPLE_ACCOUNTS

pytestmark = pytest.mark.engine

REPO = Path(__file__).resolve().parents[2]
DEMO = REPO / "examples" / "demo.py"
TRANSCRIPT = REPO / "build" / "demo-transcript.json"
DEMO_RUNS = ("examples/demo.py", "examples/basic", "truto_pulumi", "pyproject.toml", "README.md")
TYPED = [
    "$ pulumi install",
    "$ pulumi stack init demo",
    "$ pulumi config set --secret truto:apiToken <token>",
    "$ pulumi config set truto:baseUrl http://127.0.0.1:",
    f"$ pulumi config set --path 'integratedAccountIds[0]' {EXAMPLE_ACCOUNTS[0]}",
    f"$ pulumi config set --path 'integratedAccountIds[1]' {EXAMPLE_ACCOUNTS[1]}",
    "$ pulumi config set expiresAt 2031-01-01T00:00:00Z",
    "$ pulumi preview\n",
    "$ pulumi up --yes",
    "$ pulumi preview --expect-no-changes",
    "$ pulumi config set expiresAt 2031-06-30T00:00:00Z",
    "$ pulumi up --yes",
    "$ pulumi refresh --yes",
    "$ pulumi up --yes",
    "$ pulumi destroy --yes",
    "$ pulumi stack rm --yes",
]


def section(out: str, number: int) -> str:
    """What the demo printed for step `number` (from its `== N.` heading to the next)."""
    start = out.index(f"\n== {number}. ")
    end = out.find(f"\n== {number + 1}. ", start)
    return out[start : end if end != -1 else len(out)]


def newest_change(paths: list[Path]) -> float:
    """The latest modification time among `paths` and the files under them (bytecode, and what
    `pulumi install` and `stack init` leave in an example, aside)."""
    files = [f for p in paths for f in (p, *p.rglob("*")) if f.is_file()]
    kept = [f for f in files if not {"__pycache__", "venv"} & set(f.parts)]
    return max(f.stat().st_mtime for f in kept if not f.name.startswith("Pulumi."))


def recorded_run(cli: str) -> dict[str, Any] | None:
    """What `make demo` recorded, if it ran `cli` after every change to what the demo runs."""
    if not TRANSCRIPT.is_file():
        return None
    run: dict[str, Any] = json.loads(TRANSCRIPT.read_text())
    ran = [REPO / path for path in DEMO_RUNS] + [
        Path(cli),
        Path(cli).parent / "pulumi-language-python",
    ]
    same_cli = run["cli"] is not None and Path(run["cli"]).resolve() == Path(cli).resolve()
    return run if same_cli and TRANSCRIPT.stat().st_mtime > newest_change(ran) else None


@pytest.fixture(scope="module")
def demo_run(project_cli: str) -> subprocess.CompletedProcess[str]:
    """The run `make demo` recorded, else one run of `python examples/demo.py` with the CLI on
    PATH (that it ignores TRUTO_* settings: tests/examples/test_demo.py)."""
    run = recorded_run(project_cli)
    if run is not None:
        return subprocess.CompletedProcess(
            [sys.executable, str(DEMO)], run["returncode"], run["stdout"], run["stderr"]
        )
    env = {**os.environ, "PATH": pipeline_path(project_cli)}  # as `make demo` has it
    return subprocess.run(
        [sys.executable, str(DEMO)], capture_output=True, text=True, timeout=600, check=False,
        env=env, stdin=subprocess.DEVNULL,
    )  # fmt: skip


def test_the_demo_types_every_command_of_the_readme_in_order_showing_no_secret_and_exits_0(
    demo_run: subprocess.CompletedProcess[str], project_cli: str
) -> None:
    assert demo_run.returncode == 0, demo_run.stdout + demo_run.stderr
    out = demo_run.stdout
    assert f"pulumi CLI: {project_cli}; Python language host:" in out
    position = 0
    for line in TYPED:
        found = out.find(line, position)
        assert found != -1, f"{line!r} missing after offset {position}:\n{out[position:]}"
        position = found + len(line)
    assert out.count("\n$ pulumi ") == len(TYPED)
    assert "$ cd " in out
    assert "/truto-pulumi/examples/basic" in out
    assert out.rstrip().endswith(
        "Demo finished: stack removed, temporary folder deleted, emulator stopped."
    )
    assert demo_run.stderr == ""
    # The token is shown as a placeholder, the URLs as secret; no temporary folder is left.
    assert re.findall(r"truto:apiToken (\S+)", out) == ["<token>"]
    assert "emulator-" not in out  # the emulator's tokens start so
    assert re.search(r"http://127\.0\.0\.1:\d+/mcp/", out) is None  # no server's URL
    assert "[secret]" in out
    copied = re.search(r"^Copied .* to (\S+) ", out, re.MULTILINE)
    assert copied is not None, out
    assert not Path(copied.group(1)).parent.exists()


def test_each_step_shows_the_clis_own_output_and_the_http_calls_it_caused(
    demo_run: subprocess.CompletedProcess[str],
) -> None:
    out = demo_run.stdout
    assert "Finished installing dependencies" in section(out, 1)
    assert "Created stack 'demo'" in section(out, 2)
    preview = section(out, 4)
    assert "+ 3 to create" in preview
    assert "HTTP calls Truto received: none" in preview
    up = section(out, 5)
    assert "+ 3 created" in up
    assert up.count("   POST /integrated-account/") == 2
    assert "3 unchanged" in section(out, 6)

    patch = section(out, 7)
    assert patch.count("[diff: ~expires_at]") >= 2
    # The demo's own checks (tests/examples/test_demo.py) hold what each step sent; here, shown.
    assert patch.count("   PATCH /integrated-account/") == 2
    assert patch.count('-> 200 {"expires_at": "2031-06-30T00:00:00Z"}') == 2

    assert "renamed server" in section(out, 8)
    refresh = section(out, 9)
    assert "[diff: ~name]" in refresh  # the dashboard rename, as the engine reports it
    assert "   GET /integrated-account/" in refresh
    restore = section(out, 10)
    assert restore.count("   PATCH /integrated-account/") == 1
    assert '{"name": "Read-only MCP ' in restore

    destroy = section(out, 11)
    assert "- 3 deleted" in destroy
    assert destroy.count("   DELETE /integrated-account/") == 2
    assert "Stack 'demo' has been removed!" in section(out, 12)
