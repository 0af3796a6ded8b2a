"""`make demo` with the pinned CLI: the real engine's own output, step by step."""

from __future__ import annotations

import os
import runpy
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.engine

DEMO = Path(__file__).resolve().parents[2] / "examples" / "demo.py"


def test_demo_drives_the_real_cli_and_shows_its_output(cli: str) -> None:
    path = os.pathsep.join([str(Path(cli).parent), "/usr/bin", "/bin"])
    done = subprocess.run(
        [sys.executable, str(DEMO)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        env={"PATH": path, "HOME": os.environ.get("HOME", "/root")},
    )
    assert done.returncode == 0, done.stdout + done.stderr
    out = done.stdout
    assert f"pulumi CLI found at {cli}: running the real CLI against the emulator" in out
    assert "Previewing update (demo):" in out
    assert out.count("POST /integrated-account/") == 2
    assert out.count("[diff: ~expires_at]") >= 2
    assert "[diff: ~name]" in out  # refresh shows the dashboard rename as the engine reports it
    assert "mcp_urls: {" in out
    assert "[secret]" in out
    assert "Demo finished: emulator stopped, nothing left running." in out


def test_a_failing_step_ends_the_demo_with_one_clear_line(
    cli: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    demo = runpy.run_path(str(DEMO), run_name="demo")
    monkeypatch.setattr("shutil.which", lambda _: cli)

    def refresh_fails(self: object) -> None:
        raise RuntimeError("Truto is on fire")

    monkeypatch.setattr(demo["CliDriver"], "refresh", refresh_fails)
    assert demo["main"]() == 1
    err = capsys.readouterr().err
    assert err.strip() == (
        "demo failed: refresh (reports the drift): RuntimeError: Truto is on fire"
    )
