"""`make demo` with the pinned CLI: the real engine's own output, step by step."""

from __future__ import annotations

import os
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
