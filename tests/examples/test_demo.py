"""The demo command (`make demo` runs `examples/demo.py`): the whole lifecycle, clean exit."""

from __future__ import annotations

import subprocess
import sys

from .conftest import EXAMPLES


def test_demo_runs_the_whole_lifecycle_and_exits_cleanly() -> None:
    done = subprocess.run(
        [sys.executable, str(EXAMPLES / "demo.py")],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={"PATH": "/usr/bin:/bin"},  # no pulumi CLI: the provider-host path
    )
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "pulumi CLI not on PATH" in out
    for title in ("== preview", "== up", "== refresh", "== destroy"):
        assert title in out
    assert out.count("POST /integrated-account/") == 2
    assert out.count('-> 200 {"expires_at": "2031-06-30T00:00:00Z"}') == 2
    assert "drift" in out
    assert "Demo finished: emulator stopped, nothing left running." in out
    assert "Traceback" not in done.stderr
